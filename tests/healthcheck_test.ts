/**
 * `hookd healthcheck`, the probe deploy/Dockerfile's HEALTHCHECK runs, as a
 * real process against a real daemon: 0 while it is ready, 1 when it is not
 * or cannot be reached.
 */
import assert from "node:assert/strict";
import { selfSignedCert } from "../src/testing/self_signed_cert.ts";
import { runCli, startDaemon } from "./_daemon.ts";

Deno.test("healthcheck exits 0 for a ready daemon and 1 once it is gone", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "hookd-healthcheck-" });
  const env = { HOOKD_SERVER_LISTEN: "127.0.0.1:0", HOOKD_STORE_URL: `file:${dir}/hookd.db` };
  const daemon = await startDaemon({ dir, env });
  try {
    const port = new URL(daemon.url).port;

    await t.step("at --url", async () => {
      const run = await runCli({ dir, args: ["healthcheck", "--url", daemon.url] });
      assert.equal(run.code, 0, run.output);
      assert.equal(run.stdout, `hookd: ${daemon.url}/readyz is ready\n`, run.output);
    });

    await t.step(
      "at the address the config listens on, a wildcard probed on loopback",
      async () => {
        // As in the container: HOOKD_SERVER_LISTEN=0.0.0.0:PORT, no --url.
        const run = await runCli({
          dir,
          args: ["healthcheck"],
          env: { ...env, HOOKD_SERVER_LISTEN: `0.0.0.0:${port}` },
        });
        assert.equal(run.code, 0, run.output);
        assert.match(run.stdout, new RegExp(`http://127\\.0\\.0\\.1:${port}/readyz is ready`));
      },
    );

    await t.step("never through a proxy from the environment", async () => {
      // Docker passes its client's proxy settings into containers; a probe
      // of loopback must not go there. This proxy answers nothing, so a
      // probe sent through it would fail.
      const proxy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const proxied: string[] = [];
      const open = new Set<Deno.Conn>();
      const accepting = (async () => {
        for await (const conn of proxy) {
          open.add(conn);
          const buffer = new Uint8Array(4096);
          conn.read(buffer).then(
            (read) => proxied.push(new TextDecoder().decode(buffer.subarray(0, read ?? 0))),
            () => {},
          ).finally(() => {
            open.delete(conn);
            try {
              conn.close();
            } catch { /* closed by the finally below */ }
          });
        }
      })();
      try {
        const proxyUrl = `http://127.0.0.1:${proxy.addr.port}`;
        const run = await runCli({
          dir,
          args: ["healthcheck", "--url", daemon.url],
          env: { HTTP_PROXY: proxyUrl, http_proxy: proxyUrl, ALL_PROXY: proxyUrl },
        });
        assert.equal(run.code, 0, run.output);
        // Only the probe's own request counts: the `deno` running main.ts
        // here may check for its own update through the proxy.
        assert.deepEqual(proxied.filter((request) => request.includes("/readyz")), []);
      } finally {
        proxy.close();
        for (const conn of open) conn.close();
        await accepting.catch(() => {});
      }
    });

    assert.equal(await daemon.stop("SIGTERM"), 0, daemon.output());

    await t.step("a stopped daemon is not reachable: 1", async () => {
      const run = await runCli({ dir, args: ["healthcheck", "--url", daemon.url] });
      assert.equal(run.code, 1, run.output);
      assert.match(run.stderr, /^hookd: http:\/\/127\.0\.0\.1:\d+\/readyz did not answer: /);
    });
  } finally {
    await daemon.kill();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("healthcheck asks /readyz, and a 503 there is 1 with the daemon's reason", async () => {
  // /healthz says "up" even when the store refuses writes; only /readyz counts.
  const paths: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (request) => {
    const path = new URL(request.url).pathname;
    paths.push(path);
    return path === "/readyz"
      ? Response.json({ status: "unavailable", reason: "the store does not take writes" }, {
        status: 503,
      })
      : Response.json({ status: "ok" });
  });
  const dir = await Deno.makeTempDir({ prefix: "hookd-healthcheck-" });
  try {
    const run = await runCli({
      dir,
      args: ["healthcheck"],
      env: { HOOKD_SERVER_LISTEN: `127.0.0.1:${server.addr.port}` },
    });
    assert.equal(run.code, 1, run.output);
    assert.match(run.stderr, /is not ready: 503 \(the store does not take writes\)/);
    assert.deepEqual(paths, ["/readyz"]);
  } finally {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});

const pair = await selfSignedCert(["127.0.0.1"]);

Deno.test({
  name: "healthcheck probes an HTTPS API, trusting the daemon's own certificate",
  ignore: pair === undefined,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "hookd-healthcheck-tls-" });
    await Deno.writeTextFile(`${dir}/cert.pem`, pair!.cert);
    await Deno.writeTextFile(`${dir}/key.pem`, pair!.key);
    const env = {
      HOOKD_SERVER_LISTEN: "127.0.0.1:0",
      HOOKD_STORE_URL: `file:${dir}/hookd.db`,
      HOOKD_SERVER_TLS_CERT: `${dir}/cert.pem`,
      HOOKD_SERVER_TLS_KEY: `${dir}/key.pem`,
    };
    const daemon = await startDaemon({ dir, env });
    try {
      const port = new URL(daemon.url).port;
      const run = await runCli({
        dir,
        args: ["healthcheck"],
        env: { ...env, HOOKD_SERVER_LISTEN: `127.0.0.1:${port}` },
      });
      assert.equal(run.code, 0, run.output);
      assert.equal(run.stdout, `hookd: https://127.0.0.1:${port}/readyz is ready\n`);
      assert.equal(await daemon.stop("SIGTERM"), 0, daemon.output());
    } finally {
      await daemon.kill();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
