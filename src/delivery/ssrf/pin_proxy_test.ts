import assert from "node:assert/strict";
import { startReceiver } from "../../testing/receiver.ts";
import { selfSignedCert } from "../../testing/self_signed_cert.ts";
import { HttpSender } from "../sender.ts";
import { createProxiedClient } from "./pin.ts";
import { PIN_FAILURE_HEADER, PinProxy } from "./pin_proxy.ts";
import { PinnedClients } from "./pinned_clients.ts";

// Safety: the proxy, every receiver and every connection are on loopback.
// URLs name `localhost` and receivers listen on 127.0.0.2: the entrance
// connects to 127.0.0.2 because it was told to, while a connection that
// escaped the pin would resolve `localhost` from /etc/hosts (127.0.0.1 or
// ::1), where nothing listens on those ports, and fail. No DNS query is sent.

const PINNED = "127.0.0.2";
const tls = await selfSignedCert(["localhost"]);
const otherTls = await selfSignedCert(["hooks.test"]);
const NEEDS_OPENSSL = tls === undefined || otherTls === undefined;

function post(url: URL | string, client: Deno.HttpClient, body = '{"n":1}') {
  return { url: String(url), headers: {}, body, timeoutMs: 5_000, client };
}

Deno.test({
  name:
    "https through an entrance: TLS verified for the URL's name, connection to the pinned address",
  ignore: NEEDS_OPENSSL,
  fn: async () => {
    await using r = await startReceiver({ tls: tls!, hostname: PINNED });
    await using proxy = PinProxy.start();
    await using pins = new PinnedClients({ proxy });
    using sender = new HttpSender();
    const url = new URL(`https://localhost:${r.port}/x`);
    const destination = { hostname: "localhost", port: r.port, address: PINNED };
    for (let i = 0; i < 3; i++) {
      const lease = pins.acquire(url, destination, { id: "w1", caCerts: [tls!.cert] })!;
      const result = await sender.send(post(url, lease.client));
      lease.release();
      assert.equal(result.status, 200, result.errorMessage ?? undefined);
    }
    const got = await r.waitForRequests(3);
    assert.equal(got[0]!.path, "/x", "origin form inside the tunnel");
    assert.equal(got[0]!.headers["host"], `localhost:${r.port}`);
    assert.equal(got[0]!.body, '{"n":1}');
    assert.equal(proxy.connections, 1, "one tunnel, pooled across the attempts");
    assert.equal(r.connectionCount, 1);
    assert.equal(pins.size, 1);
  },
});

Deno.test("the tunnel carries the client's own TLS handshake, with SNI for the URL's name", async () => {
  // A raw listener stands in for the receiver and records what arrives.
  const raw = Deno.listen({ hostname: PINNED, port: 0 });
  const first = (async () => {
    const conn = await raw.accept();
    const buf = new Uint8Array(4096);
    const n = await conn.read(buf);
    conn.close();
    return buf.slice(0, n ?? 0);
  })();
  await using proxy = PinProxy.start();
  const entrance = proxy.open({ hostname: "localhost", port: raw.addr.port, address: PINNED });
  const client = createProxiedClient({ proxy: { url: entrance.proxyUrl } });
  const sent = fetch(`https://localhost:${raw.addr.port}/x`, {
    method: "POST",
    body: "secret",
    client,
  }).catch((e) => e);
  const bytes = await first;
  await sent;
  client.close();
  raw.close();
  assert.equal(bytes[0], 0x16, "a TLS handshake record");
  assert.equal(bytes[1], 0x03);
  const text = String.fromCharCode(...bytes);
  assert.ok(text.includes("localhost"), "SNI names the URL's host");
  assert.ok(!text.includes("secret") && !text.includes("POST"), "nothing in cleartext");
});

