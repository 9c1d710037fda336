/// <reference lib="deno.worker" />
/**
 * The store worker: a thin message adapter around `StoreWriter`, so libSQL's
 * synchronous file I/O never blocks the thread that serves HTTP and runs
 * timers.
 */
import { StoreWriter } from "./writer.ts";
import { serializeError } from "./errors.ts";
import type { Reply, Request } from "./protocol.ts";

let store: StoreWriter | undefined;

function reply(message: Reply): void {
  self.postMessage(message);
}

async function handle(request: Request): Promise<unknown> {
  if (request.kind === "memory") {
    const { heapTotal, heapUsed, external } = Deno.memoryUsage();
    return { heapTotal, heapUsed, external };
  }
  if (request.kind === "open") {
    store = await StoreWriter.open(request.options);
    return null;
  }
  if (!store) throw new Error("The store is not open");
  switch (request.kind) {
    case "write":
      return await store.write(request.requests);
    case "read":
      return await store.read(request.name, request.args);
    case "close":
      store.close();
      store = undefined;
      return null;
  }
}

/**
 * Writes (and open/close) run strictly one after another, whatever the main
 * thread sends (it sends one batch at a time today): two transactions must
 * never interleave on the single writer. Reads run as they come; WAL lets them see
 * the last commit while a write is open.
 */
let serial: Promise<void> = Promise.resolve();

async function run(request: Request): Promise<void> {
  try {
    const value = await handle(request);
    // Only a write or open can change the view.
    const view = request.kind === "write" || request.kind === "open"
      ? store?.takeChangedView()
      : undefined;
    reply({ id: request.id, ok: true, value, transactions: store?.transactions ?? 0, view });
  } catch (error) {
    reply({ id: request.id, ok: false, error: serializeError(error) });
  }
}

self.onmessage = (message: MessageEvent<Request>) => {
  const request = message.data;
  // Reads and the heap figures do not wait behind a commit.
  if (request.kind === "read" || request.kind === "memory") void run(request);
  else serial = serial.then(() => run(request));
};
