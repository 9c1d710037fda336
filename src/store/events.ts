/**
 * Event rows and durable ingest: an event and its fan-out deliveries are
 * written together, so an acknowledged event always has its deliveries.
 */
import type { Row } from "@libsql/client";
import { uuidv7 } from "../ids.ts";
import { deliveriesOfEvent, type DeliveryRecord, type Lease } from "./deliveries.ts";
import type { ClaimedDelivery } from "./delivery_queue.ts";
import { findTombstone } from "./erasure.ts";
import { type Executor, firstRow, int, statementChunks, text, textOrNull } from "./executor.ts";
import { hasOpenPredecessor } from "./ordering.ts";
import type { WebhookView } from "./webhook_view.ts";

export interface EventRecord {
  readonly id: string;
  readonly tenantId: string | null;
  readonly type: string;
  /** The event data as JSON text, exactly as it will be delivered. */
  readonly payload: string;
  readonly occurredAt: number;
  readonly receivedAt: number;
  /** Orders deliveries to webhooks with `ordering` (ordering.ts). */
  readonly orderingKey: string | null;
  /** The producer's W3C trace context, continued on every attempt. */
  readonly traceparent: string | null;
  readonly tracestate: string | null;
}

/** One event to ingest, validated by the API. */
export interface NewEvent {
  /** Producer-supplied id, or undefined to generate one. */
  readonly id?: string;
  readonly tenantId: string | null;
  readonly type: string;
  readonly payload: string;
  /** Identifies the event's content for idempotency: same key or id, other fingerprint → conflict. */
  readonly fingerprint: string;
  readonly idempotencyKey?: string;
  readonly occurredAt?: number;
  readonly orderingKey?: string | null;
  readonly traceparent?: string | null;
  readonly tracestate?: string | null;
  /** A webhook this event is about and must never be delivered to (hookd's operational events). */
  readonly exceptWebhookId?: string;
}

/**
 * A delivery as an ingest answer names it. The reply crosses from the store
 * thread by structured clone, so it carries what the API answers with and no
 * more: the event's payload already travels once, with the claimed deliveries.
 */
export type AcceptedDelivery = Pick<DeliveryRecord, "id" | "webhookId" | "state">;

export type IngestResult =
  | {
    readonly status: "created";
    readonly eventId: string;
    readonly deliveries: AcceptedDelivery[];
    /** The deliveries claimed under the request's lease, ready to send (the others are held). */
    readonly claimed: ClaimedDelivery[];
  }
  | {
    readonly status: "duplicate";
    readonly eventId: string;
    readonly deliveries: AcceptedDelivery[];
  }
  | { readonly status: "conflict"; readonly eventId: string; readonly reason: string }
  /** The id or Idempotency-Key belongs to an erased event: it is never accepted again. */
  | { readonly status: "erased"; readonly eventId: string; readonly erasedAt: number };

const EVENT_COLUMNS = "id, tenant_id, type, payload, fingerprint, occurred_at, received_at, " +
  "ordering_key, trace_parent, trace_state";

function eventFromRow(row: Row): EventRecord {
  return {
    id: text(row, "id"),
    tenantId: textOrNull(row, "tenant_id"),
    type: text(row, "type"),
    payload: text(row, "payload"),
    occurredAt: int(row, "occurred_at"),
    receivedAt: int(row, "received_at"),
    orderingKey: textOrNull(row, "ordering_key"),
    traceparent: textOrNull(row, "trace_parent"),
    tracestate: textOrNull(row, "trace_state"),
  };
}

/** One ingest request: its events, its time, and the lease to claim new deliveries under. */
export interface IngestRequest {
  readonly events: readonly NewEvent[];
  readonly now: number;
  readonly lease?: Lease;
}

/** SQLite takes at most 32,766 bound values per statement. */
const MAX_VALUES = 32_000;
const EVENT_VALUES = 11;
const DELIVERY_VALUES = 13;

/** The largest rowid in `events` (0 when empty): new rows are numbered after it. */
async function newestEventRowid(db: Executor): Promise<number> {
  const row = await firstRow(db, "SELECT COALESCE(MAX(rowid), 0) AS m FROM events");
  return int(row!, "m");
}

