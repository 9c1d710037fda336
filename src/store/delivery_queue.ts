/**
 * The queries the delivery engine runs: what is due, claiming it under a
 * lease, recording an attempt's result, holding deliveries of a paused
 * webhook. A lease (`lease_owner`, `lease_until`) is what keeps two daemons on
 * one database from sending the same delivery at once; a dead daemon's leases
 * simply expire and the deliveries are taken again.
 */
import type { Row } from "@libsql/client";
import { type AttemptRecord, insertAttempts } from "./attempts.ts";
import type { DeliveryState } from "./deliveries.ts";
import { scrubAttemptsOfErasedEvents } from "./erasure.ts";
import { type Executor, firstRow, int, statementChunks, text, textOrNull } from "./executor.ts";
import { hasOpenPredecessor, parkDeliveries, unparkNext } from "./ordering.ts";
import { applyHealthSignals, type AutoDisabled, type HealthSignal } from "./webhook_health.ts";
import type { WebhookView } from "./webhook_view.ts";

/** A delivery that should be in the scheduler: id, webhook and when it is due. */
export interface DueDelivery {
  readonly id: string;
  readonly webhookId: string;
  readonly dueAt: number;
}

/** Where a page of {@linkcode dueDeliveries} ended: the next page starts after it. */
export interface DueCursor {
  readonly dueAt: number;
  readonly id: string;
}

/**
 * Pending deliveries due up to `until`, and deliveries whose lease expired
 * (their daemon died mid-attempt; they are due now), oldest first, ties by
 * id. With `after`, only those after it in that order: a page at a time,
 * so a reader holding the first pages in memory (still pending in the
 * store until claimed) reaches the ones behind them.
 */
export async function dueDeliveries(
  db: Executor,
  until: number,
  now: number,
  limit: number,
  after?: DueCursor,
): Promise<DueDelivery[]> {
  // `x >= ?4 AND (x > ?4 OR id > ?5)` is `(x, id) > (?4, ?5)` written so the
  // partial index's range starts at the cursor.
  const pendingAfter = after
    ? "AND next_attempt_at >= ?4 AND (next_attempt_at > ?4 OR id > ?5)"
    : "";
  const leaseAfter = after ? "AND lease_until >= ?4 AND (lease_until > ?4 OR id > ?5)" : "";
  const result = await db.execute({
    sql: `SELECT id, webhook_id, next_attempt_at AS due_at FROM (
        SELECT id, webhook_id, next_attempt_at FROM deliveries
          WHERE state = 'pending' AND next_attempt_at <= ?1 ${pendingAfter}
          ORDER BY next_attempt_at, id LIMIT ?3)
      UNION ALL
      SELECT id, webhook_id, due_at FROM (
        SELECT id, webhook_id, lease_until AS due_at FROM deliveries
          WHERE state = 'sending' AND lease_until < ?2 ${leaseAfter}
          ORDER BY lease_until, id LIMIT ?3)
      ORDER BY due_at, id LIMIT ?3`,
    args: after ? [until, now, limit, after.dueAt, after.id] : [until, now, limit],
  });
  return result.rows.map((row) => ({
    id: text(row, "id"),
    webhookId: text(row, "webhook_id"),
    dueAt: Math.min(int(row, "due_at"), Number.MAX_SAFE_INTEGER),
  }));
}

/** How many deliveries wait, and where: the backlog gauges of `/metrics`. */
export interface Backlog {
  /** Pending and due by `until` (within the scheduler's horizon). */
  readonly dueSoon: number;
  /** Pending and due after `until`. */
  readonly later: number;
  /** Held while their webhook is paused. */
  readonly held: number;
  readonly dead: number;
}

/**
 * Counts the backlog in one statement. Each count walks only its partial
 * index (`deliveries_pending`, `deliveries_held_by_webhook`,
 * `deliveries_dead`), never the table: cost grows with the backlog counted,
 * so callers cache the answer for a few seconds.
 */
