/**
 * Key material and secrets never reach the daemon's output: a full run at
 * debug level — keys, webhooks, credentials, receiver auth (an OAuth2 token
 * fetched and used, basic auth), deliveries that succeed and fail, a
 * rotation, a shutdown — and then its whole stdout and stderr are searched
 * for every secret it handled.
 */
import assert from "node:assert/strict";
import { startReceiver } from "../src/testing/receiver.ts";
import { api, daemonEnv, logLines, runCli, startDaemon } from "./_daemon.ts";

const ADMIN_KEY = "logs-test-admin-key-0123456789abcdef";
const ACCESS_TOKEN = "oauth2-access-token-31337";

Deno.test("no secret or key appears in the daemon's logs", async () => {
  await using receiver = await startReceiver();
  receiver.respond((request) => ({ status: request.path === "/fail" ? 500 : 200 }));
  await using tokenEndpoint = await startReceiver();
  tokenEndpoint.respond(() => ({
    status: 200,
    body: JSON.stringify({ access_token: ACCESS_TOKEN, token_type: "Bearer", expires_in: 3600 }),
  }));
  const dir = await Deno.makeTempDir({ prefix: "hookd-logs-" });
  const env = daemonEnv(dir, ADMIN_KEY, {
    HOOKD_LOG_LEVEL: "debug",
  });
  const secrets: string[] = [ADMIN_KEY];
  try {
    const created = await runCli({
      dir,
      env,
      args: ["keys", "create", "--name", "producer", "--scopes", "events:write"],
    });
    const cliKey = JSON.parse(created.stdout).key as string;
    secrets.push(cliKey);
    const daemon = await startDaemon({ dir, env });
    try {
      const key = await api<{ key: string }>(daemon, "POST", "/api/v1/keys", {
        key: ADMIN_KEY,
        body: { name: "ops", scopes: ["deliveries:read"] },
      });
      secrets.push(key.body.key);
      const credential = await api<{ id: string; secret: string }>(
        daemon,
        "POST",
        "/api/v1/credentials",
        { key: ADMIN_KEY, body: { name: "c", headers: { "X-Api-Key": "receiver-api-key-42" } } },
      );
      secrets.push(credential.body.secret, "receiver-api-key-42");
      for (const path of ["ok", "fail"]) {
        const hook = await api<{ id: string; secret: string }>(daemon, "POST", "/api/v1/webhooks", {
          key: ADMIN_KEY,
          body: {
            // A token in the URL's query, as some receivers want: never logged.
            url: `${receiver.url}/${path}?token=url-token-${path}-0123456789`,
            headers: { Authorization: `Basic c2VjcmV0LSR7cGF0aH0=${path}` },
          },
        });
        secrets.push(
          hook.body.secret,
          `Basic c2VjcmV0LSR7cGF0aH0=${path}`,
          `url-token-${path}-0123456789`,
        );
        const rotated = await api<{ secret: string }>(
          daemon,
          "POST",
          `/api/v1/webhooks/${hook.body.id}/rotate-secret`,
          { key: ADMIN_KEY },
        );
        secrets.push(rotated.body.secret);
      }
      await api(daemon, "POST", "/api/v1/webhooks", {
        key: ADMIN_KEY,
        body: { url: `${receiver.url}/ok`, credential_id: credential.body.id, event_types: ["c"] },
      });
      // Receiver auth: an OAuth2 client secret, the token it buys, a basic auth password.
      const oauth2 = await api(daemon, "POST", "/api/v1/webhooks", {
        key: ADMIN_KEY,
        body: {
          url: `${receiver.url}/oauth2`,
          event_types: ["c"],
          oauth2: {
            token_url: `${tokenEndpoint.url}/token`,
            client_id: "hookd",
            client_secret: "oauth2-client-secret-31337",
          },
        },
      });
      assert.equal(oauth2.status, 201);
      const basic = await api(daemon, "POST", "/api/v1/webhooks", {
        key: ADMIN_KEY,
        body: {
          url: `${receiver.url}/basic`,
          event_types: ["c"],
          basic_auth: { username: "hookd", password: "basic-password-31337" },
        },
      });
      assert.equal(basic.status, 201);
      secrets.push(
        "oauth2-client-secret-31337",
        btoa("hookd:oauth2-client-secret-31337"),
        ACCESS_TOKEN,
        "basic-password-31337",
        btoa("hookd:basic-password-31337"),
      );
      for (const type of ["a", "c"]) {
        const accepted = await api(daemon, "POST", "/api/v1/events", {
          key: cliKey,
          body: { type, data: { n: 1 } },
        });
        assert.equal(accepted.status, 202);
      }
      // Wrong keys are refused without echoing them.
      const wrong = "hkd_0123456789abcdef0123456789abcdef_" + "W".repeat(43);
      secrets.push(wrong);
      assert.equal((await api(daemon, "GET", "/api/v1/webhooks", { key: wrong })).status, 401);
      // Query values stay out of the request lines.
      const filter = "query-value-tenant-4242";
      secrets.push(filter);
      const filtered = await api(daemon, "GET", `/api/v1/webhooks?tenant_id=${filter}`, {
        key: ADMIN_KEY,
      });
      assert.equal(filtered.status, 200);
      // "a" to the two hooks of every type, "c" to those and the other three.
      await receiver.waitForRequests(7);
      assert.ok(
        receiver.requests.some((r) => r.headers.authorization === `Bearer ${ACCESS_TOKEN}`),
        "the OAuth2 webhook was delivered with its token",
      );
      assert.equal(await daemon.stop("SIGTERM"), 0);
      // `keys create` prints its key on stdout once, by design; everything else is searched.
      const output = daemon.output() + created.stderr;
      // The run logged at every level searched: attempts, operator actions, request lines.
      const logged = logLines(daemon.stdout());
      for (
        const msg of [
          "attempt",
          "webhook secret rotated",
          "API key created",
          "request",
          "OAuth2 token fetched",
        ]
      ) {
        assert.ok(logged.some((e) => e.msg === msg), `no ${msg} line to search${daemon.output()}`);
      }
      // The log stream is JSON lines, every one of them.
      const stdoutLines = daemon.stdout().split("\n").filter((line) => line !== "");
      assert.equal(logged.length, stdoutLines.length, daemon.output());
      for (const secret of secrets) {
        assert.ok(
          !output.includes(secret),
          `a secret leaked into the output: ${secret.slice(0, 8)}…`,
        );
        // Nor its base64 body alone.
        if (secret.startsWith("whsec_")) assert.ok(!output.includes(secret.slice(6)));
      }
    } finally {
      await daemon.kill();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
