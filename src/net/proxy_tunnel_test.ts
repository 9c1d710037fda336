import assert from "node:assert/strict";
import { startConnectProxy } from "../testing/connect_proxy.ts";
import { startReceiver } from "../testing/receiver.ts";
import { failsWith, post } from "../testing/http1_exchange.ts";
import { selfSignedCert } from "../testing/self_signed_cert.ts";
import { Http1Client } from "./http1_client.ts";
import { routeFor } from "./http1_route.ts";
import { parseProxyUrl } from "./proxy_endpoint.ts";
import { connectAuthority, connectRequest } from "./proxy_tunnel.ts";
import { CLOSED_PORT } from "../testing/closed_port.ts";

// Safety: the proxy listens on 127.0.0.1 and tunnels to loopback only;
// receivers listen on 127.0.0.2; URLs name `receiver.test`, which nothing
// here resolves: only the pinned address reaches the proxy.

const PINNED = "127.0.0.2";
const cert = await selfSignedCert(["receiver.test"]);
const OPTIONS = { timeoutMs: 5_000, bodyLimit: 1024 };

Deno.test("CONNECT names the checked address (IPv6 bracketed) and carries the credentials", () => {
  assert.equal(connectAuthority("127.0.0.2", 443), "127.0.0.2:443");
  assert.equal(connectAuthority("2001:db8::1", 8443), "[2001:db8::1]:8443");
  const proxy = parseProxyUrl("http://user:p%40ss@127.0.0.1:3128");
  assert.equal(
    connectRequest("[2001:db8::1]:443", proxy),
    "CONNECT [2001:db8::1]:443 HTTP/1.1\r\nHost: [2001:db8::1]:443\r\n" +
      `Proxy-Authorization: Basic ${btoa("user:p@ss")}\r\n\r\n`,
  );
  assert.equal(
    connectRequest("127.0.0.2:80", parseProxyUrl("http://127.0.0.1:3128")),
    "CONNECT 127.0.0.2:80 HTTP/1.1\r\nHost: 127.0.0.2:80\r\n\r\n",
  );
});

Deno.test("an http target goes through a tunnel to the checked address, reused while kept alive", async () => {
  await using receiver = await startReceiver({ hostname: PINNED });
  await using proxy = startConnectProxy();
  using client = new Http1Client();
  const url = new URL(`http://receiver.test:${receiver.port}/hook?x=1`);
  const route = routeFor(url, { address: PINNED, proxy: parseProxyUrl(proxy.url) });
  for (let i = 0; i < 3; i++) {
    assert.equal((await client.post(route, post(url), OPTIONS)).status, 200);
  }
  const got = await receiver.waitForRequests(3);
  assert.equal(got[0]!.path, "/hook?x=1", "origin form inside the tunnel, not absolute form");
  assert.equal(got[0]!.headers["host"], `receiver.test:${receiver.port}`);
  assert.deepEqual(proxy.requests.map((r) => r.line), [
    `CONNECT ${PINNED}:${receiver.port} HTTP/1.1`,
  ], "one tunnel, kept alive in the pool, and only the address in it");
  assert.equal(proxy.requests[0]!.headers["host"], `${PINNED}:${receiver.port}`);
  assert.equal(proxy.requests[0]!.headers["proxy-authorization"], undefined);
});

Deno.test({
  name: "https through the tunnel verifies the URL's name end to end; a wrong name is refused",
  ignore: cert === undefined, // needs openssl
  fn: async () => {
    await using receiver = await startReceiver({ hostname: PINNED, tls: cert! });
    await using proxy = startConnectProxy();
    using client = new Http1Client();
    const endpoint = parseProxyUrl(proxy.url);
    const tls = { id: "ca", caCerts: [cert!.cert] };
    const url = new URL(`https://receiver.test:${receiver.port}/secure`);
    const response = await client.post(
      routeFor(url, { address: PINNED, tls, proxy: endpoint }),
      post(url),
      OPTIONS,
    );
    assert.equal(response.status, 200);
    assert.equal(receiver.requests[0]?.headers["host"], `receiver.test:${receiver.port}`);
    assert.equal(proxy.requests[0]?.target, `${PINNED}:${receiver.port}`);
    const again = routeFor(url, { address: PINNED, tls, proxy: endpoint });
    assert.equal((await client.post(again, post(url), OPTIONS)).status, 200);
    assert.equal(proxy.requests.length, 1, "the TLS connection in the tunnel is kept alive");

    // The same receiver under another name: its certificate does not match.
    const wrong = new URL(`https://other.test:${receiver.port}/secure`);
    await failsWith(
      client.post(routeFor(wrong, { address: PINNED, tls, proxy: endpoint }), post(wrong), OPTIONS),
      "tls",
      /certificate|name/i,
    );
    // And without the webhook's CA the certificate is not trusted.
    await failsWith(
      client.post(routeFor(url, { address: PINNED, proxy: endpoint }), post(url), OPTIONS),
      "tls",
      /certificate|issuer/i,
    );
    assert.equal(receiver.requests.length, 2, "nothing was sent over an unverified tunnel");
  },
});

Deno.test("the proxy's refusals and absence are proxy failures that say why", async () => {
  await using receiver = await startReceiver({ hostname: PINNED });
  await using proxy = startConnectProxy();
  using client = new Http1Client();
  const url = new URL(`http://receiver.test:${receiver.port}/`);
  const via = (text: string) => routeFor(url, { address: PINNED, proxy: parseProxyUrl(text) });

  proxy.answer(() => 407);
  await failsWith(
    client.post(via(proxy.url), post(url), OPTIONS),
    "proxy",
    /^proxy 127\.0\.0\.1:\d+: refused CONNECT 127\.0\.0\.2:\d+ with 407: the proxy requires credentials/,
  );
  await failsWith(
    client.post(via(`http://hookd:wrong@127.0.0.1:${proxy.port}`), post(url), OPTIONS),
    "proxy",
    /407: the proxy did not accept hookd's credentials$/,
  );
  assert.equal(proxy.requests[1]!.headers["proxy-authorization"], `Basic ${btoa("hookd:wrong")}`);
  proxy.answer(() => 403);
  await failsWith(client.post(via(proxy.url), post(url), OPTIONS), "proxy", /403: .*not allow/);
  proxy.answer(() => 502);
  await failsWith(client.post(via(proxy.url), post(url), OPTIONS), "proxy", /502: .*not reach/);

  proxy.answer(() => "hang");
  await failsWith(
    client.post(via(proxy.url), post(url), { ...OPTIONS, timeoutMs: 200 }),
    "proxy",
    /no tunnel to 127\.0\.0\.2:\d+ before the attempt's deadline/,
  );

  await failsWith(
    client.post(via(`http://127.0.0.1:${CLOSED_PORT}`), post(url), OPTIONS),
    "proxy",
    /^proxy 127\.0\.0\.1:\d+: could not connect: .*refused/i,
  );
  assert.equal(receiver.requests.length, 0);
});

Deno.test("a proxy route needs a checked address and cannot carry a client certificate", () => {
  const proxy = parseProxyUrl("http://127.0.0.1:3128");
  const url = new URL("https://receiver.test/");
  assert.throws(() => routeFor(url, { proxy }), /address must be checked first/);
  assert.throws(
    () => routeFor(url, { proxy, address: PINNED, tls: { id: "m", cert: "c", key: "k" } }),
    /client certificate/,
  );
});