export async function backlog(db: Executor, until: number): Promise<Backlog> {
  const result = await db.execute({
    sql: `SELECT
        (SELECT COUNT(*) FROM deliveries WHERE state = 'pending' AND next_attempt_at <= ?1)
          AS due_soon,
        (SELECT COUNT(*) FROM deliveries WHERE state = 'pending' AND next_attempt_at > ?1)
          AS later,
        (SELECT COUNT(*) FROM deliveries WHERE state = 'held') AS held,
        (SELECT COUNT(*) FROM deliveries WHERE state = 'dead') AS dead`,
    args: [until],
  });
  const row = result.rows[0]!;
  return {
    dueSoon: int(row, "due_soon"),
    later: int(row, "later"),
    held: int(row, "held"),
    dead: int(row, "dead"),
  };
}

/** Everything needed to send a claimed delivery: its counters and its event. */
export interface ClaimedDelivery {
  readonly id: string;
  readonly webhookId: string;
  readonly attempts: number;
  readonly scheduleAttempts: number;
  readonly scheduleStartedAt: number;
  readonly trigger: "scheduled" | "manual";
  readonly createdAt: number;
  /** Set when its webhook orders deliveries: the key it waits its turn under (ordering.ts). */
  readonly orderingKey: string | null;
  readonly event: DeliveryEvent;
}

/** What an attempt needs of a delivery's event: its identity and the payload to send. */
export interface DeliveryEvent {
  readonly id: string;
  readonly type: string;
  readonly tenantId: string | null;
  /** The event data: JSON text as stored at ingest. */
  readonly payload: string;
  /** When the event occurred, ms since epoch. */
  readonly occurredAt: number;
  /** The producer's W3C trace context; null when it sent none. */
  readonly traceparent: string | null;
  readonly tracestate: string | null;
}

/** `payload`: the event's payload when it was read apart from `row`. */
function claimedFromRow(row: Row, payload?: string): ClaimedDelivery {
  return {
    id: text(row, "id"),
    webhookId: text(row, "webhook_id"),
    attempts: int(row, "attempts"),
    scheduleAttempts: int(row, "schedule_attempts"),
    scheduleStartedAt: int(row, "schedule_started_at"),
    trigger: text(row, "next_trigger") as "scheduled" | "manual",
    createdAt: int(row, "created_at"),
    orderingKey: textOrNull(row, "ordering_key"),
    event: {
      id: text(row, "event_id"),
      type: text(row, "type"),
      tenantId: textOrNull(row, "tenant_id"),
      payload: payload ?? text(row, "payload"),
      occurredAt: int(row, "occurred_at"),
      traceparent: textOrNull(row, "trace_parent"),
      tracestate: textOrNull(row, "trace_state"),
    },
  };
}

/**
 * Payloads up to this many bytes come back with the rest of a claim's
 * rows; larger ones are read one by one (claimDeliveries).
 */
const INLINE_PAYLOAD_BYTES = 1_024;

/**
 * Claims deliveries for `owner` until `leaseUntil`: pending ones that are due,
 * ones whose lease expired, and ones `owner` already holds (a renewal).
 * Returns only what was claimed and can be sent; anything another daemon
 * holds is skipped. `view` is the webhook view as of this transaction: a
 * delivery whose webhook was paused or disabled meanwhile (by any daemon) is
 * held instead, and one whose webhook is gone is cancelled, so no attempt
 * goes out after the change committed. An ordered delivery whose key has an
 * earlier one still open is parked until its turn (ordering.ts).
 */
