/**
 * The dead-letter queue: deliveries in state `dead`, listed by filter and
 * replayed by filter. A replay has no cap on how many it touches; it runs as a
 * series of small transactions so that it never holds the single writer long.
 */
import { z } from "zod";
import { StoreUnavailableError } from "../store/errors.ts";
import { checkTimeRange, deliveryFilterFields } from "./deliveries.ts";
import type { ApiDeps } from "./deps.ts";
import { ApiError } from "./errors.ts";
import { renderDelivery, renderPage, rfc3339 } from "./render.ts";
import { DeliveryPage, Replayed } from "./responses.ts";
import { route } from "./route.ts";
import { pageQuery } from "./schemas.ts";

/** Dead deliveries replayed per transaction. */
export const REPLAY_BATCH = 500;

const webhookId = z.string({ error: "must be a webhook id string" }).min(1, "must not be empty")
  .max(255, "must be at most 255 characters");

const listQuery = z.strictObject({
  ...pageQuery,
  webhook_id: webhookId.optional(),
  ...deliveryFilterFields,
}).superRefine(checkTimeRange);

const replayFilter = z.strictObject({
  webhook_id: webhookId.optional(),
  ...deliveryFilterFields,
}).superRefine(checkTimeRange);

export function deadLetterRoutes({ store, clock, delivery, log }: ApiDeps) {
  return [
    route({
      method: "GET",
      path: "/api/v1/dead-letters",
      summary: "Dead deliveries, oldest first",
      tag: "deliveries",
      scope: "deliveries:read",
      query: listQuery,
      responses: { 200: { description: "A page of dead deliveries", schema: DeliveryPage } },
      handler: async ({ c, query }) => {
        const page = await store.read("listDeliveries", {
          filter: {
            state: "dead",
            webhookId: query.webhook_id,
            eventType: query.event_type,
            since: query.since,
            until: query.until,
          },
          page: { limit: query.limit, after: query.cursor },
        });
        return c.json(renderPage(page, renderDelivery));
      },
    }),
    route({
      method: "POST",
      path: "/api/v1/dead-letters/replay",
      summary: "Replay every dead delivery matching a filter (`{}` replays them all)",
      tag: "deliveries",
      scope: "deliveries:replay",
      body: replayFilter,
      responses: {
        200: { description: "How many dead deliveries are pending again", schema: Replayed },
        503: "The store failed part way; `details.replayed` says how many were replayed",
      },
      handler: async ({ c, body, principal }) => {
        const now = clock.now();
        const filter = {
          webhookId: body.webhook_id,
          eventType: body.event_type,
          since: body.since,
          until: body.until,
        };
        let replayed = 0;
        let afterId: string | undefined;
        for (;;) {
          let batch;
          try {
            batch = await store.write("replayDeadLetters", {
              filter,
              afterId,
              limit: REPLAY_BATCH,
              now,
            });
          } catch (error) {
            if (replayed === 0 || !(error instanceof StoreUnavailableError)) throw error;
            // Earlier batches are committed: say so rather than "nothing was stored".
            throw new ApiError(
              503,
              "store_unavailable",
              `The store failed after ${replayed} deliveries were replayed; ` +
                "repeat the request to replay the rest",
              { replayed },
            );
          }
          if (batch.scanned === 0) break;
          replayed += batch.count;
          afterId = batch.lastId;
          // The engine can start on this batch while the next one commits.
          if (batch.count > 0) delivery?.refill();
        }
        log.info("dead letters replayed", {
          count: replayed,
          filter: {
            webhook_id: body.webhook_id,
            event_type: body.event_type,
            since: body.since === undefined ? undefined : rfc3339(body.since),
            until: body.until === undefined ? undefined : rfc3339(body.until),
          },
          key_id: principal.keyId,
        });
        return c.json({ replayed });
      },
    }),
  ];
}
