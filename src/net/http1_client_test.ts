import assert from "node:assert/strict";
import { startReceiver } from "../testing/receiver.ts";
import { Http1Client, Http1Error, type Http1Route } from "./http1_client.ts";
import { routeFor } from "./http1_route.ts";

// Safety: every server here listens on 127.0.0.1 and every route connects there.

const OPTIONS = { timeoutMs: 5_000, bodyLimit: 64 };
const REQUEST = { target: "/hook", host: "receiver.test", headers: [], body: "{}" } as const;
const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/**
 * A server that answers each request on a connection with the next of
 * `answers` (raw bytes), then does what `after` says with the connection.
 * Past the last answer it reads on and never answers.
 */
function rawServer(
  answers: readonly string[],
  after: "keep" | "close" = "keep",
): { route: Http1Route; connections: () => number } & Disposable {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  let next = 0;
  (async () => {
    for await (const conn of listener) {
      conns.push(conn);
      (async () => {
        const buf = new Uint8Array(64 * 1024);
        try {
          while ((await conn.read(buf)) !== null) {
            const answer = answers[next++];
            if (answer === undefined) continue; // out of answers: stay silent
            await conn.write(new TextEncoder().encode(answer));
            if (after === "close") break;
          }
        } catch { /* the client went away */ }
        try {
          conn.close();
        } catch { /* closed */ }
      })();
    }
  })();
  return {
    route: routeFor(new URL(`http://127.0.0.1:${listener.addr.port}/`)),
    connections: () => conns.length,
    [Symbol.dispose]() {
      listener.close();
      for (const conn of conns) {
        try {
          conn.close();
        } catch { /* closed */ }
      }
    },
  };
}

Deno.test("writes one sized POST with Host, the given headers and the body", async () => {
  await using r = await startReceiver();
  using client = new Http1Client();
  const response = await client.post(routeFor(new URL(r.url)), {
    target: "/in?x=1",
    host: "hooks.example",
    headers: [["x-one", "1"], ["x-latin", "caf\u00e9"]],
    body: '{"ü":1}',
  }, OPTIONS);
  assert.equal(response.status, 200);
  const [got] = await r.waitForRequests(1);
  assert.equal(got!.method, "POST");
  assert.equal(got!.path, "/in?x=1");
  assert.equal(got!.headers["host"], "hooks.example");
  assert.equal(got!.headers["x-one"], "1");
  assert.equal(got!.headers["content-length"], "8", "UTF-8 bytes, not characters");
  assert.equal(got!.body, '{"ü":1}');
  // Header values go out as Latin-1 bytes, as fetch sends them (the receiver
  // reads heads as Latin-1: UTF-8 would have arrived as "caf\u00c3\u00a9").
  assert.equal(got!.headers["x-latin"], "caf\u00e9");
});

Deno.test("reads chunked bodies with extensions and trailers, and keeps the connection", async () => {
  using server = rawServer([
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nX-Trailer: t\r\n\r\n",
    "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok",
  ]);
  using client = new Http1Client();
  const first = await client.post(server.route, REQUEST, OPTIONS);
  assert.equal(first.status, 200);
  assert.equal(decode(first.body), "abcde");
  const second = await client.post(server.route, REQUEST, OPTIONS);
  assert.equal(second.status, 201);
  assert.equal(decode(second.body), "ok");
  assert.equal(server.connections(), 1);
});

Deno.test("the body excerpt is as big as what arrived, in one chunk or many, up to the limit", async () => {
  using server = rawServer([
    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    // Chunks of 5 bytes, past the 64-byte limit: the excerpt grows and stops at it.
    `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${"5\r\nabcde\r\n".repeat(20)}0\r\n\r\n`,
  ]);
  using client = new Http1Client();
  const small = await client.post(server.route, REQUEST, OPTIONS);
  assert.equal(decode(small.body), "ok");
  assert.equal(small.body.buffer.byteLength, 2, "not a buffer of the whole limit per response");
  const long = await client.post(server.route, REQUEST, OPTIONS);
  assert.equal(decode(long.body), "abcde".repeat(20).slice(0, 64));
  assert.equal(long.body.buffer.byteLength, 64);
});