export async function claimDeliveries(
  db: Executor,
  view: WebhookView,
  ids: readonly string[],
  owner: string,
  now: number,
  leaseUntil: number,
): Promise<ClaimedDelivery[]> {
  const claimed: ClaimedDelivery[] = [];
  /** Each claimed delivery's rowid: its place in acceptance order. */
  const seqs = new Map<string, number>();
  for (const chunk of statementChunks(ids, 500)) {
    const marks = chunk.map(() => "?").join(", ");
    const updated = await db.execute({
      sql: `UPDATE deliveries SET state = 'sending', lease_owner = ?, lease_until = ?,
          postponed = 0, updated_at = ?
        WHERE id IN (${marks}) AND (
          (state = 'pending' AND next_attempt_at <= ?)
          OR (state = 'sending' AND (lease_until < ? OR lease_owner = ?)))`,
      args: [owner, leaseUntil, now, ...chunk, now, now, owner],
    });
    if (updated.rowsAffected === 0) continue;
    // What the update claimed, read back without RETURNING (it would open a
    // row cursor; see file_connection.ts): after it, exactly the claimed
    // ones of the chunk are sending under `owner` (one `owner` held before
    // was renewed, so it is among them). A large payload is read apart:
    // carried in the query's one JSON value it would be escaped and parsed
    // again (measured: 4 KB payloads cost 1.6x the store's time per claim).
    const rows = await db.execute({
      sql: `SELECT d.id, d.webhook_id, d.attempts, d.schedule_attempts, d.schedule_started_at,
          d.next_trigger, d.created_at, d.ordering_key, d.rowid AS seq, d.event_id, e.type,
          e.tenant_id, CASE WHEN octet_length(e.payload) <= ${INLINE_PAYLOAD_BYTES} THEN e.payload END
          AS payload, e.rowid AS event_seq, e.occurred_at, e.trace_parent, e.trace_state
        FROM deliveries d JOIN events e ON e.id = d.event_id
        WHERE d.id IN (${marks}) AND d.state = 'sending' AND d.lease_owner = ?`,
      args: [...chunk, owner],
    });
    const apart = new Map<string, string>();
    for (const row of rows.rows) {
      const eventId = text(row, "event_id");
      if (row["payload"] !== null || apart.has(eventId)) continue;
      const event = await firstRow(db, {
        sql: "SELECT payload FROM events WHERE rowid = ?",
        args: [int(row, "event_seq")],
      });
      apart.set(eventId, text(event!, "payload"));
    }
    for (const row of rows.rows) {
      claimed.push(claimedFromRow(row, apart.get(text(row, "event_id"))));
      seqs.set(text(row, "id"), int(row, "seq"));
    }
  }
  const held: string[] = [];
  const cancelled: string[] = [];
  const parked: string[] = [];
  const sendable: ClaimedDelivery[] = [];
  // In acceptance order, so that of two claimed together only the earlier goes.
  claimed.sort((a, b) => seqs.get(a.id)! - seqs.get(b.id)!);
  for (const delivery of claimed) {
    const webhook = view.get(delivery.webhookId);
    const state = webhook?.state;
    if (state === "paused" || state === "disabled") held.push(delivery.id);
    else if (state !== "enabled") cancelled.push(delivery.id);
    else if (
      delivery.orderingKey !== null && webhook!.ordering !== "none" &&
      await hasOpenPredecessor(
        db,
        delivery.webhookId,
        delivery.orderingKey,
        webhook!.ordering,
        seqs.get(delivery.id),
      )
    ) {
      parked.push(delivery.id);
    } else sendable.push(delivery);
  }
  await releaseDeliveries(db, held, owner, "held", now);
  await releaseDeliveries(db, cancelled, owner, "cancelled", now);
  await parkDeliveries(db, parked, owner, now);
  return sendable;
}

/** Where an attempt leaves its delivery. */
export interface AttemptVerdict {
  readonly state: Extract<DeliveryState, "succeeded" | "pending" | "failed" | "dead">;
  /** When the next attempt is due; null unless `state` is pending. */
  readonly nextAttemptAt: number | null;
  /** Attempts made in the current schedule (a replay starts a new one). */
  readonly scheduleAttempts: number;
}

