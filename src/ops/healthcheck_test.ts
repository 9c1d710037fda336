import assert from "node:assert/strict";
import { checkDaemon, probeReadiness, readinessUrl } from "./healthcheck.ts";
import { CLOSED_PORT } from "../testing/closed_port.ts";

Deno.test("readinessUrl probes the configured address, wildcards on loopback", () => {
  const cases: [hostname: string, tlsCert: string, expected: string][] = [
    ["127.0.0.1", "", "http://127.0.0.1:8787/readyz"],
    ["0.0.0.0", "", "http://127.0.0.1:8787/readyz"],
    ["::", "", "http://[::1]:8787/readyz"],
    ["::1", "", "http://[::1]:8787/readyz"],
    ["localhost", "", "http://localhost:8787/readyz"],
    ["10.1.2.3", "", "http://10.1.2.3:8787/readyz"],
    ["127.0.0.1", "/etc/hookd/cert.pem", "https://127.0.0.1:8787/readyz"],
  ];
  for (const [hostname, tlsCert, expected] of cases) {
    assert.equal(readinessUrl({ hostname, port: 8787, tlsCert }).href, expected, hostname);
  }
});

Deno.test("readinessUrl refuses port 0, which only the daemon knows", () => {
  assert.throws(
    () => readinessUrl({ hostname: "127.0.0.1", port: 0, tlsCert: "" }),
    (error: Error) => error instanceof RangeError && /port 0.*--url/.test(error.message),
  );
});

/** A server on loopback answering every request with `status` and `body`; records the paths asked. */
function answering(status: number, body: unknown) {
  const paths: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (request) => {
    paths.push(new URL(request.url).pathname);
    return Response.json(body, { status });
  });
  return { server, paths, url: new URL(`http://127.0.0.1:${server.addr.port}/readyz`) };
}

Deno.test("probeReadiness: a 200 from /readyz is ready", async () => {
  const { server, paths, url } = answering(200, { status: "ready" });
  try {
    const result = await probeReadiness(url);
    assert.deepEqual(result, { ready: true, message: `${url} is ready` });
    assert.deepEqual(paths, ["/readyz"]);
  } finally {
    await server.shutdown();
  }
});

Deno.test("probeReadiness: a 503 is not ready, with the daemon's reason", async () => {
  const { server, url } = answering(503, { status: "unavailable", reason: "disk full" });
  try {
    const result = await probeReadiness(url);
    assert.equal(result.ready, false);
    assert.equal(result.message, `${url} is not ready: 503 (disk full)`);
  } finally {
    await server.shutdown();
  }
});

Deno.test("probeReadiness: any other status is not ready", async () => {
  const { server, url } = answering(404, { error: { code: "not_found" } });
  try {
    const result = await probeReadiness(url);
    assert.equal(result.ready, false);
    assert.match(result.message, /is not ready: 404 /);
  } finally {
    await server.shutdown();
  }
});

Deno.test("probeReadiness: nothing listening is not ready", async () => {
  const url = new URL(`http://127.0.0.1:${CLOSED_PORT}/readyz`);
  const result = await probeReadiness(url);
  assert.equal(result.ready, false);
  assert.match(result.message, /did not answer: .*refused/i);
});

Deno.test("probeReadiness: a peer that never answers is not ready after the timeout", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept();
  try {
    const url = new URL(`http://127.0.0.1:${listener.addr.port}/readyz`);
    const result = await probeReadiness(url, { timeoutMs: 50 });
    assert.equal(result.ready, false);
    assert.equal(result.message, `${url} did not answer: no answer within 50 ms`);
  } finally {
    (await accepted).close();
    listener.close();
  }
});

Deno.test("probeReadiness: a peer that does not speak HTTP is not ready", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const peer = (async () => {
    const conn = await listener.accept();
    await conn.write(new TextEncoder().encode("SSH-2.0-OpenSSH_9.2\r\n\r\n"));
    conn.close();
  })();
  try {
    const url = new URL(`http://127.0.0.1:${listener.addr.port}/readyz`);
    const result = await probeReadiness(url);
    assert.equal(result.ready, false);
    assert.match(result.message, /did not answer: not a valid HTTP\/1\.1 response/);
  } finally {
    await peer;
    listener.close();
  }
});

Deno.test("probeReadiness refuses a URL that is not http or https", async () => {
  await assert.rejects(
    () => probeReadiness(new URL("ftp://127.0.0.1/readyz")),
    (error: Error) => error instanceof TypeError && /http or https/.test(error.message),
  );
});

Deno.test("checkDaemon probes /readyz under a --url, which may have a path", async () => {
  const { server, paths } = answering(200, { status: "ready" });
  try {
    const elsewhere = { hostname: "127.0.0.1", port: 1, tlsCert: "" };
    const base = `http://127.0.0.1:${server.addr.port}`;
    assert.equal((await checkDaemon(elsewhere, base)).ready, true);
    assert.equal((await checkDaemon(elsewhere, `${base}/hookd`)).ready, true);
    assert.deepEqual(paths, ["/readyz", "/hookd/readyz"]);
  } finally {
    await server.shutdown();
  }
});

Deno.test("checkDaemon refuses a --url that is not an http(s) URL", () => {
  const server = { hostname: "127.0.0.1", port: 8787, tlsCert: "" };
  for (const url of ["127.0.0.1:8787", "ftp://127.0.0.1/"]) {
    assert.throws(
      () => checkDaemon(server, url),
      (error: Error) => error instanceof TypeError && error.message.includes(`got "${url}"`),
      url,
    );
  }
});
