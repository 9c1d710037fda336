/**
 * Property-based tests of request HEADERS: odd, duplicate, huge and empty
 * Authorization, Content-Type, Content-Length, Accept, Idempotency-Key and
 * X-Forwarded-* values, random names and values, non-ASCII bytes and many
 * headers at once, against every route. Invariants: never a 5xx or an
 * exception out of the app, no 2xx on a protected route without a key that
 * grants its scope, a rejected request stores nothing, and the database stays
 * intact. Then raw bytes over a socket to a real daemon, where the HTTP parser
 * rather than the Headers API decides: malformed heads get a 4xx or a closed
 * connection, never a 5xx or a hang, and the daemon keeps answering.
 * Fixed seed and a bounded number of runs in CI; `HOOKD_FUZZ_RUNS` raises the count.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { createClient } from "@libsql/client/node";
import { api as daemonApi, type RunningDaemon, startDaemon } from "../../tests/_daemon.ts";
import { ADMIN_KEY, withApi } from "../testing/api_harness.ts";
import { apiRoutes } from "./app.ts";
import type { Scope } from "./scopes.ts";

const RUNS = Number(Deno.env.get("HOOKD_FUZZ_RUNS") ?? 60);
const SEED = 20261123;

/** Who a generated Authorization header really authenticates as; the oracle for the 2xx check. */
type Caller = "admin" | "limited" | "nobody";

interface HeaderInput {
  readonly caller: Caller;
  /** In order; a repeated name is appended, so Headers joins the values with ", ". */
  readonly headers: readonly (readonly [string, string])[];
}

/** The scope of the limited key the fuzzer also presents. */
const LIMITED_SCOPE: Scope = "deliveries:read";

/** Visible ASCII without the separators a header name may not contain. */
const TOKEN_CHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const headerName = fc.string({
  unit: fc.constantFrom(...TOKEN_CHARS),
  minLength: 1,
  maxLength: 40,
});
const visibleAscii = fc.string({
  unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  maxLength: 200,
});
/** Every byte the Headers API lets through as a Latin-1 character: controls and 0x80-0xFF too. */
const latin1Junk = fc.string({
  unit: fc.integer({ min: 1, max: 0xff }).filter((c) => c !== 0x0a && c !== 0x0d)
    .map((c) => String.fromCharCode(c)),
  maxLength: 200,
});
/**
 * NUL, CR, LF and characters above U+00FF: the Headers API refuses these when
 * the request is built, so they never reach the app (the runs count them).
 */
const refusedJunk = fc.tuple(
  latin1Junk,
  fc.constantFrom("\u0000", "\r", "\n", "\r\nX-Injected: 1", "\u0100", "\u2028", "\ud83d\ude00"),
).map(([junk, bad]) => junk.slice(0, junk.length >> 1) + bad + junk.slice(junk.length >> 1));
const anyValue = fc.oneof(
  { weight: 4, arbitrary: visibleAscii },
  { weight: 4, arbitrary: latin1Junk },
  { weight: 1, arbitrary: refusedJunk },
  { weight: 1, arbitrary: fc.constant("") },
);

