import assert from "node:assert/strict";
import { withApi } from "../testing/api_harness.ts";

const valid = { url: "https://example.com/hooks", event_types: ["order.*"] };

Deno.test("create returns 201 with the secret once; read, list and update never show it", async () => {
  await withApi(async (api) => {
    const created = await api.json("POST", "/api/v1/webhooks", {
      body: { ...valid, description: "orders", metadata: { team: "billing" } },
    });
    assert.equal(created.status, 201);
    const hook = created.body;
    assert.match(hook.id, /^[0-9a-f-]{36}$/);
    assert.match(hook.secret, /^whsec_[A-Za-z0-9+/]{32}$/);
    assert.equal(atob(hook.secret.slice(6)).length, 24);
    assert.deepEqual(
      {
        url: hook.url,
        event_types: hook.event_types,
        enabled: hook.enabled,
        state: hook.state,
        policy: hook.policy,
        profile: hook.profile,
        description: hook.description,
        metadata: hook.metadata,
        created_at: hook.created_at,
      },
      {
        url: valid.url,
        event_types: ["order.*"],
        enabled: true,
        state: "enabled",
        policy: "default",
        profile: "standard",
        description: "orders",
        metadata: { team: "billing" },
        created_at: "2026-11-23T09:00:00.000Z",
      },
    );

    const read = await api.json("GET", `/api/v1/webhooks/${hook.id}`);
    assert.equal(read.status, 200);
    assert.equal(read.body.secret, undefined);
    assert.equal(read.body.url, valid.url);

    const second = await api.json("POST", "/api/v1/webhooks", {
      body: { url: "https://b.example/x" },
    });
    assert.deepEqual(second.body.event_types, ["*"]);
    const list = await api.json("GET", "/api/v1/webhooks");
    assert.deepEqual(list.body.data.map((w: { id: string }) => w.id), [hook.id, second.body.id]);
    assert.equal(list.body.next_cursor, null);
    assert.ok(list.body.data.every((w: Record<string, unknown>) => !("secret" in w)));
  });
});

Deno.test("list pages with limit and cursor and filters by state", async () => {
  await withApi(async (api) => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      api.clock.advance(1);
      const res = await api.json("POST", "/api/v1/webhooks", {
        body: { ...valid, enabled: i % 2 === 0 },
      });
      ids.push(res.body.id);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { data: { id: string }[]; next_cursor: string | null } } = await api.json(
        "GET",
        `/api/v1/webhooks?limit=2${cursor ? `&cursor=${cursor}` : ""}`,
      );
      assert.ok(page.body.data.length <= 2);
      seen.push(...page.body.data.map((w) => w.id));
      cursor = page.body.next_cursor;
    } while (cursor);
    assert.deepEqual(seen, ids);

    const disabled = await api.json("GET", "/api/v1/webhooks?state=disabled");
    assert.deepEqual(disabled.body.data.map((w: { id: string }) => w.id), [ids[1], ids[3]]);

    for (
      const bad of ["limit=0", "limit=1001", "limit=x", "cursor=%%%", "state=on", "colour=red"]
    ) {
      const res = await api.json("GET", `/api/v1/webhooks?${bad}`);
      assert.equal(res.status, 400, bad);
      assert.equal(res.body.error.code, "validation_failed");
    }
  });
});

Deno.test("create validation names the field and what is allowed", async () => {
  await withApi(async (api) => {
    const table: [Record<string, unknown>, string, RegExp][] = [
      [{}, "url", /string URL/],
      [{ url: "example.com" }, "url", /absolute http/],
      [{ url: "ftp://example.com" }, "url", /http or https/],
      [{ url: "https://u:p@example.com" }, "url", /credentials/],
      [{ url: "https://example.com/" + "a".repeat(2048) }, "url", /at most 2048/],
      [{ ...valid, event_types: [] }, "event_types", /at least one/],
      [{ ...valid, event_types: ["bad type"] }, "event_types[0]", /event type/],
      [{ ...valid, event_types: "order.*" }, "event_types", /array/],
      [{ ...valid, policy: "nope" }, "policy", /"default"/],
      [{ ...valid, profile: "nope" }, "profile", /"standard"/],
      [{ ...valid, headers: { Host: "x" } }, "headers", /reserved/],
      [{ ...valid, headers: { "X-A": "a\nb" } }, "headers", /CR, LF/],
      [{ ...valid, max_in_flight: 0 }, "max_in_flight", /at least 1/],
      [{ ...valid, rate_limit: -1 }, "rate_limit", /positive/],
      [{ ...valid, colour: "red" }, "body", /unknown field "colour"/],
      [{ ...valid, enabled: false, state: "enabled" }, "enabled", /contradicts/],
    ];
    for (const [body, field, message] of table) {
      const res = await api.json("POST", "/api/v1/webhooks", { body });
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.body.error.code, "validation_failed");
      assert.equal(res.body.error.details[0].field, field, JSON.stringify(body));
      assert.match(res.body.error.details[0].message, message, JSON.stringify(body));
    }
    // Nothing was stored by any of them.
    assert.deepEqual((await api.json("GET", "/api/v1/webhooks")).body.data, []);
  });
});

