/**
 * The daemon's API front door, black-box: `[server] header_timeout`,
 * `idle_timeout`, `max_header_size` and `max_connections` as an operator sets
 * them, over HTTP and HTTPS. These daemons listen on loopback, where
 * `enforce_connection_limits = "auto"` would serve directly, so they say true. The front door's own rules are tested in
 * `src/api/front_door_test.ts`.
 */
import assert from "node:assert/strict";
import { selfSignedCert } from "../src/testing/self_signed_cert.ts";
import { startDaemon } from "./_daemon.ts";

const pair = await selfSignedCert(["127.0.0.1"]);

/** Reads until the peer closes (or 10 s pass, which fails the caller's assertions). */
async function readToEnd(conn: Deno.Conn): Promise<string> {
  const timer = setTimeout(() => conn.close(), 10_000);
  let text = "";
  const buf = new Uint8Array(16 * 1024);
  try {
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) return text + "EOF";
      text += new TextDecoder().decode(buf.subarray(0, n));
    }
  } catch {
    return text + "(no end within 10 s)";
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("the daemon applies the configured header timeout, head size and connection cap", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hookd-limits-" });
  const daemon = await startDaemon({
    dir,
    env: {
      HOOKD_SERVER_LISTEN: "127.0.0.1:0",
      HOOKD_STORE_URL: `file:${dir}/hookd.db`,
      HOOKD_SERVER_ENFORCE_CONNECTION_LIMITS: "true",
      HOOKD_SERVER_HEADER_TIMEOUT: "300ms",
      HOOKD_SERVER_IDLE_TIMEOUT: "300ms",
      HOOKD_SERVER_MAX_HEADER_SIZE: "2KiB",
      HOOKD_SERVER_MAX_CONNECTIONS: "3",
    },
  });
  try {
    const { port } = new URL(daemon.url);
    const connect = () => Deno.connect({ hostname: "127.0.0.1", port: Number(port) });
    const write = (conn: Deno.Conn, text: string) => conn.write(new TextEncoder().encode(text));

    const slow = await connect();
    await write(slow, "GET /healthz HTTP/1.1\r\nhost: x\r\n");
    assert.match(await readToEnd(slow), /^HTTP\/1\.1 408 Request Timeout\r\n[^]*EOF$/);
    slow.close();

    const big = await connect();
    await write(big, `GET /healthz HTTP/1.1\r\nhost: x\r\nx-big: ${"a".repeat(3000)}\r\n\r\n`);
    assert.match(await readToEnd(big), /^HTTP\/1\.1 431 /);
    big.close();

    // A kept-alive connection answered once, then closed for being idle.
    const idle = await connect();
    await write(idle, "GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n");
    assert.match(await readToEnd(idle), /^HTTP\/1\.1 200 OK\r\n[^]*"status":"ok"[^]*EOF$/);
    idle.close();

    const held = await Promise.all([connect(), connect(), connect()]);
    const fourth = await connect();
    assert.match(await readToEnd(fourth), /^HTTP\/1\.1 503 [^]*too many open connections/);
    fourth.close();
    // Each held connection ends from our side, and we wait until the daemon has closed it
    // too (so it no longer counts); closing ours alone raced the next request.
    for (const conn of held) {
      await conn.closeWrite();
      assert.match(await readToEnd(conn), /EOF$/);
      conn.close();
    }

    // And ordinary requests are unaffected.
    const res = await fetch(`${daemon.url}/healthz`);
    assert.deepEqual(await res.json(), { status: "ok" });
    assert.equal(await daemon.stop("SIGTERM"), 0);
  } finally {
    await daemon.kill();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "over HTTPS the header timeout holds too, also for a client that never starts TLS",
  ignore: pair === undefined, // needs openssl
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "hookd-limits-tls-" });
    await Deno.writeTextFile(`${dir}/cert.pem`, pair!.cert);
    await Deno.writeTextFile(`${dir}/key.pem`, pair!.key);
    const daemon = await startDaemon({
      dir,
      env: {
        HOOKD_SERVER_LISTEN: "127.0.0.1:0",
        HOOKD_STORE_URL: `file:${dir}/hookd.db`,
        HOOKD_SERVER_TLS_CERT: `${dir}/cert.pem`,
        HOOKD_SERVER_TLS_KEY: `${dir}/key.pem`,
        HOOKD_SERVER_ENFORCE_CONNECTION_LIMITS: "true",
        HOOKD_SERVER_HEADER_TIMEOUT: "300ms",
        HOOKD_SERVER_MAX_CONNECTIONS: "1",
      },
    });
    try {
      const { port } = new URL(daemon.url);
      const conn = await Deno.connectTls({
        hostname: "127.0.0.1",
        port: Number(port),
        caCerts: [pair!.cert],
      });
      await conn.handshake();
      assert.match(await readToEnd(conn), /^HTTP\/1\.1 408 /);
      conn.close();
      // One that never even starts its TLS handshake loses its place after the
      // header timeout (max_connections is 1 here). Its socket is only released
      // when it leaves: Deno cannot abort a pending TLS handshake.
      const mute = await Deno.connect({ hostname: "127.0.0.1", port: Number(port) });
      using client = Deno.createHttpClient({ caCerts: [pair!.cert] });
      let status = 0;
      for (let i = 0; i < 100 && status !== 200; i++) {
        const res = await fetch(`${daemon.url}/healthz`, { client }).catch(() => undefined);
        status = res?.status ?? 0;
        await res?.body?.cancel();
        if (status !== 200) await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(status, 200, "the mute connection's place was given back");
      mute.close();
      assert.equal(await daemon.stop("SIGTERM"), 0);
    } finally {
      await daemon.kill();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("enforce_connection_limits = false serves the API directly: the limits are a proxy's job then", async () => {
  const dir = await Deno.makeTempDir({ prefix: "hookd-limits-off-" });
  const daemon = await startDaemon({
    dir,
    env: {
      HOOKD_SERVER_LISTEN: "127.0.0.1:0",
      HOOKD_STORE_URL: `file:${dir}/hookd.db`,
      HOOKD_SERVER_ENFORCE_CONNECTION_LIMITS: "false",
      HOOKD_SERVER_HEADER_TIMEOUT: "300ms",
      HOOKD_SERVER_MAX_HEADER_SIZE: "2KiB",
    },
  });
  try {
    const { port } = new URL(daemon.url);
    // A 3 KB head is served (Deno's own cap is far larger) ...
    const big = await Deno.connect({ hostname: "127.0.0.1", port: Number(port) });
    await big.write(
      new TextEncoder().encode(
        `GET /healthz HTTP/1.1\r\nhost: x\r\nx-big: ${
          "a".repeat(3000)
        }\r\nconnection: close\r\n\r\n`,
      ),
    );
    assert.match(await readToEnd(big), /^HTTP\/1\.1 200 OK/);
    big.close();
    // ... and no front door answers 408: the server takes the request when it completes.
    const slow = await Deno.connect({ hostname: "127.0.0.1", port: Number(port) });
    await slow.write(new TextEncoder().encode("GET /healthz HTTP/1.1\r\nhost: x\r\n"));
    await new Promise((resolve) => setTimeout(resolve, 600));
    await slow.write(new TextEncoder().encode("connection: close\r\n\r\n"));
    assert.match(await readToEnd(slow), /^HTTP\/1\.1 200 OK/);
    slow.close();
    assert.equal(await daemon.stop("SIGTERM"), 0);
  } finally {
    await daemon.kill();
    await Deno.remove(dir, { recursive: true });
  }
});
