/**
 * Recover: deliveries for the events a webhook missed in a window of time
 * (`POST /api/v1/webhooks/{id}/recover`), such as those accepted while it was
 * disabled, or those whose deliveries ended without success. One call walks
 * one page of the window; the caller repeats with the returned cursor, so a
 * window of any size is recovered in short transactions that ingest's group
 * commits interleave with.
 */
import { uuidv7 } from "../ids.ts";
import { EventPatternSet, OPERATIONAL_PREFIX } from "../fanout/event_pattern.ts";
import { receivesTenant } from "../fanout/webhook_index.ts";
import { type Executor, int, statementChunks, text, textOrNull } from "./executor.ts";
import type { WebhookRecord } from "./webhooks.ts";

/** A position in the window: events sort by acceptance time, then id. */
export interface RecoverCursor {
  readonly receivedAt: number;
  readonly id: string;
}

export interface RecoverPage {
  /** Deliveries created. */
  readonly created: number;
  /** Events of the webhook's types it has received, or will: not recovered again. */
  readonly skipped: number;
  /** Events looked at; 0: the window is done. */
  readonly scanned: number;
  readonly next: RecoverCursor | undefined;
}

/**
 * States in which a delivery needs no replacement: on its way, held for the
 * webhook, or received. A failed, dead or cancelled one ended without
 * success; its event gets a fresh delivery, and that one, while open or once
 * received, keeps a second recover from creating another (idempotent).
 */
const COVERED = ["pending", "sending", "held", "succeeded"];

/**
 * Walks up to `limit` events accepted in `[since, until)` after `after`, and
 * creates a delivery to `webhook` for each one it subscribes to (its
 * patterns and tenant, as fan-out decides) that has no covering delivery.
 * hookd's own operational events and erased events are never recovered. The
 * new deliveries are due now, or held when the webhook is paused or
 * disabled (enabling it sends them, as with any held delivery).
 */
export async function recoverEvents(
  db: Executor,
  webhook: WebhookRecord,
  window: { readonly since: number; readonly until: number },
  after: RecoverCursor | undefined,
  limit: number,
  now: number,
): Promise<RecoverPage> {
  const start = after ?? { receivedAt: window.since, id: "" };
  const page = await db.execute({
    sql: `SELECT id, type, tenant_id, ordering_key, received_at FROM events
      WHERE (received_at, id) > (?, ?) AND received_at < ?
      ORDER BY received_at, id LIMIT ?`,
    args: [start.receivedAt, start.id, window.until, limit],
  });
  // `(received_at, id) > (since, '')` takes every event at `since` itself: no id is empty.
  if (page.rows.length === 0) return { created: 0, skipped: 0, scanned: 0, next: undefined };
  const last = page.rows[page.rows.length - 1]!;
  const next = { receivedAt: int(last, "received_at"), id: text(last, "id") };

  const patterns = new EventPatternSet(webhook.eventTypes);
  const wanted = page.rows.filter((row) => {
    const type = text(row, "type");
    return !type.startsWith(OPERATIONAL_PREFIX) && patterns.matches(type) &&
      receivesTenant(webhook, textOrNull(row, "tenant_id"));
  });
  if (wanted.length === 0) return { created: 0, skipped: 0, scanned: page.rows.length, next };

  const covered = new Set<string>();
  const live = new Map<string, { type: string; orderingKey: string | null }>();
  for (const chunk of statementChunks(wanted.map((row) => text(row, "id")), 512)) {
    const marks = chunk.map(() => "?").join(", ");
    const found = await db.execute({
      sql: `SELECT d.event_id FROM deliveries d WHERE d.event_id IN (${marks})
          AND d.webhook_id = ? AND d.state IN (${COVERED.map((s) => `'${s}'`).join(", ")})
        UNION SELECT e.id FROM events e WHERE e.id IN (${marks}) AND e.erased_at IS NOT NULL`,
      args: [...chunk, webhook.id, ...chunk],
    });
    for (const row of found.rows) covered.add(text(row, "event_id"));
  }
  for (const row of wanted) {
    const id = text(row, "id");
    if (covered.has(id)) continue;
    // Ordered webhooks keep the key: a claim parks the delivery while an earlier one is open.
    const orderingKey = webhook.ordering === "none" ? null : textOrNull(row, "ordering_key");
    live.set(id, { type: text(row, "type"), orderingKey });
  }

  const held = webhook.state !== "enabled";
  for (const chunk of statementChunks([...live], 1024)) {
    await db.execute({
      sql: `INSERT INTO deliveries (id, event_id, webhook_id, event_type, state, attempts,
          next_attempt_at, schedule_started_at, held_at, ordering_key, created_at, updated_at)
        VALUES ${chunk.map(() => "(?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?)").join(", ")}`,
      args: chunk.flatMap(([eventId, { type, orderingKey }]) => [
        uuidv7(now),
        eventId,
        webhook.id,
        type,
        held ? "held" : "pending",
        held ? null : now,
        now,
        held ? now : null,
        orderingKey,
        now,
        now,
      ]),
    });
  }
  return {
    created: live.size,
    skipped: wanted.length - live.size,
    scanned: page.rows.length,
    next,
  };
}