Deno.test("require_https rejects http targets at creation", async () => {
  await withApi(async (api) => {
    const res = await api.json("POST", "/api/v1/webhooks", {
      body: { url: "http://example.com/x" },
    });
    assert.equal(res.status, 400);
    assert.match(res.body.error.message, /require_https/);
  }, "[security]\nrequire_https = true\n");
});

Deno.test("PATCH and PUT are partial updates; PUT {enabled:false} disables", async () => {
  await withApi(async (api) => {
    const hook = (await api.json("POST", "/api/v1/webhooks", { body: valid })).body;
    api.clock.advance(1000);
    const patched = await api.json("PATCH", `/api/v1/webhooks/${hook.id}`, {
      body: { description: "new", headers: { "X-Api-Key": "k" } },
    });
    assert.equal(patched.status, 200);
    assert.equal(patched.body.description, "new");
    assert.equal(patched.body.url, valid.url);
    assert.deepEqual(patched.body.headers, { "X-Api-Key": "k" });
    assert.equal(patched.body.updated_at, "2026-11-23T09:00:01.000Z");

    const put = await api.json("PUT", `/api/v1/webhooks/${hook.id}`, { body: { enabled: false } });
    assert.equal(put.status, 200);
    assert.equal(put.body.enabled, false);
    assert.equal(put.body.state, "disabled");
    assert.equal(put.body.description, "new");
    assert.equal(typeof put.body.disabled_reason, "string");

    const paused = await api.json("PATCH", `/api/v1/webhooks/${hook.id}`, {
      body: { state: "paused" },
    });
    assert.equal(paused.body.state, "paused");
    assert.equal(paused.body.disabled_reason, null);

    const bad = await api.json("PATCH", `/api/v1/webhooks/${hook.id}`, { body: { url: "nope" } });
    assert.equal(bad.status, 400);
    assert.equal((await api.json("GET", `/api/v1/webhooks/${hook.id}`)).body.url, valid.url);

    const missing = await api.json("PATCH", "/api/v1/webhooks/nope", {
      body: { description: "x" },
    });
    assert.equal(missing.status, 404);
  });
});

Deno.test("DELETE removes the webhook and cancels its pending deliveries", async () => {
  await withApi(async (api) => {
    const hook = (await api.json("POST", "/api/v1/webhooks", { body: valid })).body;
    const accepted = await api.json("POST", "/api/v1/events", {
      body: { type: "order.created", data: { n: 1 } },
    });
    assert.equal(accepted.body.deliveries[0].state, "pending");
    const del = await api.request("DELETE", `/api/v1/webhooks/${hook.id}`);
    assert.equal(del.status, 204);
    assert.equal((await api.json("GET", `/api/v1/webhooks/${hook.id}`)).status, 404);
    assert.equal((await api.json("DELETE", `/api/v1/webhooks/${hook.id}`)).status, 404);
    const event = await api.json("GET", `/api/v1/events/${accepted.body.id}`);
    assert.equal(event.body.deliveries[0].state, "cancelled");
  });
});

Deno.test("rotate-secret returns a new secret and when the old one stops signing", async () => {
  await withApi(async (api) => {
    const hook = (await api.json("POST", "/api/v1/webhooks", { body: valid })).body;
    const rotated = await api.json("POST", `/api/v1/webhooks/${hook.id}/rotate-secret`);
    assert.equal(rotated.status, 200);
    assert.match(rotated.body.secret, /^whsec_/);
    assert.notEqual(rotated.body.secret, hook.secret);
    assert.equal(rotated.body.previous_secret_expires_at, "2026-11-24T09:00:00.000Z");
    assert.equal((await api.json("POST", "/api/v1/webhooks/nope/rotate-secret")).status, 404);
  });
});