export interface AttemptToRecord {
  readonly attempt: AttemptRecord;
  readonly owner: string;
  readonly verdict: AttemptVerdict;
  readonly now: number;
  /** What the attempt tells about its webhook's health; none: it counts toward no rule. */
  readonly health?: HealthSignal;
  /** Its ordering key, when its webhook orders deliveries: a final verdict lets the next go. */
  readonly ordering?: { readonly webhookId: string; readonly key: string };
}

/** What recording one attempt did. */
export interface RecordedAttempt {
  /** The delivery moved on; false: it was cancelled or taken over, the attempt is history only. */
  readonly moved: boolean;
  /** The webhook this attempt's result disabled (an auto-disable rule fired), if any. */
  readonly autoDisabled: AutoDisabled | null;
  /** This attempt's success brought its webhook back after deliveries had ended unsent. */
  readonly recovered: boolean;
  /** The next delivery of its ordering key, made due by this one becoming final. */
  readonly unparked: DueDelivery | null;
}

/** SQLite takes at most 32,766 bound values per statement. */
const MAX_VALUES = 32_000;
const UPDATE_VALUES = 9;

/**
 * The UPDATE that moves `rows` recorded deliveries on. The unary `+` keeps
 * SQLite off the `state` indexes: without statistics it guesses that
 * `state = 'sending'` matches a handful of rows and walks every delivery in
 * flight once per recorded attempt (quadratic in the backlog: 7 ms for 14
 * rows with 4,000 in flight), where the primary key finds each row at once.
 */
function recordAttemptsSql(rows: number): string {
  return `UPDATE deliveries SET state = v.column3, next_attempt_at = v.column4,
      schedule_attempts = v.column5, attempts = MAX(attempts, v.column6),
      last_status = v.column7, last_error = v.column8, next_trigger = 'scheduled',
      lease_owner = NULL, lease_until = NULL, updated_at = v.column9
    FROM (VALUES ${Array(rows).fill("(?, ?, ?, ?, ?, ?, ?, ?, ?)").join(", ")}) AS v
    WHERE deliveries.id = v.column1 AND +deliveries.state = 'sending'
      AND deliveries.lease_owner = v.column2`;
}

/**
 * Of `rows` (delivery id, owner) pairs, the deliveries still sending under
 * that owner: exactly those `recordAttemptsSql` will move. Asked before the
 * update, as one row, instead of by the update's RETURNING: on Deno 2.9.6
 * every row cursor of the libSQL binding leaks its native memory
 * (file_connection.ts, queryOne), and this runs in every group commit that
 * records attempts. The soak grew by 4 MB a minute with both.
 */
function stillLeasedSql(rows: number): string {
  return `SELECT json_group_array(d.id) AS ids
    FROM (VALUES ${Array(rows).fill("(?, ?)").join(", ")}) AS v
    JOIN deliveries d ON d.id = v.column1
    WHERE +d.state = 'sending' AND d.lease_owner = v.column2`;
}

/**
 * Stores attempts and moves their deliveries on, but only while `owner`
 * still holds the lease: a delivery cancelled (webhook deleted or disabled)
 * or taken over meanwhile keeps its state, and the late result is kept only
 * as history. Every attempt of a group commit goes at once: one multi-row
 * insert for the attempts and one UPDATE ... FROM (VALUES ...) for their
 * deliveries, instead of two statements per attempt. Then the health
 * signals of the attempts that moved their delivery count toward the
 * auto-disable rules (webhook_health.ts). Returns, per attempt, whether its
 * delivery moved and which webhook it disabled.
 */
