/**
 * The store-keys benchmark (`deno task bench --only store_keys`, also part
 * of the default run; issue #14, item 5): what each delivery costs the store
 * under leaner keys, against the schema hookd has (migrations 1–12) in the
 * same run. No daemon: the store thread's own work, in process, through the
 * same libSQL binding and pragmas the store uses (WAL, `synchronous = FULL`,
 * foreign keys on).
 *
 * One delivery's life as the store sees it: its event inserted (one in ten
 * with an Idempotency-Key) and the delivery inserted, claimed at ingest, in
 * one commit of 100 events; then its attempt inserted and the delivery
 * finished, in one commit of 100 results. Each schema runs the same rows, in
 * turn, several rounds; each figure is the median round.
 *
 * Candidates:
 * - a partial idempotency index: `events.idempotency_key` is an inline
 *   UNIQUE, whose index also holds every NULL (most events have no key); a
 *   unique index `WHERE idempotency_key IS NOT NULL` holds only the keys. An
 *   inline constraint cannot be dropped: adopting it means rebuilding the
 *   events table, the biggest one, payloads and all.
 * - deliveries `WITHOUT ROWID`: the table is its primary-key index, one
 *   b-tree fewer per insert. Measured only: ordered delivery takes
 *   acceptance order from the rowid (src/store/ordering.ts), so adopting it
 *   needs a sequence column of its own as well.
 *
 * Beside them, the current schema with 12 events to a commit, about what 64
 * clients posting one event per request and each waiting for its answer give
 * a group commit: what small commits cost the store (issue #14, item 3).
 */
import Database from "libsql";
import type { BenchOutcome } from "./context.ts";
import { MIGRATIONS } from "../src/store/migrations.ts";
import { uuidv7 } from "../src/ids.ts";
import { median } from "./median.ts";

export interface StoreKeysBenchOptions {
  readonly quick: boolean;
  readonly tempDir: string;
  readonly progress: (message: string) => void;
}

type Db = Database.Database;

/**
 * Rebuilds `table` (empty when the bench starts) from the schema the
 * migrations made: its CREATE statement as SQLite keeps it (columns added
 * later included), changed by `edit`, then its indexes and triggers again.
 * Derived, not copied, so a candidate keeps up with every later migration.
 */
function rebuild(db: Db, table: string, edit: (create: string) => string): void {
  const objects = (type: string) =>
    (db.prepare("SELECT sql FROM sqlite_master WHERE tbl_name = ? AND type = ? AND sql NOT NULL")
      .all(table, type) as { sql: string }[]).map((row) => row.sql);
  const [create] = objects("table");
  const indexes = objects("index");
  const triggers = objects("trigger");
  db.exec(`DROP TABLE ${table}`);
  db.exec(edit(create!));
  for (const sql of [...indexes, ...triggers]) db.exec(sql);
}

/** Schema changes on top of the migrations, by candidate. */
const CANDIDATES: Record<string, (db: Db) => void> = {
  "partial idempotency index": (db) => {
    rebuild(db, "events", (create) => {
      const edited = create.replace(/idempotency_key TEXT UNIQUE/, "idempotency_key TEXT");
      if (edited === create) throw new Error("store keys: events.idempotency_key is not UNIQUE");
      return edited;
    });
    db.exec(`CREATE UNIQUE INDEX events_idempotency_key ON events (idempotency_key)
      WHERE idempotency_key IS NOT NULL`);
  },
  "deliveries WITHOUT ROWID": (db) => {
    rebuild(db, "deliveries", (create) => `${create} WITHOUT ROWID`);
  },
};
const REFERENCE = "current schema";

const PER_COMMIT = 100;
/** Events per commit when producers post one event per request (measured: 12–26 with 64 clients). */
const SMALL_COMMIT = 12;
/** A typical small event, and the request headers an attempt records. */
const PAYLOAD = JSON.stringify({ order_id: 1001, amount: 4200, note: "x".repeat(300) });
const HEADERS = JSON.stringify({
  "content-type": "application/json",
  "webhook-id": "0193a2b4-5c6d-7e8f-9a0b-1c2d3e4f5a6b",
  "webhook-timestamp": "1800000000",
  "webhook-signature": `v1,${"y".repeat(44)}`,
  "user-agent": "hookd",
});

function openSchema(path: string, candidate: ((db: Db) => void) | undefined): Db {
  for (const suffix of ["", "-wal", "-shm"]) {
    try {
      Deno.removeSync(path + suffix);
    } catch { /* not there */ }
  }
  const db = new Database(path);
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA synchronous = FULL");
  for (const migration of MIGRATIONS) for (const sql of migration.sql) db.exec(sql);
  candidate?.(db);
  db.exec("PRAGMA foreign_keys = ON");
  db.exec(`INSERT INTO webhooks (id, url, event_types, state, policy, profile, created_at,
    updated_at) VALUES ('w', 'http://127.0.0.1:9/hook', '["*"]', 'enabled', 'default',
    'standard', 0, 0)`);
  return db;
}

