import assert from "node:assert/strict";
import { withApi } from "../testing/api_harness.ts";

Deno.test("health, readiness and the OpenAPI document need no key", async () => {
  await withApi(async (api) => {
    assert.deepEqual(await api.json("GET", "/healthz", { key: null }), {
      status: 200,
      body: { status: "ok" },
    });
    const ready = await api.json("GET", "/readyz", { key: null });
    assert.equal(ready.status, 200);
    assert.equal(ready.body.status, "ready");
    const doc = await api.json("GET", "/openapi.json", { key: null });
    assert.equal(doc.body.openapi, "3.1.0");
    const create = doc.body.paths["/api/v1/webhooks"].post;
    assert.equal(create["x-required-scope"], "webhooks:manage");
    assert.ok(create.requestBody.content["application/json"].schema.properties.url);
    assert.ok(doc.body.paths["/api/v1/webhooks/{id}"].put);
  });
});

Deno.test("readiness fails once the store is closed", async () => {
  await withApi(async (api) => {
    await api.store.close();
    const ready = await api.json("GET", "/readyz", { key: null });
    assert.equal(ready.status, 503);
    assert.equal(ready.body.status, "unavailable");
  });
});

Deno.test("401 without a key, with a malformed header and with a wrong key", async () => {
  await withApi(async (api) => {
    for (
      const headers of <Record<string, string>[]> [
        {},
        { authorization: "Basic abc" },
        { authorization: "Bearer wrong" },
        { authorization: "Bearer hkd_0123456789abcdef0123456789abcdef_" + "a".repeat(43) },
      ]
    ) {
      const res = await api.json("GET", "/api/v1/webhooks", { key: null, headers });
      assert.equal(res.status, 401, JSON.stringify(headers));
      assert.equal(res.body.error.code, "unauthorized");
      assert.equal(typeof res.body.error.message, "string");
    }
  });
});

Deno.test("404 for unknown routes and 405 with Allow for wrong methods", async () => {
  await withApi(async (api) => {
    const missing = await api.json("GET", "/api/v1/nothing");
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.code, "not_found");
    const wrong = await api.request("POST", "/api/v1/events/abc", { body: {} });
    assert.equal(wrong.status, 405);
    assert.equal(wrong.headers.get("allow"), "GET, DELETE");
    assert.equal((await wrong.json()).error.code, "method_not_allowed");
  });
});

Deno.test("415 for a non-JSON body, 400 naming the JSON error position, 413 over the limit", async () => {
  await withApi(async (api) => {
    const noType = await api.json("POST", "/api/v1/events", { body: "{}" });
    assert.equal(noType.status, 415);
    assert.equal(noType.body.error.code, "unsupported_media_type");
    const text = await api.json("POST", "/api/v1/events", {
      body: "type=x",
      headers: { "content-type": "text/plain" },
    });
    assert.equal(text.status, 415);
    assert.match(text.body.error.message, /text\/plain/);

    const malformed = await api.json("POST", "/api/v1/events", {
      body: '{"type": "a.b", "data": }',
      headers: { "content-type": "application/json" },
    });
    assert.equal(malformed.status, 400);
    assert.equal(malformed.body.error.code, "invalid_json");
    assert.match(malformed.body.error.message, /position 24 \(line 1, column 25\)/);
    assert.deepEqual(malformed.body.error.details, { position: 24, line: 1, column: 25 });

    const big = await api.json("POST", "/api/v1/events", {
      body: { type: "a.b", data: "x".repeat(2 * 1024 * 1024) },
    });
    assert.equal(big.status, 413);
    assert.equal(big.body.error.code, "payload_too_large");
  });
});

Deno.test("the body limit is configurable and enforced on streamed bodies", async () => {
  await withApi(async (api) => {
    const small = await api.json("POST", "/api/v1/events", { body: { type: "a.b", data: 1 } });
    assert.equal(small.status, 202);
    // No Content-Length: the limit must hold while the stream is read.
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(
          new TextEncoder().encode(JSON.stringify({ type: "a.b", data: "y".repeat(300) })),
        );
        controller.close();
      },
    });
    const response = await api.app.request("http://hookd.test/api/v1/events", {
      method: "POST",
      headers: {
        authorization: "Bearer test-admin-key-0123456789",
        "content-type": "application/json",
      },
      body: stream,
    });
    assert.equal(response.status, 413);
  }, `[server]\nbody_limit = "256B"\n`);
});