Deno.test({
  name:
    "TLS still checks the name: a certificate for another name, or an unknown issuer, fails as tls",
  ignore: NEEDS_OPENSSL,
  fn: async () => {
    await using r = await startReceiver({ tls: otherTls!, hostname: PINNED });
    await using pins = new PinnedClients();
    using sender = new HttpSender();
    const url = new URL(`https://localhost:${r.port}/x`);
    const destination = { hostname: "localhost", port: r.port, address: PINNED };
    const lease = pins.acquire(url, destination, { id: "w", caCerts: [otherTls!.cert] })!;
    const wrongName = await sender.send(post(url, lease.client));
    lease.release();
    assert.deepEqual(wrongName.outcome, { kind: "error", error: "tls" }, wrongName.errorMessage!);

    const untrusted = pins.acquire(url, destination)!;
    const unknown = await sender.send(post(url, untrusted.client));
    untrusted.release();
    assert.deepEqual(unknown.outcome, { kind: "error", error: "tls" });
    assert.match(unknown.errorMessage ?? "", /UnknownIssuer/);
    assert.equal(r.requests.length, 0);
  },
});

Deno.test("http through an entrance: origin-form request lines, bodies intact, one kept-alive connection", async () => {
  await using r = await startReceiver({
    hostname: PINNED,
    respond: (req) => ({ status: 200, body: `${req.bodyBytes.length}` }),
  });
  await using proxy = PinProxy.start();
  await using pins = new PinnedClients({ proxy });
  using sender = new HttpSender();
  const big = JSON.stringify({ data: "x".repeat(300_000) }); // spans many reads
  const bodies = ['{"n":1}', big, "", '{"n":3}'];
  for (const [i, body] of bodies.entries()) {
    const url = new URL(`http://localhost:${r.port}/hook/${i}?q=${i}`);
    const lease = pins.acquire(url, { hostname: "localhost", port: r.port, address: PINNED })!;
    const result = await sender.send(post(url, lease.client, body));
    lease.release();
    assert.equal(result.status, 200, result.errorMessage ?? undefined);
    assert.equal(result.responseBody, String(new TextEncoder().encode(body).length));
  }
  const got = await r.waitForRequests(bodies.length);
  assert.deepEqual(got.map((q) => q.path), [
    "/hook/0?q=0",
    "/hook/1?q=1",
    "/hook/2?q=2",
    "/hook/3?q=3",
  ]);
  assert.deepEqual(got.map((q) => q.body), bodies);
  for (const q of got) assert.equal(q.headers["host"], `localhost:${r.port}`);
  assert.equal(r.connectionCount, 1, "requests share one upstream connection");
  assert.equal(proxy.connections, 1);
});

Deno.test("pinned clients follow the guard: a new address gets a new client, an IP literal none", async () => {
  await using a = await startReceiver({ hostname: PINNED });
  // The same port on another loopback address: only the approval tells them apart.
  await using b = await startReceiver({ hostname: "127.0.0.3", port: a.port });
  await using pins = new PinnedClients();
  using sender = new HttpSender();
  const url = new URL(`http://localhost:${a.port}/p`);
  const toA = pins.acquire(url, { hostname: "localhost", port: a.port, address: PINNED })!;
  const again = pins.acquire(url, { hostname: "localhost", port: a.port, address: PINNED })!;
  assert.equal(toA.client, again.client, "same destination, same pooled client");
  const toB = pins.acquire(url, { hostname: "localhost", port: a.port, address: "127.0.0.3" })!;
  assert.notEqual(toA.client, toB.client);
  assert.equal((await sender.send(post(url, toA.client))).status, 200);
  assert.equal((await sender.send(post(url, toB.client))).status, 200);
  for (const lease of [toA, again, toB]) lease.release();
  assert.equal(a.requests.length, 1);
  assert.equal(b.requests.length, 1);
  assert.equal(b.requests[0]!.headers["host"], `localhost:${a.port}`);

  assert.equal(
    pins.acquire(new URL(`http://${PINNED}:${a.port}/`), {
      hostname: PINNED,
      port: a.port,
      address: PINNED,
    }),
    undefined,
    "an IP literal is not resolved, so there is nothing to pin",
  );
  // Asked again (the answer per host is remembered), and for an IPv6 literal.
  for (const host of [PINNED, "[::1]"]) {
    const literal = new URL(`http://${host}:${a.port}/`);
    const approved = { hostname: host, port: a.port, address: PINNED };
    assert.equal(pins.acquire(literal, approved), undefined, host);
  }
  const named = pins.acquire(url, { hostname: "localhost", port: a.port, address: PINNED });
  assert.equal(named?.client, toA.client, "a name is still pinned");
  named?.release();
  const distinctTls = pins.acquire(url, { hostname: "localhost", port: a.port, address: PINNED }, {
    id: "w2@1",
  })!;
  assert.notEqual(distinctTls.client, toA.client, "other TLS settings, other client");
  distinctTls.release();
});

