/**
 * Operator actions through the API are logged at info with who did them (the
 * API key id) and what follows; at debug every request gets one line. Never
 * a key, a secret or a query value.
 */
import assert from "node:assert/strict";
import { withApi } from "../testing/api_harness.ts";
import { captureLogs } from "../testing/log_capture.ts";

Deno.test("operator actions are logged with the acting key and what follows", async () => {
  const logs = captureLogs("debug");
  await withApi(
    async (api) => {
      const ops = (await api.json("POST", "/api/v1/keys", {
        body: {
          name: "ops",
          scopes: ["webhooks:manage", "keys:manage", "deliveries:replay", "events:erase"],
        },
      })).body;
      const as = { key: ops.key as string };
      const hook = (await api.json("POST", "/api/v1/webhooks", {
        ...as,
        body: {
          url: "http://127.0.0.1:9/hook?token=url-secret",
          headers: { "X-Token": "hdr-secret" },
        },
      })).body;
      const id = hook.id as string;
      const patch = (body: unknown) =>
        api.json("PATCH", `/api/v1/webhooks/${id}`, { ...as, body }).then((r) => r.status);
      assert.equal(await patch({ state: "paused" }), 200);
      assert.equal(
        (await api.json("PUT", `/api/v1/webhooks/${id}`, { ...as, body: { enabled: true } }))
          .status,
        200,
      );
      assert.equal(await patch({ enabled: false }), 200);
      assert.equal(await patch({ description: "moved" }), 200);
      const rotated = (await api.json("POST", `/api/v1/webhooks/${id}/rotate-secret`, as)).body;
      await patch({ state: "enabled" });
      const event = (await api.json("POST", "/api/v1/events", {
        body: { type: "a.b", data: { n: 1 } },
      })).body;
      const deliveryId = event.deliveries[0].id as string;
      assert.equal(
        (await api.json("POST", `/api/v1/deliveries/${deliveryId}/retry`, as)).status,
        202,
      );
      const replay = await api.json("POST", "/api/v1/dead-letters/replay", {
        ...as,
        body: { event_type: "a.b", since: "2026-01-01T00:00:00Z" },
      });
      assert.equal(replay.status, 200);
      const recover = await api.json("POST", `/api/v1/webhooks/${id}/recover`, {
        ...as,
        body: { since: "2026-11-23T08:00:00Z", until: "2026-11-23T10:00:00Z" },
      });
      assert.deepEqual(recover, { status: 200, body: { created: 0, skipped: 1 } });
      assert.equal((await api.json("DELETE", `/api/v1/events/${event.id}`, as)).status, 200);
      assert.equal((await api.json("DELETE", `/api/v1/events/${event.id}`, as)).status, 200);
      const spare = (await api.json("POST", "/api/v1/keys", {
        ...as,
        body: { name: "spare", scopes: ["events:write"] },
      })).body;
      assert.equal((await api.request("DELETE", `/api/v1/keys/${spare.id}`, as)).status, 204);
      assert.equal((await api.request("DELETE", `/api/v1/webhooks/${id}`, as)).status, 204);
      assert.equal(
        (await api.request("GET", "/api/v1/webhooks?limit=5&tenant_id=acme", as)).status,
        200,
      );

      const info = logs.entries().filter((e) => e.level === "info");
      const pick = (e: Record<string, unknown>) => {
        const { time: _t, level: _l, ...rest } = e;
        return rest;
      };
      assert.deepEqual(info.map(pick), [
        {
          msg: "API key created",
          created_key_id: ops.id,
          name: "ops",
          scopes: ["webhooks:manage", "keys:manage", "deliveries:replay", "events:erase"],
          key_id: "admin",
        },
        {
          msg: "webhook created",
          webhook_id: id,
          key_id: ops.id,
          state: "enabled",
          signing: "hmac",
        },
        {
          msg: "webhook paused",
          webhook_id: id,
          key_id: ops.id,
          fields: ["state"],
          effect:
            'deliveries are held; resume with PATCH /api/v1/webhooks/{id} {"state":"enabled"}',
        },
        {
          msg: "webhook enabled",
          webhook_id: id,
          key_id: ops.id,
          fields: ["enabled"],
          effect: "deliveries resume, held ones included",
        },
        {
          msg: "webhook disabled",
          webhook_id: id,
          key_id: ops.id,
          fields: ["enabled"],
          effect: "new events are not delivered to it; pending deliveries are held: enable with " +
            'PATCH {"state":"enabled"} to send them, or POST /api/v1/webhooks/{id}/cancel-held ' +
            "to drop them",
        },
        { msg: "webhook updated", webhook_id: id, key_id: ops.id, fields: ["description"] },
        {
          msg: "webhook secret rotated",
          webhook_id: id,
          key_id: ops.id,
          previous_secret_expires_at: rotated.previous_secret_expires_at,
          effect: "requests carry both signatures until the previous secret expires",
        },
        {
          msg: "webhook enabled",
          webhook_id: id,
          key_id: ops.id,
          fields: ["state"],
          effect: "deliveries resume, held ones included",
        },
        {
          msg: "delivery retry requested",
          delivery_id: deliveryId,
          webhook_id: id,
          key_id: ops.id,
        },
        {
          msg: "dead letters replayed",
          count: 0,
          filter: { event_type: "a.b", since: "2026-01-01T00:00:00.000Z" },
          key_id: ops.id,
        },
        {
          msg: "webhook recovered",
          webhook_id: id,
          since: "2026-11-23T08:00:00.000Z",
          until: "2026-11-23T10:00:00.000Z",
          created: 0,
          skipped: 1,
          key_id: ops.id,
        },
        {
          msg: "event erased",
          event_id: event.id,
          key_id: ops.id,
          cancelled: 1,
          effect: "its data and its attempts' headers and bodies are gone; its id and " +
            "Idempotency-Key are refused from now on",
        },
        {
          msg: "API key created",
          created_key_id: spare.id,
          name: "spare",
          scopes: ["events:write"],
          key_id: ops.id,
        },
        { msg: "API key revoked", revoked_key_id: spare.id, key_id: ops.id },
        {
          msg: "webhook deleted",
          webhook_id: id,
          key_id: ops.id,
          effect: "its pending deliveries are cancelled",
        },
      ]);

      // At debug, one line per request: method, path (no query), status, duration, key.
      const requests = logs.withMessage("request");
      const last = requests.at(-1)!;
      assert.deepEqual(
        { ...last, time: undefined, duration_ms: undefined },
        {
          time: undefined,
          level: "debug",
          msg: "request",
          method: "GET",
          path: "/api/v1/webhooks",
          status: 200,
          duration_ms: undefined,
          key_id: ops.id,
        },
      );
      assert.equal(typeof last.duration_ms, "number");
      assert.ok(requests.some((r) => r.status === 204 && r.method === "DELETE"));

      const text = logs.text();
      for (
        const secret of [
          ops.key,
          spare.key,
          hook.secret,
          rotated.secret,
          "url-secret",
          "hdr-secret",
          "acme",
        ]
      ) {
        assert.ok(!text.includes(secret), `${String(secret).slice(0, 8)}… reached the log`);
      }
    },
    "",
    { log: logs.log },
  );
});

Deno.test("a refused request logs its debug line without a key id", async () => {
  const logs = captureLogs("debug");
  await withApi(
    async (api) => {
      assert.equal(
        (await api.request("GET", "/api/v1/webhooks", { key: "wrong-key" })).status,
        401,
      );
      const line = logs.withMessage("request").at(-1);
      assert.equal(line?.status, 401);
      assert.equal(line?.key_id, null);
      assert.ok(!logs.text().includes("wrong-key"));
    },
    "",
    { log: logs.log },
  );
});