Deno.test("invalid UTF-8 in a body is a 400, not a crash", async () => {
  await withApi(async (api) => {
    const response = await api.app.request("http://hookd.test/api/v1/events", {
      method: "POST",
      headers: {
        authorization: "Bearer test-admin-key-0123456789",
        "content-type": "application/json",
      },
      body: new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
    });
    assert.equal(response.status, 400);
    assert.match((await response.json()).error.message, /UTF-8/);
  });
});

Deno.test("/metrics serves Prometheus text without a key", async () => {
  await withApi(async (api) => {
    await api.json("POST", "/api/v1/events", { body: { type: "a.b", data: 1 } });
    const res = await api.request("GET", "/metrics", { key: null });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type")!, /^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    assert.match(text, /^# TYPE hookd_store_transactions_total counter$/m);
    assert.match(text, /^hookd_store_writes_total [1-9]\d*$/m);
  });
});

Deno.test("a trailing slash is a 404 that names the route without it, never a 405", async () => {
  await withApi(async (api) => {
    for (const path of ["/healthz/", "/api/v1/webhooks/", "/api/v1/events/abc/"]) {
      const res = await api.request("GET", path);
      assert.equal(res.status, 404, path);
      assert.equal(res.headers.get("allow"), null, path);
      const body = await res.json();
      assert.equal(body.error.code, "not_found", path);
      assert.match(
        body.error.message,
        new RegExp(`without the trailing slash: GET ${path.slice(0, -1)}\\b`),
        path,
      );
    }
    // A wrong method on a real path is still a 405 that lists the right ones.
    const wrong = await api.request("DELETE", "/healthz");
    assert.equal(wrong.status, 405);
    assert.equal(wrong.headers.get("allow"), "GET");
  });
});

Deno.test("unknown query parameters are named as query parameters, with the allowed ones", async () => {
  await withApi(async (api) => {
    const list = await api.json("GET", "/api/v1/webhooks?colour=red&limit=2");
    assert.equal(list.status, 400);
    assert.deepEqual(list.body.error.details, [{
      field: "colour",
      message: "is not a query parameter here; allowed: limit, cursor, state, tenant_id",
    }]);
    // A route without query parameters takes none.
    const read = await api.json("GET", "/api/v1/webhooks/abc?expand=all");
    assert.equal(read.status, 400);
    assert.deepEqual(read.body.error.details, [{
      field: "expand",
      message: "is not a query parameter here; this route takes none",
    }]);
  });
});

Deno.test("every error answer carries details: null when there is nothing more to say", async () => {
  await withApi(async (api) => {
    const wrongMethod = await api.request("DELETE", "/healthz");
    assert.deepEqual((await wrongMethod.json()).error.details, { allowed: ["GET"] });
    const answers: [string, Response][] = [
      ["unknown route", await api.request("GET", "/api/v1/nothing")],
      ["no key", await api.request("GET", "/api/v1/webhooks", { key: null })],
      ["no content type", await api.request("POST", "/api/v1/events", { body: "{}" })],
      [
        "empty body",
        await api.request("POST", "/api/v1/events", {
          body: " ",
          headers: { "content-type": "application/json" },
        }),
      ],
      ["no such webhook", await api.request("GET", "/api/v1/webhooks/nope")],
    ];
    const read = api.store.read.bind(api.store);
    api.store.read = () => Promise.reject(new Error("a bug"));
    answers.push(["internal error", await api.request("GET", "/api/v1/webhooks")]);
    api.store.read = read;
    await api.store.close();
    answers.push(["store unavailable", await api.request("GET", "/api/v1/webhooks")]);
    for (const [what, res] of answers) {
      assert.ok(res.status >= 400, what);
      const body = await res.json();
      assert.ok("details" in body.error, `${what}: ${JSON.stringify(body)}`);
      assert.equal(body.error.details, null, what);
    }
  });
});