Deno.test("Transfer-Encoding wins over Content-Length, and that connection is not reused", async () => {
  using server = rawServer([
    "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
  ]);
  using client = new Http1Client();
  const response = await client.post(server.route, REQUEST, OPTIONS);
  assert.equal(decode(response.body), "ok");
  assert.equal(response.bodyError, undefined);
  assert.equal(client.idle, 0);
});

Deno.test("skips interim 1xx responses", async () => {
  using server = rawServer([
    "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n",
  ]);
  using client = new Http1Client();
  const response = await client.post(server.route, REQUEST, OPTIONS);
  assert.equal(response.status, 202);
  assert.deepEqual(response.headers, [["content-length", "0"]]);
});

Deno.test("a body without length runs to the close, and that connection is not reused", async () => {
  using server = rawServer([
    "HTTP/1.1 200 OK\r\n\r\nuntil close",
    "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\na",
  ], "close");
  using client = new Http1Client();
  assert.equal(decode((await client.post(server.route, REQUEST, OPTIONS)).body), "until close");
  assert.equal(client.idle, 0);
  assert.equal(decode((await client.post(server.route, REQUEST, OPTIONS)).body), "a");
  assert.equal(client.idle, 0, "HTTP/1.0 is not kept alive");
  assert.equal(server.connections(), 2);
});

Deno.test("Connection: close and a body longer than the excerpt both end the connection", async () => {
  await using r = await startReceiver();
  using client = new Http1Client();
  const route = routeFor(new URL(r.url));
  r.script([
    { status: 200, headers: { connection: "close" } },
    { status: 200, body: "x".repeat(1_000_000) },
    { status: 200, body: "y".repeat(64) },
  ]);
  await client.post(route, REQUEST, OPTIONS);
  assert.equal(client.idle, 0);
  const long = await client.post(route, REQUEST, OPTIONS);
  assert.equal(decode(long.body), "x".repeat(64));
  assert.equal(client.idle, 0, "the unread rest is not drained");
  const exact = await client.post(route, REQUEST, OPTIONS);
  assert.equal(decode(exact.body), "y".repeat(64));
  assert.equal(client.idle, 1, "a body of exactly the limit was read to its end");
  assert.equal(r.connectionCount, 3);
});

Deno.test("an idle connection the peer closes is dropped, and the next exchange opens another", async () => {
  const ok = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
  using server = rawServer([ok, ok], "close");
  using client = new Http1Client();
  // The response says keep-alive; then the server closes the connection.
  assert.equal((await client.post(server.route, REQUEST, OPTIONS)).status, 200);
  for (let i = 0; i < 100 && client.idle > 0; i++) await new Promise((r) => setTimeout(r, 5));
  assert.equal(client.idle, 0, "the idle read saw the close");
  assert.equal((await client.post(server.route, REQUEST, OPTIONS)).status, 200);
  assert.equal(server.connections(), 2);
});