function authorizationFor(keys: { limited: string; revoked: string; limitedId: string }) {
  const valid = (caller: Caller, key: string) =>
    fc.constantFrom(
      `Bearer ${key}`,
      `bearer ${key}`,
      `BEARER    ${key}`,
      `Bearer\t${key}`,
      `  Bearer ${key}  `,
    ).map((value) => ({ caller, values: [value] }));
  const invalid = (values: fc.Arbitrary<string>) =>
    values.map((value) => ({ caller: "nobody" as const, values: [value] }));
  const randomHex = (length: number) =>
    fc.string({
      unit: fc.constantFrom(..."0123456789abcdef"),
      minLength: length,
      maxLength: length,
    });
  const randomSecret = fc.string({
    unit: fc.constantFrom(..."ABCxyz019_-"),
    minLength: 43,
    maxLength: 43,
  });
  return fc.oneof(
    fc.constant({ caller: "nobody" as const, values: [] as string[] }),
    valid("admin", ADMIN_KEY),
    valid("limited", keys.limited),
    invalid(fc.constantFrom(
      "",
      "Bearer",
      "Bearer ",
      ADMIN_KEY,
      `Basic ${btoa(`admin:${ADMIN_KEY}`)}`,
      `Token ${ADMIN_KEY}`,
      `Bearer: ${ADMIN_KEY}`,
      `Bearer=${ADMIN_KEY}`,
      `Bearer ${ADMIN_KEY}x`,
      `Bearer ${ADMIN_KEY.slice(0, -1)}`,
      `Bearer ${ADMIN_KEY} ${ADMIN_KEY}`,
      `Bearer ${ADMIN_KEY.toUpperCase()}`,
      `Bearer "${ADMIN_KEY}"`,
      `Bearer ${keys.revoked}`,
      `Bearer ${keys.limited.slice(0, -43)}${"A".repeat(43)}`,
      `Bearer ${"A".repeat(100_000)}`,
      `Bearer ${"\u00ff".repeat(5000)}`,
      "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9.",
      `Bearer sk_live_${"0".repeat(24)}`,
      `Bearer hkd_${keys.limitedId}_`,
    )),
    invalid(fc.tuple(randomHex(32), randomSecret).map(([id, s]) => `Bearer hkd_${id}_${s}`)),
    invalid(
      fc.tuple(fc.constantFrom("Bearer ", "bearer  ", "Basic ", ""), anyValue)
        .map(([scheme, junk]) => `${scheme}${junk}`)
        // Junk around a valid key could, rarely, be a valid header after all.
        .filter((value) => !value.includes(ADMIN_KEY) && !value.includes(keys.limited)),
    ),
    // Two Authorization headers are joined into one value that names no key.
    fc.tuple(fc.constantFrom(ADMIN_KEY, keys.limited), anyValue).map(([key, other]) => ({
      caller: "nobody" as const,
      values: [`Bearer ${key}`, other],
    })),
  );
}

const contentType = fc.oneof(
  fc.constantFrom(
    undefined,
    "application/json",
    "application/json; charset=utf-8",
    'application/json; charset="UTF-8"',
    "APPLICATION/JSON",
    "application/vnd.hookd+json",
    "text/plain",
    "application/json; charset=latin1",
    "application/json; charset=",
    "application/json;;;=;charset",
    "application/json; boundary=x; charset=utf-8; charset=utf-16",
    "multipart/form-data; boundary=----x",
    "application/x-www-form-urlencoded",
    "*/*",
    `application/json; ${"x=y; ".repeat(20_000)}`,
  ),
  visibleAscii,
  latin1Junk,
);

const accept = fc.oneof(
  fc.constantFrom(
    undefined,
    "*/*",
    "text/html",
    "application/xml",
    "application/json;q=0",
    "",
    "*/*;q=not-a-number",
    "x".repeat(50_000),
  ),
  visibleAscii,
);

const idempotencyKey = fc.oneof(
  fc.constantFrom(undefined, "", " ", "k", "repeated-key", "x".repeat(255), "x".repeat(256)),
  visibleAscii,
  latin1Junk,
  refusedJunk,
);

/** Content-Length values, several of them wrong for the body they come with. */
const contentLength = fc.constantFrom(
  undefined,
  "0",
  "1",
  "-1",
  "abc",
  "1e9",
  "99999999999999999999999",
  "5, 5",
  " 12 ",
  "0x10",
  "NaN",
);

const forwarded = fc.record({
  "x-forwarded-for": fc.oneof(
    fc.constantFrom("127.0.0.1", "::1, 10.0.0.1", "unknown", "1.1.1.1".repeat(2000)),
    anyValue,
  ),
  "x-forwarded-host": fc.oneof(fc.constantFrom("evil.example", "", "a b", "[::1"), anyValue),
  "x-forwarded-proto": fc.oneof(fc.constantFrom("https", "gopher", ""), anyValue),
}, { requiredKeys: [] });

