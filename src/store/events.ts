/**
 * Event rows and durable ingest: an event and its fan-out deliveries are
 * written together, so an acknowledged event always has its deliveries.
 */
import type { Row } from "@libsql/client";
import type { WebhookIndex } from "../ingest/webhook_index.ts";
import { uuidv7 } from "../ids.ts";
import { deliveriesOfEvent, type DeliveryRecord, type Lease } from "./deliveries.ts";
import { type Executor, int, text, textOrNull } from "./executor.ts";

export interface EventRecord {
  readonly id: string;
  readonly tenantId: string | null;
  readonly type: string;
  /** The event data as JSON text, exactly as it will be delivered. */
  readonly payload: string;
  readonly occurredAt: number;
  readonly receivedAt: number;
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
}

export type IngestResult =
  | {
    readonly status: "created";
    readonly event: EventRecord;
    readonly deliveries: DeliveryRecord[];
  }
  | {
    readonly status: "duplicate";
    readonly event: EventRecord;
    readonly deliveries: DeliveryRecord[];
  }
  | { readonly status: "conflict"; readonly eventId: string; readonly reason: string };

const EVENT_COLUMNS = "id, tenant_id, type, payload, fingerprint, occurred_at, received_at";

function eventFromRow(row: Row): EventRecord {
  return {
    id: text(row, "id"),
    tenantId: textOrNull(row, "tenant_id"),
    type: text(row, "type"),
    payload: text(row, "payload"),
    occurredAt: int(row, "occurred_at"),
    receivedAt: int(row, "received_at"),
  };
}

/**
 * Stores one event and a delivery per subscribed webhook, or finds the first
 * event with the same id or idempotency key. Runs inside the caller's
 * transaction; the insert-or-ignore makes the duplicate check one statement on
 * the hot path.
 */
export async function ingestEvent(
  db: Executor,
  index: WebhookIndex,
  input: NewEvent,
  now: number,
  lease?: Lease,
): Promise<IngestResult> {
  const id = input.id ?? uuidv7(now);
  const event: EventRecord = {
    id,
    tenantId: input.tenantId,
    type: input.type,
    payload: input.payload,
    occurredAt: input.occurredAt ?? now,
    receivedAt: now,
  };
  const inserted = await db.execute({
    sql: `INSERT INTO events (${EVENT_COLUMNS}, idempotency_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT DO NOTHING`,
    args: [
      id,
      event.tenantId,
      event.type,
      event.payload,
      input.fingerprint,
      event.occurredAt,
      event.receivedAt,
      input.idempotencyKey ?? null,
    ],
  });
  if (inserted.rowsAffected === 0) return await findFirst(db, input);

  const deliveries: DeliveryRecord[] = [];
  for (const webhook of index.subscribers(event.type, event.tenantId)) {
    const paused = webhook.state === "paused";
    // A paused webhook holds its deliveries until it is resumed. With a lease
    // the caller claims the rest at once and sends them without a reload.
    const state = paused ? "held" : lease ? "sending" : "pending";
    const delivery: DeliveryRecord = {
      id: uuidv7(now),
      eventId: id,
      webhookId: webhook.id,
      eventType: event.type,
      state,
      attempts: 0,
      nextAttemptAt: paused ? null : now,
      lastStatus: null,
      lastError: null,
      createdAt: now,
      updatedAt: now,
    };
    deliveries.push(delivery);
    await db.execute({
      sql: `INSERT INTO deliveries (id, event_id, webhook_id, event_type, state, attempts,
        next_attempt_at, lease_owner, lease_until, schedule_started_at, created_at, updated_at)
        VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?)`,
      args: [
        delivery.id,
        id,
        webhook.id,
        event.type,
        delivery.state,
        delivery.nextAttemptAt,
        state === "sending" ? lease!.owner : null,
        state === "sending" ? lease!.until : null,
        now,
        now,
        now,
      ],
    });
  }
  return { status: "created", event, deliveries };
}

async function findFirst(db: Executor, input: NewEvent): Promise<IngestResult> {
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
  return { status: "duplicate", event: first, deliveries: await deliveriesOfEvent(db, first.id) };
}

export async function getEvent(db: Executor, id: string): Promise<EventRecord | null> {
  const result = await db.execute({
    sql: `SELECT ${EVENT_COLUMNS} FROM events WHERE id = ?`,
    args: [id],
  });
  const row = result.rows[0];
  return row ? eventFromRow(row) : null;
}
