/** `/api/v1/events`: durable ingest (single and batch) and reading an event back. */
import { type TraceContext, traceContextOf } from "./trace_context.ts";
import { endSpan, startSpan } from "../ops/tracing.ts";
import { z } from "zod";
import { EVENT_TYPE_PATTERN, OPERATIONAL_PREFIX } from "../fanout/event_pattern.ts";
import type { ValidatedEvent } from "../ingest/intake.ts";
import type { IngestResult } from "../store/events.ts";
import type { ApiDeps } from "./deps.ts";
import { ApiError, notFound } from "./errors.ts";
import { renderDelivery, renderEvent, rfc3339 } from "./render.ts";
import { BatchAccepted, Event, EventAccepted, EventErased } from "./responses.ts";
import { route } from "./route.ts";
import { idParam, rfc3339Timestamp, tenantId } from "./schemas.ts";

export const MAX_BATCH_EVENTS = 1000;

const eventSchema = z.strictObject({
  // Ids travel in headers (and are signed there): visible ASCII only, no spaces.
  id: z.string().min(1, "must not be empty").max(255, "must be at most 255 characters")
    .regex(/^[\x21-\x7e]+$/, "must be visible ASCII characters without spaces")
    .optional(),
  type: z.string({ error: "is required: a string of 1-255 characters [A-Za-z0-9._:-]" }).regex(
    EVENT_TYPE_PATTERN,
    "must be 1-255 characters of [A-Za-z0-9._:-]",
  ).refine(
    (type) => !type.startsWith(OPERATIONAL_PREFIX),
    `must not start with "${OPERATIONAL_PREFIX}": that namespace is reserved for hookd's own ` +
      "operational events",
  ),
  // Any JSON value, null included, but the key must be present.
  data: z.unknown().refine((value) => value !== undefined, "is required (any JSON value)"),
  tenant_id: tenantId.optional(),
  occurred_at: rfc3339Timestamp.optional(),
  // Orders deliveries to webhooks with `ordering`: one at a time per key, in acceptance order.
  ordering_key: z.string({ error: "must be a string of 1-255 visible ASCII characters" })
    .min(1, "must not be empty").max(255, "must be at most 255 characters")
    .regex(/^[\x20-\x7e]+$/, "must be visible ASCII characters").optional(),
});

type EventInput = z.output<typeof eventSchema>;

const batchSchema = z.strictObject({
  events: z.array(eventSchema).min(1, "must hold at least one event").max(
    MAX_BATCH_EVENTS,
    `must hold at most ${MAX_BATCH_EVENTS} events; split larger batches`,
  ),
});

function validated(
  input: EventInput,
  trace: TraceContext | undefined,
  idempotencyKey?: string,
): ValidatedEvent {
  return {
    id: input.id,
    type: input.type,
    data: input.data,
    tenantId: input.tenant_id ?? null,
    occurredAt: input.occurred_at,
    orderingKey: input.ordering_key,
    trace,
    idempotencyKey,
  };
}

/**
 * Runs an ingest inside a `hookd.ingest` span (recorded only with
 * OpenTelemetry on: ops/tracing.ts), a child of the producer's span.
 */
async function traced(
  trace: TraceContext | undefined,
  count: number,
  accept: () => Promise<IngestResult[]>,
): Promise<IngestResult[]> {
  const span = startSpan("hookd.ingest", trace?.traceparent ?? null, () => ({
    "hookd.events": count,
  }), "server");
  // OpenTelemetry off: the ingest hot path gets no extra step.
  if (!span) return accept();
  try {
    const results = await accept();
    const [first] = results;
    if (results.length === 1 && (first?.status === "created" || first?.status === "duplicate")) {
      span.setAttribute("hookd.event_id", first.eventId);
    }
    span.setAttribute(
      "hookd.deliveries",
      results.reduce((n, r) => n + ("deliveries" in r ? r.deliveries.length : 0), 0),
    );
    endSpan(span);
    return results;
  } catch (error) {
    endSpan(span, error instanceof Error ? error.message : String(error));
    throw error;
  }
}

function renderAccepted(result: Extract<IngestResult, { status: "created" | "duplicate" }>) {
  return {
    id: result.eventId,
    deliveries: result.deliveries.map((d) => ({
      id: d.id,
      webhook_id: d.webhookId,
      state: d.state,
    })),
  };
}

/** Why an erased event's id (or key) is refused, and since when. */
function erasedMessage(eventId: string, erasedAt: number): string {
  return `Event ${JSON.stringify(eventId)} was erased at ${rfc3339(erasedAt)}; its data is gone ` +
    "and its id and Idempotency-Key are never accepted again";
}

const gone = (eventId: string, erasedAt: number) =>
  new ApiError(410, "erased", erasedMessage(eventId, erasedAt), {
    event_id: eventId,
    erased_at: rfc3339(erasedAt),
  });

