import assert from "node:assert/strict";
import { silentLogger } from "../ops/log.ts";
import { FRONT_CONNECTION_HEADER, FrontDoor, type FrontDoorOptions } from "./front_door.ts";

// Everything listens on 127.0.0.1 or a Unix socket in a temp directory.

interface Seen {
  readonly method: string;
  readonly path: string;
  readonly body: string;
  readonly connection: string | null;
  readonly spoofed: string | null;
}

/** A front door before a small Deno.serve backend that records requests and can be slowed down. */
async function withDoor(
  options: Partial<FrontDoorOptions>,
  fn: (t: { port: number; seen: Seen[]; door: FrontDoor; delayMs: { value: number } }) => Promise<
    void
  >,
) {
  const dir = await Deno.makeTempDir();
  const backendPath = `${dir}/api.sock`;
  const seen: Seen[] = [];
  const delayMs = { value: 0 };
  // The door connects to the server lazily, so it may start first.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const door = FrontDoor.start({
    listener,
    backendPath,
    headerTimeoutMs: 300,
    idleTimeoutMs: 300,
    maxHeaderBytes: 4096,
    maxConnections: 100,
    log: silentLogger,
    sweepIntervalMs: 20,
    ...options,
  });
  const server = Deno.serve({ path: backendPath, onListen() {} }, async (req, info) => {
    const id = Number(req.headers.get(FRONT_CONNECTION_HEADER));
    door.responseStarted(id);
    info.completed.finally(() => door.responseEnded(id));
    const body = await req.text().catch(() => "(cut off)");
    const url = new URL(req.url);
    seen.push({
      method: req.method,
      path: url.pathname + url.search,
      body,
      connection: req.headers.get(FRONT_CONNECTION_HEADER),
      spoofed: req.headers.get("x-spoof"),
    });
    if (delayMs.value > 0) await new Promise((r) => setTimeout(r, delayMs.value));
    return new Response(`got ${body.length}`, { status: 200 });
  });
  try {
    await fn({ port: listener.addr.port, seen, door, delayMs });
  } finally {
    await door.close(1_000);
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A raw client connection that reads whole answers with a bound on waiting. */
async function rawClient(port: number) {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  let pending = "";
  return {
    conn,
    send: (text: string) => conn.write(enc.encode(text)),
    /** Everything received until `done(text)` holds, or "EOF" appended at the end of stream. */
    async receive(done: (text: string) => boolean, timeoutMs = 5_000): Promise<string> {
      const buf = new Uint8Array(64 * 1024);
      const timer = setTimeout(() => conn.close(), timeoutMs);
      try {
        while (!done(pending)) {
          const n = await conn.read(buf);
          if (n === null) {
            pending += "EOF";
            break;
          }
          pending += dec.decode(buf.subarray(0, n));
        }
      } catch {
        pending += "CLOSED-BY-TEST-TIMEOUT";
      } finally {
        clearTimeout(timer);
      }
      const out = pending;
      pending = "";
      return out;
    },
    close: () => {
      try {
        conn.close();
      } catch { /* closed */ }
    },
  };
}

/** Done once `count` answers of the test server (bodies "got N") arrived. */
const responses = (count: number) => (text: string) =>
  (text.match(/got \d+/g) ?? []).length >= count;
const ended = (text: string) => text.endsWith("EOF");

Deno.test("requests pass through kept alive: lengths, chunked bodies, no body; a spoofed connection header is dropped", async () => {
  await withDoor({}, async ({ port, seen }) => {
    const c = await rawClient(port);
    await c.send(
      "POST /a?x=1 HTTP/1.1\r\nhost: h\r\ncontent-length: 5\r\nx-spoof: 1\r\n" +
        `${FRONT_CONNECTION_HEADER}: 999\r\n\r\nhello`,
    );
    assert.match(await c.receive(responses(1)), /got 5$/);
    await c.send(
      "POST /b HTTP/1.1\r\nhost: h\r\ntransfer-encoding: chunked\r\n\r\n" +
        "3\r\nabc\r\n4;ext=1\r\ndefg\r\n0\r\ntrailer: t\r\n\r\n",
    );
    assert.match(await c.receive(responses(1)), /got 7$/);
    // Two requests in one write (pipelined): both framed right.
    await c.send("GET /c HTTP/1.1\r\nhost: h\r\n\r\nGET /d HTTP/1.1\r\nhost: h\r\n\r\n");
    assert.equal((await c.receive(responses(2))).match(/got 0/g)?.length, 2);
    c.close();
    assert.deepEqual(seen.map((s) => [s.method, s.path, s.body]), [
      ["POST", "/a?x=1", "hello"],
      ["POST", "/b", "abcdefg"],
      ["GET", "/c", ""],
      ["GET", "/d", ""],
    ]);
    assert.equal(seen[0]!.spoofed, "1", "other headers pass unchanged");
    assert.notEqual(seen[0]!.connection, "999", "the client's copy is replaced");
    assert.ok(seen.every((s) => s.connection === seen[0]!.connection), "one connection");
  });
});

Deno.test("a head that never completes gets 408 and the connection closes (slowloris)", async () => {
  await withDoor({}, async ({ port, seen, door }) => {
    const c = await rawClient(port);
    await c.send("POST /slow HTTP/1.1\r\nhost: h\r\nx-a: 1\r\n"); // no blank line, ever
    const answer = await c.receive(ended);
    assert.match(answer, /^HTTP\/1\.1 408 Request Timeout\r\n/);
    assert.match(answer, /request head not received in time/);
    assert.ok(answer.endsWith("EOF"));
    assert.equal(seen.length, 0, "nothing reached the server");
    assert.equal(door.stats().timedOut, 1);

    const silent = await rawClient(port); // connects and sends nothing at all
    assert.match(await silent.receive(ended), /^HTTP\/1\.1 408 /);
    c.close();
    silent.close();
  });
});

Deno.test("a kept-alive connection is closed once idle, but never while its answer is slow", async () => {
  await withDoor({}, async ({ port, delayMs }) => {
    delayMs.value = 1_000; // more than three idle timeouts
    const c = await rawClient(port);
    await c.send("GET /slow HTTP/1.1\r\nhost: h\r\n\r\n");
    const first = await c.receive(responses(1));
    assert.match(first, /^HTTP\/1\.1 200 OK/, "the slow answer arrived");
    delayMs.value = 0;
    // Now nothing is in progress: the idle timeout closes the connection.
    assert.equal(await c.receive(ended), "EOF");
    c.close();
  });
});

Deno.test("a body that stops arriving is cut after the idle timeout", async () => {
  await withDoor({}, async ({ port, seen }) => {
    const c = await rawClient(port);
    await c.send("POST /upload HTTP/1.1\r\nhost: h\r\ncontent-length: 100\r\n\r\nonly-part");
    assert.ok((await c.receive(ended)).endsWith("EOF"));
    assert.equal(seen.filter((s) => s.body === "only-part").length, 0, "never a whole request");
    c.close();
  });
});

Deno.test("an oversized head gets 431; ambiguous framing or Host gets 400; nothing reaches the server", async () => {
  await withDoor({ maxHeaderBytes: 1024 }, async ({ port, seen }) => {
    const cases: [string, RegExp][] = [
      [`GET / HTTP/1.1\r\nhost: h\r\nx-big: ${"a".repeat(2000)}\r\n\r\n`, /^HTTP\/1\.1 431 /],
      [
        "POST / HTTP/1.1\r\nhost: h\r\ncontent-length: 3\r\ntransfer-encoding: chunked\r\n\r\n",
        /^HTTP\/1\.1 400 .*both Transfer-Encoding and Content-Length/s,
      ],
      [
        "POST / HTTP/1.1\r\nhost: h\r\ncontent-length: 3\r\ncontent-length: 4\r\n\r\nabcd",
        /^HTTP\/1\.1 400 .*conflicting Content-Length/s,
      ],
      [
        "POST / HTTP/1.1\r\nhost: h\r\ntransfer-encoding: gzip, chunked\r\n\r\n",
        /^HTTP\/1\.1 400 .*unsupported Transfer-Encoding/s,
      ],
      ["POST / HTTP/1.1\r\nhost: h\r\ncontent-length: -1\r\n\r\n", /^HTTP\/1\.1 400 /],
      ["GET / HTTP/1.1\r\nhost: h\r\n folded\r\n\r\n", /^HTTP\/1\.1 400 .*malformed header/s],
      ["GET /\r\n\r\n", /^HTTP\/1\.1 400 .*malformed request line/s],
      ["GET / HTTP/1.1\r\n\r\n", /^HTTP\/1\.1 400 .*missing Host/s],
      ["GET / HTTP/1.1\r\nhost: a\r\nhost: b\r\n\r\n", /^HTTP\/1\.1 400 .*more than one Host/s],
      // The server builds the URL from Host: a path in it would choose the route.
      ["GET / HTTP/1.1\r\nhost: x/api/v1/keys?\r\n\r\n", /^HTTP\/1\.1 400 .*invalid Host/s],
    ];
    for (const [request, expected] of cases) {
      const c = await rawClient(port);
      await c.send(request);
      const answer = await c.receive(ended);
      assert.match(answer, expected, JSON.stringify(request.slice(0, 60)));
      // The API's error shape, details included.
      const error = JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4).replace(/EOF$/, ""));
      assert.deepEqual(Object.keys(error.error), ["code", "message", "details"]);
      assert.equal(error.error.details, null);
      c.close();
    }
    assert.equal(seen.length, 0);
  });
});

