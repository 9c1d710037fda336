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

/** A call with the id its answer (the same id, alone) comes back with. */
export type FloorRequest = FloorCall & { readonly id: number };

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
  if (request.kind === "open") {
    const Open = Database as unknown as new (path: string) => Connection;
    db = new Open(request.path);
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = FULL");
    db.exec(
      "CREATE TABLE IF NOT EXISTS events (id TEXT PRIMARY KEY, type TEXT NOT NULL, " +
        "payload TEXT NOT NULL, received_at INTEGER NOT NULL)",
    );
    insert = db.prepare(
      "INSERT INTO events (id, type, payload, received_at) VALUES (?, ?, ?, ?)",
    );
  } else {
    db!.exec("BEGIN IMMEDIATE");
    for (const event of request.events) {
      insert!.run(event.id, event.type, event.payload, event.receivedAt);
    }
    db!.exec("COMMIT");
  }
  self.postMessage(request.id);
};
