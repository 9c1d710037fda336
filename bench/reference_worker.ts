/// <reference lib="deno.worker" />
/**
 * The ingest reference: raw batched libSQL inserts of the rows hookd writes
 * per event (an event row and a delivery row for the one webhook), straight
 * through `@libsql/client/node` with the daemon's pragmas (WAL,
 * `synchronous=FULL`) and schema (`migrate()`), 500 events per transaction.
 * It runs in a worker because the binding blocks its thread (DESIGN.md,
 * "Verified on these machines"), exactly as the daemon's store.
 *
 * The SQL is written here, not taken from hookd, so the reference cannot
 * break when hookd changes how it writes (its ingest now needs RETURNING rows
 * a recorder cannot fake). The columns and values follow `ingestEvents` in
 * src/store/events.ts, with the webhook paused as in the daemon scenarios:
 * the delivery is `held` with no due time. Two shapes are timed: `batch`, one
 * INSERT per row, all in one `client.batch(..., "write")` per 500 events;
 * `multirow`, one multi-row INSERT per table per transaction (the shape hookd
 * uses since group commit went multi-row, minus its ON CONFLICT/RETURNING).
 */
import type { InStatement, InValue } from "@libsql/client";
import { createClient } from "@libsql/client/node";
import { uuidv7 } from "../src/ids.ts";
import { migrate } from "../src/store/migrations.ts";
import { insertBenchWebhook } from "./bench_webhook.ts";

export interface ReferenceRequest {
  readonly url: string;
  readonly events: number;
  readonly batchSize: number;
  readonly mode: ReferenceMode;
}

export type ReferenceMode = "batch" | "multirow";

export interface ReferenceResult {
  readonly mode: ReferenceMode;
  readonly events: number;
  readonly rows: number;
  readonly seconds: number;
}

const EVENT_SQL = `INSERT INTO events
  (id, tenant_id, type, payload, fingerprint, occurred_at, received_at, idempotency_key)
  VALUES `;
const EVENT_TUPLE = "(?, ?, ?, ?, ?, ?, ?, ?)";
const DELIVERY_SQL = `INSERT INTO deliveries (id, event_id, webhook_id, event_type, state,
  attempts, next_attempt_at, lease_owner, lease_until, schedule_started_at, created_at,
  updated_at) VALUES `;
const DELIVERY_TUPLE = "(?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?)";
const FINGERPRINT = "0".repeat(43) + "=";

/** The values of one event's two rows, as `ingestEvents` binds them. */
function rowsOf(
  n: number,
  webhookId: string,
  now: number,
): { event: InValue[]; delivery: InValue[] } {
  const eventId = uuidv7(now);
  const payload = JSON.stringify({ order_id: n, amount: 4200, currency: "EUR" });
  return {
    event: [eventId, null, "order.created", payload, FINGERPRINT, now, now, null],
    delivery: [
      uuidv7(now),
      eventId,
      webhookId,
      "order.created",
      "held",
      null,
      null,
      null,
      now,
      now,
      now,
    ],
  };
}

function statementsFor(
  mode: ReferenceMode,
  count: number,
  offset: number,
  webhookId: string,
): InStatement[] {
  const now = Date.now();
  const rows = Array.from({ length: count }, (_, i) => rowsOf(offset + i, webhookId, now));
  if (mode === "batch") {
    return rows.flatMap(({ event, delivery }) => [
      { sql: EVENT_SQL + EVENT_TUPLE, args: event },
      { sql: DELIVERY_SQL + DELIVERY_TUPLE, args: delivery },
    ]);
  }
  return [
    {
      sql: EVENT_SQL + Array(count).fill(EVENT_TUPLE).join(", "),
      args: rows.flatMap((r) => r.event),
    },
    {
      sql: DELIVERY_SQL + Array(count).fill(DELIVERY_TUPLE).join(", "),
      args: rows.flatMap((r) => r.delivery),
    },
  ];
}

async function run(request: ReferenceRequest): Promise<ReferenceResult> {
  const client = createClient({ url: request.url });
  try {
    await client.execute("PRAGMA journal_mode = WAL");
    await client.execute("PRAGMA synchronous = FULL");
    await client.execute("PRAGMA busy_timeout = 5000");
    await client.execute("PRAGMA foreign_keys = ON");
    await migrate(client, Date.now());
    const now = Date.now();
    const webhook = { id: uuidv7(now), url: "http://127.0.0.1:9/x", state: "paused" as const, now };
    await insertBenchWebhook(client, webhook);

    const started = performance.now();
    for (let done = 0; done < request.events; done += request.batchSize) {
      const count = Math.min(request.batchSize, request.events - done);
      await client.batch(statementsFor(request.mode, count, done, webhook.id), "write");
    }
    const seconds = (performance.now() - started) / 1000;
    const written = await client.execute("SELECT count(*) AS n FROM deliveries");
    const rows = Number(written.rows[0]?.n ?? 0) * 2;
    if (rows !== request.events * 2) {
      throw new Error(`reference wrote ${rows} rows, expected ${request.events * 2}`);
    }
    return { mode: request.mode, events: request.events, rows, seconds };
  } finally {
    client.close();
  }
}

self.onmessage = async (message: MessageEvent<ReferenceRequest>) => {
  try {
    self.postMessage({ ok: true, result: await run(message.data) });
  } catch (error) {
    self.postMessage({ ok: false, error: error instanceof Error ? error.stack : String(error) });
  }
};