/** The ids of the events inserted after rowid `after`, as one row (no row cursor). */
async function eventIdsAfter(db: Executor, after: number): Promise<string[]> {
  const row = await firstRow(db, {
    sql: "SELECT json_group_array(id) AS ids FROM events WHERE rowid > ?",
    args: [after],
  });
  return JSON.parse(text(row!, "ids")) as string[];
}

/**
 * Stores events and a delivery per subscribed webhook, or finds the first
 * event with the same id or idempotency key. Runs inside the caller's
 * transaction, and takes every ingest request of a group commit at once: one
 * multi-row insert-or-ignore for all their events and one for all their
 * deliveries, instead of a statement per row. Results come back per
 * request, per event, in order.
 */
export async function ingestEvents(
  db: Executor,
  view: WebhookView,
  requests: readonly IngestRequest[],
): Promise<IngestResult[][]> {
  const planned = requests.map((request) =>
    request.events.map((input) => {
      const event: EventRecord = {
        id: input.id ?? uuidv7(request.now),
        tenantId: input.tenantId,
        type: input.type,
        payload: input.payload,
        occurredAt: input.occurredAt ?? request.now,
        receivedAt: request.now,
        orderingKey: input.orderingKey ?? null,
        traceparent: input.traceparent ?? null,
        tracestate: input.tracestate ?? null,
      };
      return { input, event, request };
    })
  );
  const all = planned.flat();

  const inserted = new Set<string>();
  for (const chunk of statementChunks(all, MAX_VALUES / EVENT_VALUES)) {
    // Which rows are new, without RETURNING: on Deno 2.9.6 every row cursor of
    // the libSQL binding leaks its native memory (file_connection.ts, queryOne),
    // and this statement runs in every group commit with an ingest. The
    // insert counts its rows; only when it skipped some (a repeated id or
    // key) are the new ones read back, by rowid: the one writer in this
    // transaction numbers them after the largest rowid there was before.
    const before = await newestEventRowid(db);
    const result = await db.execute({
      sql: `INSERT INTO events (${EVENT_COLUMNS}, idempotency_key) VALUES ${
        chunk.map(() => "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)").join(", ")
      } ON CONFLICT DO NOTHING`,
      args: chunk.flatMap(({ input, event }) => [
        event.id,
        event.tenantId,
        event.type,
        event.payload,
        input.fingerprint,
        event.occurredAt,
        event.receivedAt,
        event.orderingKey,
        event.traceparent,
        event.tracestate,
        input.idempotencyKey ?? null,
      ]),
    });
    if (result.rowsAffected === chunk.length) {
      for (const { event } of chunk) inserted.add(event.id);
    } else if (result.rowsAffected > 0) {
      for (const id of await eventIdsAfter(db, before)) inserted.add(id);
    }
  }

  const created = new Map<
    (typeof all)[number],
    { deliveries: AcceptedDelivery[]; claimed: ClaimedDelivery[] }
  >();
  const newDeliveries: {
    delivery: DeliveryRecord;
    lease: Lease | undefined;
    orderingKey: string | null;
  }[] = [];
  /** Webhook and key pairs given a delivery in this transaction: the next one waits its turn. */
  const orderedHere = new Set<string>();
  for (const item of all) {
    // An id repeated within the group was inserted once: only its first use is new.
    if (!inserted.delete(item.event.id)) continue;
    const { event, request } = item;
    const deliveries: AcceptedDelivery[] = [];
    const claimed: ClaimedDelivery[] = [];
    // One object for the event, shared by its claims: it crosses to the main thread once.
    const claimedEvent = {
      id: event.id,
      type: event.type,
      tenantId: event.tenantId,
      payload: event.payload,
      occurredAt: event.occurredAt,
      traceparent: event.traceparent,
      tracestate: event.tracestate,
    };
    for (const webhook of view.subscribers(event.type, event.tenantId)) {
      if (webhook.id === item.input.exceptWebhookId) continue;
      const paused = webhook.state === "paused";
      const orderingKey = webhook.ordering === "none" ? null : event.orderingKey;
      // An ordered delivery whose key has an earlier one open waits its turn, parked.
      let parked = false;
      if (orderingKey !== null) {
        const pair = `${webhook.id}\n${orderingKey}`;
        parked = orderedHere.has(pair) ||
          await hasOpenPredecessor(db, webhook.id, orderingKey, webhook.ordering);
        orderedHere.add(pair);
      }
      // A paused webhook holds its deliveries until it is resumed. With a lease
      // the caller claims the rest at once and sends them without a reload.
      const state = paused ? "held" : request.lease && !parked ? "sending" : "pending";
      const delivery: DeliveryRecord = {
        id: uuidv7(request.now),
        eventId: event.id,
        webhookId: webhook.id,
        eventType: event.type,
        state,
        attempts: 0,
        nextAttemptAt: paused || parked ? null : request.now,
        lastStatus: null,
        lastError: null,
        createdAt: request.now,
        updatedAt: request.now,
      };
      deliveries.push({ id: delivery.id, webhookId: delivery.webhookId, state: delivery.state });
      newDeliveries.push({
        delivery,
        lease: state === "sending" ? request.lease : undefined,
        orderingKey,
      });
      if (state === "sending") {
        claimed.push({
          id: delivery.id,
          webhookId: webhook.id,
          attempts: 0,
          scheduleAttempts: 0,
          scheduleStartedAt: delivery.createdAt,
          trigger: "scheduled",
          createdAt: delivery.createdAt,
          orderingKey,
          event: claimedEvent,
        });
      }
    }
    created.set(item, { deliveries, claimed });
  }

  for (const chunk of statementChunks(newDeliveries, MAX_VALUES / DELIVERY_VALUES)) {
    await db.execute({
      sql: `INSERT INTO deliveries (id, event_id, webhook_id, event_type, state, attempts,
        next_attempt_at, lease_owner, lease_until, schedule_started_at, held_at, created_at,
        updated_at, ordering_key)
        VALUES ${chunk.map(() => "(?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?)").join(", ")}`,
      args: chunk.flatMap(({ delivery: d, lease, orderingKey }) => [
        d.id,
        d.eventId,
        d.webhookId,
        d.eventType,
        d.state,
        d.nextAttemptAt,
        lease?.owner ?? null,
        lease?.until ?? null,
        d.createdAt,
        d.state === "held" ? d.createdAt : null,
        d.createdAt,
        d.updatedAt,
        orderingKey,
      ]),
    });
  }

  const results: IngestResult[][] = [];
  for (const items of planned) {
    const out: IngestResult[] = [];
    for (const item of items) {
      const fresh = created.get(item);
      out.push(
        fresh
          ? { status: "created", eventId: item.event.id, ...fresh }
          : await findFirst(db, item.input),
      );
    }
    results.push(out);
  }
  return results;
}

