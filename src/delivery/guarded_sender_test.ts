import assert from "node:assert/strict";
import { FakeClock } from "../testing/fake_clock.ts";
import { GuardedSender, type OutgoingRequest } from "./guarded_sender.ts";
import type { AttemptResult, AttemptTransport, SendRequest } from "./sender.ts";
import type { GuardResult } from "../net/target_guard.ts";
import { parseProxyUrl, type ProxyEndpoint } from "../net/proxy_endpoint.ts";

/** A transport that records what reached it and answers 200. */
class RecordingTransport implements AttemptTransport {
  readonly sent: SendRequest[] = [];
  send(request: SendRequest): Promise<AttemptResult> {
    this.sent.push(request);
    return Promise.resolve({
      outcome: { kind: "response", status: 200 },
      status: 200,
      responseHeaders: {},
      responseBody: "",
      durationMs: 1,
      errorMessage: null,
    });
  }
}

const request = (url: string): OutgoingRequest => ({
  url,
  headers: { "x-a": "1" },
  body: "{}",
  timeoutMs: 1_000,
  tls: { id: "w@1", caCerts: ["CA"] },
});

function guardSaying(verdict: GuardResult) {
  const checked: string[] = [];
  return { checked, check: (url: URL) => (checked.push(url.href), Promise.resolve(verdict)) };
}

Deno.test("an approved target is sent to exactly the address the guard checked", async () => {
  const transport = new RecordingTransport();
  const guard = guardSaying({ ok: true, address: "10.1.2.3", port: 443, hostname: "hooks.test" });
  const sender = new GuardedSender({
    transport,
    guard,
    requireHttps: true,
    clock: new FakeClock(),
  });
  const result = await sender.send(request("https://hooks.test/x"));
  assert.equal(result.status, 200);
  assert.deepEqual(guard.checked, ["https://hooks.test/x"]);
  assert.equal(transport.sent.length, 1);
  assert.deepEqual(transport.sent[0]!.route, {
    address: "10.1.2.3",
    tls: { id: "w@1", caCerts: ["CA"] },
  });
  assert.equal(transport.sent[0]!.url, "https://hooks.test/x");
  assert.deepEqual(transport.sent[0]!.headers, { "x-a": "1" });
});

Deno.test("a refused target fails as the guard says and never reaches the transport", async () => {
  for (
    const verdict of [
      { ok: false, kind: "blocked", reason: "10.0.0.7 is in a private network" },
      { ok: false, kind: "dns", reason: "name not found" },
    ] as const
  ) {
    const transport = new RecordingTransport();
    const sender = new GuardedSender({
      transport,
      guard: guardSaying(verdict),
      requireHttps: false,
      clock: new FakeClock(),
    });
    const result = await sender.send(request("http://hooks.test/x"));
    assert.deepEqual(result.outcome, { kind: "error", error: verdict.kind });
    assert.equal(result.errorMessage, verdict.reason);
    assert.equal(transport.sent.length, 0);
  }
});

Deno.test("require_https refuses plain http before any lookup", async () => {
  const transport = new RecordingTransport();
  const guard = guardSaying({ ok: true, address: "127.0.0.1", port: 80, hostname: "h" });
  const sender = new GuardedSender({
    transport,
    guard,
    requireHttps: true,
    clock: new FakeClock(),
  });
  const result = await sender.send(request("http://hooks.test/x"));
  assert.deepEqual(result.outcome, { kind: "error", error: "blocked" });
  assert.match(result.errorMessage!, /require_https/);
  assert.deepEqual(guard.checked, []);
  assert.equal(transport.sent.length, 0);
});

Deno.test("the webhook's proxy setting picks the route's proxy; one that cannot be followed fails as proxy", async () => {
  const fallback = parseProxyUrl("http://10.0.0.2:3128");
  const eu = parseProxyUrl("http://u:p@10.0.0.3:3128");
  const proxies = { proxy: fallback, proxies: { eu } };
  const cases: [string | null | undefined, ProxyEndpoint | undefined][] = [
    [undefined, fallback],
    [null, fallback],
    ["direct", undefined],
    ["eu", eu],
  ];
  /** A sender whose guard approves 10.1.2.3 for any name, with the proxies above. */
  const approvingSender = () => {
    const transport = new RecordingTransport();
    const guard = guardSaying({ ok: true, address: "10.1.2.3", port: 443, hostname: "hooks.test" });
    return {
      transport,
      guard,
      sender: new GuardedSender({
        transport,
        guard,
        requireHttps: false,
        proxies,
        clock: new FakeClock(),
      }),
    };
  };
  for (const [setting, expected] of cases) {
    const { transport, sender } = approvingSender();
    await sender.send({ ...request("https://hooks.test/x"), proxy: setting });
    assert.equal(transport.sent[0]!.route?.proxy, expected, String(setting));
    assert.equal(transport.sent[0]!.route?.address, "10.1.2.3");
  }

  const refusals: [OutgoingRequest, RegExp][] = [
    [
      { ...request("https://hooks.test/x"), proxy: "gone" },
      /"gone" is not in \[delivery\] proxies/,
    ],
    [
      { ...request("https://hooks.test/x"), tls: { id: "m", cert: "C", key: "K" } },
      /mTLS client certificate cannot go through a forward proxy/,
    ],
  ];
  for (const [outgoing, message] of refusals) {
    const { transport, guard, sender } = approvingSender();
    const result = await sender.send(outgoing);
    assert.deepEqual(result.outcome, { kind: "error", error: "proxy" });
    assert.match(result.errorMessage!, message);
    assert.deepEqual(guard.checked, [], "no lookup for an attempt that cannot be sent");
    assert.equal(transport.sent.length, 0);
  }

  // Going direct, a client certificate is fine.
  const transport = new RecordingTransport();
  const sender = new GuardedSender({
    transport,
    guard: guardSaying({ ok: true, address: "10.1.2.3", port: 443, hostname: "hooks.test" }),
    requireHttps: false,
    proxies,
    clock: new FakeClock(),
  });
  const tls = { id: "m", cert: "C", key: "K" };
  await sender.send({ ...request("https://hooks.test/x"), tls, proxy: "direct" });
  assert.deepEqual(transport.sent[0]!.route, { address: "10.1.2.3", tls });
});
