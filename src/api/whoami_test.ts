import assert from "node:assert/strict";
import { ADMIN_KEY, withApi } from "../testing/api_harness.ts";

Deno.test("whoami names the calling key and its scopes, implied ones included", async () => {
  await withApi(async (api) => {
    const root = await api.json("GET", "/api/v1/whoami", { key: ADMIN_KEY });
    assert.equal(root.status, 200);
    assert.equal(root.body.key_id, "admin");
    assert.ok(root.body.scopes.includes("keys:manage"));

    const created = await api.json("POST", "/api/v1/keys", {
      body: { name: "ops", scopes: ["deliveries:read", "webhooks:manage"] },
    });
    const me = await api.json("GET", "/api/v1/whoami", { key: created.body.key });
    assert.deepEqual(me.body, {
      key_id: created.body.id,
      name: "ops",
      scopes: ["webhooks:manage", "webhooks:read", "deliveries:read"],
    });

    // Any valid key may ask; no key may not.
    const writer = await api.json("POST", "/api/v1/keys", {
      body: { name: "producer", scopes: ["events:write"] },
    });
    const producer = await api.json("GET", "/api/v1/whoami", { key: writer.body.key });
    assert.deepEqual(producer.body.scopes, ["events:write"]);
    assert.equal((await api.json("GET", "/api/v1/whoami", { key: null })).status, 401);
  });
});

Deno.test("webhooks:read lists and reads webhooks but cannot change them", async () => {
  await withApi(async (api) => {
    const webhook = await api.json("POST", "/api/v1/webhooks", {
      body: { url: "https://example.com/hook" },
    });
    const reader = await api.json("POST", "/api/v1/keys", {
      body: { name: "viewer", scopes: ["webhooks:read"] },
    });
    const key = reader.body.key;
    assert.equal((await api.json("GET", "/api/v1/webhooks", { key })).status, 200);
    assert.equal(
      (await api.json("GET", `/api/v1/webhooks/${webhook.body.id}`, { key })).status,
      200,
    );
    const patch = await api.json("PATCH", `/api/v1/webhooks/${webhook.body.id}`, {
      key,
      body: { state: "paused" },
    });
    assert.equal(patch.status, 403);
    assert.equal(patch.body.error.details.required, "webhooks:manage");
  });
});
