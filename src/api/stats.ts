/**
 * `/api/v1/stats/*`: what the dashboard polls. Per-webhook figures come from
 * the store (every daemon's attempts); the live counters are this daemon's
 * own `/metrics` totals as JSON, which a client turns into rates.
 */
import { z } from "zod";
import type { ApiDeps } from "./deps.ts";
import { rfc3339 } from "./render.ts";
import { LiveCounters, WebhookStats } from "./responses.ts";
import { route } from "./route.ts";

/** The default window of the webhook stats: the last hour. */
const DEFAULT_WINDOW_MINUTES = 60;
/**
 * The most attempts one stats read counts. Bounds the read's cost (an index
 * range of the newest attempts and one lookup each) whatever the traffic;
 * above it the answer says from when it counts.
 */
export const STATS_MAX_ATTEMPTS = 10_000;

const statsQuery = z.strictObject({
  window_minutes: z.coerce.number({ error: "must be a number of minutes from 1 to 1440" })
    .int("must be a number of minutes from 1 to 1440")
    .min(1, "must be a number of minutes from 1 to 1440")
    .max(1440, "must be a number of minutes from 1 to 1440")
    .default(DEFAULT_WINDOW_MINUTES),
});

export function statsRoutes({ store, clock, metrics }: ApiDeps) {
  return [
    route({
      method: "GET",
      path: "/api/v1/stats/webhooks",
      summary: "Attempts, successes, failures and the last status of each webhook, recently",
      tag: "deliveries",
      scope: "deliveries:read",
      query: statsQuery,
      responses: { 200: { description: "Per-webhook figures", schema: WebhookStats } },
      handler: async ({ c, query }) => {
        const since = clock.now() - query.window_minutes * 60_000;
        const window = await store.read("webhookStats", {
          since,
          maxAttempts: STATS_MAX_ATTEMPTS,
        });
        return c.json({
          since: rfc3339(window.since),
          complete: window.complete,
          data: window.webhooks.map((w) => ({
            webhook_id: w.webhookId,
            attempts: w.attempts,
            succeeded: w.succeeded,
            failed: w.failed,
            last_status: w.lastStatus,
            last_error_kind: w.lastErrorKind,
            last_attempt_at: rfc3339(w.lastAttemptAt),
          })),
        });
      },
    }),
    route({
      method: "GET",
      path: "/api/v1/stats/live",
      summary: "This daemon's running totals and backlog (the /metrics figures as JSON)",
      tag: "deliveries",
      scope: "deliveries:read",
      responses: { 200: { description: "The totals now", schema: LiveCounters } },
      handler: async ({ c }) => {
        await metrics.refresh();
        const attempts = metrics.total("hookd_attempts_total");
        return c.json({
          at: rfc3339(clock.now()),
          events_ingested: metrics.total("hookd_events_ingested_total"),
          attempts,
          attempts_failed: attempts - metrics.total("hookd_attempts_total", { error_kind: "none" }),
          deliveries_succeeded: metrics.total("hookd_deliveries_finished_total", {
            outcome: "succeeded",
          }),
          deliveries_dead: metrics.total("hookd_deliveries_finished_total", { outcome: "dead" }),
          pending: metrics.total("hookd_deliveries_pending_due_soon") +
            metrics.total("hookd_deliveries_pending_later"),
          held: metrics.total("hookd_deliveries_held"),
          dead: metrics.total("hookd_deliveries_dead"),
        });
      },
    }),
  ];
}
