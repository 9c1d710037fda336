import { selfSignedCert } from "../testing/self_signed_cert.ts";
import assert from "node:assert/strict";
import { FakeClock } from "../testing/fake_clock.ts";
import { startReceiver } from "../testing/receiver.ts";
import { VERSION } from "../version.ts";
import { type AttemptResult, HttpSender, SenderClosedError } from "./sender.ts";
import { CLOSED_PORT } from "../testing/closed_port.ts";

const TIMEOUT_MS = 5_000;
const SHORT_TIMEOUT_MS = 200;

function post(url: string, extra: { headers?: Record<string, string>; body?: string } = {}) {
  return { url, headers: extra.headers ?? {}, body: extra.body ?? "{}", timeoutMs: TIMEOUT_MS };
}

function assertResponse(result: AttemptResult, status: number): void {
  assert.equal(result.outcome.kind, "response", `error: ${result.errorMessage}`);
  assert.equal(result.status, status);
  assert.equal(result.errorMessage, null);
  assert.ok(result.durationMs >= 0);
}

function assertError(result: AttemptResult, error: string): void {
  assert.deepEqual(result.outcome, { kind: "error", error }, `message: ${result.errorMessage}`);
  assert.ok(result.errorMessage, "an error has a message");
  assert.ok(result.durationMs >= 0);
}

Deno.test("send posts the body and headers as given, with hookd's Content-Type and User-Agent", async () => {
  await using r = await startReceiver();
  using sender = new HttpSender();
  r.respond(() => ({ status: 200, headers: { "X-Reply": "yes" }, body: "thanks" }));
  const body = JSON.stringify({ type: "order.paid", data: { n: 1, s: "é" } });
  const result = await sender.send(post(`${r.url}/hooks/a?x=1`, {
    body,
    headers: { "X-Webhook-Signature": "abc", "webhook-id": "msg_1" },
  }));

  assertResponse(result, 200);
  assert.deepEqual(result.outcome, { kind: "response", status: 200 });
  assert.equal(result.responseBody, "thanks");
  assert.equal(result.responseHeaders?.["x-reply"], "yes");
  assert.equal(r.requests.length, 1);
  const got = r.requests[0]!;
  assert.equal(got.method, "POST");
  assert.equal(got.path, "/hooks/a?x=1");
  assert.equal(got.body, body);
  assert.equal(got.headers["content-type"], "application/json");
  assert.equal(got.headers["user-agent"], `hookd/${VERSION}`);
  assert.equal(got.headers["x-webhook-signature"], "abc");
  assert.equal(got.headers["webhook-id"], "msg_1");
  assert.equal(got.headers["host"], `127.0.0.1:${r.port}`);
});

Deno.test("send does not let callers override Content-Type, User-Agent or Host", async () => {
  await using r = await startReceiver();
  using sender = new HttpSender({ userAgent: "hookd-test/1" });
  const result = await sender.send(post(r.url, {
    headers: {
      "content-type": "text/plain",
      "User-Agent": "evil/1",
      "Host": "evil.example",
      "Content-Length": "1",
      "X-Ok": "1",
    },
  }));
  assertResponse(result, 200);
  const got = r.requests[0]!;
  assert.equal(got.headers["content-type"], "application/json");
  assert.equal(got.headers["user-agent"], "hookd-test/1");
  assert.equal(got.headers["host"], `127.0.0.1:${r.port}`);
  assert.equal(got.headers["content-length"], "2");
  assert.equal(got.headers["x-ok"], "1");
});

Deno.test("send rejects bad input without sending", async () => {
  await using r = await startReceiver();
  using sender = new HttpSender();
  await assert.rejects(sender.send({ ...post(r.url), timeoutMs: 0 }), RangeError);
  await assert.rejects(sender.send({ ...post(r.url), timeoutMs: NaN }), RangeError);
  await assert.rejects(sender.send(post("not a url")), TypeError);
  await assert.rejects(sender.send(post("ftp://127.0.0.1/")), TypeError);
  await assert.rejects(
    sender.send(post(r.url, { headers: { "X-Bad": "a\r\nInjected: 1" } })),
    (e: Error) => e instanceof TypeError && !e.message.includes("Injected"),
  );
  for (
    const headers of <Record<string, string>[]> [
      { "X Bad": "v" },
      { "X-Bad:": "v" },
      { "": "v" },
      { "X-Bad": "a\0b" },
      { "X-Bad": "a\nb" },
      { "X-Bad": "price: 5 €" },
      { "X-Bad": "\ud800" },
    ]
  ) {
    await assert.rejects(
      sender.send(post(r.url, { headers })),
      (e: Error) =>
        e instanceof TypeError &&
        e.message === `Cannot send: invalid header "${Object.keys(headers)[0]}"`,
      JSON.stringify(headers),
    );
  }
  assert.equal(r.requests.length, 0);
});