Deno.test("malformed responses are protocol errors", async (t) => {
  const cases: [string, string, RegExp][] = [
    ["not HTTP", "SSH-2.0-OpenSSH_9.6\r\n\r\n", /invalid HTTP version parsed/],
    ["bad status", "HTTP/1.1 2000 OK\r\n\r\n", /invalid status line/],
    ["bad header", "HTTP/1.1 200 OK\r\nno colon\r\n\r\n", /invalid header/],
    ["folded header", "HTTP/1.1 200 OK\r\nA: b\r\n c\r\n\r\n", /invalid header/],
    [
      "two lengths",
      "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
      /content-length/,
    ],
    ["bad length", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", /content-length/],
    ["switching protocols", "HTTP/1.1 101 Switching Protocols\r\n\r\n", /protocol switch/],
    ["head too large", `HTTP/1.1 200 OK\r\nX: ${"a".repeat(70_000)}\r\n\r\n`, /too large/],
  ];
  for (const [name, answer, message] of cases) {
    await t.step(name, async () => {
      using server = rawServer([answer]);
      using client = new Http1Client();
      await assert.rejects(client.post(server.route, REQUEST, OPTIONS), (e) => {
        assert.ok(e instanceof Http1Error);
        assert.equal(e.kind, "protocol");
        assert.match(e.message, message);
        return true;
      });
    });
  }
  await t.step("a bad chunk size breaks the body, keeping the head", async () => {
    using server = rawServer([
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\nzz\r\n",
    ]);
    using client = new Http1Client();
    const response = await client.post(server.route, REQUEST, OPTIONS);
    assert.equal(response.status, 200);
    assert.equal(decode(response.body), "ok");
    assert.equal(response.bodyError?.kind, "protocol");
  });
});

Deno.test("timeouts: no head, and a stalled body keeping what arrived", async () => {
  using server = rawServer(["HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"]);
  using silent = rawServer([]);
  using client = new Http1Client();
  await assert.rejects(
    client.post(silent.route, REQUEST, { ...OPTIONS, timeoutMs: 100 }),
    (e) => e instanceof Http1Error && e.kind === "timeout",
  );
  const stalled = await client.post(server.route, REQUEST, { ...OPTIONS, timeoutMs: 100 });
  assert.equal(stalled.status, 200);
  assert.equal(decode(stalled.body), "abc");
  assert.equal(stalled.bodyError?.kind, "timeout");
  assert.equal(client.busy, 0);
  assert.equal(client.idle, 0);
});

Deno.test("the deadline sweep runs through lulls between exchanges and stops after 100 ms of quiet", async () => {
  using server = rawServer(Array(20).fill("HTTP/1.1 204 No Content\r\n\r\n"));
  const { setInterval: realSet, clearInterval: realClear } = globalThis;
  const live = new Set<number>();
  let started = 0;
  globalThis.setInterval = ((fn: () => void, ms?: number) => {
    const id = realSet(fn, ms);
    started++;
    live.add(Number(id));
    return id;
  }) as typeof setInterval;
  globalThis.clearInterval = ((id?: number) => {
    live.delete(Number(id));
    realClear(id);
  }) as typeof clearInterval;
  try {
    using client = new Http1Client({ idleTimeoutMs: false });
    // One at a time: the in-flight count falls to zero after each exchange.
    for (let i = 0; i < 20; i++) {
      assert.equal((await client.post(server.route, REQUEST, OPTIONS)).status, 204);
    }
    assert.equal(started, 1, "one sweep for all twenty, not one per exchange");
    assert.equal(live.size, 1);
    // The sweep stops by itself after 100 ms of quiet: wait for that, not for a set time.
    for (let i = 0; i < 200 && live.size > 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(live.size, 0, "stopped once nothing was in flight for a while");
    // After the quiet, a deadline is still enforced.
    using silent = rawServer([]);
    await assert.rejects(
      client.post(silent.route, REQUEST, { ...OPTIONS, timeoutMs: 50 }),
      (e) => e instanceof Http1Error && e.kind === "timeout",
    );
    assert.equal(started, 2);
  } finally {
    globalThis.setInterval = realSet;
    globalThis.clearInterval = realClear;
  }
});

Deno.test("close() ends exchanges in flight as closed and refuses new ones", async () => {
  using silent = rawServer([]);
  const client = new Http1Client();
  const pending = client.post(silent.route, REQUEST, OPTIONS);
  for (let i = 0; i < 100 && client.busy === 0; i++) await new Promise((r) => setTimeout(r, 5));
  client.close();
  await assert.rejects(pending, (e) => e instanceof Http1Error && e.kind === "closed");
  await assert.rejects(
    client.post(silent.route, REQUEST, OPTIONS),
    (e) => e instanceof Http1Error && e.kind === "closed",
  );
});

Deno.test("idle connections: at most maxIdlePerRoute kept, and closed after idleTimeoutMs", async () => {
  await using r = await startReceiver();
  const route = routeFor(new URL(r.url));
  r.respond(async () => {
    await new Promise((resolve) => setTimeout(resolve, 20));
    return { status: 200 };
  });
  using capped = new Http1Client({ maxIdlePerRoute: 2, idleTimeoutMs: false });
  await Promise.all([1, 2, 3, 4].map(() => capped.post(route, REQUEST, OPTIONS)));
  assert.equal(r.connectionCount, 4, "four at once need four connections");
  assert.equal(capped.idle, 2);

  using expiring = new Http1Client({ idleTimeoutMs: 50 });
  await expiring.post(route, REQUEST, OPTIONS);
  assert.equal(expiring.idle, 1);
  for (let i = 0; i < 200 && expiring.idle > 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.equal(expiring.idle, 0);
});