async function findFirst(db: Executor, input: NewEvent): Promise<IngestResult> {
  // Checked first: an erased event's row may still be there, with its data gone.
  const tombstone = await findTombstone(db, input.id, input.idempotencyKey);
  if (tombstone) return { status: "erased", eventId: tombstone.id, erasedAt: tombstone.erasedAt };
  const byKey = input.idempotencyKey !== undefined;
  const result = await db.execute({
    sql: `SELECT ${EVENT_COLUMNS} FROM events WHERE ${byKey ? "idempotency_key" : "id"} = ?`,
    args: [byKey ? input.idempotencyKey! : input.id!],
  });
  let row = result.rows[0];
  if (!row && byKey && input.id !== undefined) {
    // The key is new but the id is taken: the id decides.
    row = (await db.execute({
      sql: `SELECT ${EVENT_COLUMNS} FROM events WHERE id = ?`,
      args: [input.id],
    })).rows[0];
  }
  if (!row) throw new Error("event insert was ignored but no conflicting event was found");
  const first = eventFromRow(row);
  if (text(row, "fingerprint") !== input.fingerprint) {
    return {
      status: "conflict",
      eventId: first.id,
      reason: byKey
        ? "this Idempotency-Key was already used for an event with different content"
        : "an event with this id was already accepted with different content",
    };
  }
  if (input.id !== undefined && input.id !== first.id) {
    return {
      status: "conflict",
      eventId: first.id,
      reason: "this Idempotency-Key was already used for an event with a different id",
    };
  }
  const deliveries = await deliveriesOfEvent(db, first.id);
  return {
    status: "duplicate",
    eventId: first.id,
    deliveries: deliveries.map(({ id, webhookId, state }) => ({ id, webhookId, state })),
  };
}

export async function getEvent(db: Executor, id: string): Promise<EventRecord | null> {
  const result = await db.execute({
    sql: `SELECT ${EVENT_COLUMNS} FROM events WHERE id = ?`,
    args: [id],
  });
  const row = result.rows[0];
  return row ? eventFromRow(row) : null;
}