Deno.test("send accepts any header Headers accepts: Latin-1 values, inner spaces and tabs", async () => {
  await using r = await startReceiver();
  using sender = new HttpSender();
  const headers = { "X-Latin": "caf\u00e9", "X-Spaced": "a b\tc", "x-DUP": "1", "X-Dup": "2" };
  assertResponse(await sender.send(post(r.url, { headers })), 200);
  const got = r.requests[0]!.headers;
  assert.equal(got["x-spaced"], "a b\tc");
  assert.equal(got["x-dup"], "1, 2");
  assert.ok(new Headers(headers), "the same rules as Headers");
});

Deno.test("send reports any status as a response", async (t) => {
  await using r = await startReceiver();
  using sender = new HttpSender();
  for (const status of [200, 201, 204, 400, 404, 410, 500, 503]) {
    await t.step(String(status), async () => {
      r.script([{ status, body: status === 204 ? undefined : `status ${status}` }]);
      const result = await sender.send(post(r.url));
      assertResponse(result, status);
      assert.deepEqual(result.outcome, { kind: "response", status });
      assert.equal(result.responseBody, status === 204 ? "" : `status ${status}`);
    });
  }
});

Deno.test("send returns a 302 as a response and does not follow it", async () => {
  await using target = await startReceiver();
  await using r = await startReceiver();
  using sender = new HttpSender();
  r.respond(() => ({ status: 302, headers: { Location: `${target.url}/elsewhere` } }));
  const result = await sender.send(post(r.url));
  assertResponse(result, 302);
  assert.equal(result.responseHeaders?.["location"], `${target.url}/elsewhere`);
  assert.equal(r.requests.length, 1);
  assert.equal(target.requests.length, 0);
});

Deno.test("send parses Retry-After into retryAfterMs", async () => {
  const clock = new FakeClock(Date.UTC(2026, 0, 22, 6, 40, 0));
  await using r = await startReceiver();
  using sender = new HttpSender({ clock });
  r.script([
    { status: 429, headers: { "Retry-After": "7" } },
    { status: 503, headers: { "Retry-After": "Thu, 22 Jan 2026 06:41:30 GMT" } },
    { status: 503, headers: { "Retry-After": "soon" } },
  ]);
  assert.deepEqual((await sender.send(post(r.url))).outcome, {
    kind: "response",
    status: 429,
    retryAfterMs: 7000,
  });
  assert.deepEqual((await sender.send(post(r.url))).outcome, {
    kind: "response",
    status: 503,
    retryAfterMs: 90_000,
  });
  const ignored = await sender.send(post(r.url));
  assert.deepEqual(ignored.outcome, { kind: "response", status: 503 });
  // The fake clock never moved.
  assert.equal(ignored.durationMs, 0);
});

Deno.test("send reuses pooled connections", async () => {
  await using r = await startReceiver();
  using sender = new HttpSender();
  for (let i = 0; i < 3; i++) assertResponse(await sender.send(post(r.url)), 200);
  assert.equal(r.requests.length, 3);
  assert.equal(r.connectionCount, 1);
});

Deno.test("send times out when the receiver never answers", async () => {
  await using r = await startReceiver();
  using sender = new HttpSender();
  r.script([{ kind: "hang" }]);
  const result = await sender.send({ ...post(r.url), timeoutMs: SHORT_TIMEOUT_MS });
  assertError(result, "timeout");
  assert.equal(result.status, null);
  assert.equal(result.responseBody, null);
  assert.match(result.errorMessage!, /no response within 200 ms/);
  assert.equal(sender.inFlight, 0);
});

