/** Delivery rows: one per event × subscribed webhook, the unit that is sent and retried. */
import type { Row } from "@libsql/client";
import { type Executor, int, intOrNull, text, textOrNull } from "./executor.ts";

/** Every state a delivery can be in; the schema's CHECK constraint lists the same. */
export const DELIVERY_STATES = [
  "pending",
  "sending",
  "succeeded",
  "failed",
  "dead",
  "cancelled",
  "held",
] as const;

export type DeliveryState = typeof DELIVERY_STATES[number];

export function isDeliveryState(value: string): value is DeliveryState {
  return (DELIVERY_STATES as readonly string[]).includes(value);
}

export interface DeliveryRecord {
  readonly id: string;
  readonly eventId: string;
  readonly webhookId: string;
  readonly eventType: string;
  readonly state: DeliveryState;
  readonly attempts: number;
  readonly nextAttemptAt: number | null;
  readonly lastStatus: number | null;
  readonly lastError: string | null;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** A claim on deliveries: who holds it and until when (ms since epoch). */
export interface Lease {
  readonly owner: string;
  readonly until: number;
}

export const DELIVERY_COLUMNS = `id, event_id, webhook_id, event_type, state, attempts,
  next_attempt_at, last_status, last_error, created_at, updated_at`;

export function deliveryFromRow(row: Row): DeliveryRecord {
  return {
    id: text(row, "id"),
    eventId: text(row, "event_id"),
    webhookId: text(row, "webhook_id"),
    eventType: text(row, "event_type"),
    state: text(row, "state") as DeliveryState,
    attempts: int(row, "attempts"),
    nextAttemptAt: intOrNull(row, "next_attempt_at"),
    lastStatus: intOrNull(row, "last_status"),
    lastError: textOrNull(row, "last_error"),
    createdAt: int(row, "created_at"),
    updatedAt: int(row, "updated_at"),
  };
}

export async function deliveriesOfEvent(db: Executor, eventId: string): Promise<DeliveryRecord[]> {
  const result = await db.execute({
    sql: `SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE event_id = ? ORDER BY webhook_id`,
    args: [eventId],
  });
  return result.rows.map(deliveryFromRow);
}
