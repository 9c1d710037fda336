import assert from "node:assert/strict";
import { Validator } from "@seriousme/openapi-schema-validator";
import { type Json, recordAttempts, withApi } from "../testing/api_harness.ts";
import { componentValidator } from "../testing/openapi_conformance.ts";
import { apiRoutes } from "./app.ts";
import { openApiPath } from "./openapi.ts";
import type { ParamNames } from "./route.ts";

type Operation = { responses: Record<string, Json>; parameters?: Json[] };

function operations(document: Json): [string, Operation][] {
  return Object.entries(document.paths as Record<string, Record<string, Operation>>).flatMap((
    [path, methods],
  ) =>
    Object.entries(methods).map((
      [method, op],
    ): [string, Operation] => [`${method.toUpperCase()} ${path}`, op])
  );
}

async function servedDocument(): Promise<Json> {
  let document: Json;
  await withApi(async (api) => {
    document = (await api.json("GET", "/openapi.json", { key: null })).body;
  });
  return document!;
}

Deno.test("the router's routes and the document's operations are the same set", async () => {
  await withApi(async (api) => {
    const document = (await api.json("GET", "/openapi.json", { key: null })).body;
    // Middleware (`app.use`: the debug request line) is listed as an ALL route; it answers nothing.
    const endpoints = api.app.routes.filter((r) => r.method !== "ALL");
    const routed = new Set(endpoints.map((r) => `${r.method} ${openApiPath(r.path)}`));
    const documented = new Set(operations(document).map(([name]) => name));
    assert.deepEqual([...routed].sort(), [...documented].sort());
    assert.equal(routed.size, endpoints.length, "a route registered twice");

    // Each route's path-parameter schema is of exactly its path's parameters.
    for (const r of apiRoutes(api.deps)) {
      const names = [...r.path.matchAll(/:(\w+)/g)].map((m) => m[1]);
      const declared = operations(document).find(([name]) =>
        name === `${r.method} ${openApiPath(r.path)}`
      )![1].parameters?.filter((p) => p.in === "path").map((p) => p.name) ?? [];
      assert.deepEqual(declared, names, `${r.method} ${r.path}`);
    }
  });
});