Deno.test("send times out on a body slower than the deadline, keeping what arrived", async () => {
  await using r = await startReceiver();
  using sender = new HttpSender();
  r.script([{ kind: "slow", status: 200, chunks: ["first ", "second"], delayMs: 60_000 }]);
  const result = await sender.send({ ...post(r.url), timeoutMs: SHORT_TIMEOUT_MS });
  assertError(result, "timeout");
  assert.equal(result.status, 200);
  assert.equal(result.responseBody, "first ");
  assert.match(result.errorMessage!, /response body/);
});

Deno.test("send reads a slow body that finishes within the timeout", async () => {
  await using r = await startReceiver();
  using sender = new HttpSender();
  r.script([{ kind: "slow", status: 200, chunks: ["a", "b", "c"], delayMs: 20 }]);
  const result = await sender.send(post(r.url));
  assertResponse(result, 200);
  assert.equal(result.responseBody, "abc");
});

Deno.test("send keeps exactly the excerpt of an endless body and stops reading", async () => {
  await using r = await startReceiver();
  using sender = new HttpSender({ responseBodyLimit: 4096 });
  r.script([{ kind: "endless", status: 200 }]);
  const result = await sender.send(post(r.url));
  assertResponse(result, 200);
  assert.equal(result.responseBody, "x".repeat(4096));
});

Deno.test("send truncates a large body at the limit", async (t) => {
  await using r = await startReceiver();
  using sender = new HttpSender({ responseBodyLimit: 100 });
  await t.step("ascii", async () => {
    r.script([{ status: 500, body: "y".repeat(1_000_000) }]);
    const result = await sender.send(post(r.url));
    assertResponse(result, 500);
    assert.equal(result.responseBody, "y".repeat(100));
  });
  await t.step("a character cut by the limit is dropped, not replaced", async () => {
    // 99 ASCII bytes then "é" (2 bytes): the limit falls inside it.
    r.script([{ status: 200, body: "z".repeat(99) + "é".repeat(10) }]);
    const result = await sender.send(post(r.url));
    assert.equal(result.responseBody, "z".repeat(99));
  });
  await t.step("invalid UTF-8 is replaced", async () => {
    r.script([{ status: 200, body: new Uint8Array([0x61, 0xff, 0x62]) }]);
    const result = await sender.send(post(r.url));
    assert.equal(result.responseBody, "a\uFFFDb");
  });
  await t.step("a body of exactly the limit", async () => {
    r.script([{ status: 200, body: "w".repeat(100) }]);
    assert.equal((await sender.send(post(r.url))).responseBody, "w".repeat(100));
  });
});

Deno.test("send with responseBodyLimit 0 keeps no body", async () => {
  await using r = await startReceiver();
  using sender = new HttpSender({ responseBodyLimit: 0 });
  r.script([{ kind: "endless" }]);
  const result = await sender.send(post(r.url));
  assertResponse(result, 200);
  assert.equal(result.responseBody, "");
});

Deno.test("send caps the response headers kept", async () => {
  await using r = await startReceiver();
  using sender = new HttpSender({ maxResponseHeaders: 10, maxResponseHeaderBytes: 400 });
  const many: Record<string, string> = {};
  for (let i = 0; i < 80; i++) many[`x-h${String(i).padStart(3, "0")}`] = "v";
  r.script([
    { status: 200, headers: many },
    { status: 200, headers: { "x-big": "b".repeat(1000), "x-small": "s" } },
  ]);
  const first = await sender.send(post(r.url));
  assert.equal(Object.keys(first.responseHeaders!).length, 10);
  const second = await sender.send(post(r.url));
  assert.equal(second.responseHeaders!["x-big"], undefined);
  assert.equal(second.responseHeaders!["x-small"], "s");
});

Deno.test("send reports a connection closed without an answer as reset", async () => {
  await using r = await startReceiver();
  using sender = new HttpSender();
  r.script([{ kind: "reset" }]);
  const result = await sender.send(post(r.url));
  assertError(result, "reset");
  assert.equal(result.status, null);
  assert.equal(r.requests.length, 1);
  assert.doesNotMatch(result.errorMessage!, /127\.0\.0\.1|http:/);
});