function idempotencyKeyOf(request: Request): string | undefined {
  const key = request.headers.get("idempotency-key");
  if (key === null) return undefined;
  if (key.length === 0 || key.length > 255) {
    throw new ApiError(400, "validation_failed", "Idempotency-Key must be 1-255 characters", [
      { field: "Idempotency-Key", message: "must be 1-255 characters" },
    ]);
  }
  return key;
}

export function eventRoutes({ store, intake, clock, log, delivery }: ApiDeps) {
  return [
    route({
      method: "POST",
      path: "/api/v1/events",
      summary: "Accept an event; answers once it and its deliveries are durably stored",
      tag: "events",
      scope: "events:write",
      body: eventSchema,
      responses: {
        202: { description: "Stored, with the deliveries created for it", schema: EventAccepted },
        200: {
          description:
            "A repeat of an earlier event (same id or Idempotency-Key): the first answer",
          schema: EventAccepted,
        },
        409: "The id or Idempotency-Key was used for different content",
        410: "The id or Idempotency-Key belongs to an erased event",
      },
      handler: async ({ c, body }) => {
        const trace = traceContextOf(c.req.raw);
        const [result] = await traced(
          trace,
          1,
          () => intake.accept([validated(body, trace, idempotencyKeyOf(c.req.raw))]),
        );
        if (!result) throw new Error("ingest returned no result");
        if (result.status === "conflict") {
          throw new ApiError(409, "conflict", result.reason, { event_id: result.eventId });
        }
        if (result.status === "erased") throw gone(result.eventId, result.erasedAt);
        return c.json(renderAccepted(result), result.status === "created" ? 202 : 200);
      },
    }),
    route({
      method: "POST",
      path: "/api/v1/events/batch",
      summary: "Accept up to 1000 events in one commit",
      tag: "events",
      scope: "events:write",
      body: batchSchema,
      responses: {
        202: {
          description: "Per-event results in `data`, in request order",
          schema: BatchAccepted,
        },
      },
      handler: async ({ c, body }) => {
        // One trace context per request: every event of the batch continues it.
        const trace = traceContextOf(c.req.raw);
        const results = await traced(
          trace,
          body.events.length,
          () => intake.accept(body.events.map((e) => validated(e, trace))),
        );
        return c.json(
          {
            data: results.map((result) =>
              result.status === "conflict"
                ? {
                  id: result.eventId,
                  status: "conflict" as const,
                  error: { code: "conflict" as const, message: result.reason },
                }
                : result.status === "erased"
                ? {
                  id: result.eventId,
                  status: "erased" as const,
                  error: {
                    code: "erased" as const,
                    message: erasedMessage(result.eventId, result.erasedAt),
                  },
                }
                : { ...renderAccepted(result), status: result.status }
            ),
          },
          202,
        );
      },
    }),
    route({
      method: "GET",
      path: "/api/v1/events/:id",
      summary: "Read an event and its deliveries",
      tag: "events",
      scope: "deliveries:read",
      params: idParam,
      responses: {
        200: { description: "The event with its deliveries", schema: Event },
        404: "No such event",
        410: "The event was erased; `details.erased_at` says when",
      },
      handler: async ({ c, params }) => {
        const erasedAt = await store.read("eventErasedAt", { id: params.id });
        if (erasedAt !== null) throw gone(params.id, erasedAt);
        const found = await store.read("getEvent", { id: params.id });
        if (!found) throw notFound("event", params.id);
        return c.json({
          ...renderEvent(found.event),
          deliveries: found.deliveries.map(renderDelivery),
        });
      },
    }),
    route({
      method: "DELETE",
      path: "/api/v1/events/:id",
      summary: "Erase an event's data for good (data-protection requests); its id stays taken",
      tag: "events",
      scope: "events:erase",
      params: idParam,
      responses: {
        200: {
          description: "Erased (now or before): payload, attempt headers and bodies are gone, " +
            "what was still to be sent is cancelled",
          schema: EventErased,
        },
        404: "No such event",
      },
      handler: async ({ c, params, principal }) => {
        const result = await store.write("eraseEvent", { id: params.id, now: clock.now() });
        if (result.status === "not_found") throw notFound("event", params.id);
        // Ordered deliveries waiting behind the cancelled ones may be due now.
        if (result.cancelled > 0) delivery?.refill();
        if (result.fresh) {
          log.info("event erased", {
            event_id: params.id,
            key_id: principal.keyId,
            cancelled: result.cancelled,
            effect: "its data and its attempts' headers and bodies are gone; its id and " +
              "Idempotency-Key are refused from now on",
          });
        }
        return c.json({
          id: params.id,
          erased_at: rfc3339(result.erasedAt),
          cancelled: result.cancelled,
        });
      },
    }),
  ];
}
