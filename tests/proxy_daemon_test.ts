/**
 * The real daemon and forward proxies: the standard proxy variables
 * (`HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`, `NO_PROXY`, in both cases) are
 * ignored, and only `[delivery] proxy` sends deliveries through a proxy,
 * whose credentials then appear nowhere in the daemon's output or in
 * `check-config`'s.
 */
import assert from "node:assert/strict";
import { startConnectProxy } from "../src/testing/connect_proxy.ts";
import { startReceiver } from "../src/testing/receiver.ts";
import { api, daemonEnv, runCli, startDaemon } from "./_daemon.ts";

const ADMIN_KEY = "proxy-test-admin-key-0123456789abcdef";
const PASSWORD = "daemon-proxy-pa55word";

/** Proxy variables as a shell would have them, all pointing at `url`. */
function proxyVariables(url: string): Record<string, string> {
  const variables: Record<string, string> = {};
  for (const name of ["http_proxy", "https_proxy", "all_proxy"]) {
    variables[name] = url;
    variables[name.toUpperCase()] = url;
  }
  return { ...variables, NO_PROXY: "", no_proxy: "" };
}

async function deliverOnce(env: Record<string, string>, dir: string, url: string) {
  const daemon = await startDaemon({ dir, env });
  try {
    const hook = await api<{ id: string }>(daemon, "POST", "/api/v1/webhooks", {
      key: ADMIN_KEY,
      body: { url, event_types: ["t"] },
    });
    assert.equal(hook.status, 201, daemon.output());
    const accepted = await api(daemon, "POST", "/api/v1/events", {
      key: ADMIN_KEY,
      body: { type: "t", data: { n: 1 } },
    });
    assert.equal(accepted.status, 202, daemon.output());
    return daemon;
  } catch (error) {
    await daemon.kill();
    throw error;
  }
}

Deno.test("HTTP_PROXY and friends are ignored; [delivery] proxy is used, its credentials never printed", async () => {
  await using receiver = await startReceiver();
  await using fromEnvironment = startConnectProxy();
  await using configured = startConnectProxy();
  const dir = await Deno.makeTempDir({ prefix: "hookd-proxy-" });
  const base = daemonEnv(dir, ADMIN_KEY, {
    ...proxyVariables(fromEnvironment.url),
    // Deno's own update check honours the variables (it is not hookd's traffic).
    DENO_NO_UPDATE_CHECK: "1",
    HOOKD_LOG_LEVEL: "debug",
  });
  try {
    // No proxy configured: straight to the receiver, whatever the environment says.
    const direct = await deliverOnce(base, dir, `${receiver.url}/direct`);
    try {
      await receiver.waitForRequests(1);
      assert.equal(await direct.stop("SIGTERM"), 0);
    } finally {
      await direct.kill();
    }
    assert.equal(receiver.requests[0]!.path, "/direct");
    assert.equal(fromEnvironment.connectionCount, 0, JSON.stringify(fromEnvironment.requests));

    // Configured: through that proxy, by address, with its credentials.
    const env = {
      ...base,
      HOOKD_STORE_URL: `file:${dir}/proxied.db`,
      HOOKD_DELIVERY_PROXY: `http://hookd:${PASSWORD}@127.0.0.1:${configured.port}`,
    };
    const proxied = await deliverOnce(env, dir, `${receiver.url}/proxied`);
    try {
      await receiver.waitForRequests(2);
      assert.equal(await proxied.stop("SIGTERM"), 0);
    } finally {
      await proxied.kill();
    }
    assert.equal(receiver.requests[1]!.path, "/proxied");
    assert.deepEqual(configured.requests.map((r) => r.line), [
      `CONNECT 127.0.0.1:${receiver.port} HTTP/1.1`,
    ]);
    const basic = btoa(`hookd:${PASSWORD}`);
    assert.equal(configured.requests[0]!.headers["proxy-authorization"], `Basic ${basic}`);
    assert.equal(fromEnvironment.connectionCount, 0);

    // The URL from the file this time; the environment's own is checked above.
    const file = `${dir}/hookd.toml`;
    await Deno.writeTextFile(file, `[delivery]\nproxy = "${env.HOOKD_DELIVERY_PROXY}"\n`);
    const { HOOKD_DELIVERY_PROXY: _, ...withoutVariable } = env;
    const checked = await runCli({ dir, env: withoutVariable, args: ["check-config", file] });
    assert.equal(checked.code, 0, checked.stderr);
    assert.match(checked.stdout, /^proxy = "http:\/\/\(set\)@127\.0\.0\.1:\d+"$/m);
    const output = proxied.output() + checked.stdout + checked.stderr;
    for (const secret of [PASSWORD, basic]) {
      assert.ok(!output.includes(secret), `the proxy's credentials leaked: ${secret}`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
