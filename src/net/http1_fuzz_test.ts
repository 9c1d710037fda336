/**
 * Property-based test of the HTTP/1.1 client against whatever a receiver may
 * answer: well-formed responses, responses with broken parts, and noise.
 * Every exchange ends with a response or an `Http1Error` of a known kind,
 * never another exception or a hang; a well-formed response reads back
 * exactly as sent (status, headers, the body up to the excerpt limit); no
 * connection is left busy. Fixed seed, bounded runs; loopback only.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { Http1Client, Http1Error } from "./http1_client.ts";
import { routeFor } from "./http1_route.ts";

const RUNS = Number(Deno.env.get("HOOKD_FUZZ_RUNS") ?? 200);
const SEED = 20261202;
const KINDS = new Set(["reset", "protocol", "timeout"]);
const LIMIT = 64;
const REQUEST = { target: "/hook", host: "receiver.test", headers: [], body: "{}" } as const;

const encoder = new TextEncoder();
const token = fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,20}$/);
const fieldValue = fc.stringMatching(/^[\x21-\x7e]([\x20-\x7e]{0,30}[\x21-\x7e])?$/);

interface WellFormed {
  readonly status: number;
  readonly headers: [string, string][];
  readonly body: Uint8Array;
  readonly framing: "length" | "chunked" | "close";
  readonly chunkSizes: number[];
}

const wellFormed: fc.Arbitrary<WellFormed> = fc.record({
  status: fc.integer({ min: 200, max: 599 }).filter((s) => s !== 204 && s !== 304),
  headers: fc.array(
    fc.tuple(token, fieldValue).filter(([name]) =>
      !/^(content-length|transfer-encoding|connection)$/i.test(name)
    ),
    { maxLength: 8 },
  ),
  body: fc.uint8Array({ maxLength: 300 }),
  framing: fc.constantFrom("length", "chunked", "close"),
  chunkSizes: fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 10 }),
}) as fc.Arbitrary<WellFormed>;

function render(response: WellFormed): Uint8Array {
  let head = `HTTP/1.1 ${response.status} Reason\r\n`;
  for (const [name, value] of response.headers) head += `${name}: ${value}\r\n`;
  const parts: Uint8Array[] = [];
  if (response.framing === "length") {
    head += `Content-Length: ${response.body.length}\r\n\r\n`;
    parts.push(encoder.encode(head), response.body);
  } else if (response.framing === "close") {
    head += "Connection: close\r\n\r\n";
    parts.push(encoder.encode(head), response.body);
  } else {
    head += "Transfer-Encoding: chunked\r\n\r\n";
    parts.push(encoder.encode(head));
    let offset = 0;
    for (let i = 0; offset < response.body.length; i++) {
      const size = response.chunkSizes[i % response.chunkSizes.length]!;
      const chunk = response.body.subarray(offset, offset + size);
      offset += chunk.length;
      parts.push(encoder.encode(`${chunk.length.toString(16)}\r\n`), chunk, encoder.encode("\r\n"));
    }
    parts.push(encoder.encode("0\r\n\r\n"));
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** Breaks a well-formed response: cut it short, or overwrite a stretch with noise. */
const broken: fc.Arbitrary<Uint8Array> = fc.tuple(
  wellFormed,
  fc.constantFrom("cut", "noise"),
  fc.double({ min: 0, max: 1, noNaN: true }),
  fc.uint8Array({ minLength: 1, maxLength: 20 }),
).map(([response, how, where, noise]) => {
  const bytes = render(response);
  const at = Math.floor(where * bytes.length);
  if (how === "cut") return bytes.subarray(0, at);
  const out = bytes.slice();
  out.set(noise.subarray(0, Math.max(0, out.length - at)), at);
  return out;
});

const noise = fc.oneof(
  fc.uint8Array({ maxLength: 400 }),
  fc.string({ unit: "binary", maxLength: 200 }).map((s) => encoder.encode(`HTTP/1.1 ${s}`)),
);

/** A server that answers every connection with `answer` and closes it. */
function server(): { url: URL; answer: Uint8Array; close(): void } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const state = {
    url: new URL(`http://127.0.0.1:${listener.addr.port}/`),
    answer: new Uint8Array(0),
    close: () => listener.close(),
  };
  (async () => {
    for await (const conn of listener) {
      const answer = state.answer;
      (async () => {
        try {
          await conn.read(new Uint8Array(4096));
          for (let at = 0; at < answer.length;) at += await conn.write(answer.subarray(at));
        } catch { /* the client went away first */ }
        try {
          conn.close();
        } catch { /* closed */ }
      })();
    }
  })().catch(() => {});
  return state;
}

Deno.test("fuzz: any answer ends in a response or a known error; well-formed ones read back exactly", async () => {
  const s = server();
  const route = routeFor(s.url);
  const tally = { wellFormed: 0, responses: 0, errors: 0 };
  try {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          { weight: 2, arbitrary: wellFormed.map((r) => ({ kind: "ok" as const, r })) },
          { weight: 2, arbitrary: broken.map((bytes) => ({ kind: "bytes" as const, bytes })) },
          { weight: 1, arbitrary: noise.map((bytes) => ({ kind: "bytes" as const, bytes })) },
        ),
        async (input) => {
          s.answer = input.kind === "ok" ? render(input.r) : input.bytes;
          using client = new Http1Client();
          let outcome;
          try {
            outcome = await client.post(route, REQUEST, { timeoutMs: 2_000, bodyLimit: LIMIT });
          } catch (error) {
            assert.ok(error instanceof Http1Error, `not an Http1Error: ${error}`);
            assert.ok(KINDS.has(error.kind), `unexpected kind ${error.kind}: ${error.message}`);
            assert.equal(input.kind, "bytes", `a well-formed answer failed: ${error.message}`);
            tally.errors++;
            return;
          }
          tally.responses++;
          assert.ok(outcome.status >= 100 && outcome.status <= 999);
          assert.ok(outcome.body.length <= LIMIT);
          for (const [name] of outcome.headers) assert.equal(name, name.toLowerCase());
          if (outcome.bodyError) assert.ok(KINDS.has(outcome.bodyError.kind));
          if (input.kind === "ok") {
            tally.wellFormed++;
            const { r } = input;
            assert.equal(outcome.status, r.status);
            assert.equal(outcome.bodyError, undefined, `body error: ${outcome.bodyError?.message}`);
            assert.deepEqual(outcome.body, r.body.subarray(0, LIMIT));
            const sent = r.headers.map(([n, v]) => [n.toLowerCase(), v]);
            assert.deepEqual(outcome.headers.slice(0, sent.length), sent);
          }
          assert.equal(client.busy, 0);
        },
      ),
      { numRuns: RUNS, seed: SEED },
    );
  } finally {
    s.close();
  }
  console.log(
    `http1 fuzz: ${RUNS} answers (${tally.wellFormed} well-formed), ` +
      `${tally.responses} responses, ${tally.errors} errors`,
  );
  assert.ok(tally.wellFormed > 0 && tally.errors > 0, "both kinds of answer were tried");
});