/** This process's CPU time so far, µs (user + system; the bench is Linux-only, like cpu.ts). */
function processCpuUs(): number {
  const fields = Deno.readTextFileSync("/proc/self/stat").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

/**
 * µs per delivery life over `deliveries` (wall time, and this process's CPU
 * time: everything here runs on this thread), and the database's size after
 * a checkpoint.
 */
function run(
  path: string,
  candidate: ((db: Db) => void) | undefined,
  deliveries: number,
  perCommit = PER_COMMIT,
) {
  const db = openSchema(path, candidate);
  const insertEvent = db.prepare(`INSERT INTO events (id, type, payload, fingerprint,
    idempotency_key, occurred_at, received_at) VALUES (?, 't', ?, 'f', ?, ?, ?)
    ON CONFLICT DO NOTHING RETURNING id`);
  const insertDelivery = db.prepare(`INSERT INTO deliveries (id, event_id, webhook_id,
    event_type, state, attempts, next_attempt_at, lease_owner, lease_until,
    schedule_started_at, created_at, updated_at) VALUES (?, ?, 'w', 't', 'sending', 0, ?, 'me',
    ?, ?, ?, ?)`);
  const insertAttempt = db.prepare(`INSERT INTO attempts (id, delivery_id, number, trigger,
    started_at, duration_ms, request_headers, response_status, response_headers, response_body)
    VALUES (?, ?, 1, 'scheduled', ?, 3, ?, 200, '{}', '')`);
  const finish = db.prepare(`UPDATE deliveries SET state = 'succeeded', attempts = 1,
    next_attempt_at = NULL, lease_owner = NULL, lease_until = NULL, last_status = 200,
    updated_at = ? WHERE id = ? AND state = 'sending' AND lease_owner = 'me'`);
  let now = Date.UTC(2026, 11, 1);
  const started = performance.now();
  const cpuBefore = processCpuUs();
  for (let n = 0; n < deliveries; n += perCommit) {
    now++;
    const ids: string[] = [];
    db.exec("BEGIN IMMEDIATE");
    for (let i = n; i < Math.min(n + perCommit, deliveries); i++) {
      const eventId = uuidv7(now);
      insertEvent.all(eventId, PAYLOAD, i % 10 === 0 ? `key-${i}` : null, now, now);
      const deliveryId = uuidv7(now);
      insertDelivery.run(deliveryId, eventId, now, now + 30_000, now, now, now);
      ids.push(deliveryId);
    }
    db.exec("COMMIT");
    db.exec("BEGIN IMMEDIATE");
    for (const id of ids) {
      insertAttempt.run(uuidv7(now), id, now, HEADERS);
      finish.run(now, id);
    }
    db.exec("COMMIT");
  }
  const us = ((performance.now() - started) * 1000) / deliveries;
  const cpuUs = (processCpuUs() - cpuBefore) / deliveries;
  const done = db.prepare("SELECT count(*) AS n FROM deliveries WHERE state = 'succeeded'")
    .get() as { n: number };
  if (Number(done.n) !== deliveries) throw new Error(`${done.n} of ${deliveries} finished`);
  db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  db.close();
  return { us, cpuUs, mb: Deno.statSync(path).size / 1e6 };
}

export function runStoreKeysBench(options: StoreKeysBenchOptions): BenchOutcome {
  const rounds = options.quick ? 3 : 5;
  const deliveries = options.quick ? 5_000 : 20_000;
  const schemas: Record<string, ((db: Db) => void) | undefined> = {
    [REFERENCE]: undefined,
    ...CANDIDATES,
  };
  const names = Object.keys(schemas);
  const us = Object.fromEntries(names.map((name) => [name, [] as number[]]));
  const mb: Record<string, number> = {};
  const cpu = { small: [] as number[], reference: [] as number[] };
  const small: number[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const [index, name] of names.entries()) {
      const result = run(`${options.tempDir}/store-keys-${index}.db`, schemas[name], deliveries);
      us[name]!.push(result.us);
      mb[name] = result.mb;
      if (name === REFERENCE) cpu.reference.push(result.cpuUs);
    }
    const result = run(
      `${options.tempDir}/store-keys-small.db`,
      undefined,
      deliveries,
      SMALL_COMMIT,
    );
    small.push(result.us);
    cpu.small.push(result.cpuUs);
  }
  const medians = Object.fromEntries(names.map((name) => [name, median(us[name]!)]));
  const smallMedian = median(small);
  options.progress(
    `store keys: ${names.map((name) => `${name} ${medians[name]!.toFixed(1)} µs`).join(", ")}; ` +
      `${SMALL_COMMIT} per commit ${smallMedian.toFixed(1)} µs`,
  );
  const reference = medians[REFERENCE]!;
  return {
    rows: [
      {
        figure: `store work per delivery: ${SMALL_COMMIT} events per commit (one per request)`,
        value: smallMedian,
        unit: "µs",
        reference: { name: `${PER_COMMIT} per commit`, value: reference },
      },
      ...Object.keys(CANDIDATES).flatMap((name) => [
        {
          figure: `store work per delivery: ${name}`,
          value: medians[name]!,
          unit: "µs",
          reference: { name: REFERENCE, value: reference },
        },
        {
          figure: `database size after ${deliveries.toLocaleString("en-US")}: ${name}`,
          value: mb[name]!,
          unit: "MB",
          reference: { name: REFERENCE, value: mb[REFERENCE]! },
        },
      ]),
    ],
    notes: [
      `Store keys: µs of the store thread per delivery (event and delivery inserted, attempt ` +
      `inserted and delivery finished; ${PER_COMMIT} per commit, synchronous = FULL), median of ` +
      `${rounds} rounds of ${deliveries}, in process; candidates against the current schema.`,
      `Store keys: CPU per delivery, current schema: ${median(cpu.small).toFixed(1)} µs at ` +
      `${SMALL_COMMIT} per commit, ${median(cpu.reference).toFixed(1)} µs at ${PER_COMMIT}.`,
    ],
    details: { us, medians, mb, rounds, deliveries, small, cpu },
  };
}
