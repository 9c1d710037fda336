/**
 * Each webhook's recent attempts, summed: what the dashboard's webhook list
 * shows as success rate and last status. Read over a time window of the
 * attempts table through its primary key alone: attempt ids are UUIDv7 made
 * when the attempt starts, so "attempts since T" is a range of ids, and no
 * index is added to the write path for this. The read is bounded: at most
 * `maxAttempts` of the newest attempts are counted, and when the window holds
 * more the answer says from when it really counts (`since`, `complete`).
 */
import { type Executor, int, intOrNull, statementChunks, text, textOrNull } from "./executor.ts";

export interface WebhookAttemptStats {
  readonly webhookId: string;
  readonly attempts: number;
  /** Attempts without an error kind: the receiver answered with a success status. */
  readonly succeeded: number;
  readonly failed: number;
  /** The newest attempt's response status (null: no response, see `lastErrorKind`). */
  readonly lastStatus: number | null;
  readonly lastErrorKind: string | null;
  readonly lastAttemptAt: number;
}

export interface WebhookStatsWindow {
  /** The oldest attempt time counted: the window's start, or later when it was cut short. */
  readonly since: number;
  /** False when more than `maxAttempts` attempts fell in the window and the oldest were left out. */
  readonly complete: boolean;
  /** Webhooks with at least one attempt in the window, newest attempt first. */
  readonly webhooks: WebhookAttemptStats[];
}

/**
 * The lowest id a UUIDv7 made at `ms` or later can have, as a string that
 * sorts before all of them: the 48-bit time in hex, hyphenated like the ids.
 */
export function uuidv7Floor(ms: number): string {
  const hex = Math.max(0, Math.floor(ms)).toString(16).padStart(12, "0");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}`;
}

export async function webhookStats(
  db: Executor,
  since: number,
  maxAttempts: number,
): Promise<WebhookStatsWindow> {
  const grouped = await db.execute({
    sql: `WITH recent AS (
        SELECT id, delivery_id, started_at, error_kind FROM attempts
        WHERE id >= ? ORDER BY id DESC LIMIT ?
      )
      SELECT d.webhook_id AS webhook_id, COUNT(*) AS attempts,
        SUM(recent.error_kind IS NULL) AS succeeded,
        MIN(recent.started_at) AS oldest, MAX(recent.id) AS last_id
      FROM recent JOIN deliveries d ON d.id = recent.delivery_id
      GROUP BY d.webhook_id`,
    args: [uuidv7Floor(since), maxAttempts],
  });
  const rows = grouped.rows.map((row) => ({
    webhookId: text(row, "webhook_id"),
    attempts: int(row, "attempts"),
    succeeded: int(row, "succeeded"),
    oldest: int(row, "oldest"),
    lastId: text(row, "last_id"),
  }));
  const counted = rows.reduce((n, row) => n + row.attempts, 0);
  const complete = counted < maxAttempts;
  const lastIds = rows.map((row) => row.lastId);
  const last = new Map<string, { status: number | null; errorKind: string | null; at: number }>();
  // In chunks of a few sizes: one statement per count of active webhooks
  // would be prepared anew as that count moves, and on Deno a dropped
  // prepared statement leaks its native memory (file_connection.ts).
  for (const chunk of statementChunks(lastIds, 512)) {
    const newest = await db.execute({
      sql: `SELECT id, response_status, error_kind, started_at FROM attempts
        WHERE id IN (${chunk.map(() => "?").join(", ")})`,
      args: chunk,
    });
    for (const row of newest.rows) {
      last.set(text(row, "id"), {
        status: intOrNull(row, "response_status"),
        errorKind: textOrNull(row, "error_kind"),
        at: int(row, "started_at"),
      });
    }
  }
  const webhooks = rows.map((row): WebhookAttemptStats => {
    const newest = last.get(row.lastId)!;
    return {
      webhookId: row.webhookId,
      attempts: row.attempts,
      succeeded: row.succeeded,
      failed: row.attempts - row.succeeded,
      lastStatus: newest.status,
      lastErrorKind: newest.errorKind,
      lastAttemptAt: newest.at,
    };
  }).sort((a, b) => b.lastAttemptAt - a.lastAttemptAt);
  return {
    since: complete ? since : Math.min(...rows.map((row) => row.oldest)),
    complete,
    webhooks,
  };
}