function headerInputs(keys: { limited: string; revoked: string; limitedId: string }) {
  return fc.record({
    authorization: authorizationFor(keys),
    contentType,
    accept,
    idempotencyKey,
    contentLength,
    forwarded,
    extra: fc.oneof(
      fc.array(fc.tuple(headerName, anyValue), { maxLength: 10 }),
      fc.array(fc.tuple(headerName, visibleAscii), { minLength: 90, maxLength: 90 }),
      // Names that collide with the interesting ones, so they arrive duplicated.
      fc.array(
        fc.tuple(
          fc.constantFrom("content-type", "Content-Type", "accept", "idempotency-key", "host"),
          anyValue,
        ),
        { maxLength: 4 },
      ),
    ),
  }).map((input): HeaderInput => {
    const headers: [string, string][] = [];
    for (const value of input.authorization.values) headers.push(["authorization", value]);
    if (input.contentType !== undefined) headers.push(["content-type", input.contentType]);
    if (input.accept !== undefined) headers.push(["accept", input.accept]);
    if (input.idempotencyKey !== undefined) headers.push(["idempotency-key", input.idempotencyKey]);
    if (input.contentLength !== undefined) headers.push(["content-length", input.contentLength]);
    for (const [name, value] of Object.entries(input.forwarded)) headers.push([name, value]);
    headers.push(...input.extra);
    return { caller: input.authorization.caller, headers };
  });
}

/** Bodies valid for each route, so a well-authorized request can get as far as the store. */
const validBodies: Record<string, unknown> = {
  "/api/v1/webhooks": { url: "https://example.com/hook", event_types: ["a.*"] },
  "/api/v1/webhooks/:id": { url: "https://example.com/hook2", event_types: ["a.*"] },
  "/api/v1/events": { type: "a.b", data: { n: 1 } },
  "/api/v1/events/batch": { events: [{ type: "a.b", data: 1 }] },
  "/api/v1/keys": { name: "k", scopes: ["events:write"] },
  "/api/v1/credentials": { name: "c" },
  "/api/v1/credentials/:id": { name: "c2" },
  "/api/v1/dead-letters/replay": {},
};

/**
 * Headers from `input` without the values the Headers API refuses (a TypeError
 * at construction), and how many it refused. A refused Authorization value
 * drops the whole input: without it the oracle's caller could be wrong.
 */
function buildHeaders(input: HeaderInput): { headers: Headers; refused: number } | undefined {
  const headers = new Headers();
  let refused = 0;
  for (const [name, value] of input.headers) {
    try {
      headers.append(name, value);
    } catch (error) {
      if (!(error instanceof TypeError)) throw error;
      if (name === "authorization") return undefined;
      refused++;
    }
  }
  return { headers, refused };
}

function describe(input: HeaderInput): string {
  const shown = input.headers.map(([name, value]) =>
    `${name}: ${JSON.stringify(value.length > 120 ? `${value.slice(0, 120)}…` : value)}`
  );
  return `caller ${input.caller}\n  ${shown.join("\n  ")}`;
}

