/**
 * Deliveries: a webhook's history (`/api/v1/webhooks/:id/deliveries`), one
 * delivery with its attempts, and the manual retry.
 */
import { z } from "zod";
import { EVENT_TYPE_PATTERN } from "../fanout/event_pattern.ts";
import { DELIVERY_STATES } from "../store/deliveries.ts";
import type { ApiDeps } from "./deps.ts";
import { ApiError, notFound } from "./errors.ts";
import { renderAttempt, renderDelivery, renderPage } from "./render.ts";
import { Delivery, DeliveryHistoryPage, DeliveryWithAttempts } from "./responses.ts";
import { route } from "./route.ts";
import { idParam, pageQuery, rfc3339Timestamp } from "./schemas.ts";

/**
 * Filter fields shared by the history, the dead-letter list and the replay
 * filter. `since` is inclusive and `until` exclusive, both on `created_at`.
 */
export const deliveryFilterFields = {
  event_type: z.string({ error: "must be an event type string" }).regex(
    EVENT_TYPE_PATTERN,
    "must be an event type: 1-255 characters of [A-Za-z0-9._:-]",
  ).optional(),
  since: rfc3339Timestamp.optional(),
  until: rfc3339Timestamp.optional(),
};

/** Rejects a `since` after `until`: an empty range is almost certainly a mistake. */
export function checkTimeRange(
  value: { since?: number | undefined; until?: number | undefined },
  ctx: z.RefinementCtx,
): void {
  if (value.since !== undefined && value.until !== undefined && value.since > value.until) {
    ctx.addIssue({
      code: "custom",
      path: ["since"],
      message: `must not be after until (${new Date(value.since).toISOString()} > ${
        new Date(value.until).toISOString()
      })`,
    });
  }
}

const historyQuery = z.strictObject({
  ...pageQuery,
  state: z.enum(DELIVERY_STATES, {
    error: `must be one of ${DELIVERY_STATES.map((s) => JSON.stringify(s)).join(", ")}`,
  }).optional(),
  ...deliveryFilterFields,
  include: z.literal("attempts", {
    error: 'must be "attempts" (every attempt of each delivery; the latest is always inline)',
  }).optional(),
}).superRefine(checkTimeRange);

export function deliveryRoutes({ store, clock, delivery, log }: ApiDeps) {
  return [
    route({
      method: "GET",
      path: "/api/v1/webhooks/:id/deliveries",
      summary: "A webhook's delivery history, oldest first",
      tag: "deliveries",
      scope: "deliveries:read",
      params: idParam,
      query: historyQuery,
      responses: {
        200: { description: "A page of deliveries", schema: DeliveryHistoryPage },
        404: "No such webhook",
      },
      handler: async ({ c, params, query }) => {
        const webhook = await store.read("getWebhook", { id: params.id });
        if (!webhook) throw notFound("webhook", params.id);
        const page = await store.read("listDeliveryHistory", {
          filter: {
            webhookId: webhook.id,
            state: query.state,
            eventType: query.event_type,
            since: query.since,
            until: query.until,
          },
          page: { limit: query.limit, after: query.cursor },
        });
        return c.json(renderPage(page, (delivery) => {
          const attempts = page.attempts.get(delivery.id) ?? [];
          const latest = attempts.at(-1);
          return {
            ...renderDelivery(delivery),
            latest_attempt: latest ? renderAttempt(latest) : null,
            ...(query.include === "attempts" ? { attempts: attempts.map(renderAttempt) } : {}),
          };
        }));
      },
    }),
    route({
      method: "GET",
      path: "/api/v1/deliveries/:id",
      summary: "Read a delivery with all its attempts",
      tag: "deliveries",
      scope: "deliveries:read",
      params: idParam,
      responses: {
        200: { description: "The delivery with its attempts", schema: DeliveryWithAttempts },
        404: "No such delivery",
      },
      handler: async ({ c, params }) => {
        const found = await store.read("getDelivery", { id: params.id });
        if (!found) throw notFound("delivery", params.id);
        return c.json({
          ...renderDelivery(found.delivery),
          attempts: found.attempts.map(renderAttempt),
        });
      },
    }),
    route({
      method: "POST",
      path: "/api/v1/deliveries/:id/retry",
      summary: "Send a delivery again now (a manual attempt)",
      tag: "deliveries",
      scope: "deliveries:replay",
      params: idParam,
      responses: {
        202: { description: "Scheduled: the delivery, due now", schema: Delivery },
        404: "No such delivery",
        409: "The delivery cannot be retried now (in flight, cancelled, or its webhook paused)",
      },
      handler: async ({ c, params, principal }) => {
        const now = clock.now();
        const result = await store.write("retryDelivery", { id: params.id, now });
        if (result.status === "not_found") throw notFound("delivery", params.id);
        if (result.status === "refused") {
          throw new ApiError(
            409,
            "conflict",
            `Cannot retry delivery ${JSON.stringify(params.id)}: ${result.reason}`,
            { delivery_id: params.id, reason: result.reason },
          );
        }
        const scheduled = result.delivery;
        delivery?.due([{ id: scheduled.id, webhookId: scheduled.webhookId, dueAt: now }]);
        log.info("delivery retry requested", {
          delivery_id: scheduled.id,
          webhook_id: scheduled.webhookId,
          key_id: principal.keyId,
        });
        return c.json(renderDelivery(scheduled), 202);
      },
    }),
  ];
}
