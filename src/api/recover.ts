/**
 * `POST /api/v1/webhooks/{id}/recover`: deliveries for the events a webhook
 * missed in a window of acceptance times (store/recover.ts decides which).
 * Like a dead-letter replay it has no cap on how many it creates and runs as
 * a series of short transactions, so ingest keeps flowing meanwhile.
 */
import { z } from "zod";
import { StoreUnavailableError } from "../store/errors.ts";
import type { RecoverCursor } from "../store/recover.ts";
import type { ApiDeps } from "./deps.ts";
import { ApiError, notFound, validationError } from "./errors.ts";
import { rfc3339 } from "./render.ts";
import { Recovered } from "./responses.ts";
import { route } from "./route.ts";
import { idParam, rfc3339Timestamp } from "./schemas.ts";

/** Events looked at per transaction. */
export const RECOVER_BATCH = 500;

/**
 * The widest window one request may cover. A window is walked event by
 * event, whatever the webhook subscribes to: a bound keeps one request's
 * work (and a mistyped year) in proportion. Longer spans take several.
 */
export const MAX_RECOVER_DAYS = 30;
const MAX_RECOVER_MS = MAX_RECOVER_DAYS * 86_400_000;

const recoverBody = z.strictObject({
  since: rfc3339Timestamp.describe("Events accepted at or after this (RFC 3339)"),
  until: rfc3339Timestamp.optional().describe(
    "Events accepted before this (RFC 3339); default: now",
  ),
});

export function recoverRoutes({ store, clock, delivery, log }: ApiDeps) {
  return [
    route({
      method: "POST",
      path: "/api/v1/webhooks/:id/recover",
      summary: "Create deliveries for the events of a window that the webhook has not received",
      tag: "webhooks",
      scope: "deliveries:replay",
      params: idParam,
      body: recoverBody,
      responses: {
        200: { description: "How many deliveries were created", schema: Recovered },
        404: "No such webhook",
        503: "The store failed part way; `details.created` says how many were created",
      },
      handler: async ({ c, params, body, principal }) => {
        const now = clock.now();
        const since = body.since;
        const until = body.until ?? now;
        if (since >= until) {
          throw validationError([{
            field: "since",
            message: `must be before until (${rfc3339(since)} >= ${rfc3339(until)})`,
          }]);
        }
        if (until - since > MAX_RECOVER_MS) {
          throw validationError([{
            field: "since",
            message: `the window may span at most ${MAX_RECOVER_DAYS} days, got ${
              ((until - since) / 86_400_000).toFixed(1)
            }; recover a longer span in several requests`,
          }]);
        }
        let created = 0;
        let skipped = 0;
        let after: RecoverCursor | undefined;
        for (;;) {
          let page;
          try {
            page = await store.write("recoverEvents", {
              webhookId: params.id,
              since,
              until,
              after,
              limit: RECOVER_BATCH,
              now,
            });
          } catch (error) {
            if (created === 0 || !(error instanceof StoreUnavailableError)) throw error;
            // Earlier pages are committed; repeating the request creates only the rest.
            throw new ApiError(
              503,
              "store_unavailable",
              `The store failed after ${created} deliveries were created; ` +
                "repeat the request to recover the rest",
              { created },
            );
          }
          if (page === null) throw notFound("webhook", params.id);
          created += page.created;
          skipped += page.skipped;
          // The engine can start on this page while the next one commits.
          if (page.created > 0) delivery?.refill();
          if (page.next === undefined) break;
          after = page.next;
        }
        log.info("webhook recovered", {
          webhook_id: params.id,
          since: rfc3339(since),
          until: rfc3339(until),
          created,
          skipped,
          key_id: principal.keyId,
        });
        return c.json({ created, skipped });
      },
    }),
  ];
}
