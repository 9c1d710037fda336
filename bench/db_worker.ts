/// <reference lib="deno.worker" />
/**
 * Direct database work for the delivery benchmarks, in a worker because the
 * libSQL binding blocks its thread:
 *
 * - `build`: a database with the real schema (`migrate()`), one enabled
 *   webhook at the receiver, and `pending` events each with one delivery in
 *   state `pending` after a failed first attempt, due at random times between
 *   `dueFromMs` and `dueToMs` from now, plus `dueNow` more that are already
 *   due. Rows go in as multi-row INSERTs, many per transaction, with
 *   `synchronous=OFF` (a fixture, not a measurement), then synced to disk
 *   once (sync_file.ts); the file is left in WAL
 *   mode as the daemon expects.
 * - `count`: deliveries per state, to check what the daemon recorded.
 * - `expired`: a database for the purge benchmark: one paused webhook and
 *   `rows` events, each with one delivery that succeeded `ageMs` ago and its
 *   one attempt (with headers and a body excerpt, as recorded), all past
 *   retention.
 */
import { createClient } from "@libsql/client/node";
import { uuidv7 } from "../src/ids.ts";
import { migrate } from "../src/store/migrations.ts";
import { insertBenchWebhook } from "./bench_webhook.ts";
import { syncFile } from "./sync_file.ts";

export interface BuildRequest {
  readonly op: "build";
  readonly url: string;
  readonly webhookUrl: string;
  readonly pending: number;
  readonly dueNow: number;
  readonly dueFromMs: number;
  readonly dueToMs: number;
}

export interface BuildResult {
  readonly rows: number;
  readonly seconds: number;
  readonly bytes: number;
  readonly webhookId: string;
}

export interface CountRequest {
  readonly op: "count";
  readonly url: string;
}

export interface CountResult {
  /** Deliveries per state. */
  readonly states: Record<string, number>;
  /** Attempts, and on average how long a delivery waited from ingest to its first attempt, ms. */
  readonly attempts: number;
  readonly avgQueuedMs: number;
  /** Average time the sender spent on one attempt, ms. */
  readonly avgSendMs: number;
}

export interface ExpiredRequest {
  readonly op: "expired";
  readonly url: string;
  readonly rows: number;
  readonly ageMs: number;
}

export type DbRequest = BuildRequest | CountRequest | ExpiredRequest;

/** Events (each with its delivery) per transaction. */
const TX_ROWS = 100_000;

async function build(request: BuildRequest): Promise<BuildResult> {
  const path = new URL(request.url).pathname;
  const client = createClient({ url: request.url });
  const started = performance.now();
  try {
    await client.execute("PRAGMA journal_mode = WAL");
    await client.execute("PRAGMA synchronous = OFF");
    await client.execute("PRAGMA cache_size = -262144");
    await client.execute("PRAGMA foreign_keys = ON");
    const now = Date.now();
    await migrate(client, now);
    const webhookId = uuidv7(now);
    await insertBenchWebhook(client, {
      id: webhookId,
      url: request.webhookUrl,
      state: "enabled",
      now,
    });
    // Bulk load: the deliveries' indexes are dropped and rebuilt after the rows are in (sorting
    // once is far cheaper than a random B-tree insert per row); the schema ends as migrate() made it.
    const indexes = (await client.execute(
      "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'deliveries' AND sql IS NOT NULL",
    )).rows.map((row) => ({ name: String(row.name), sql: String(row.sql) }));
    for (const index of indexes) await client.execute(`DROP INDEX ${index.name}`);
    const total = request.pending + request.dueNow;
    // Created a while ago, first attempt failed, retry scheduled. SQLite makes the rows itself
    // (a recursive counter), which is several times faster than binding millions of values.
    // Ids are UUIDv7-shaped: a real uuidv7 prefix, then the row number, so they sort by age.
    const createdAt = now - 60_000;
    const eventPrefix = uuidv7(createdAt).slice(0, 24);
    const deliveryPrefix = uuidv7(createdAt).slice(0, 24);
    const seq =
      "WITH RECURSIVE seq(n) AS (SELECT CAST(?1 AS INTEGER) UNION ALL SELECT n + 1 FROM seq WHERE n + 1 < ?2)";
    for (let done = 0; done < total; done += TX_ROWS) {
      const to = Math.min(total, done + TX_ROWS);
      await client.batch([
        {
          sql: `INSERT INTO events (id, tenant_id, type, payload, fingerprint, occurred_at,
              received_at, idempotency_key) ${seq}
            SELECT ?3 || printf('%012x', n), NULL, 'order.created',
              '{"order_id":' || n || ',"amount":4200,"currency":"EUR"}', ?4, ?5, ?5, NULL FROM seq`,
          args: [done, to, eventPrefix, "0".repeat(43) + "=", createdAt],
        },
        {
          sql: `INSERT INTO deliveries (id, event_id, webhook_id, event_type, state, attempts,
              next_attempt_at, last_status, last_error, schedule_started_at, schedule_attempts,
              created_at, updated_at) ${seq}
            SELECT ?3 || printf('%012x', n), ?4 || printf('%012x', n), ?5, 'order.created',
              'pending', 1,
              CASE WHEN n < ?6 THEN ?7 - 1000 ELSE ?7 + ?8 + abs(random() % ?9) END,
              500, 'status', ?10, 1, ?10, ?10 FROM seq`,
          args: [
            done,
            to,
            deliveryPrefix,
            eventPrefix,
            webhookId,
            request.dueNow,
            now,
            request.dueFromMs,
            Math.max(1, request.dueToMs - request.dueFromMs),
            createdAt,
          ],
        },
      ], "write");
    }
    for (const index of indexes) await client.execute(index.sql);
    await client.execute("PRAGMA wal_checkpoint(TRUNCATE)");
    await client.execute("PRAGMA optimize");
    const seconds = (performance.now() - started) / 1000;
    return { rows: total * 2, seconds, bytes: Deno.statSync(path).size, webhookId };
  } finally {
    client.close();
    await syncFile(path);
  }
}

