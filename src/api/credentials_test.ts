import assert from "node:assert/strict";
import { withApi } from "../testing/api_harness.ts";

Deno.test("credentials: create shows the secret once; reads never show secrets or header values", async () => {
  await withApi(async (api) => {
    const created = await api.json("POST", "/api/v1/credentials", {
      body: { name: "shared", headers: { "X-Api-Key": "receiver-key" } },
    });
    assert.equal(created.status, 201);
    assert.match(created.body.secret, /^whsec_/);
    assert.deepEqual(created.body.headers, { "X-Api-Key": "[set]" });
    const read = await api.json("GET", `/api/v1/credentials/${created.body.id}`);
    assert.equal(read.body.secret, undefined);
    assert.equal(read.body.name, "shared");
    assert.ok(!JSON.stringify(read.body).includes("receiver-key"));
    const list = await api.json("GET", "/api/v1/credentials");
    assert.deepEqual(list.body.data.map((c: { id: string }) => c.id), [created.body.id]);
    assert.ok(!JSON.stringify(list.body).includes(created.body.secret));

    const own = await api.json("POST", "/api/v1/credentials", {
      body: { name: "mine", secret: "a-long-shared-secret-value" },
    });
    assert.equal(own.body.secret, "a-long-shared-secret-value");
  });
});

Deno.test("credentials: validation names the field", async () => {
  await withApi(async (api) => {
    const table: [unknown, string, RegExp][] = [
      [{}, "name", /required/],
      [{ name: "x", secret: "short" }, "secret", /16-256/],
      [{ name: "x", secret: "whsec_abc" }, "secret", /24 to 64 bytes/],
      [{ name: "x", headers: { Host: "y" } }, "headers", /reserved/],
      [{ name: "x", colour: 1 }, "body", /unknown field/],
    ];
    for (const [body, field, message] of table) {
      const res = await api.json("POST", "/api/v1/credentials", { body });
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.body.error.details[0].field, field, JSON.stringify(body));
      assert.match(res.body.error.details[0].message, message, JSON.stringify(body));
    }
  });
});

Deno.test("credentials: webhooks reference them; rotation and edits apply; in use means no delete", async () => {
  await withApi(async (api) => {
    const credential =
      (await api.json("POST", "/api/v1/credentials", { body: { name: "c" } })).body;
    const hooks = [];
    for (const n of [1, 2]) {
      const res = await api.json("POST", "/api/v1/webhooks", {
        body: { url: `https://example.com/${n}`, credential_id: credential.id },
      });
      assert.equal(res.status, 201);
      assert.equal(res.body.credential_id, credential.id);
      hooks.push(res.body);
    }
    const missing = await api.json("POST", "/api/v1/webhooks", {
      body: { url: "https://example.com/3", credential_id: "nope" },
    });
    assert.equal(missing.status, 400);
    assert.equal(missing.body.error.details[0].field, "credential_id");

    const rotated = await api.json("POST", `/api/v1/credentials/${credential.id}/rotate-secret`);
    assert.equal(rotated.status, 200);
    assert.notEqual(rotated.body.secret, credential.secret);
    assert.equal(rotated.body.previous_secret_expires_at, "2026-11-24T09:00:00.000Z");
    const stored = await api.store.read("getCredential", { id: credential.id });
    assert.equal(stored!.secret, rotated.body.secret);
    assert.equal(stored!.previousSecret, credential.secret);

    const renamed = await api.json("PATCH", `/api/v1/credentials/${credential.id}`, {
      body: { name: "renamed", headers: { Authorization: "Bearer x" } },
    });
    assert.equal(renamed.body.name, "renamed");
    assert.deepEqual(renamed.body.headers, { Authorization: "[set]" });

    const inUse = await api.json("DELETE", `/api/v1/credentials/${credential.id}`);
    assert.equal(inUse.status, 409);
    assert.equal(inUse.body.error.details.webhooks, 2);
    await api.request("DELETE", `/api/v1/webhooks/${hooks[0].id}`);
    await api.json("PATCH", `/api/v1/webhooks/${hooks[1].id}`, { body: { credential_id: null } });
    assert.equal((await api.request("DELETE", `/api/v1/credentials/${credential.id}`)).status, 204);
    assert.equal((await api.json("GET", `/api/v1/credentials/${credential.id}`)).status, 404);
    assert.equal((await api.json("DELETE", `/api/v1/credentials/${credential.id}`)).status, 404);
  });
});
