/**
 * The "durable floor" reference of the latency and delivery benches: the
 * least a webhook sender that acknowledges durably must do per event,
 * written plainly on the same runtime, so hookd's figures can be read
 * against what durability and delivery cost on these cores, not only
 * against a bare HTTP server or a bare `fetch` loop.
 *
 * Per request it reads and parses the body and checks each event's type
 * (one event, or `{"events": [...]}`),
 * stores the event in SQLite (a worker thread; WAL, an `fsync` per commit;
 * concurrent requests share a commit, one batch in flight, as hookd does),
 * answers 202 with the event's id once that commit is done, then POSTs the
 * payload to `--receiver` with the id as `webhook-id` (`fetch`, keep-alive).
 *
 * Less than any real sender: one table and no index but its key, no
 * authentication, no fan-out to subscriptions, no signature, no lease, no
 * record of the attempt, no retry. A floor, not a competitor.
 */
import type { FloorAnswer, FloorCall, FloorEvent } from "./durable_floor_worker.ts";

const args = Object.fromEntries(
  Deno.args.map((arg) => arg.replace(/^--/, "").split("=", 2) as [string, string]),
);
const receiver = args.receiver;
const worker = new Worker(new URL("./durable_floor_worker.ts", import.meta.url), {
  type: "module",
});
const answers = new Map<number, (error?: string) => void>();
let nextId = 1;
worker.onmessage = (message: MessageEvent<FloorAnswer>) => {
  const answer = answers.get(message.data.id)!;
  answers.delete(message.data.id);
  answer(message.data.error);
};

function call(request: FloorCall): Promise<void> {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    answers.set(id, (error) => error === undefined ? resolve() : reject(new Error(error)));
    worker.postMessage({ ...request, id });
  });
}

interface Queued extends FloorEvent {
  stored(error?: unknown): void;
}
let queue: Queued[] = [];
let inFlight = false;

/** Group commit: what queued while a batch committed goes as the next batch. */
function flush(): void {
  if (inFlight || queue.length === 0) return;
  const batch = queue;
  queue = [];
  inFlight = true;
  const events = batch.map(({ id, type, payload, receivedAt }) => ({
    id,
    type,
    payload,
    receivedAt,
  }));
  void call({ kind: "insert", events }).then(() => undefined, (error) => error).then((error) => {
    inFlight = false;
    flush();
    for (const event of batch) event.stored(error);
  });
}

await call({ kind: "open", path: args.db! });
const client = Deno.createHttpClient({});
const decoder = new TextDecoder();

Deno.serve({
  hostname: "127.0.0.1",
  port: 0,
  onListen: ({ hostname, port }) => console.log(`floor listening on http://${hostname}:${port}`),
}, async (request) => {
  const body = JSON.parse(decoder.decode(await request.bytes()));
  // `{"events": [...]}` at any path is a batch: one answer once all are stored.
  const events: unknown[] = Array.isArray(body?.events) ? body.events : [body];
  const accepted: { id: string; type: string; payload: string }[] = [];
  for (const event of events) {
    const type = (event as { type?: unknown })?.type;
    if (typeof type !== "string") {
      return Response.json({ error: "type must be a string" }, { status: 422 });
    }
    const data = (event as { data?: unknown }).data;
    accepted.push({ id: crypto.randomUUID(), type, payload: JSON.stringify(data ?? null) });
  }
  const receivedAt = Date.now();
  try {
    await Promise.all(accepted.map((event) =>
      new Promise<void>((resolve, reject) => {
        const stored = (error?: unknown) => error === undefined ? resolve() : reject(error);
        queue.push({ ...event, receivedAt, stored });
        flush();
      })
    ));
  } catch (error) {
    return Response.json({ error: `not stored: ${(error as Error).message}` }, { status: 503 });
  }
  if (receiver) { for (const event of accepted) deliver(receiver, event.id, event.payload); }
  return accepted.length === 1 && !Array.isArray(body?.events)
    ? Response.json({ id: accepted[0]!.id }, { status: 202 })
    : Response.json({ ids: accepted.map((event) => event.id) }, { status: 202 });
});

function deliver(url: string, id: string, payload: string): void {
  fetch(url, {
    method: "POST",
    client,
    headers: { "content-type": "application/json", "webhook-id": id },
    body: payload,
  }).then((response) => response.arrayBuffer(), () => {});
}