Deno.test("a webhook's secret may be supplied, or null for unsigned requests", async () => {
  await withApi(async (api) => {
    const supplied = await api.json("POST", "/api/v1/webhooks", {
      body: { ...valid, secret: "my-own-shared-secret-1234" },
    });
    assert.equal(supplied.status, 201);
    assert.equal(supplied.body.secret, "my-own-shared-secret-1234");
    const unsigned = await api.json("POST", "/api/v1/webhooks", {
      body: { ...valid, secret: null },
    });
    assert.equal(unsigned.status, 201);
    assert.equal(unsigned.body.secret, null);
    const stored = await api.store.read("getWebhook", { id: unsigned.body.id });
    assert.equal(stored!.secret, null);
    const bad = await api.json("POST", "/api/v1/webhooks", { body: { ...valid, secret: "short" } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.details[0].field, "secret");
  });
});

Deno.test("literal private and reserved addresses are refused at creation", async () => {
  await withApi(
    async (api) => {
      for (
        const url of [
          "http://127.0.0.1:8080/x",
          "http://2130706433/",
          "http://[::1]/",
          "http://169.254.169.254/latest/meta-data",
          "http://10.0.0.1/",
          "http://192.168.1.1/",
          "http://[::ffff:127.0.0.1]/",
          "http://0.0.0.0/",
        ]
      ) {
        const res = await api.json("POST", "/api/v1/webhooks", { body: { url } });
        assert.equal(res.status, 400, url);
        assert.equal(res.body.error.details[0].field, "url", url);
        assert.match(res.body.error.details[0].message, /allow_private_targets|address/, url);
      }
      // Names are judged when sending (they are never resolved here).
      const named = await api.json("POST", "/api/v1/webhooks", {
        body: { url: "https://example.com/x" },
      });
      assert.equal(named.status, 201);
    },
    "",
    { env: { HOOKD_SECURITY_ALLOW_PRIVATE_TARGETS: "false" } },
  );
});

Deno.test("webhook TLS settings: PEM checked, client key accepted but never shown", async () => {
  await withApi(async (api) => {
    const cert = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    const key = "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n";
    const created = await api.json("POST", "/api/v1/webhooks", {
      body: { ...valid, tls: { ca_certs: [cert], client_cert: cert, client_key: key } },
    });
    assert.equal(created.status, 201);
    assert.deepEqual(created.body.tls, {
      ca_certs: [cert],
      client_cert: cert,
      client_key: "[set]",
    });
    const read = await api.json("GET", `/api/v1/webhooks/${created.body.id}`);
    assert.ok(!JSON.stringify(read.body).includes("MIIE"));
    const stored = await api.store.read("getWebhook", { id: created.body.id });
    assert.equal(stored!.tls!.clientKey, key);
    const table: [unknown, RegExp][] = [
      [{ ca_certs: ["not a cert"] }, /PEM certificates/],
      [{ client_cert: cert }, /go together/],
      [{ client_cert: cert, client_key: "nope" }, /PEM private key/],
      [{ extra: 1 }, /unknown field/],
    ];
    for (const [tls, message] of table) {
      const res = await api.json("POST", "/api/v1/webhooks", { body: { ...valid, tls } });
      assert.equal(res.status, 400, JSON.stringify(tls));
      assert.match(res.body.error.details[0].message, message, JSON.stringify(tls));
    }
    const cleared = await api.json("PATCH", `/api/v1/webhooks/${created.body.id}`, {
      body: { tls: null },
    });
    assert.equal(cleared.body.tls, null);
  });
});

Deno.test("a cursor the API could not have handed out is a 400 naming cursor", async () => {
  await withApi(async (api) => {
    for (let i = 0; i < 3; i++) await api.json("POST", "/api/v1/webhooks", { body: valid });
    const page = await api.json("GET", "/api/v1/webhooks?limit=1");
    const cursor: string = page.body.next_cursor;
    assert.equal((await api.json("GET", `/api/v1/webhooks?cursor=${cursor}`)).status, 200);
    const b64url = (text: string) =>
      btoa(text).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
    for (
      const bad of [
        "garbage",
        "%25%25%25",
        b64url("hello"),
        b64url("0190d8a8-4f31-4b4e-9e2c-3c1f2a7b9d10"), // a UUID, but not a v7 one
        `${cursor}=`, // padded
        `${cursor}A`, // one character more
        b64url("0190D8A8-4F31-7B4E-9E2C-3C1F2A7B9D10"), // ids are lowercase
        "",
      ]
    ) {
      const res = await api.json("GET", `/api/v1/webhooks?cursor=${bad}`);
      assert.equal(res.status, 400, bad);
      assert.equal(res.body.error.details[0].field, "cursor", bad);
      assert.match(res.body.error.details[0].message, /not a cursor returned by this API/, bad);
    }
  });
});
