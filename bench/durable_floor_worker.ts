/// <reference lib="deno.worker" />
/**
 * The durable floor's store thread (durable_floor.ts): one table, WAL,
 * `synchronous = FULL` (an `fsync` per commit, as hookd), each batch of
 * events inserted in one transaction. A worker, because the libSQL binding
 * blocks its thread.
 */
import Database from "libsql";

/** What the server asks of the store thread. */
export type FloorCall =
  | { readonly kind: "open"; readonly path: string }
  | { readonly kind: "insert"; readonly events: readonly FloorEvent[] };

/** A call with the id its answer comes back with. */
export type FloorRequest = FloorCall & { readonly id: number };

/** Done, or why not (the transaction rolled back). */
export interface FloorAnswer {
  readonly id: number;
  readonly error?: string;
}

export interface FloorEvent {
  readonly id: string;
  readonly type: string;
  readonly payload: string;
  readonly receivedAt: number;
}

interface Statement {
  run(...params: unknown[]): unknown;
}
interface Connection {
  exec(sql: string): void;
  prepare(sql: string): Statement;
}

let db: Connection | undefined;
let insert: Statement | undefined;

self.onmessage = (message: MessageEvent<FloorRequest>) => {
  const request = message.data;
  try {
    if (request.kind === "open") open(request.path);
    else insertAll(request.events);
    self.postMessage({ id: request.id } satisfies FloorAnswer);
  } catch (error) {
    self.postMessage({ id: request.id, error: String(error) } satisfies FloorAnswer);
  }
};

function open(path: string): void {
  const Open = Database as unknown as new (path: string) => Connection;
  db = new Open(path);
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA synchronous = FULL");
  db.exec(
    "CREATE TABLE IF NOT EXISTS events (id TEXT PRIMARY KEY, type TEXT NOT NULL, " +
      "payload TEXT NOT NULL, received_at INTEGER NOT NULL)",
  );
  insert = db.prepare("INSERT INTO events (id, type, payload, received_at) VALUES (?, ?, ?, ?)");
}

function insertAll(events: readonly FloorEvent[]): void {
  db!.exec("BEGIN IMMEDIATE");
  try {
    for (const event of events) insert!.run(event.id, event.type, event.payload, event.receivedAt);
    db!.exec("COMMIT");
  } catch (error) {
    db!.exec("ROLLBACK");
    throw error;
  }
}