Deno.test("fuzz: no request header, however odd, gets a 5xx, a 2xx without a key, or stores on rejection", async () => {
  await withApi(async (api) => {
    // Deletes last: an authorized DELETE would leave the routes after it only 404s to answer.
    const routes = apiRoutes(api.deps).sort((a, b) =>
      Number(a.method === "DELETE") - Number(b.method === "DELETE")
    );
    assert.ok(routes.length >= 25);

    // Things for the routes' :id to point at, and keys to present.
    const webhook = await api.json("POST", "/api/v1/webhooks", {
      body: { url: "https://example.com/hook", event_types: ["a.*"] },
    });
    const event = await api.json("POST", "/api/v1/events", { body: { type: "a.b", data: 1 } });
    const credential = await api.json("POST", "/api/v1/credentials", { body: { name: "c" } });
    const limited = await api.json("POST", "/api/v1/keys", {
      body: { name: "limited", scopes: [LIMITED_SCOPE] },
    });
    const revoked = await api.json("POST", "/api/v1/keys", {
      body: { name: "revoked", scopes: ["events:write"] },
    });
    assert.equal(
      (await api.request("DELETE", `/api/v1/keys/${revoked.body.id}`)).status,
      204,
    );
    const delivery = event.body.deliveries[0];
    assert.ok(webhook.status === 201 && event.status === 202 && delivery && limited.status === 201);
    // The limited key's id as it appears inside the key (hex without dashes).
    const limitedId = String(limited.body.key).split("_")[1]!;
    const ids: Record<string, string> = {
      webhooks: webhook.body.id,
      events: event.body.id,
      deliveries: delivery.id,
      credentials: credential.body.id,
      // Not the limited key: a fuzzed admin DELETE must not revoke the key being fuzzed.
      keys: "01900000-0000-7000-8000-000000000000",
    };
    const pathOf = (pattern: string) =>
      pattern.replace(
        /\/([\w-]+)\/:id/,
        (_, collection: string) => `/${collection}/${ids[collection]}`,
      );

    // One reader for the whole run (opening a connection per input exhausts descriptors).
    const reader = createClient({ url: api.deps.config.store.url });
    const counts = async () => {
      const result = await reader.execute(
        "SELECT (SELECT COUNT(*) FROM webhooks) AS w, (SELECT COUNT(*) FROM events) AS e, " +
          "(SELECT COUNT(*) FROM deliveries) AS d, (SELECT COUNT(*) FROM api_keys) AS k, " +
          "(SELECT COUNT(*) FROM credentials) AS c",
      );
      return { ...result.rows[0] };
    };

    let tried = 0;
    let skipped = 0;
    let refusedByHeadersApi = 0;
    const statuses = new Map<string, number>();
    const inputs = headerInputs({
      limited: limited.body.key,
      revoked: revoked.body.key,
      limitedId,
    });
    for (const route of routes) {
      const path = pathOf(route.path);
      const body = route.body ? JSON.stringify(validBodies[route.path] ?? {}) : undefined;
      await fc.assert(
        fc.asyncProperty(inputs, async (input) => {
          tried++;
          const built = buildHeaders(input);
          if (!built) {
            skipped++;
            return;
          }
          refusedByHeadersApi += built.refused;
          const before = await counts();
          let response: Response;
          try {
            response = await api.app.request(`http://hookd.test${path}`, {
              method: route.method,
              headers: built.headers,
              body,
            });
          } catch (error) {
            assert.fail(`${route.method} ${path} threw ${error}\n${describe(input)}`);
          }
          const text = await response.text();
          const what = `${route.method} ${path} → ${response.status} ${text.slice(0, 300)}\n${
            describe(input)
          }`;
          assert.ok(response.status < 500, what);
          const family = `${String(response.status)[0]}xx`;
          statuses.set(family, (statuses.get(family) ?? 0) + 1);
          if (route.scope !== null) {
            // "authenticated": any valid key may call it (whoami).
            const allowed = input.caller === "admin" ||
              (input.caller === "limited" &&
                (route.scope === LIMITED_SCOPE || route.scope === "authenticated"));
            if (!allowed) {
              assert.equal(response.status, input.caller === "nobody" ? 401 : 403, what);
            }
          }
          if (response.status >= 400) {
            assert.match(text, /"error":\{"code":/, what);
            assert.deepEqual(
              await counts(),
              before,
              `a rejected request changed the store: ${what}`,
            );
          }
        }),
        { seed: SEED, numRuns: RUNS },
      );
    }

    const integrity = await reader.execute("PRAGMA integrity_check");
    reader.close();
    assert.equal(integrity.rows[0]?.integrity_check, "ok");
    // The Headers API refuses NUL, CR, LF and characters above U+00FF before a
    // request exists, so those bytes can only reach the server raw (see below).
    console.log(
      `header fuzz: ${tried} inputs tried across ${routes.length} routes, 0 failures ` +
        `(seed ${SEED}; answers ${JSON.stringify(Object.fromEntries(statuses))}; ` +
        `${refusedByHeadersApi} header values refused by the Headers API and left out, ` +
        `${skipped} inputs skipped because it refused their Authorization)`,
    );
  });
});

// ---------------------------------------------------------------------------
// Raw bytes to a real daemon: what the Headers API would refuse to build.

const RAW_ADMIN_KEY = "raw-header-admin-key-0123456789";
/** Short, so a head that never completes (bare LF, TLS bytes) is answered 408 quickly. */
const RAW_HEADER_TIMEOUT_MS = 500;
/** How long a raw exchange may take before it counts as a hang. */
const RAW_EXCHANGE_BOUND_MS = RAW_HEADER_TIMEOUT_MS + 4_000;

interface RawAnswer {
  /** Status codes of every response head received, in order. */
  readonly statuses: number[];
  /** The daemon closed the connection (or reset it) within the bound. */
  readonly closed: boolean;
  /** The first bytes received, for messages. */
  readonly text: string;
}

function latin1Bytes(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

/**
 * Sends `bytes` on a fresh connection and reads until the daemon closes it,
 * for at most RAW_EXCHANGE_BOUND_MS. A write the daemon cut short (it may
 * answer and close before a 100 KB head is through) is not a failure.
 */
async function exchange(port: number, bytes: Uint8Array): Promise<RawAnswer> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  let timedOut = false;
  // Closing the socket is what bounds a read that would otherwise wait forever.
  const timer = setTimeout(() => {
    timedOut = true;
    conn.close();
  }, RAW_EXCHANGE_BOUND_MS);
  let text = "";
  let closed = false;
  try {
    try {
      for (let offset = 0; offset < bytes.length;) {
        offset += await conn.write(bytes.subarray(offset));
      }
    } catch { /* the daemon stopped reading: its answer, if any, is still readable */ }
    const buf = new Uint8Array(16 * 1024);
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      text += new TextDecoder("latin1").decode(buf.subarray(0, n));
    }
    closed = true;
  } catch {
    closed = !timedOut;
  } finally {
    clearTimeout(timer);
    if (!timedOut) {
      try {
        conn.close();
      } catch { /* already closed */ }
    }
  }
  const statuses = [...text.matchAll(/(?:^|\r\n)HTTP\/1\.[01] (\d{3}) /g)].map((m) => Number(m[1]));
  return { statuses, closed, text: text.slice(0, 300) };
}