Deno.test("idle pinned clients are closed beyond the cap, least recently used first, never while in use", async () => {
  await using proxy = PinProxy.start();
  await using pins = new PinnedClients({ proxy, maxIdleDestinations: 1 });
  const url = new URL("http://localhost:8080/");
  const lease = (address: string) =>
    pins.acquire(url, { hostname: "localhost", port: 8080, address })!;
  const one = lease("127.0.0.2");
  const two = lease("127.0.0.3");
  const three = lease("127.0.0.4");
  assert.equal(pins.size, 3, "all in use: none closed");
  one.release();
  two.release();
  assert.equal(pins.size, 2, "two idle, cap one: the older closed");
  assert.equal(proxy.openEntrances, 2);
  const twoAgain = lease("127.0.0.3");
  assert.equal(twoAgain.client, two.client, "the recent one was kept");
  for (const l of [twoAgain, three]) l.release();
  assert.equal(pins.size, 1);
  await pins.close();
  assert.equal(proxy.openEntrances, 0);
  assert.throws(() => lease("127.0.0.2"), /closed/);
});

/** Sends `head` to an entrance and returns its status line. */
async function rawProxyRequest(proxyUrl: string, head: string): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(new URL(proxyUrl).port) });
  try {
    await conn.write(new TextEncoder().encode(head));
    const buf = new Uint8Array(1024);
    const n = await conn.read(buf);
    return new TextDecoder().decode(buf.subarray(0, n ?? 0)).split("\r\n")[0] ?? "";
  } finally {
    conn.close();
  }
}

Deno.test("an entrance carries only its own destination", async () => {
  const target = Deno.listen({ hostname: PINNED, port: 0 });
  const port = target.addr.port;
  await using proxy = PinProxy.start();
  const entrance = proxy.open({ hostname: "localhost", port, address: PINNED });
  assert.equal(new URL(entrance.proxyUrl).hostname, "127.0.0.1");
  const send = (head: string) => rawProxyRequest(entrance.proxyUrl, head);
  const connect = (authority: string) => send(`CONNECT ${authority} HTTP/1.1\r\n\r\n`);
  const get = (target: string, extra = "") =>
    send(`POST ${target} HTTP/1.1\r\nhost: x\r\n${extra}\r\n`);

  assert.match(await connect(`other.test:${port}`), /^HTTP\/1\.1 403 /, "other host");
  assert.match(await connect(`localhost:${port + 1}`), /^HTTP\/1\.1 403 /, "other port");
  assert.match(await connect(`${PINNED}:${port}`), /^HTTP\/1\.1 403 /, "the address itself");
  assert.match(await connect("nonsense"), /^HTTP\/1\.1 400 /);
  assert.match(await get(`http://other.test:${port}/`), /^HTTP\/1\.1 403 /);
  assert.match(await get(`http://localhost/`), /^HTTP\/1\.1 403 /, "port 80 is another port");
  assert.match(await get("/origin-form"), /^HTTP\/1\.1 405 /, "not a proxy request");
  assert.match(
    await get(`https://localhost:${port}/`),
    /^HTTP\/1\.1 405 /,
    "https goes by CONNECT",
  );
  assert.match(
    await get(`http://localhost:${port}/`, "transfer-encoding: chunked\r\n"),
    /^HTTP\/1\.1 411 /,
    "only Content-Length framing is carried",
  );
  assert.match(await send("garbage\r\n\r\n"), /^HTTP\/1\.1 400 /);
  assert.equal(proxy.connections, 0);

  // The right host in any letter case: connected to the pinned address.
  const accepted = target.accept();
  assert.equal(await connect(`LOCALHOST:${port}`), "HTTP/1.1 200 Connection Established");
  (await accepted).close();
  assert.equal(proxy.connections, 1);

  entrance.close();
  assert.equal(proxy.openEntrances, 0);
  await assert.rejects(connect(`localhost:${port}`), "a closed entrance refuses connections");
  target.close();
});

