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

self.onmessage = async (message: MessageEvent<Request>) => {
  const request = message.data;
  try {
    const value = await handle(request);
    reply({ id: request.id, ok: true, value, transactions: engine?.transactions ?? 0 });
  } catch (error) {
    reply({ id: request.id, ok: false, error: serializeError(error) });
  }
};