/**
 * `refuse`: the head is malformed or ambiguous, and hookd's front door rejects
 * it (RFC 9112 requires that for most; for obs-fold, bare LF and TE with CL it
 * allows leniency, but hookd chose strictness so that it and the server never
 * disagree where a request ends). `any`: valid HTTP the server may accept.
 */
interface RawCase {
  readonly name: string;
  readonly expect: "refuse" | "any";
  readonly bytes: string;
}

function rawCases(port: number): RawCase[] {
  const host = "Host: 127.0.0.1\r\n";
  const get = (extra: string) =>
    `GET /healthz HTTP/1.1\r\n${host}${extra}Connection: close\r\n\r\n`;
  const smuggled =
    `GET /api/v1/keys HTTP/1.1\r\n${host}Authorization: Bearer ${RAW_ADMIN_KEY}\r\n\r\n`;
  const chunkedSmuggle = `0\r\n\r\n${smuggled}`;
  return [
    { name: "header line without a colon", expect: "refuse", bytes: get("NoColonHere\r\n") },
    {
      name: "obs-fold continuation line",
      expect: "refuse",
      bytes: get("X-Folded: a\r\n  continued\r\n"),
    },
    { name: "tab-led continuation line", expect: "refuse", bytes: get("X-Folded: a\r\n\tb\r\n") },
    { name: "NUL in a header value", expect: "refuse", bytes: get("X-Nul: a\0b\r\n") },
    {
      name: "control characters in a value",
      expect: "refuse",
      bytes: get("X-Ctl: a\x01\x7fb\r\n"),
    },
    { name: "bare CR inside a header line", expect: "refuse", bytes: get("X-A: b\rX-B: c\r\n") },
    { name: "space before the colon", expect: "refuse", bytes: get("X-Space : b\r\n") },
    {
      name: "200 headers",
      expect: "refuse",
      bytes: get(Array.from({ length: 200 }, (_, i) => `X-H${i}: v\r\n`).join("")),
    },
    { name: "a 100 KB header", expect: "refuse", bytes: get(`X-Big: ${"a".repeat(100_000)}\r\n`) },
    {
      name: "lines ended by bare LF",
      expect: "refuse",
      bytes: `GET /healthz HTTP/1.1\n${host.trim()}\nConnection: close\n\n`,
    },
    {
      name: "a TLS ClientHello on plain HTTP",
      expect: "refuse",
      bytes: "\x16\x03\x01\x02\x00\x01",
    },
    {
      name: "an unknown HTTP version",
      expect: "refuse",
      bytes: `GET /healthz HTTP/9.9\r\n${host}\r\n`,
    },
    {
      name: "a request line with extra spaces",
      expect: "refuse",
      bytes: `GET  /healthz  HTTP/1.1\r\n${host}\r\n`,
    },
    {
      name: "duplicate Content-Length with different values",
      expect: "refuse",
      bytes:
        `POST /api/v1/events HTTP/1.1\r\n${host}Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!`,
    },
    {
      name: "Content-Length that is not a number",
      expect: "refuse",
      bytes: `POST /api/v1/events HTTP/1.1\r\n${host}Content-Length: -1\r\n\r\n`,
    },
    {
      name: "Transfer-Encoding and Content-Length together (a smuggling attempt)",
      expect: "refuse",
      bytes: `POST /api/v1/events HTTP/1.1\r\n${host}Transfer-Encoding: chunked\r\n` +
        `Content-Length: ${chunkedSmuggle.length}\r\n\r\n${chunkedSmuggle}`,
    },
    {
      name: "Transfer-Encoding other than chunked",
      expect: "refuse",
      bytes: `POST /api/v1/events HTTP/1.1\r\n${host}Transfer-Encoding: gzip, chunked\r\n\r\n`,
    },
    { name: "two Host headers", expect: "refuse", bytes: get("Host: other\r\n") },
    {
      name: "a request line with an absolute URI",
      expect: "any",
      bytes: `GET http://127.0.0.1:${port}/healthz HTTP/1.1\r\n${host}Connection: close\r\n\r\n`,
    },
    {
      name: "an absolute URI naming another host",
      expect: "any",
      bytes: `GET http://other.invalid/healthz HTTP/1.1\r\n${host}Connection: close\r\n\r\n`,
    },
    { name: "HTTP/1.0 without Host", expect: "any", bytes: "GET /healthz HTTP/1.0\r\n\r\n" },
    // RFC 9112 §3.2: 400. Also because the server builds the request URL from
    // Host: a Host with a path in it would pick the route (the last one would
    // reach /api/v1/keys).
    {
      name: "HTTP/1.1 without Host",
      expect: "refuse",
      bytes: "GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n",
    },
    ...["a b", "[::1", "u@evil", "", "x/api/v1/keys?"].map((value): RawCase => ({
      name: `Host ${JSON.stringify(value)}`,
      expect: "refuse",
      bytes: `GET /healthz HTTP/1.1\r\nHost: ${value}\r\nConnection: close\r\n\r\n`,
    })),
    { name: "obs-text bytes in a value", expect: "any", bytes: get("X-Latin1: caf\xe9\xff\r\n") },
    {
      name: "a key followed by a byte above 0x7F",
      expect: "any",
      bytes: `GET /api/v1/keys HTTP/1.1\r\n${host}Authorization: Bearer ${RAW_ADMIN_KEY}\xff\r\n` +
        "Connection: close\r\n\r\n",
    },
  ];
}