Deno.test("an address that refuses: https fails as connect, http as a 502 only the entrance can sign", async () => {
  const closed = Deno.listen({ hostname: PINNED, port: 0 });
  const port = closed.addr.port;
  closed.close();
  await using pins = new PinnedClients();
  using sender = new HttpSender();
  const destination = { hostname: "localhost", port, address: PINNED };

  const secure = pins.acquire(new URL(`https://localhost:${port}/`), destination)!;
  const viaTunnel = await sender.send(post(`https://localhost:${port}/`, secure.client));
  secure.release();
  assert.deepEqual(viaTunnel.outcome, { kind: "error", error: "connect" });

  const plain = pins.acquire(new URL(`http://localhost:${port}/`), destination)!;
  const forwarded = await sender.send(post(`http://localhost:${port}/`, plain.client));
  plain.release();
  assert.equal(forwarded.status, 502);
  assert.equal(forwarded.responseHeaders?.[PIN_FAILURE_HEADER], plain.failureToken);
  assert.match(
    forwarded.responseBody ?? "",
    /could not connect to 127\.0\.0\.2:\d+ \(pinned for localhost\)/,
  );
});

Deno.test("stop closes open connections and refuses new entrances", async () => {
  const target = Deno.listen({ hostname: PINNED, port: 0 });
  const proxy = PinProxy.start();
  const entrance = proxy.open({ hostname: "localhost", port: target.addr.port, address: PINNED });
  const conn = await Deno.connect({
    hostname: "127.0.0.1",
    port: Number(new URL(entrance.proxyUrl).port),
  });
  const accepted = target.accept();
  await conn.write(
    new TextEncoder().encode(`CONNECT localhost:${target.addr.port} HTTP/1.1\r\n\r\n`),
  );
  const upstream = await accepted;
  const buf = new Uint8Array(1024);
  assert.ok((await conn.read(buf) ?? 0) > 0, "200 Connection Established");
  await proxy.stop();
  assert.equal(await conn.read(buf), null, "the tunnel was closed");
  assert.equal(await upstream.read(buf), null, "both sides");
  conn.close();
  upstream.close();
  target.close();
  assert.throws(() => proxy.open({ hostname: "localhost", port: 443, address: PINNED }), /stopped/);
});

Deno.test("open validates its arguments", async () => {
  await using proxy = PinProxy.start();
  assert.throws(
    () => proxy.open({ hostname: "localhost", port: 443, address: "localhost" }),
    TypeError,
  );
  assert.throws(() => proxy.open({ hostname: "localhost", port: 0, address: PINNED }), RangeError);
  assert.throws(() => PinProxy.start({ headTimeoutMs: 0 }), RangeError);
  assert.throws(() => new PinnedClients({ idleMs: 0 }), RangeError);
});

Deno.test("Deno 2.9.6 fetch overwrites a Host header (why pinning cannot just put the address in the URL)", async () => {
  await using r = await startReceiver({ hostname: PINNED });
  const res = await fetch(`http://${PINNED}:${r.port}/`, {
    method: "POST",
    headers: { host: "hooks.example" },
    body: "{}",
  });
  await res.body?.cancel();
  assert.equal(r.requests[0]?.headers["host"], `${PINNED}:${r.port}`);
});

Deno.test({
  name: "Deno 2.9.6 repeats proxy credentials inside the tunnel (why entrances use none)",
  ignore: NEEDS_OPENSSL,
  fn: async () => {
    await using r = await startReceiver({ tls: tls!, hostname: PINNED });
    await using proxy = PinProxy.start();
    const entrance = proxy.open({ hostname: "localhost", port: r.port, address: PINNED });
    const client = createProxiedClient({
      caCerts: [tls!.cert],
      proxy: { url: entrance.proxyUrl, basicAuth: { username: "u", password: "p" } },
    });
    try {
      const res = await fetch(`https://localhost:${r.port}/x`, {
        method: "POST",
        body: "",
        client,
      });
      await res.body?.cancel();
    } finally {
      client.close();
    }
    assert.equal(r.requests[0]?.headers["proxy-authorization"], `Basic ${btoa("u:p")}`);
  },
});
