import assert from "node:assert/strict";
import { withApi } from "../testing/api_harness.ts";

const OAUTH2 = {
  token_url: "https://auth.example.com/oauth/token",
  client_id: "hookd",
  client_secret: "oauth-client-secret-1234",
  scope: "hooks:write",
};

Deno.test("receiver auth: secrets are write-only; reads show [set] on webhooks and credentials", async () => {
  await withApi(async (api) => {
    const hook = await api.json("POST", "/api/v1/webhooks", {
      body: { url: "https://hooks.example.com/in", oauth2: OAUTH2 },
    });
    assert.equal(hook.status, 201);
    assert.deepEqual(hook.body.oauth2, {
      ...OAUTH2,
      client_secret: "[set]",
      audience: null,
      auth_method: "client_secret_basic",
    });
    assert.equal(hook.body.basic_auth, null);
    const basic = await api.json("POST", "/api/v1/credentials", {
      body: { name: "basic", basic_auth: { username: "hookd", password: "basic-password-5678" } },
    });
    assert.equal(basic.status, 201);
    assert.deepEqual(basic.body.basic_auth, { username: "hookd", password: "[set]" });
    assert.equal(basic.body.oauth2, null);

    const answers = [
      hook.body,
      basic.body,
      (await api.json("GET", `/api/v1/webhooks/${hook.body.id}`)).body,
      (await api.json("GET", "/api/v1/webhooks")).body,
      (await api.json("GET", `/api/v1/credentials/${basic.body.id}`)).body,
      (await api.json("GET", "/api/v1/credentials")).body,
    ];
    for (const answer of answers) {
      const text = JSON.stringify(answer);
      assert.ok(!text.includes("oauth-client-secret-1234"), text);
      assert.ok(!text.includes("basic-password-5678"), text);
    }
    // The store keeps them, for the sender.
    const stored = await api.store.read("getWebhook", { id: hook.body.id });
    assert.equal(
      stored?.receiverAuth?.kind === "oauth2" && stored.receiverAuth.clientSecret,
      "oauth-client-secret-1234",
    );
  });
});

Deno.test("receiver auth: an update replaces it, keeps a secret left out, and null removes it", async () => {
  await withApi(async (api) => {
    const { body: hook } = await api.json("POST", "/api/v1/webhooks", {
      body: { url: "https://hooks.example.com/in", oauth2: OAUTH2 },
    });
    const stored = async () => (await api.store.read("getWebhook", { id: hook.id }))?.receiverAuth;
    const { client_secret: _, ...withoutSecret } = OAUTH2;

    const changed = await api.json("PATCH", `/api/v1/webhooks/${hook.id}`, {
      body: { oauth2: { ...withoutSecret, scope: "hooks:write events", audience: "https://api" } },
    });
    assert.equal(changed.status, 200);
    assert.equal(changed.body.oauth2.scope, "hooks:write events");
    assert.deepEqual(await stored(), {
      kind: "oauth2",
      tokenUrl: OAUTH2.token_url,
      clientId: "hookd",
      clientSecret: "oauth-client-secret-1234",
      scope: "hooks:write events",
      audience: "https://api",
      authMethod: "client_secret_basic",
    });

    // What a read showed, written back whole, keeps the secret too.
    const readBack = (await api.json("GET", `/api/v1/webhooks/${hook.id}`)).body.oauth2;
    assert.equal(readBack.client_secret, "[set]");
    await api.json("PATCH", `/api/v1/webhooks/${hook.id}`, { body: { oauth2: readBack } });
    const kept = await stored();
    assert.equal(kept?.kind === "oauth2" && kept.clientSecret, "oauth-client-secret-1234");

    // basic_auth: null names the kind not in place: nothing changes.
    await api.json("PATCH", `/api/v1/webhooks/${hook.id}`, { body: { basic_auth: null } });
    assert.equal((await stored())?.kind, "oauth2");
    // Basic auth replaces OAuth2; without a stored password, one is required.
    const noPassword = await api.json("PATCH", `/api/v1/webhooks/${hook.id}`, {
      body: { basic_auth: { username: "u" } },
    });
    assert.equal(noPassword.status, 400);
    assert.equal(noPassword.body.error.details[0].field, "basic_auth.password");
    await api.json("PATCH", `/api/v1/webhooks/${hook.id}`, {
      body: { basic_auth: { username: "u", password: "p" } },
    });
    assert.deepEqual(await stored(), { kind: "basic", username: "u", password: "p" });
    const cleared = await api.json("PATCH", `/api/v1/webhooks/${hook.id}`, {
      body: { basic_auth: null },
    });
    assert.equal(cleared.body.basic_auth, null);
    assert.equal(await stored(), null);
    // Back to OAuth2: the secret is required again, none being stored.
    const noSecret = await api.json("PATCH", `/api/v1/webhooks/${hook.id}`, {
      body: { oauth2: withoutSecret },
    });
    assert.equal(noSecret.status, 400);
    assert.equal(noSecret.body.error.details[0].field, "oauth2.client_secret");

    // The same rules on a credential.
    const { body: credential } = await api.json("POST", "/api/v1/credentials", {
      body: { name: "c", oauth2: OAUTH2 },
    });
    const patched = await api.json("PATCH", `/api/v1/credentials/${credential.id}`, {
      body: { oauth2: { ...withoutSecret, auth_method: "client_secret_post" } },
    });
    assert.equal(patched.body.oauth2.auth_method, "client_secret_post");
    const storedCredential = await api.store.read("getCredential", { id: credential.id });
    assert.equal(
      storedCredential?.receiverAuth?.kind === "oauth2" &&
        storedCredential.receiverAuth.clientSecret,
      "oauth-client-secret-1234",
    );
    await api.json("PATCH", `/api/v1/credentials/${credential.id}`, { body: { oauth2: null } });
    assert.equal(
      (await api.store.read("getCredential", { id: credential.id }))?.receiverAuth,
      null,
    );
  });
});

