/// <reference lib="deno.worker" />
/**
 * The ingest reference: the rows hookd writes per event (an event row and a
 * delivery row for the one webhook), inserted straight through
 * `@libsql/client/node` with the daemon's pragmas and schema, 500 events per
 * transaction. It runs in a worker because the binding blocks its thread
 * (DESIGN.md, "Verified on these machines"), exactly as the daemon's store.
 *
 * The statements come from hookd's own `ingest` write operation, run against
 * a recorder, so the reference writes exactly the daemon's rows even as the
 * schema moves. Two shapes are timed: `batch` replays them with one
 * `client.batch` per transaction (the cheapest way in); `interactive` runs the
 * operation inside an interactive transaction, one `execute` per row, which
 * is what the daemon's store engine does, minus HTTP and messaging;
 * `multirow` folds the batch's statements into one multi-row INSERT per table,
 * to show what the store could reach if it amortized libSQL's per-statement
 * cost (it is not what hookd does today).
 */
import type { InStatement, InValue, ResultSet } from "@libsql/client";
import { createClient } from "@libsql/client/node";
import { uuidv7 } from "../src/ids.ts";
import { WebhookIndex } from "../src/ingest/webhook_index.ts";
import type { NewEvent } from "../src/store/events.ts";
import type { Executor } from "../src/store/executor.ts";
import { migrate } from "../src/store/migrations.ts";
import { writeOperations } from "../src/store/operations.ts";
import { insertWebhook, type WebhookRecord } from "../src/store/webhooks.ts";

export interface ReferenceRequest {
  readonly url: string;
  readonly events: number;
  readonly batchSize: number;
  readonly mode: ReferenceMode;
}

export type ReferenceMode = "batch" | "interactive" | "multirow";

export interface ReferenceResult {
  readonly mode: ReferenceMode;
  readonly events: number;
  readonly rows: number;
  readonly seconds: number;
}

/** An executor that keeps statements instead of running them; every insert "succeeds". */
class Recorder implements Executor {
  statements: InStatement[] = [];

  execute(statement: InStatement): Promise<ResultSet> {
    this.statements.push(statement);
    return Promise.resolve({
      columns: [],
      columnTypes: [],
      rows: [],
      rowsAffected: 1,
      lastInsertRowid: undefined,
      toJSON: () => ({}),
    });
  }
}

/** `INSERT ... VALUES (?, ...) rest`: the part before the tuple, the tuple, the rest. */
const SINGLE_ROW_INSERT = /^(INSERT\s.*?\sVALUES\s*)(\([^()]*\))(.*)$/s;

/**
 * Folds statements with the same single-row INSERT text into one multi-row
 * INSERT each, in order of first appearance (events before deliveries, so
 * foreign keys hold). Anything else passes through unchanged.
 */
function multiRow(statements: InStatement[]): InStatement[] {
  const groups = new Map<string, { head: string; tuple: string; tail: string; args: InValue[] }>();
  const out: InStatement[] = [];
  for (const statement of statements) {
    if (typeof statement === "string" || !Array.isArray(statement.args)) {
      out.push(statement);
      continue;
    }
    const match = SINGLE_ROW_INSERT.exec(statement.sql);
    if (!match) {
      out.push(statement);
      continue;
    }
    let group = groups.get(statement.sql);
    if (!group) {
      group = { head: match[1]!, tuple: match[2]!, tail: match[3]!, args: [] };
      groups.set(statement.sql, group);
    }
    group.args.push(...statement.args);
  }
  for (const { head, tuple, tail, args } of groups.values()) {
    const rows = args.length / (tuple.match(/\?/g)?.length ?? 1);
    out.push({
      sql: `${head}${Array(rows).fill(tuple).join(", ")}${tail}`,
      args,
    });
  }
  return out;
}

function newEvents(count: number, offset: number): NewEvent[] {
  return Array.from({ length: count }, (_, i) => ({
    tenantId: null,
    type: "order.created",
    payload: JSON.stringify({ order_id: offset + i, amount: 4200, currency: "EUR" }),
    fingerprint: "0".repeat(43) + "=",
  }));
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
    const webhook: WebhookRecord = {
      id: uuidv7(now),
      url: "http://127.0.0.1:9/x",
      description: "",
      eventTypes: ["*"],
      state: "enabled",
      disabledReason: null,
      policy: "default",
      profile: "standard",
      secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
      previousSecret: null,
      previousSecretUntil: null,
      headers: {},
      rateLimitPerSecond: null,
      maxInFlight: null,
      tenantId: null,
      metadata: {},
      createdAt: now,
      updatedAt: now,
    };
    await insertWebhook(client, webhook);
    const context = { index: new WebhookIndex() };
    context.index.put(webhook);

    let rows = 0;
    const started = performance.now();
    for (let done = 0; done < request.events; done += request.batchSize) {
      const events = newEvents(Math.min(request.batchSize, request.events - done), done);
      if (request.mode !== "interactive") {
        const recorder = new Recorder();
        await writeOperations.ingest(recorder, context, { events, now: Date.now() });
        rows += recorder.statements.length;
        const statements = request.mode === "batch"
          ? recorder.statements
          : multiRow(recorder.statements);
        await client.batch(statements, "write");
      } else {
        const tx = await client.transaction("write");
        try {
          await writeOperations.ingest(tx, context, { events, now: Date.now() });
          await tx.commit();
        } finally {
          tx.close();
        }
        rows += events.length * 2;
      }
    }
    const seconds = (performance.now() - started) / 1000;
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
