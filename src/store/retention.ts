/**
 * What the retention purger deletes (purger.ts runs it): deliveries that
 * ended long enough ago, with their attempts, and then events left without
 * deliveries. Each call is one bounded step, run as one store write: it
 * looks at no more than `limit` rows, so it shares a group commit with
 * ingest instead of holding the single writer for long.
 */
import { type Executor, int, statementChunks, text } from "./executor.ts";

/** Retention cutoffs, ms since epoch: rows that ended before them go; null keeps them forever. */
export interface DeliveryCutoffs {
  /** Succeeded deliveries whose success is older than this. */
  readonly succeededBefore: number | null;
  /** Dead, failed and cancelled deliveries that ended before this. */
  readonly deadBefore: number | null;
}

export interface PurgeStep<C> {
  readonly deleted: number;
  /** Attempts deleted with the deliveries (0 for events). */
  readonly attempts: number;
  /** Where the next step starts; undefined: this walk is done. */
  readonly next: C | undefined;
}

const DEAD_STATES = new Set(["dead", "failed", "cancelled"]);

/**
 * Walks deliveries in id order from `after`, up to `limit` of them, and
 * deletes those past retention with their attempts. Ids are UUIDv7, so id
 * order is creation order: the walk ends at the first delivery created
 * after the later cutoff, since nothing from there on can have ended before
 * it. So no index beyond the primary key is needed, and none is added to
 * the hot path (a delivery's index entries are written on every ingest and
 * every attempt; see migration 2). Open deliveries (pending, sending, held)
 * are never deleted, however old.
 */
export async function purgeDeliveries(
  db: Executor,
  cutoffs: DeliveryCutoffs,
  after: string | undefined,
  limit: number,
): Promise<PurgeStep<string>> {
  const { succeededBefore, deadBefore } = cutoffs;
  const latest = Math.max(succeededBefore ?? -Infinity, deadBefore ?? -Infinity);
  if (latest === -Infinity) return { deleted: 0, attempts: 0, next: undefined };
  const page = await db.execute({
    sql:
      "SELECT id, state, created_at, updated_at FROM deliveries WHERE id > ? ORDER BY id LIMIT ?",
    args: [after ?? "", limit],
  });
  const expired = page.rows.filter((row) => {
    const state = text(row, "state");
    const endedAt = int(row, "updated_at");
    if (state === "succeeded") return succeededBefore !== null && endedAt < succeededBefore;
    return DEAD_STATES.has(state) && deadBefore !== null && endedAt < deadBefore;
  }).map((row) => text(row, "id"));
  let attempts = 0;
  for (const chunk of statementChunks(expired, 512)) {
    const marks = chunk.map(() => "?").join(", ");
    attempts += (await db.execute({
      sql: `DELETE FROM attempts WHERE delivery_id IN (${marks})`,
      args: chunk,
    })).rowsAffected;
    await db.execute({ sql: `DELETE FROM deliveries WHERE id IN (${marks})`, args: chunk });
  }
  const last = page.rows[page.rows.length - 1];
  const done = last === undefined || page.rows.length < limit || int(last, "created_at") >= latest;
  return { deleted: expired.length, attempts, next: done ? undefined : text(last, "id") };
}

/** A position among events: they are walked by acceptance time, then id. */
export interface EventCursor {
  readonly receivedAt: number;
  readonly id: string;
}

/**
 * Walks events accepted before `before` from `after`, up to `limit` of them,
 * and deletes those with no delivery left (their deliveries were purged, or
 * they never had one). An event with any delivery stays, whatever its
 * state: it may still be sent, replayed or looked up. Once deleted, an
 * event's id and Idempotency-Key may be used again, except an erased
 * event's, which its tombstone keeps (erasure.ts).
 */
export async function purgeEvents(
  db: Executor,
  before: number,
  after: EventCursor | undefined,
  limit: number,
): Promise<PurgeStep<EventCursor>> {
  const page = await db.execute({
    sql: `SELECT e.id, e.received_at,
        EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id) AS has_deliveries
      FROM events e WHERE (e.received_at, e.id) > (?, ?) AND e.received_at < ?
      ORDER BY e.received_at, e.id LIMIT ?`,
    args: [after?.receivedAt ?? -1, after?.id ?? "", before, limit],
  });
  const orphans = page.rows.filter((row) => int(row, "has_deliveries") === 0)
    .map((row) => text(row, "id"));
  for (const chunk of statementChunks(orphans, 512)) {
    await db.execute({
      sql: `DELETE FROM events WHERE id IN (${chunk.map(() => "?").join(", ")})`,
      args: chunk,
    });
  }
  const last = page.rows[page.rows.length - 1];
  const next = last === undefined || page.rows.length < limit
    ? undefined
    : { receivedAt: int(last, "received_at"), id: text(last, "id") };
  return { deleted: orphans.length, attempts: 0, next };
}
