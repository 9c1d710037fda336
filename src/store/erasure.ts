/**
 * Erasing an event's data on request (data protection): its payload, and the
 * headers and bodies of every attempt at it, are overwritten in place; what
 * is still to be sent is cancelled; and a tombstone keeps its id and
 * Idempotency-Key from ever being accepted again, so a producer's retry
 * cannot bring the data back. The tombstone outlives the event row, which
 * retention removes like any other (retention.ts).
 */
import type { Row } from "@libsql/client";
import {
  type Executor,
  firstRow,
  int,
  intOrNull,
  statementChunks,
  text,
  textOrNull,
} from "./executor.ts";
import { unparkNext } from "./ordering.ts";

/** The payload an erased event keeps: JSON `null`, so every reader still parses it. */
export const ERASED_PAYLOAD = "null";

export interface Tombstone {
  readonly id: string;
  readonly erasedAt: number;
}

export type EraseResult =
  | { readonly status: "not_found" }
  | {
    readonly status: "erased";
    readonly erasedAt: number;
    /** This call erased it; false: it had been erased before, and nothing changed. */
    readonly fresh: boolean;
    /** Deliveries cancelled by this erasure (0 when it had been erased before). */
    readonly cancelled: number;
  };

function tombstoneFromRow(row: Row): Tombstone {
  return { id: text(row, "id"), erasedAt: int(row, "erased_at") };
}

/** The tombstone of an event erased with this id or this Idempotency-Key, if any. */
export async function findTombstone(
  db: Executor,
  id: string | undefined,
  idempotencyKey: string | undefined,
): Promise<Tombstone | null> {
  const result = await db.execute({
    sql: `SELECT id, erased_at FROM event_tombstones WHERE id = ?
      UNION ALL SELECT id, erased_at FROM event_tombstones WHERE idempotency_key = ? LIMIT 1`,
    args: [id ?? null, idempotencyKey ?? null],
  });
  const row = result.rows[0];
  return row ? tombstoneFromRow(row) : null;
}

/**
 * Erases event `id`. Deliveries that could still send its data are
 * cancelled: pending, held and in flight, and dead ones (a replay would send
 * them). Failed and succeeded ones keep their state as history; a manual
 * retry of them is refused (delivery_history.ts). An attempt in flight in
 * some daemon may still reach its receiver; its record is scrubbed when it
 * comes back (`scrubAttemptsOfErasedEvents`). Erasing again changes nothing.
 */
export async function eraseEvent(db: Executor, id: string, now: number): Promise<EraseResult> {
  const found = await db.execute({
    sql: "SELECT idempotency_key, erased_at FROM events WHERE id = ?",
    args: [id],
  });
  const event = found.rows[0];
  if (!event) {
    // Retention may have removed an erased event's row; its tombstone answers.
    const tombstone = await findTombstone(db, id, undefined);
    return tombstone
      ? { status: "erased", erasedAt: tombstone.erasedAt, fresh: false, cancelled: 0 }
      : { status: "not_found" };
  }
  const erasedBefore = intOrNull(event, "erased_at");
  if (erasedBefore !== null) {
    return { status: "erased", erasedAt: erasedBefore, fresh: false, cancelled: 0 };
  }

  await db.execute({
    sql: "UPDATE events SET payload = ?, erased_at = ? WHERE id = ?",
    args: [ERASED_PAYLOAD, now, id],
  });
  await db.execute({
    sql: `INSERT INTO event_tombstones (id, idempotency_key, erased_at) VALUES (?, ?, ?)
      ON CONFLICT DO NOTHING`,
    args: [id, textOrNull(event, "idempotency_key"), now],
  });
  // Which deliveries this cancels, read first as one row: RETURNING would
  // open a row cursor, which leaks on Deno (file_connection.ts).
  const open = await firstRow(db, {
    sql: `SELECT json_group_array(json_array(webhook_id, ordering_key)) AS cancelled
      FROM deliveries WHERE event_id = ? AND state IN ('pending', 'held', 'sending', 'dead')`,
    args: [id],
  });
  const cancelled = JSON.parse(text(open!, "cancelled")) as [string, string | null][];
  await db.execute({
    sql: `UPDATE deliveries SET state = 'cancelled', next_attempt_at = NULL, lease_owner = NULL,
        lease_until = NULL, held_at = NULL, updated_at = ?
      WHERE event_id = ? AND state IN ('pending', 'held', 'sending', 'dead')`,
    args: [now, id],
  });
  // An ordered delivery cancelled here is final: the next of its key may go (ordering.ts).
  for (const [webhookId, key] of cancelled) {
    if (key !== null) await unparkNext(db, webhookId, key, now);
  }
  await db.execute({
    sql: `UPDATE attempts SET request_headers = '{}', response_headers = NULL,
        response_body = NULL
      WHERE delivery_id IN (SELECT id FROM deliveries WHERE event_id = ?)`,
    args: [id],
  });
  return { status: "erased", erasedAt: now, fresh: true, cancelled: cancelled.length };
}

/**
 * Scrubs the attempts among `attemptIds` whose event was erased while they
 * were in flight: they were recorded after the erasure. Only attempts that
 * did not move their delivery can be such (erasure cancels what is in
 * flight), so the recorder calls this for those alone, off the common path.
 */
export async function scrubAttemptsOfErasedEvents(
  db: Executor,
  attemptIds: readonly string[],
): Promise<void> {
  for (const chunk of statementChunks(attemptIds, 512)) {
    await db.execute({
      sql: `UPDATE attempts SET request_headers = '{}', response_headers = NULL,
          response_body = NULL
        WHERE id IN (${chunk.map(() => "?").join(", ")}) AND EXISTS
          (SELECT 1 FROM deliveries d JOIN events e ON e.id = d.event_id
            WHERE d.id = attempts.delivery_id AND e.erased_at IS NOT NULL)`,
      args: [...chunk],
    });
  }
}

/** When event `id` was erased (its row or, once retention removed that, its tombstone), or null. */
export async function erasedAt(db: Executor, id: string): Promise<number | null> {
  const result = await db.execute({
    sql: `SELECT erased_at FROM events WHERE id = ? AND erased_at IS NOT NULL
      UNION ALL SELECT erased_at FROM event_tombstones WHERE id = ? LIMIT 1`,
    args: [id, id],
  });
  const row = result.rows[0];
  return row ? int(row, "erased_at") : null;
}