Deno.test("send reports a partial response as reset", async (t) => {
  await using r = await startReceiver();
  using sender = new HttpSender();
  await t.step("cut in the head", async () => {
    r.script([{ kind: "raw", data: "HTTP/1.1 200 OK\r\nContent-Le" }]);
    assertError(await sender.send(post(r.url)), "reset");
  });
  await t.step("cut in the body: status and what arrived are kept", async () => {
    r.script([{ kind: "raw", data: "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc" }]);
    const result = await sender.send(post(r.url));
    assertError(result, "reset");
    assert.equal(result.status, 200);
    assert.equal(result.responseHeaders?.["content-length"], "100");
    assert.equal(result.responseBody, "abc");
  });
  await t.step("not HTTP", async () => {
    r.script([{ kind: "raw", data: "SSH-2.0-OpenSSH_9.6\r\n\r\n" }]);
    const result = await sender.send(post(r.url));
    assertError(result, "reset");
    assert.equal(result.errorMessage, "invalid HTTP response: invalid HTTP version parsed");
  });
  await t.step("more headers than the HTTP stack accepts (100)", async () => {
    const many: Record<string, string> = {};
    for (let i = 0; i < 120; i++) many[`x-h${i}`] = "v";
    r.script([{ status: 200, headers: many }]);
    const result = await sender.send(post(r.url));
    assertError(result, "reset");
    assert.equal(result.errorMessage, "invalid HTTP response: message head is too large");
  });
});

Deno.test("send reports a refused connection as connect", async () => {
  using sender = new HttpSender();
  const result = await sender.send(post(`http://127.0.0.1:${CLOSED_PORT}/hook?token=secret`));
  assertError(result, "connect");
  assert.match(result.errorMessage!, /Connection refused/);
  assert.doesNotMatch(result.errorMessage!, /secret|127\.0\.0\.1/);
});

// No live DNS failure test: resolving even a `.invalid` name sends a query to the
// system's nameserver, off this machine. The dns kind is covered by the exact
// Deno error text in the classification table below; the SSRF guard will resolve
// names itself through an injectable resolver, which is where dns gets tested.

Deno.test("send reports https to a plain HTTP server as tls", async () => {
  await using r = await startReceiver();
  using sender = new HttpSender();
  const result = await sender.send(post(`https://127.0.0.1:${r.port}/`));
  assertError(result, "tls");
  assert.equal(r.requests.length, 0);
});

const tlsPair = await selfSignedCert(["127.0.0.1"]);

Deno.test({
  name: "send reports an untrusted certificate as tls; a route with its roots trusts it",
  ignore: tlsPair === undefined, // needs openssl to make the certificate
  fn: async () => {
    await using r = await startReceiver({ tls: tlsPair! });
    using sender = new HttpSender();
    const untrusted = await sender.send(post(r.url));
    assertError(untrusted, "tls");
    assert.match(untrusted.errorMessage!, /invalid peer certificate: UnknownIssuer/);
    assert.equal(r.requests.length, 0);

    const route = { tls: { id: "own roots", caCerts: [tlsPair!.cert] } };
    const trusted = await sender.send({ ...post(r.url), route });
    assertResponse(trusted, 200);
    assert.equal(r.requests.length, 1);
  },
});

Deno.test("send connects to the route's address, keeping the URL's name as Host", async () => {
  await using r = await startReceiver();
  using sender = new HttpSender();
  // The name never resolves: only the pinned address can reach the receiver.
  const route = { address: "127.0.0.1" };
  const result = await sender.send({ ...post(`http://hooks.invalid:${r.port}/p?q=1`), route });
  assertResponse(result, 200);
  assert.equal(r.requests[0]?.headers["host"], `hooks.invalid:${r.port}`);
  assert.equal(r.requests[0]?.path, "/p?q=1");
});

Deno.test("send throws SenderClosedError once closed, also for an attempt in flight", async () => {
  await using r = await startReceiver();
  const sender = new HttpSender();
  r.script([{ kind: "hang" }]);
  const pending = sender.send(post(r.url));
  await r.waitForRequests(1);
  sender.close();
  await assert.rejects(pending, SenderClosedError);
  await assert.rejects(sender.send(post(r.url)), SenderClosedError);
  assert.equal(sender.inFlight, 0);
  sender.close();
});
