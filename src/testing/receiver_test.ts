import assert from "node:assert/strict";
import { startReceiver } from "./receiver.ts";

Deno.test("receiver records requests and answers with the responder", async () => {
  await using r = await startReceiver();
  using client = Deno.createHttpClient({});
  r.respond((req) => ({
    status: 201,
    headers: { "x-echo": req.path },
    body: req.body.length + "",
  }));
  const res = await fetch(`${r.url}/a/b?c=1`, {
    method: "POST",
    headers: { "X-Custom": "v", "content-type": "application/json" },
    body: '{"k":"é"}',
    client,
  });
  assert.equal(res.status, 201);
  assert.equal(res.headers.get("x-echo"), "/a/b?c=1");
  assert.equal(await res.text(), "9");
  const [got] = await r.waitForRequests(1);
  assert.equal(got?.method, "POST");
  assert.equal(got?.path, "/a/b?c=1");
  assert.equal(got?.headers["x-custom"], "v");
  assert.equal(got?.body, '{"k":"é"}');
  assert.equal(got?.bodyBytes.length, 10);
  assert.ok(got!.receivedAt > 0);
});

Deno.test("receiver reads chunked request bodies", async () => {
  await using r = await startReceiver();
  using client = Deno.createHttpClient({});
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(new TextEncoder().encode("hello "));
      c.enqueue(new TextEncoder().encode("world"));
      c.close();
    },
  });
  const res = await fetch(r.url, { method: "POST", body, client });
  await res.body?.cancel();
  assert.equal(r.requests[0]?.headers["transfer-encoding"], "chunked");
  assert.equal(r.requests[0]?.body, "hello world");
});

Deno.test("receiver plays the script in order, then falls back to the responder", async () => {
  await using r = await startReceiver({ respond: () => ({ status: 204 }) });
  using client = Deno.createHttpClient({});
  r.script([{ status: 500 }, () => ({ status: 418, body: "teapot" })]);
  const statuses: number[] = [];
  for (let i = 0; i < 3; i++) {
    const res = await fetch(r.url, { method: "POST", body: "x", client });
    await res.body?.cancel();
    statuses.push(res.status);
  }
  assert.deepEqual(statuses, [500, 418, 204]);
  // Keep-alive: one connection for all three.
  assert.equal(r.connectionCount, 1);
  assert.deepEqual(r.requests.map((q) => q.connection), [1, 1, 1]);
});

Deno.test("receiver answers a request that is not HTTP with 400 and closes", async () => {
  await using r = await startReceiver();
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: r.port });
  await conn.write(new Uint8Array([0x16, 0x03, 0x01, 0x00]));
  const buf = new Uint8Array(256);
  const n = await conn.read(buf);
  assert.match(new TextDecoder().decode(buf.subarray(0, n ?? 0)), /^HTTP\/1\.1 400 /);
  conn.close();
  assert.equal(r.requests.length, 0);
});

Deno.test("receiver close() ends hanging and endless replies and pending waits", async () => {
  const r = await startReceiver();
  using client = Deno.createHttpClient({});
  r.script([{ kind: "hang" }, { kind: "endless", delayMs: 5 }]);
  const hanging = fetch(r.url, { method: "POST", body: "1", client });
  const endless = await (async () => {
    await r.waitForRequests(1);
    return await fetch(r.url, { method: "POST", body: "2", client });
  })();
  const reader = endless.body!.getReader();
  assert.ok((await reader.read()).value);
  const waiting = assert.rejects(r.waitForRequests(10, 60_000), /closed/);
  const hung = assert.rejects(hanging);
  await r.close();
  await hung;
  await waiting;
  // The stream ends with an error or cleanly, depending on where it was cut.
  await (async () => {
    for (;;) if ((await reader.read()).done) break;
  })().catch(() => {});
  await r.close();
});

Deno.test("waitForRequests rejects after its timeout", async () => {
  await using r = await startReceiver();
  await assert.rejects(r.waitForRequests(1, 20), /got 0 of 1 requests/);
});
