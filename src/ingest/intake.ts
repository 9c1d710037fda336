/**
 * Accepting events: the one path from a validated API request to durable
 * events, their fan-out deliveries, and the deliveries claimed to send now.
 *
 *   validated events ──▶ fingerprint (idempotency) ──▶ store "ingest" (one group
 *   commit: dedupe by id / Idempotency-Key, fan-out over the webhook view as of
 *   the transaction, claim under the lease) ──▶ claimed deliveries ──▶ sink
 *
 * The claimed deliveries are the store's own records of what it wrote; the
 * sink (the delivery engine's pool) sends them without another trip to the
 * store. Without a sink, or when it offers no lease, deliveries stay pending
 * and the scheduler's loader finds them.
 */
import type { Clock } from "../clock.ts";
import { Counter } from "../ops/metrics.ts";
import type { Lease } from "../store/deliveries.ts";
import type { ClaimedDelivery } from "../store/delivery_queue.ts";
import type { Store } from "../store/client.ts";
import type { IngestResult, NewEvent } from "../store/events.ts";
import { eventFingerprint } from "./fingerprint.ts";

/** One event as the API validated it. */
export interface ValidatedEvent {
  /** Producer-supplied id; undefined to generate one. */
  readonly id?: string;
  readonly type: string;
  /** Any JSON value; stored and delivered as its JSON text. */
  readonly data: unknown;
  readonly tenantId: string | null;
  /** ms since epoch; undefined: the time it was received. */
  readonly occurredAt?: number;
  /** Deliveries to webhooks with ordering go one at a time per key. */
  readonly orderingKey?: string;
  /** The producer's W3C trace context (api/trace_context.ts). */
  readonly trace?: { readonly traceparent: string; readonly tracestate: string | null };
  /** The request's `Idempotency-Key`, if any. */
  readonly idempotencyKey?: string;
  /** A webhook that must not receive it: the one an operational event is about. */
  readonly exceptWebhookId?: string;
}

/** Where deliveries claimed at ingest go: the delivery engine. */
export interface ClaimedDeliverySink {
  /** A lease to claim new deliveries under, or undefined to leave them pending (backlog, stopping). */
  ingestLease(): Lease | undefined;
  /** Deliveries ingest claimed under a lease that holds until `leaseUntil`: send them now. */
  claimed(deliveries: readonly ClaimedDelivery[], leaseUntil: number): void;
}

export interface IntakeOptions {
  readonly store: Store;
  readonly clock: Clock;
  /** Absent: nothing is claimed at ingest (API-only tests, tools). */
  readonly sink?: ClaimedDeliverySink;
}

export class Intake {
  readonly #o: IntakeOptions;
  /** For `/metrics`. */
  readonly ingested = new Counter({
    name: "hookd_events_ingested_total",
    help: "Events stored (repeats of an earlier event and conflicts not counted).",
  });

  constructor(options: IntakeOptions) {
    this.#o = options;
  }

  /**
   * Stores the events with their deliveries in one commit (shared with
   * concurrent requests) and hands what it claimed to the sink. Results come
   * back per event, in order: created, a duplicate of an earlier event, or a
   * conflict with one.
   */
  async accept(events: readonly ValidatedEvent[]): Promise<IngestResult[]> {
    const { store, clock, sink } = this.#o;
    const lease = sink?.ingestLease();
    const results = await store.write("ingest", {
      events: events.map(toNewEvent),
      now: clock.now(),
      lease,
    });
    let created = 0;
    for (const result of results) if (result.status === "created") created++;
    this.ingested.add(created);
    if (lease) {
      for (const result of results) {
        if (result.status === "created" && result.claimed.length > 0) {
          sink!.claimed(result.claimed, lease.until);
        }
      }
    }
    return results;
  }
}

function toNewEvent(input: ValidatedEvent): NewEvent {
  // Only an event that names its id or key can be repeated, so only then is a
  // fingerprint ever compared; generated ids skip the hashing.
  const repeatable = input.id !== undefined || input.idempotencyKey !== undefined;
  return {
    id: input.id,
    tenantId: input.tenantId,
    type: input.type,
    payload: JSON.stringify(input.data),
    fingerprint: repeatable
      ? eventFingerprint(input.type, input.tenantId, input.data, input.orderingKey)
      : "",
    orderingKey: input.orderingKey ?? null,
    traceparent: input.trace?.traceparent ?? null,
    tracestate: input.trace?.tracestate ?? null,
    idempotencyKey: input.idempotencyKey,
    occurredAt: input.occurredAt,
    exceptWebhookId: input.exceptWebhookId,
  };
}