Deno.test("connections beyond the cap are answered 503 and closed; freed slots are reused", async () => {
  await withDoor({ maxConnections: 2, idleTimeoutMs: 60_000 }, async ({ port, door }) => {
    const a = await rawClient(port);
    const b = await rawClient(port);
    await a.send("GET / HTTP/1.1\r\nhost: h\r\n\r\n");
    await b.send("GET / HTTP/1.1\r\nhost: h\r\n\r\n");
    await a.receive(responses(1));
    await b.receive(responses(1));
    const c = await rawClient(port);
    assert.match(await c.receive(ended), /^HTTP\/1\.1 503 .*too many open connections/s);
    assert.equal(door.stats().refused, 1);
    a.close();
    // The door notices a's end when the server side closes; then c's successor fits.
    for (let i = 0; i < 100 && door.connections > 1; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const d = await rawClient(port);
    await d.send("GET / HTTP/1.1\r\nhost: h\r\n\r\n");
    assert.match(await d.receive(responses(1)), /^HTTP\/1\.1 200 /);
    for (const x of [b, c, d]) x.close();
  });
});

Deno.test("close ends idle connections at once and lets an answer in progress finish", async () => {
  {
    await withDoor({ idleTimeoutMs: 60_000 }, async ({ port, door, delayMs, seen }) => {
      const idle = await rawClient(port);
      await idle.send("GET / HTTP/1.1\r\nhost: h\r\n\r\n");
      await idle.receive(responses(1));
      delayMs.value = 300;
      const busy = await rawClient(port);
      await busy.send("GET /busy HTTP/1.1\r\nhost: h\r\n\r\n");
      // Close only once the server is answering it.
      for (let i = 0; i < 250 && !seen.some((s) => s.path === "/busy"); i++) {
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.ok(seen.some((s) => s.path === "/busy"), "the server got the busy request");
      const closing = door.close(5_000);
      assert.equal(await idle.receive(ended), "EOF");
      const answer = await busy.receive(ended);
      assert.match(answer, /^HTTP\/1\.1 200 OK.*got 0EOF$/s, "answered, then closed");
      await closing;
      idle.close();
      busy.close();
    });
  }
});