Deno.test("receiver auth: validation names the field, the problem and what is allowed", async () => {
  await withApi(
    async (api) => {
      const table: [Record<string, unknown>, string, RegExp][] = [
        [
          { oauth2: OAUTH2, basic_auth: { username: "u", password: "p" } },
          "basic_auth",
          /together with oauth2/,
        ],
        [{ oauth2: { ...OAUTH2, auth_method: "jwt" } }, "oauth2.auth_method", /client_secret_post/],
        [{ oauth2: { ...OAUTH2, client_secret: undefined } }, "oauth2.client_secret", /string/],
        [{ oauth2: { ...OAUTH2, client_id: "" } }, "oauth2.client_id", /empty/],
        [{ oauth2: { ...OAUTH2, scope: "a  b" } }, "oauth2.scope", /single spaces/],
        [
          { oauth2: { ...OAUTH2, token_url: "ftp://x/token" } },
          "oauth2.token_url",
          /http or https/,
        ],
        [{ oauth2: { ...OAUTH2, token_url: "https://10.0.0.1/t" } }, "oauth2.token_url", /private/],
        [{ oauth2: { ...OAUTH2, extra: 1 } }, "oauth2", /unknown field/],
        [{ basic_auth: { username: "a:b", password: "p" } }, "basic_auth.username", /colon/],
        [{ basic_auth: { username: "u", password: "p\n" } }, "basic_auth.password", /control/],
      ];
      for (const [fields, field, message] of table) {
        const body = { url: "https://hooks.example.com/in", ...fields };
        const res = await api.json("POST", "/api/v1/webhooks", { body });
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.equal(res.body.error.details[0].field, field, JSON.stringify(body));
        assert.match(res.body.error.details[0].message, message, JSON.stringify(body));
        const credential = await api.json("POST", "/api/v1/credentials", {
          body: { name: "c", ...fields },
        });
        assert.equal(credential.status, 400, JSON.stringify(fields));
        assert.equal(credential.body.error.details[0].field, field, JSON.stringify(fields));
      }
    },
    "",
    { env: { HOOKD_SECURITY_ALLOW_PRIVATE_TARGETS: "false" } },
  );
});

Deno.test("receiver auth: [security] require_https holds for the token URL", async () => {
  await withApi(
    async (api) => {
      const res = await api.json("POST", "/api/v1/webhooks", {
        body: {
          url: "https://hooks.example.com/in",
          oauth2: { ...OAUTH2, token_url: "http://auth.example.com/token" },
        },
      });
      assert.equal(res.status, 400);
      assert.equal(res.body.error.details[0].field, "oauth2.token_url");
      assert.match(res.body.error.details[0].message, /require_https/);
    },
    "",
    { env: { HOOKD_SECURITY_REQUIRE_HTTPS: "true" } },
  );
});