export async function recordAttempts(
  db: Executor,
  items: readonly AttemptToRecord[],
): Promise<RecordedAttempt[]> {
  await insertAttempts(db, items.map((item) => item.attempt));
  const moved = new Set<string>();
  for (const chunk of statementChunks(items, MAX_VALUES / UPDATE_VALUES)) {
    const leased = await firstRow(db, {
      sql: stillLeasedSql(chunk.length),
      args: chunk.flatMap(({ attempt, owner }) => [attempt.deliveryId, owner]),
    });
    for (const id of JSON.parse(text(leased!, "ids")) as string[]) moved.add(id);
    await db.execute({
      sql: recordAttemptsSql(chunk.length),
      args: chunk.flatMap(({ attempt, owner, verdict, now }) => [
        attempt.deliveryId,
        owner,
        verdict.state,
        verdict.nextAttemptAt,
        verdict.scheduleAttempts,
        attempt.number,
        attempt.responseStatus,
        attempt.errorKind,
        now,
      ]),
    });
  }
  // A delivery attempted twice in one group (not possible under one lease) moves once.
  const movedPerItem = items.map((item) => moved.delete(item.attempt.deliveryId));
  const unmoved = items.filter((_, i) => !movedPerItem[i]).map((item) => item.attempt.id);
  if (unmoved.length > 0) await scrubAttemptsOfErasedEvents(db, unmoved);
  const signals = items.flatMap((item, i) => (movedPerItem[i] && item.health ? [item.health] : []));
  const changes = signals.length === 0
    ? { disabled: [], recovered: [] }
    : await applyHealthSignals(db, signals, Math.max(...items.map((item) => item.now)));
  // Each change is reported once, on the last of the webhook's attempts here.
  const lastOf = (webhookId: string) =>
    items.findLastIndex((item, i) => movedPerItem[i] && item.health?.webhookId === webhookId);
  const disabledOn = new Map(changes.disabled.map((d) => [lastOf(d.webhookId), d]));
  const recoveredOn = new Set(changes.recovered.map(lastOf));
  const unparked: (DueDelivery | null)[] = [];
  for (const [i, item] of items.entries()) {
    const final = item.verdict.state !== "pending";
    unparked.push(
      movedPerItem[i] && final && item.ordering
        ? await unparkNext(db, item.ordering.webhookId, item.ordering.key, item.now)
        : null,
    );
  }
  return movedPerItem.map((wasMoved, i) => ({
    moved: wasMoved,
    autoDisabled: disabledOn.get(i) ?? null,
    recovered: recoveredOn.has(i),
    unparked: unparked[i]!,
  }));
}

/**
 * Gives claimed deliveries back unsent, to be attempted at `until`: their
 * webhook's circuit breaker is open, or its queue in the sending pool is
 * full. No attempt is spent, and the schedule's start moves forward by the
 * time postponed, so a policy's `max_age` does not run out while a delivery
 * is held back. `recallable` marks a full queue's: those may be recalled
 * before `until` ({@linkcode recallPostponed}).
 */
export async function postponeDeliveries(
  db: Executor,
  ids: readonly string[],
  owner: string,
  until: number,
  now: number,
  recallable: boolean,
): Promise<void> {
  for (const chunk of statementChunks(ids, 500)) {
    await db.execute({
      sql: `UPDATE deliveries SET state = 'pending', next_attempt_at = ?,
          schedule_started_at = schedule_started_at + ?, lease_owner = NULL, lease_until = NULL,
          postponed = ?, updated_at = ?
        WHERE id IN (${chunk.map(() => "?").join(", ")}) AND state = 'sending' AND lease_owner = ?`,
      args: [until, Math.max(0, until - now), recallable ? 1 : 0, now, ...chunk, owner],
    });
  }
}

/**
 * Moves due deliveries nobody holds to `until` without claiming them (no
 * payload is read): their webhook's circuit breaker keeps everything back
 * until then. As with a postponement, no attempt is spent and the
 * schedule's start moves forward by the time held back. Only a delivery
 * still due and free moves: pending, or sending under a lease that ran out;
 * one a daemon claimed meanwhile keeps its claim.
 */
