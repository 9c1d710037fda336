import assert from "node:assert/strict";
import { Http1Reader } from "./http1_reader.ts";

const latin1 = new TextDecoder("latin1");
const text = (bytes: Uint8Array | string | null) =>
  bytes === null || typeof bytes === "string" ? bytes : latin1.decode(bytes);

/** A connection whose reads return `chunks` one by one, then the end of the stream. */
function scriptedConn(chunks: readonly string[]): Deno.Conn {
  const queue = chunks.map((c) => Uint8Array.from(c, (ch) => ch.charCodeAt(0)));
  return {
    read(into: Uint8Array): Promise<number | null> {
      const next = queue[0];
      if (next === undefined) return Promise.resolve(null);
      const n = Math.min(into.length, next.length);
      into.set(next.subarray(0, n));
      if (n === next.length) queue.shift();
      else queue[0] = next.subarray(n);
      return Promise.resolve(n);
    },
  } as unknown as Deno.Conn;
}

Deno.test("head: found across reads, even with CRLF CRLF split between them; what follows stays buffered", async () => {
  const reader = new Http1Reader(
    scriptedConn(["GET / HTTP/1.1\r\nHost: a\r", "\n\r", "\nbody", "GET /2 HTTP/1.1\r\n\r\n"]),
  );
  assert.equal(text(await reader.head(1024)), "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  assert.equal(reader.buffered, 4);
  assert.equal(text(reader.take(10)), "body");
  assert.equal(text(await reader.head(1024)), "GET /2 HTTP/1.1\r\n\r\n");
  assert.equal(await reader.head(1024), null);
  assert.equal(await reader.ready(), false);
});

Deno.test("head: too-large past maxBytes (exactly maxBytes fits); null when the stream ends mid-head", async () => {
  const head = "GET / HTTP/1.1\r\n\r\n"; // 18 bytes
  assert.equal(text(await new Http1Reader(scriptedConn([head])).head(18)), head);
  assert.equal(await new Http1Reader(scriptedConn([head])).head(17), "too-large");
  assert.equal(await new Http1Reader(scriptedConn(["GET / HTTP/1.1\r\n"])).head(1024), null);
});

Deno.test("a head larger than the buffer grows it; bytes buffered before it survive", async () => {
  const big = `GET / HTTP/1.1\r\nX: ${"a".repeat(40_000)}\r\n\r\n`;
  const pieces = [];
  for (let at = 0; at < big.length; at += 1000) pieces.push(big.slice(at, at + 1000));
  const reader = new Http1Reader(scriptedConn(["xy", ...pieces]), 64);
  assert.equal(await reader.ready(), true);
  assert.equal(text(reader.take(2)), "xy");
  assert.equal(text(await reader.head(64 * 1024)), big);
  assert.ok(reader.buffer.length >= big.length);
});

Deno.test("line: through CRLF across reads; too-long past maxBytes; null at the end", async () => {
  const reader = new Http1Reader(scriptedConn(["5;x=1\r", "\nhello\r\n", "0\r\n"]));
  assert.equal(text(await reader.line(16)), "5;x=1\r\n");
  assert.equal(text(reader.take(5)), "hello");
  assert.equal(text(await reader.line(16)), "\r\n");
  assert.equal(text(await reader.line(16)), "0\r\n");
  assert.equal(await reader.line(16), null);
  const long = new Http1Reader(scriptedConn([`${"f".repeat(20)}\r\n`]));
  assert.equal(await long.line(16), "too-long");
});
