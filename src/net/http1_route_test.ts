import assert from "node:assert/strict";
import { startReceiver } from "../testing/receiver.ts";
import { CLOSED_PORT } from "../testing/closed_port.ts";
import { failsWith, post } from "../testing/http1_exchange.ts";
import { selfSignedCert } from "../testing/self_signed_cert.ts";
import { Http1Client, Http1Error } from "./http1_client.ts";
import { classifyConnectError, routeFor, routeKey } from "./http1_route.ts";

// Safety: every receiver and connection is on loopback. URLs name
// `localhost` and receivers listen on 127.0.0.2: a route connects there
// because it was given that address, while a connection that escaped the pin
// would resolve `localhost` from /etc/hosts (127.0.0.1 or ::1), where nothing
// listens on those ports, and fail. No DNS query is sent.

const PINNED = "127.0.0.2";
const tls = await selfSignedCert(["localhost"]);
const otherTls = await selfSignedCert(["hooks.test"]);
const NEEDS_OPENSSL = tls === undefined || otherTls === undefined;
const OPTIONS = { timeoutMs: 5_000, bodyLimit: 1024 };

Deno.test("an http route with an address connects there and nowhere else", async () => {
  await using r = await startReceiver({ hostname: PINNED });
  using client = new Http1Client();
  const url = new URL(`http://localhost:${r.port}/x?y=1`);
  const route = routeFor(url, { address: PINNED });
  for (let i = 0; i < 3; i++) {
    assert.equal((await client.post(route, post(url), OPTIONS)).status, 200);
  }
  const got = await r.waitForRequests(3);
  assert.equal(got[0]!.path, "/x?y=1");
  assert.equal(got[0]!.headers["host"], `localhost:${r.port}`);
  assert.equal(r.connectionCount, 1, "the pinned connection is pooled");

  // Without the address the name is resolved (127.0.0.1 or ::1), so the receiver on
  // 127.0.0.2 gets nothing more. Nothing listens on that port there, so the exchange
  // is refused, unless a server another test file started meanwhile was given the
  // same port number on 127.0.0.1: then it answers or fails otherwise.
  const unpinned = await client.post(routeFor(url), post(url), OPTIONS).then(
    () => undefined,
    (error: unknown) => error,
  );
  if (unpinned instanceof Http1Error && unpinned.kind === "connect") {
    assert.match(unpinned.message, /refused/i);
  }
  // A request that reached the receiver was logged before any answer: no wait needed.
  await assert.rejects(r.waitForRequests(4, 0), /got 3 of 4 requests/);
});

Deno.test({
  name:
    "an https route with an address: TLS verified for the URL's name, connection to the address",
  ignore: NEEDS_OPENSSL,
  fn: async () => {
    await using r = await startReceiver({ tls: tls!, hostname: PINNED });
    using client = new Http1Client();
    const url = new URL(`https://localhost:${r.port}/secure`);
    const route = routeFor(url, { address: PINNED, tls: { id: "w1", caCerts: [tls!.cert] } });
    for (let i = 0; i < 3; i++) {
      assert.equal((await client.post(route, post(url), OPTIONS)).status, 200);
    }
    const got = await r.waitForRequests(3);
    assert.equal(got[0]!.path, "/secure");
    assert.equal(got[0]!.headers["host"], `localhost:${r.port}`);
    assert.equal(got[0]!.body, '{"n":1}');
    assert.equal(r.connectionCount, 1);
  },
});

Deno.test("an https route's handshake carries SNI for the URL's name, not the address", async () => {
  // A raw listener stands in for the receiver and records what arrives.
  const raw = Deno.listen({ hostname: PINNED, port: 0 });
  const first = (async () => {
    const conn = await raw.accept();
    const buf = new Uint8Array(4096);
    const n = await conn.read(buf);
    conn.close();
    return buf.slice(0, n ?? 0);
  })();
  using client = new Http1Client();
  const url = new URL(`https://localhost:${raw.addr.port}/x`);
  const sent = client.post(routeFor(url, { address: PINNED }), post(url, "secret"), OPTIONS)
    .catch((e) => e);
  const bytes = await first;
  const error = await sent;
  raw.close();
  assert.ok(error instanceof Http1Error && error.kind === "tls", String(error));
  assert.equal(bytes[0], 0x16, "a TLS handshake record");
  const text = String.fromCharCode(...bytes);
  assert.ok(text.includes("localhost"), "SNI names the URL's host");
  assert.ok(!text.includes("secret") && !text.includes("POST"), "nothing in cleartext");
});

