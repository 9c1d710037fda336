/// <reference lib="deno.worker" />
/**
 * The store worker: a thin message adapter around `StoreEngine`, so libSQL's
 * synchronous file I/O never blocks the thread that serves HTTP and runs
 * timers.
 */
import { StoreEngine } from "./engine.ts";
import { serializeError } from "./errors.ts";
import type { Reply, Request } from "./protocol.ts";

let engine: StoreEngine | undefined;

function reply(message: Reply): void {
  self.postMessage(message);
}

async function handle(request: Request): Promise<unknown> {
  if (request.kind === "open") {
    engine = await StoreEngine.open(request.options);
    return null;
  }
  if (!engine) throw new Error("The store is not open");
  switch (request.kind) {
    case "write":
      return await engine.write(request.requests);
    case "read":
      return await engine.read(request.name, request.args);
    case "refresh":
      return await engine.refreshIndex();
    case "close":
      engine.close();
      engine = undefined;
      return null;
  }
}

/**
 * Writes (and open/close) run strictly one after another: the main thread may
 * send the next batch while one commits, and two transactions must never
 * interleave on the single writer. Reads run as they come; WAL lets them see
 * the last commit while a write is open.
 */
let serial: Promise<void> = Promise.resolve();

async function run(request: Request): Promise<void> {
  try {
    const value = await handle(request);
    reply({ id: request.id, ok: true, value, transactions: engine?.transactions ?? 0 });
  } catch (error) {
    reply({ id: request.id, ok: false, error: serializeError(error) });
  }
}

self.onmessage = (message: MessageEvent<Request>) => {
  const request = message.data;
  if (request.kind === "read") void run(request);
  else serial = serial.then(() => run(request));
};
