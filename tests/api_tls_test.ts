/** The management API over HTTPS with `[server] tls_cert` / `tls_key`. */
import assert from "node:assert/strict";
import { selfSignedCert } from "../src/testing/self_signed_cert.ts";
import { startDaemon } from "./_daemon.ts";

const pair = await selfSignedCert(["127.0.0.1"]);

Deno.test({
  name: "the API serves HTTPS with the configured certificate",
  ignore: pair === undefined,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "hookd-tls-" });
    await Deno.writeTextFile(`${dir}/cert.pem`, pair!.cert);
    await Deno.writeTextFile(`${dir}/key.pem`, pair!.key);
    const daemon = await startDaemon({
      dir,
      env: {
        HOOKD_SERVER_LISTEN: "127.0.0.1:0",
        HOOKD_STORE_URL: `file:${dir}/hookd.db`,
        HOOKD_SERVER_TLS_CERT: `${dir}/cert.pem`,
        HOOKD_SERVER_TLS_KEY: `${dir}/key.pem`,
      },
    });
    try {
      assert.match(daemon.url, /^https:\/\/127\.0\.0\.1:\d+$/);
      using client = Deno.createHttpClient({ caCerts: [pair!.cert] });
      const res = await fetch(`${daemon.url}/healthz`, { client });
      assert.deepEqual(await res.json(), { status: "ok" });
      // Without trusting the certificate, a client refuses the connection.
      await assert.rejects(() => fetch(`${daemon.url}/healthz`));
      assert.equal(await daemon.stop("SIGTERM"), 0);
    } finally {
      await daemon.kill();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
