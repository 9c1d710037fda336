import assert from "node:assert/strict";
import { withApi } from "../testing/api_harness.ts";

const valid = { url: "https://example.com/hooks", event_types: ["order.*"] };
const cert = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
const key = "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n";
const mtls = { client_cert: cert, client_key: key };

const PROXIES = `[delivery]
proxy = "http://hookd:default-secret@10.0.0.2:3128"
proxies = { eu = "http://eu-user:eu-secret@10.0.0.3:3128", us = "http://10.0.0.4:3128" }
`;

Deno.test('a webhook\'s proxy is null (the default), "direct" or a configured name; never a URL', async () => {
  await withApi(async (api) => {
    const created = await api.json("POST", "/api/v1/webhooks", { body: valid });
    assert.equal(created.status, 201);
    assert.equal(created.body.proxy, null);
    const id = created.body.id;
    for (const proxy of ["eu", "direct", null, "us"]) {
      const updated = await api.json("PATCH", `/api/v1/webhooks/${id}`, { body: { proxy } });
      assert.equal(updated.status, 200, JSON.stringify(updated.body));
      assert.equal(updated.body.proxy, proxy);
      assert.equal((await api.store.read("getWebhook", { id }))!.proxy, proxy);
    }
    const named = await api.json("POST", "/api/v1/webhooks", { body: { ...valid, proxy: "eu" } });
    assert.equal(named.body.proxy, "eu");

    const allowed = 'must be null (the [delivery] proxy), "direct" or a proxy named in ' +
      '[delivery] proxies: "eu", "us"';
    for (const proxy of ["asia", "http://10.9.9.9:3128", ""]) {
      const refused = await api.json("POST", "/api/v1/webhooks", { body: { ...valid, proxy } });
      assert.equal(refused.status, 400, proxy);
      assert.deepEqual(refused.body.error.details, [{ field: "proxy", message: allowed }]);
    }
    const wrongType = await api.json("POST", "/api/v1/webhooks", { body: { ...valid, proxy: 1 } });
    assert.equal(wrongType.status, 400);
    assert.equal(wrongType.body.error.details[0].field, "proxy");

    // Documented, and the configured URLs and credentials appear in no answer.
    const openapi = (await api.json("GET", "/openapi.json")).body;
    assert.match(openapi.components.schemas.Webhook.properties.proxy.description, /"direct"/);
    const everything = JSON.stringify([(await api.json("GET", "/api/v1/webhooks")).body, openapi]);
    for (const secret of ["default-secret", "eu-secret", "10.0.0.3", "eu-user"]) {
      assert.ok(!everything.includes(secret), secret);
    }
  }, PROXIES);
});

Deno.test("without named proxies the message says so", async () => {
  await withApi(async (api) => {
    const refused = await api.json("POST", "/api/v1/webhooks", { body: { ...valid, proxy: "eu" } });
    assert.equal(refused.status, 400);
    assert.equal(
      refused.body.error.details[0].message,
      'must be null (the [delivery] proxy, none set), "direct" (no proxies are named in ' +
        "[delivery] proxies)",
    );
  });
});

Deno.test("an mTLS client certificate cannot go through a proxy: refused unless the webhook goes direct", async () => {
  await withApi(async (api) => {
    const message = /mTLS client certificate cannot go through a forward proxy.*"direct"/;
    // Through the default proxy, or a named one: refused.
    for (const proxy of [undefined, "us"]) {
      const refused = await api.json("POST", "/api/v1/webhooks", {
        body: { ...valid, proxy, tls: mtls },
      });
      assert.equal(refused.status, 400, String(proxy));
      assert.equal(refused.body.error.details[0].field, "proxy");
      assert.match(refused.body.error.details[0].message, message);
    }
    const direct = await api.json("POST", "/api/v1/webhooks", {
      body: { ...valid, proxy: "direct", tls: mtls },
    });
    assert.equal(direct.status, 201);
    const id = direct.body.id;
    // Updates are checked against what the webhook already has.
    const toProxy = await api.json("PATCH", `/api/v1/webhooks/${id}`, { body: { proxy: null } });
    assert.equal(toProxy.status, 400);
    assert.match(toProxy.body.error.details[0].message, message);
    const plain = await api.json("POST", "/api/v1/webhooks", { body: valid });
    const addCert = await api.json("PATCH", `/api/v1/webhooks/${plain.body.id}`, {
      body: { tls: mtls },
    });
    assert.equal(addCert.status, 400);
    assert.match(addCert.body.error.details[0].message, message);
    const both = await api.json("PATCH", `/api/v1/webhooks/${plain.body.id}`, {
      body: { tls: mtls, proxy: "direct" },
    });
    assert.equal(both.status, 200);
    // CA certificates alone are fine through a proxy.
    const ca = await api.json("POST", "/api/v1/webhooks", {
      body: { ...valid, tls: { ca_certs: [cert] } },
    });
    assert.equal(ca.status, 201);
    const missing = await api.json("PATCH", "/api/v1/webhooks/nope", { body: { proxy: "eu" } });
    assert.equal(missing.status, 404);
  }, PROXIES);
});