export async function deferDeliveries(
  db: Executor,
  ids: readonly string[],
  until: number,
  now: number,
): Promise<void> {
  for (const chunk of statementChunks(ids, 500)) {
    await db.execute({
      sql: `UPDATE deliveries SET state = 'pending', next_attempt_at = ?,
          schedule_started_at = schedule_started_at + ?, lease_owner = NULL, lease_until = NULL,
          postponed = 0, updated_at = ?
        WHERE id IN (${chunk.map(() => "?").join(", ")}) AND (
          (state = 'pending' AND next_attempt_at <= ?) OR (state = 'sending' AND lease_until < ?))`,
      args: [until, Math.max(0, until - now), now, ...chunk, now, now],
    });
  }
}

/**
 * Makes up to `limit` of a webhook's recallable postponed deliveries due
 * now, earliest first, and returns their ids: its queue has room sooner than
 * the pace it was postponed at foretold (the receiver sped up). The time
 * not spent waiting comes off the schedule's start again, so `max_age`
 * counts exactly the time the delivery was really held back.
 */
export async function recallPostponed(
  db: Executor,
  webhookId: string,
  now: number,
  limit: number,
): Promise<string[]> {
  // The ids first, then the update: RETURNING would open a row cursor (file_connection.ts).
  const due = await firstRow(db, {
    sql: `SELECT json_group_array(id) AS ids FROM (SELECT id FROM deliveries
        WHERE webhook_id = ? AND postponed = 1 AND state = 'pending' AND next_attempt_at > ?
        ORDER BY next_attempt_at LIMIT ?)`,
    args: [webhookId, now, limit],
  });
  const ids = JSON.parse(text(due!, "ids")) as string[];
  for (const chunk of statementChunks(ids, 500)) {
    await db.execute({
      sql: `UPDATE deliveries SET schedule_started_at = schedule_started_at - (next_attempt_at - ?),
          next_attempt_at = ?, postponed = 0, updated_at = ?
        WHERE id IN (${chunk.map(() => "?").join(", ")})`,
      args: [now, now, now, ...chunk],
    });
  }
  return ids;
}

/**
 * Per webhook, how many of its full queue's postponements could still be
 * recalled (due after `now`), counting at most `limit` in all. A daemon's
 * count of them lives in memory, so a daemon learns here of those another
 * left behind (it stopped, was killed, or a peer sharing the database went
 * away) and recalls them as its queues have room, instead of leaving them
 * parked until the pace of a slow spell said. The limit bounds the walk of
 * the partial index when a huge backlog is parked: a recall asks for at
 * most a queue's room at a time, so a bigger count would change nothing.
 */
export async function recallableByWebhook(
  db: Executor,
  now: number,
  limit: number,
): Promise<{ webhookId: string; count: number }[]> {
  const result = await db.execute({
    sql: `SELECT webhook_id, count(*) AS n FROM (
        SELECT webhook_id FROM deliveries INDEXED BY deliveries_postponed
        WHERE postponed = 1 AND state = 'pending' AND next_attempt_at > ? LIMIT ?)
      GROUP BY webhook_id`,
    args: [now, limit],
  });
  return result.rows.map((row) => ({ webhookId: text(row, "webhook_id"), count: Number(row.n) }));
}

/**
 * Gives claimed deliveries back unsent: `pending` (shutdown), `held` (their
 * webhook is paused or disabled) or `cancelled` (their webhook is gone).
 */
export async function releaseDeliveries(
  db: Executor,
  ids: readonly string[],
  owner: string,
  state: "pending" | "held" | "cancelled",
  now: number,
): Promise<void> {
  for (const chunk of statementChunks(ids, 500)) {
    await db.execute({
      sql: `UPDATE deliveries SET state = ?, next_attempt_at = ?, held_at = ?, lease_owner = NULL,
          lease_until = NULL, updated_at = ?
        WHERE id IN (${chunk.map(() => "?").join(", ")}) AND state = 'sending' AND lease_owner = ?`,
      args: [
        state,
        state === "pending" ? now : null,
        state === "held" ? now : null,
        now,
        ...chunk,
        owner,
      ],
    });
  }
}