async function expired(request: ExpiredRequest): Promise<BuildResult> {
  const path = new URL(request.url).pathname;
  const client = createClient({ url: request.url });
  const started = performance.now();
  try {
    await client.execute("PRAGMA journal_mode = WAL");
    await client.execute("PRAGMA synchronous = OFF");
    await client.execute("PRAGMA cache_size = -262144");
    const now = Date.now();
    await migrate(client, now);
    const webhookId = uuidv7(now);
    // Paused: events posted during the bench get a held delivery each and nothing is sent.
    await insertBenchWebhook(client, {
      id: webhookId,
      url: "http://127.0.0.1:9/",
      state: "paused",
      now,
    });
    const tables = ["events", "deliveries", "attempts"];
    const indexes = (await client.execute(
      `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL
        AND tbl_name IN (${tables.map((t) => `'${t}'`).join(", ")})`,
    )).rows.map((row) => ({ name: String(row.name), sql: String(row.sql) }));
    for (const index of indexes) await client.execute(`DROP INDEX ${index.name}`);
    const at = now - request.ageMs;
    const prefix = (offset: number) => uuidv7(at + offset).slice(0, 24);
    const [eventPrefix, deliveryPrefix, attemptPrefix] = [prefix(0), prefix(1), prefix(2)];
    const seq =
      "WITH RECURSIVE seq(n) AS (SELECT CAST(?1 AS INTEGER) UNION ALL SELECT n + 1 FROM seq WHERE n + 1 < ?2)";
    for (let done = 0; done < request.rows; done += TX_ROWS) {
      const to = Math.min(request.rows, done + TX_ROWS);
      await client.batch([
        {
          sql: `INSERT INTO events (id, tenant_id, type, payload, fingerprint, occurred_at,
              received_at, idempotency_key) ${seq}
            SELECT ?3 || printf('%012x', n), NULL, 'order.created',
              '{"order_id":' || n || ',"amount":4200,"currency":"EUR"}', '', ?4, ?4, NULL FROM seq`,
          args: [done, to, eventPrefix, at],
        },
        {
          sql: `INSERT INTO deliveries (id, event_id, webhook_id, event_type, state, attempts,
              last_status, schedule_started_at, schedule_attempts, created_at, updated_at) ${seq}
            SELECT ?3 || printf('%012x', n), ?4 || printf('%012x', n), ?5, 'order.created',
              'succeeded', 1, 200, ?6, 1, ?6, ?6 FROM seq`,
          args: [done, to, deliveryPrefix, eventPrefix, webhookId, at],
        },
        {
          sql: `INSERT INTO attempts (id, delivery_id, number, trigger, started_at, duration_ms,
              request_headers, response_status, response_headers, response_body) ${seq}
            SELECT ?3 || printf('%012x', n), ?4 || printf('%012x', n), 1, 'scheduled', ?5, 12,
              '{"content-type":"application/json","webhook-id":"evt","webhook-signature":"v1,abc"}',
              200, '{"content-type":"text/plain"}', 'ok' FROM seq`,
          args: [done, to, attemptPrefix, deliveryPrefix, at],
        },
      ], "write");
    }
    for (const index of indexes) await client.execute(index.sql);
    await client.execute("PRAGMA wal_checkpoint(TRUNCATE)");
    await client.execute("PRAGMA optimize");
    const seconds = (performance.now() - started) / 1000;
    return { rows: request.rows * 3, seconds, bytes: Deno.statSync(path).size, webhookId };
  } finally {
    client.close();
    await syncFile(path);
  }
}

async function count(request: CountRequest): Promise<CountResult> {
  const client = createClient({ url: request.url });
  try {
    const result = await client.execute(
      "SELECT state, count(*) AS n FROM deliveries GROUP BY state",
    );
    const states: Record<string, number> = {};
    for (const row of result.rows) states[String(row.state)] = Number(row.n);
    const attempts = (await client.execute(
      `SELECT count(*) AS n, avg(a.started_at - d.created_at) AS queued, avg(a.duration_ms) AS send
        FROM attempts a JOIN deliveries d ON d.id = a.delivery_id WHERE a.number = 1`,
    )).rows[0];
    return {
      states,
      attempts: Number(attempts?.n ?? 0),
      avgQueuedMs: Number(attempts?.queued ?? NaN),
      avgSendMs: Number(attempts?.send ?? NaN),
    };
  } finally {
    client.close();
  }
}

self.onmessage = async (message: MessageEvent<DbRequest>) => {
  try {
    const request = message.data;
    const result = request.op === "build"
      ? await build(request)
      : request.op === "expired"
      ? await expired(request)
      : await count(request);
    self.postMessage({ ok: true, result });
  } catch (error) {
    self.postMessage({ ok: false, error: error instanceof Error ? error.stack : String(error) });
  }
};