Deno.test({
  name:
    "a pinned route still checks the name: another name's certificate or an unknown issuer is tls",
  ignore: NEEDS_OPENSSL,
  fn: async () => {
    await using r = await startReceiver({ tls: otherTls!, hostname: PINNED });
    using client = new Http1Client();
    const url = new URL(`https://localhost:${r.port}/x`);
    const wrongName = routeFor(url, {
      address: PINNED,
      tls: { id: "w", caCerts: [otherTls!.cert] },
    });
    await failsWith(client.post(wrongName, post(url), OPTIONS), "tls", /NotValidForName|not valid/);
    const untrusted = routeFor(url, { address: PINNED });
    await failsWith(client.post(untrusted, post(url), OPTIONS), "tls", /UnknownIssuer/);
    assert.equal(r.requests.length, 0);
  },
});

Deno.test("a refused connection is connect, naming the pinned address but not the URL", async () => {
  using client = new Http1Client();
  for (const protocol of ["http", "https"]) {
    const port = CLOSED_PORT;
    const url = new URL(`${protocol}://localhost:${port}/p?token=s3cret`);
    const refused = client.post(routeFor(url, { address: PINNED }), post(url), OPTIONS);
    // Names the address tried, but nothing of the URL (it may carry secrets).
    await failsWith(
      refused,
      "connect",
      new RegExp(`^Connection refused \\(os error \\d+\\) \\(address 127\\.0\\.0\\.2:${port}\\)$`),
    );
  }
});

Deno.test("routes share connections only with the same origin, address and TLS settings", () => {
  const url = new URL("https://hooks.example:8443/a?b=c");
  const same = new URL("https://hooks.example:8443/other");
  assert.equal(routeKey(url.origin), routeKey(same.origin), "the path does not matter");
  const keys = [
    routeKey(url.origin),
    routeKey(new URL("http://hooks.example:8443/a").origin),
    routeKey(new URL("https://hooks.example/a").origin),
    routeKey(url.origin, { address: "192.0.2.1" }),
    routeKey(url.origin, { address: "192.0.2.2" }),
    routeKey(url.origin, { address: "192.0.2.1", tls: { id: "webhook-1@1" } }),
    routeKey(url.origin, { address: "192.0.2.1", tls: { id: "webhook-1@2" } }),
  ];
  assert.equal(new Set(keys).size, keys.length, keys.join("\n"));
  assert.throws(() => routeFor(new URL("ftp://hooks.example/")), /scheme must be http or https/);
});

Deno.test("connect errors are classified by what Deno 2.9 raises", () => {
  const cases: [unknown, string][] = [
    [new Error("failed to lookup address information: Name or service not known"), "dns"],
    [new Error("dns error: failed to lookup address information: Try again"), "dns"],
    [new Deno.errors.ConnectionRefused("Connection refused (os error 111)"), "connect"],
    [new Error("Network is unreachable (os error 101)"), "connect"],
    [new Deno.errors.TimedOut("Connection timed out (os error 110)"), "connect"],
    [new Http1Error("tls", "invalid peer certificate: UnknownIssuer"), "tls"],
  ];
  for (const [error, kind] of cases) {
    assert.equal(classifyConnectError(error, "").kind, kind, String(error));
  }
  assert.equal(
    classifyConnectError(new Error("Connection refused"), " (address 192.0.2.1:80)").message,
    "Connection refused (address 192.0.2.1:80)",
  );
});

/** Whether this machine can listen on IPv6 loopback. */
function hasIpv6Loopback(): boolean {
  try {
    Deno.listen({ hostname: "::1", port: 0 }).close();
    return true;
  } catch {
    return false;
  }
}

Deno.test({
  name: "an IPv6 literal URL connects without brackets and sends them in Host",
  ignore: !hasIpv6Loopback(),
  fn: async () => {
    await using r = await startReceiver({ hostname: "::1" });
    using client = new Http1Client();
    const url = new URL(`http://[::1]:${r.port}/six`);
    assert.equal((await client.post(routeFor(url), post(url), OPTIONS)).status, 200);
    const [got] = await r.waitForRequests(1);
    assert.equal(got!.headers["host"], `[::1]:${r.port}`);
  },
});
