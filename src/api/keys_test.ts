import assert from "node:assert/strict";
import { withApi } from "../testing/api_harness.ts";
import { apiRoutes } from "./app.ts";
import { requiredScope } from "./route.ts";
import { SCOPES, withImpliedScopes } from "./scopes.ts";

Deno.test("keys: create shows the key once, list never does, revoke stops it", async () => {
  await withApi(async (api) => {
    const created = await api.json("POST", "/api/v1/keys", {
      body: { name: "producer", scopes: ["events:write"] },
    });
    assert.equal(created.status, 201);
    assert.match(created.body.key, /^hkd_[0-9a-f]{32}_[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(created.body.scopes, ["events:write"]);
    const key = created.body.key as string;

    const list = await api.json("GET", "/api/v1/keys");
    assert.deepEqual(list.body.data.map((k: { id: string }) => k.id), [created.body.id]);
    assert.ok(!JSON.stringify(list.body).includes(key.slice(37)));
    assert.equal(list.body.data[0].key, undefined);

    const ok = await api.json("POST", "/api/v1/events", { key, body: { type: "a.b", data: 1 } });
    assert.equal(ok.status, 202);
    const forbidden = await api.json("GET", "/api/v1/webhooks", { key });
    assert.equal(forbidden.status, 403);
    assert.equal(forbidden.body.error.code, "forbidden");
    assert.match(forbidden.body.error.message, /webhooks:read/);

    // A tampered secret part of a real key id is refused.
    const tampered = key.slice(0, -1) + (key.endsWith("A") ? "B" : "A");
    assert.equal(
      (await api.json("POST", "/api/v1/events", { key: tampered, body: { type: "a.b", data: 1 } }))
        .status,
      401,
    );

    assert.equal((await api.request("DELETE", `/api/v1/keys/${created.body.id}`)).status, 204);
    assert.equal(
      (await api.json("POST", "/api/v1/events", { key, body: { type: "a.b", data: 1 } })).status,
      401,
    );
    assert.equal((await api.request("DELETE", `/api/v1/keys/${created.body.id}`)).status, 404);
    assert.deepEqual((await api.json("GET", "/api/v1/keys")).body.data, []);
  });
});

Deno.test("keys: the stored row holds a SHA-256 hash, never the key", async () => {
  await withApi(async (api) => {
    const created = await api.json("POST", "/api/v1/keys", {
      body: { name: "k", scopes: ["keys:manage"] },
    });
    const record = await api.store.read("getApiKey", { id: created.body.id });
    assert.match(record!.hash, /^[0-9a-f]{64}$/);
    const digest = new Uint8Array(
      await crypto.subtle.digest("SHA-256", new TextEncoder().encode(created.body.key)),
    );
    assert.equal(record!.hash, Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join(""));
  });
});

Deno.test("keys: validation of name and scopes", async () => {
  await withApi(async (api) => {
    const table: [unknown, string][] = [
      [{ scopes: ["events:write"] }, "name"],
      [{ name: "", scopes: ["events:write"] }, "name"],
      [{ name: "x", scopes: [] }, "scopes"],
      [{ name: "x", scopes: ["root"] }, "scopes[0]"],
      [{ name: "x", scopes: "events:write" }, "scopes"],
    ];
    for (const [body, field] of table) {
      const res = await api.json("POST", "/api/v1/keys", { body });
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.body.error.details[0].field, field, JSON.stringify(body));
    }
  });
});

Deno.test("every authenticated route answers 403 to a key lacking its scope", async () => {
  await withApi(async (api) => {
    const routes = apiRoutes(api.deps).filter((r) => requiredScope(r.scope) !== null);
    assert.ok(routes.length >= 12);
    const keys = new Map<string, string>();
    for (const scope of SCOPES) {
      // Every other scope, but none that brings this one along.
      const others = SCOPES.filter((s) => !withImpliedScopes([s]).includes(scope));
      const res = await api.json("POST", "/api/v1/keys", {
        body: { name: `no-${scope}`, scopes: others },
      });
      keys.set(scope, res.body.key);
    }
    for (const r of routes) {
      const path = r.path.replace(/:(\w+)/g, "some-$1");
      const res = await api.json(r.method, path, {
        key: keys.get(r.scope!)!,
        body: r.body ? {} : undefined,
      });
      assert.equal(res.status, 403, `${r.method} ${r.path}`);
      assert.equal(res.body.error.details.required, r.scope);
    }
  });
});