/** Random header lines of raw bytes (a complete head: no blank line before the end). */
const rawHeaderLines = fc.array(
  fc.oneof(
    fc.tuple(headerName, latin1Junk).map(([name, value]) => `${name}: ${value}`),
    fc.string({
      unit: fc.integer({ min: 0, max: 0xff }).map((c) => String.fromCharCode(c)),
      minLength: 1,
      maxLength: 300,
    }),
  ),
  { minLength: 1, maxLength: 30 },
).map((lines) => lines.join("\r\n"))
  .filter((lines) => !`\r\n${lines}\r\n`.includes("\r\n\r\n"));

Deno.test("fuzz: raw request heads get a 4xx or a closed connection from a real daemon, never a 5xx or a hang", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hookd-raw-heads-" });
  let daemon: RunningDaemon | undefined;
  try {
    daemon = await startDaemon({
      dir,
      env: {
        HOOKD_SERVER_LISTEN: "127.0.0.1:0",
        HOOKD_STORE_URL: `file:${dir}/hookd.db`,
        HOOKD_ADMIN_KEY: RAW_ADMIN_KEY,
        // On loopback "auto" would serve directly; the front door is under test.
        HOOKD_SERVER_ENFORCE_CONNECTION_LIMITS: "true",
        HOOKD_SERVER_HEADER_TIMEOUT: `${RAW_HEADER_TIMEOUT_MS}ms`,
        HOOKD_LOG_LEVEL: "error",
      },
    });
    const port = Number(new URL(daemon.url).port);
    let tried = 0;
    const outcomes: string[] = [];
    const randomOutcomes = new Map<string, number>();
    for (const rawCase of rawCases(port)) {
      tried++;
      const answer = await exchange(port, latin1Bytes(rawCase.bytes));
      const what = `${rawCase.name}: ${JSON.stringify(answer)}`;
      assert.ok(answer.closed || answer.statuses.length > 0, `no answer and no close: ${what}`);
      assert.ok(answer.statuses.every((status) => status < 500), what);
      if (rawCase.expect === "refuse") {
        // One answer at most: a second would be a request smuggled inside the first.
        assert.ok(answer.statuses.length <= 1, what);
        assert.ok(answer.statuses.every((status) => status >= 400), what);
        assert.ok(answer.closed, `a refused head must close the connection: ${what}`);
      }
      outcomes.push(`${rawCase.name} → ${answer.statuses.join(",") || "closed"}`);
    }

    await fc.assert(
      fc.asyncProperty(rawHeaderLines, async (lines) => {
        tried++;
        const head =
          `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n${lines}\r\n\r\n`;
        const answer = await exchange(port, latin1Bytes(head));
        const family = answer.statuses.length === 0
          ? "closed"
          : `${String(answer.statuses[0])[0]}xx`;
        randomOutcomes.set(family, (randomOutcomes.get(family) ?? 0) + 1);
        const what = `${JSON.stringify(head.slice(0, 300))}: ${JSON.stringify(answer)}`;
        assert.ok(answer.closed || answer.statuses.length > 0, `no answer and no close: ${what}`);
        assert.ok(answer.statuses.every((status) => status < 500), what);
      }),
      { seed: SEED, numRuns: RUNS },
    );

    // Still serving, store included, and nothing reached the catch-all error handlers.
    const health = await daemonApi(daemon, "GET", "/healthz");
    assert.equal(health.status, 200);
    assert.deepEqual(health.body, { status: "ok" });
    const accepted = await daemonApi(daemon, "POST", "/api/v1/events", {
      key: RAW_ADMIN_KEY,
      body: { type: "raw.after", data: 1 },
    });
    assert.equal(accepted.status, 202);
    assert.equal(await daemon.stop("SIGTERM"), 0);
    assert.doesNotMatch(daemon.stdout(), /"level":"error"/);
    console.log(
      `raw header fuzz: ${tried} inputs tried, 0 failures (seed ${SEED}; random heads: ` +
        `${JSON.stringify(Object.fromEntries(randomOutcomes))})\n  ${outcomes.join("\n  ")}`,
    );
  } catch (error) {
    if (error instanceof Error && daemon) error.message += daemon.output();
    throw error;
  } finally {
    await daemon?.kill();
    await Deno.remove(dir, { recursive: true });
  }
});
