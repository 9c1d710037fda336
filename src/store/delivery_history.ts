/**
 * Reading deliveries back (a webhook's history, the dead-letter queue, one
 * delivery with its attempts) and the manual actions on them: retry one now,
 * replay dead ones by filter.
 */
import { type AttemptRecord, attemptsOf, attemptsOfMany } from "./attempts.ts";
import {
  DELIVERY_COLUMNS,
  deliveryFromRow,
  type DeliveryRecord,
  type DeliveryState,
  isDeliveryState,
} from "./deliveries.ts";
import { type Executor, type Page, type PageResult, statementChunks, toPage } from "./executor.ts";

export interface DeliveryFilter {
  readonly webhookId?: string;
  readonly state?: DeliveryState;
  readonly eventType?: string;
  /** Created at or after, ms since epoch. */
  readonly since?: number;
  /** Created before, ms since epoch. */
  readonly until?: number;
}

function where(
  filter: DeliveryFilter,
  afterId?: string,
): { sql: string; args: (string | number)[] } {
  const clauses: string[] = [];
  const args: (string | number)[] = [];
  const add = (clause: string, value: string | number) => (clauses.push(clause), args.push(value));
  if (filter.webhookId !== undefined) add("webhook_id = ?", filter.webhookId);
  // The state goes in as a literal: only `state = 'dead'` as written lets
  // SQLite use the partial index of dead deliveries (see migration 2).
  if (filter.state !== undefined) clauses.push(`state = '${stateLiteral(filter.state)}'`);
  if (filter.eventType !== undefined) add("event_type = ?", filter.eventType);
  if (filter.since !== undefined) add("created_at >= ?", filter.since);
  if (filter.until !== undefined) add("created_at < ?", filter.until);
  if (afterId !== undefined) add("id > ?", afterId);
  return { sql: clauses.length > 0 ? `WHERE ${clauses.join(" AND ")}` : "", args };
}

function stateLiteral(state: DeliveryState): DeliveryState {
  if (!isDeliveryState(state)) {
    throw new TypeError(`Cannot filter deliveries: unknown state ${JSON.stringify(state)}`);
  }
  return state;
}

/** Deliveries matching `filter`, oldest first (ids are time-ordered). */
export async function listDeliveries(
  db: Executor,
  filter: DeliveryFilter,
  page: Page,
): Promise<PageResult<DeliveryRecord>> {
  const w = where(filter, page.after);
  const result = await db.execute({
    sql: `SELECT ${DELIVERY_COLUMNS} FROM deliveries ${w.sql} ORDER BY id LIMIT ?`,
    args: [...w.args, page.limit + 1],
  });
  return toPage(result.rows.map(deliveryFromRow), page.limit);
}

/**
 * A webhook's history as seed 004 shows it: each delivery with its attempts
 * (the API shows the latest inline, all of them on request), in two queries
 * for the whole page.
 */
export async function listDeliveryHistory(
  db: Executor,
  filter: DeliveryFilter,
  page: Page,
): Promise<PageResult<DeliveryRecord> & { attempts: Map<string, AttemptRecord[]> }> {
  const found = await listDeliveries(db, filter, page);
  return { ...found, attempts: await attemptsOfMany(db, found.items.map((d) => d.id)) };
}

export async function getDelivery(
  db: Executor,
  id: string,
): Promise<{ delivery: DeliveryRecord; attempts: AttemptRecord[] } | null> {
  const result = await db.execute({
    sql: `SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE id = ?`,
    args: [id],
  });
  const row = result.rows[0];
  if (!row) return null;
  return { delivery: deliveryFromRow(row), attempts: await attemptsOf(db, id) };
}

export type RetryResult =
  | { readonly status: "scheduled"; readonly delivery: DeliveryRecord }
  | { readonly status: "not_found" }
  | { readonly status: "refused"; readonly reason: string };

/**
 * Makes a delivery due now, its next attempt marked `manual`. The attempt
 * continues the delivery's schedule: a pending delivery moves on from where it
 * was; a failed or dead one gets this one attempt and, failing, ends as before.
 */
export async function retryDelivery(db: Executor, id: string, now: number): Promise<RetryResult> {
  const found = await db.execute({
    sql: `SELECT d.state, d.lease_until, w.state AS webhook_state, w.deleted_at, e.erased_at
      FROM deliveries d JOIN webhooks w ON w.id = d.webhook_id JOIN events e ON e.id = d.event_id
      WHERE d.id = ?`,
    args: [id],
  });
  const row = found.rows[0];
  if (!row) return { status: "not_found" };
  if (row.deleted_at !== null) {
    return { status: "refused", reason: "its webhook was deleted" };
  }
  if (row.erased_at !== null) {
    return { status: "refused", reason: "its event was erased; its data is gone" };
  }
  if (row.webhook_state === "disabled") {
    return { status: "refused", reason: "its webhook is disabled; enable it first" };
  }
  const state = String(row.state) as DeliveryState;
  // A lease that ran out belongs to a daemon that died mid-attempt: fair game.
  if (state === "sending" && Number(row.lease_until) >= now) {
    return {
      status: "refused",
      reason: "an attempt of this delivery is in flight; retry after it",
    };
  }
  if (state === "cancelled") {
    return { status: "refused", reason: "this delivery was cancelled" };
  }
  if (state === "held") {
    return { status: "refused", reason: "its webhook is paused; resume the webhook to send it" };
  }
  await db.execute({
    sql: `UPDATE deliveries SET state = 'pending', next_attempt_at = ?, next_trigger = 'manual',
        lease_owner = NULL, lease_until = NULL, updated_at = ? WHERE id = ?`,
    args: [now, now, id],
  });
  const delivery = await getDelivery(db, id);
  return { status: "scheduled", delivery: delivery!.delivery };
}

/**
 * Replays up to `limit` dead deliveries matching `filter` with ids after
 * `afterId`: each starts its schedule over, due now. Deliveries of deleted or
 * disabled webhooks stay dead: there is nowhere to send them. The caller repeats with
 * the returned `lastId` until `scanned` is 0, so any number is replayed in
 * bounded transactions.
 */
export async function replayDeadLetters(
  db: Executor,
  filter: Omit<DeliveryFilter, "state">,
  afterId: string | undefined,
  limit: number,
  now: number,
): Promise<{ count: number; lastId: string | undefined; scanned: number }> {
  const w = where({ ...filter, state: "dead" }, afterId);
  // Page over dead deliveries by id; only those with a live webhook change.
  const page = await db.execute({
    sql: `SELECT id FROM deliveries ${w.sql} ORDER BY id LIMIT ?`,
    args: [...w.args, limit],
  });
  const ids = page.rows.map((row) => String(row.id));
  if (ids.length === 0) return { count: 0, lastId: afterId, scanned: 0 };
  let count = 0;
  // Chunks of a few sizes, so a short last page prepares no statement of its own.
  for (const chunk of statementChunks(ids, 512)) {
    const result = await db.execute({
      sql: `UPDATE deliveries SET state = 'pending', next_attempt_at = ?, schedule_attempts = 0,
          schedule_started_at = ?, next_trigger = 'manual', updated_at = ?
        WHERE id IN (${chunk.map(() => "?").join(", ")}) AND state = 'dead' AND webhook_id IN
          (SELECT id FROM webhooks WHERE deleted_at IS NULL AND state != 'disabled')`,
      args: [now, now, now, ...chunk],
    });
    count += result.rowsAffected;
  }
  return { count, lastId: ids[ids.length - 1], scanned: ids.length };
}