Deno.test("every 2xx answer refers to a named schema in components.schemas", async () => {
  const document = await servedDocument();
  const schemas = document.components.schemas as Record<string, Json>;
  for (const [name, op] of operations(document)) {
    const success = Object.entries(op.responses).filter(([status]) => /^2\d\d$/.test(status));
    assert.ok(success.length > 0, `${name} declares no 2xx answer`);
    for (const [status, response] of success) {
      const where = `${name} ${status}`;
      if (status === "204") {
        assert.equal(response.content, undefined, where);
        continue;
      }
      if (name === "GET /metrics") {
        assert.deepEqual(Object.keys(response.content), [
          "text/plain; version=0.0.4; charset=utf-8",
        ]);
        continue;
      }
      assert.deepEqual(Object.keys(response.content), ["application/json"], where);
      const ref: string = response.content["application/json"].schema.$ref;
      assert.match(ref ?? "", /^#\/components\/schemas\/\w+$/, where);
      assert.ok(schemas[ref.split("/").pop()!], `${where}: ${ref} is not in components.schemas`);
    }
    // Every error answer is the one Error shape (a readiness probe's "not ready" is no error).
    for (const [status, response] of Object.entries(op.responses)) {
      if (status.startsWith("2") || `${name} ${status}` === "GET /readyz 503") continue;
      assert.deepEqual(
        response.content["application/json"].schema,
        { $ref: "#/components/schemas/Error" },
        `${name} ${status}`,
      );
    }
  }
  // The names a reader looks for.
  for (
    const name of ["Webhook", "Event", "Delivery", "DeliveryWithAttempts", "Attempt", "Error"]
  ) assert.ok(schemas[name], name);
  // Every $ref anywhere points at a schema that exists.
  const refs = JSON.stringify(document).matchAll(/"\$ref":"#\/components\/schemas\/(\w+)"/g);
  for (const [ref, name] of refs) assert.ok(schemas[name!], ref);
});

Deno.test("the document is valid OpenAPI 3.1, and its schemas valid JSON Schema 2020-12", async () => {
  const document = await servedDocument();
  const validator = new Validator();
  const result = await validator.validate(document);
  assert.ok(result.valid, JSON.stringify(result.errors, null, 2));
  assert.equal(validator.version, "3.1");
  // The OpenAPI schema leaves schema objects to the dialect: check them too, strictly
  // (an unknown keyword or a misspelt type fails).
  const ajv = componentValidator(document);
  for (const name of Object.keys(document.components.schemas)) {
    assert.doesNotThrow(
      () => ajv.compile({ $ref: `https://hookd.invalid/components.json#/$defs/${name}` }),
      name,
    );
  }
  for (const [name, op] of operations(document)) {
    const body = (op as Json).requestBody?.content["application/json"].schema;
    if (body) assert.ok(ajv.validateSchema(body), `${name}: ${ajv.errorsText()}`);
  }
});

Deno.test("real answers of every operation match the schemas the document declares", async () => {
  await withApi(async (api) => {
    const ok = async (method: string, path: string, status: number, body?: unknown) => {
      const res = await api.json(method, path, { body });
      assert.equal(res.status, status, `${method} ${path}: ${JSON.stringify(res.body)}`);
      return res.body;
    };
    // The harness checks each answer against the document; this walk makes
    // sure that every declared 2xx answer is among them.
    await ok("GET", "/healthz", 200);
    await ok("GET", "/readyz", 200);
    await ok("GET", "/openapi.json", 200);
    await api.request("GET", "/metrics");

    const credential = await ok("POST", "/api/v1/credentials", 201, {
      name: "shared",
      headers: { "x-team": "billing" },
    });
    await ok("GET", "/api/v1/credentials", 200);
    await ok("GET", `/api/v1/credentials/${credential.id}`, 200);
    await ok("PATCH", `/api/v1/credentials/${credential.id}`, 200, { name: "renamed" });
    await ok("POST", `/api/v1/credentials/${credential.id}/rotate-secret`, 200);
    const keyed = await ok("POST", "/api/v1/credentials", 201, { name: "k", signing: "ed25519" });
    await ok("POST", `/api/v1/credentials/${keyed.id}/rotate-secret`, 200);
    await ok("GET", `/api/v1/credentials/${keyed.id}/jwks.json`, 200);
    await ok("GET", `/api/v1/credentials/${credential.id}/jwks.json`, 404);

    const webhook = await ok("POST", "/api/v1/webhooks", 201, {
      url: "https://example.com/hooks",
      event_types: ["order.*"],
      metadata: { team: "billing", nested: { list: [1, null] } },
      tls: { ca_certs: [], client_cert: null, client_key: null },
    });
    const other = await ok("POST", "/api/v1/webhooks", 201, {
      url: "https://example.com/other",
      credential_id: credential.id,
      secret: null,
    });
    await ok("GET", "/api/v1/webhooks?limit=1", 200);
    await ok("GET", `/api/v1/webhooks/${webhook.id}`, 200);
    await ok("PATCH", `/api/v1/webhooks/${webhook.id}`, 200, { description: "orders" });
    await ok("PUT", `/api/v1/webhooks/${webhook.id}`, 200, { rate_limit: 2.5 });
    await ok("POST", `/api/v1/webhooks/${webhook.id}/rotate-secret`, 200);
    await ok("POST", `/api/v1/webhooks/${webhook.id}/cancel-held`, 200);
    const signed = await ok("POST", "/api/v1/webhooks", 201, {
      url: "https://example.com/signed",
      signing: "ed25519",
    });
    await ok("POST", `/api/v1/webhooks/${signed.id}/rotate-secret`, 200);
    await ok("GET", `/api/v1/webhooks/${signed.id}/jwks.json`, 200);
    await ok("DELETE", `/api/v1/webhooks/${signed.id}`, 204);
    await ok("DELETE", `/api/v1/credentials/${keyed.id}`, 204);

    const event = { id: "e1", type: "order.created", data: { n: 1 }, tenant_id: "t1" };
    const accepted = await ok("POST", "/api/v1/events", 202, event);
    await ok("POST", "/api/v1/events", 200, event);
    await ok("POST", "/api/v1/events/batch", 202, {
      events: [{ type: "order.paid", data: null }, { ...event, data: { n: 2 } }],
    });
    await ok("GET", "/api/v1/events/e1", 200);

    const ids = accepted.deliveries.map((d: Json) => d.id);
    await recordAttempts(api.store, api.clock, ids, { state: "dead" }, {
      requestHeaders: { "content-type": "application/json" },
      responseHeaders: null,
      responseBody: null,
    });
    await ok("GET", `/api/v1/deliveries/${ids[0]}`, 200);
    await ok("GET", `/api/v1/webhooks/${webhook.id}/deliveries`, 200);
    await ok("GET", "/api/v1/dead-letters", 200);
    await ok("POST", `/api/v1/deliveries/${ids[0]}/retry`, 202);
    await ok("POST", "/api/v1/dead-letters/replay", 200, {});
    await ok("POST", `/api/v1/webhooks/${webhook.id}/recover`, 200, {
      since: "2026-11-01T00:00:00Z",
    });
    await ok("POST", `/api/v1/webhooks/${webhook.id}/recover`, 400, {
      since: "2026-01-01T00:00:00Z",
    });
    await ok("DELETE", "/api/v1/events/e1", 200);
    await ok("GET", "/api/v1/events/e1", 410);
    await ok("POST", "/api/v1/events", 410, event);
    await ok("POST", "/api/v1/events/batch", 202, { events: [event] });
    await ok("GET", "/api/v1/whoami", 200);
    await ok("GET", "/api/v1/stats/webhooks", 200);
    await ok("GET", "/api/v1/stats/live", 200);

    const key = await ok("POST", "/api/v1/keys", 201, { name: "ops", scopes: ["events:write"] });
    await ok("GET", "/api/v1/keys", 200);
    await ok("DELETE", `/api/v1/keys/${key.id}`, 204);
    await ok("DELETE", `/api/v1/webhooks/${other.id}`, 204);
    await ok("DELETE", `/api/v1/credentials/${credential.id}`, 204);
    await ok("DELETE", `/api/v1/webhooks/${webhook.id}`, 204);

    // Errors, each in the Error shape.
    await ok("POST", "/api/v1/webhooks", 400, { url: 1 });
    await ok("GET", "/api/v1/webhooks?colour=red", 400);
    assert.equal((await api.json("GET", "/api/v1/keys", { key: null })).status, 401);
    const limited = await ok("POST", "/api/v1/keys", 201, { name: "w", scopes: ["events:write"] });
    assert.equal((await api.json("GET", "/api/v1/keys", { key: limited.key })).status, 403);
    await ok("GET", "/api/v1/webhooks/nope", 404);
    await ok("GET", "/api/v1/nothing", 404);
    await ok("DELETE", "/healthz", 405);
    await ok("POST", "/api/v1/events", 202, { ...event, id: "e9" });
    await ok("POST", "/api/v1/events", 409, { ...event, id: "e9", data: { n: 3 } });
    assert.equal((await api.json("POST", "/api/v1/events", { body: "x" })).status, 415);
    await api.store.close();
    await ok("GET", "/readyz", 503);
    await ok("GET", "/api/v1/webhooks", 503);

    const document = (await api.app.request("http://hookd.test/openapi.json")).json();
    const declared = operations(await document).flatMap(([name, op]) =>
      Object.keys(op.responses).filter((s) => s.startsWith("2")).map((s) => `${name} ${s}`)
    );
    const missing = declared.filter((answer) => !api.conformance.checked.has(answer));
    assert.deepEqual(missing, [], "declared 2xx answers this walk never saw");
    for (const status of [400, 401, 403, 404, 409, 410, 415, 503]) {
      assert.ok(
        [...api.conformance.checked].some((answer) => answer.endsWith(` ${status}`)),
        `no ${status} checked`,
      );
    }
  });
});

Deno.test("ParamNames and openApiPath agree on a path's parameters", () => {
  const names: ParamNames<"/api/v1/webhooks/:id/deliveries">[] = ["id"];
  assert.equal(openApiPath("/api/v1/webhooks/:id/deliveries"), "/api/v1/webhooks/{id}/deliveries");
  assert.deepEqual(names, ["id"]);
});
