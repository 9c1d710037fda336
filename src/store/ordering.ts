/**
 * Ordered delivery: for a webhook with `ordering` set, its deliveries that
 * share an `ordering_key` go one at a time, in acceptance order. The store
 * enforces it, so it holds across daemons sharing the database and across
 * restarts:
 *
 * - Acceptance order is `rowid` order: the one writer inserts deliveries in
 *   commit order, whichever daemon accepted the event.
 * - A delivery whose key has an earlier delivery still open (pending,
 *   sending, held; with `key_strict` also failed or dead) is *parked*:
 *   pending with no due time, so the scheduler never loads it. Ingest parks
 *   it at once; a claim that finds one (after a resume, a replay, a race)
 *   parks it instead of sending it.
 * - When an ordered delivery becomes final (succeeded, failed, dead,
 *   cancelled) the earliest parked one of its key is made due now. If it is
 *   still blocked (strict mode, another earlier one reopened) its claim parks
 *   it again.
 */
import type { DueDelivery } from "./delivery_queue.ts";
import { type Executor, firstRow, statementChunks, text } from "./executor.ts";
import type { WebhookOrdering } from "./webhooks.ts";

/** Earlier deliveries in these states hold a delivery back. */
function blockingStates(ordering: WebhookOrdering): string {
  return ordering === "key_strict"
    ? "('pending', 'sending', 'held', 'failed', 'dead')"
    : "('pending', 'sending', 'held')";
}

/**
 * Whether an earlier delivery of the same webhook and key holds this one
 * back. `beforeSeq`: the delivery's own rowid (a claim); omitted, every
 * stored delivery is earlier (ingest, before the new one is inserted).
 */
export async function hasOpenPredecessor(
  db: Executor,
  webhookId: string,
  key: string,
  ordering: WebhookOrdering,
  beforeSeq?: number,
): Promise<boolean> {
  const row = await firstRow(db, {
    sql: `SELECT 1 AS blocked FROM deliveries
      WHERE webhook_id = ? AND ordering_key = ? AND state IN ${blockingStates(ordering)}
        ${beforeSeq === undefined ? "" : "AND rowid < ?"}
      LIMIT 1`,
    args: beforeSeq === undefined ? [webhookId, key] : [webhookId, key, beforeSeq],
  });
  return row !== undefined;
}

/** Gives claimed deliveries back parked: pending, with no due time, until their turn. */
export async function parkDeliveries(
  db: Executor,
  ids: readonly string[],
  owner: string,
  now: number,
): Promise<void> {
  for (const chunk of statementChunks(ids, 500)) {
    await db.execute({
      sql: `UPDATE deliveries SET state = 'pending', next_attempt_at = NULL, lease_owner = NULL,
          lease_until = NULL, updated_at = ?
        WHERE id IN (${chunk.map(() => "?").join(", ")}) AND state = 'sending' AND lease_owner = ?`,
      args: [now, ...chunk, owner],
    });
  }
}

/** Makes the earliest parked delivery of a key due now; returns it for the scheduler. */
export async function unparkNext(
  db: Executor,
  webhookId: string,
  key: string,
  now: number,
): Promise<DueDelivery | null> {
  const row = await firstRow(db, {
    sql: `SELECT id FROM deliveries
      WHERE webhook_id = ? AND ordering_key = ? AND state = 'pending' AND next_attempt_at IS NULL
      ORDER BY rowid LIMIT 1`,
    args: [webhookId, key],
  });
  if (!row) return null;
  const id = text(row, "id");
  await db.execute({
    sql: "UPDATE deliveries SET next_attempt_at = ?, updated_at = ? WHERE id = ?",
    args: [now, now, id],
  });
  return { id, webhookId, dueAt: now };
}

/**
 * Makes every parked delivery of a webhook due now (its ordering changed, or
 * deliveries it held were cancelled): each claim then parks again what is
 * still blocked. Returns how many.
 */
export async function unparkAll(db: Executor, webhookId: string, now: number): Promise<number> {
  const result = await db.execute({
    sql: `UPDATE deliveries SET next_attempt_at = ?, updated_at = ?
      WHERE webhook_id = ? AND ordering_key IS NOT NULL AND state = 'pending'
        AND next_attempt_at IS NULL`,
    args: [now, now, webhookId],
  });
  return result.rowsAffected;
}
