import assert from "node:assert/strict";
import { withApi } from "../testing/api_harness.ts";

async function webhook(api: Parameters<Parameters<typeof withApi>[0]>[0], eventTypes: string[]) {
  const res = await api.json("POST", "/api/v1/webhooks", {
    body: { url: "https://example.com/hook", event_types: eventTypes },
  });
  assert.equal(res.status, 201);
  return res.body.id as string;
}

Deno.test("an accepted event answers 202 with its deliveries and reads back", async () => {
  await withApi(async (api) => {
    const orders = await webhook(api, ["order.*"]);
    const all = await webhook(api, ["*"]);
    await webhook(api, ["invoice.paid"]);
    const accepted = await api.json("POST", "/api/v1/events", {
      body: {
        id: "evt_1",
        type: "order.created",
        data: { total: 42, items: [1, 2] },
        tenant_id: "tenant_abc",
        occurred_at: "2026-01-22T06:40:00Z",
      },
    });
    assert.equal(accepted.status, 202);
    assert.equal(accepted.body.id, "evt_1");
    assert.deepEqual(
      accepted.body.deliveries.map((
        d: { webhook_id: string; state: string },
      ) => [d.webhook_id, d.state]),
      [[orders, "pending"], [all, "pending"]].sort(),
    );

    const read = await api.json("GET", "/api/v1/events/evt_1");
    assert.equal(read.status, 200);
    assert.deepEqual(
      { ...read.body, deliveries: undefined },
      {
        id: "evt_1",
        type: "order.created",
        tenant_id: "tenant_abc",
        data: { total: 42, items: [1, 2] },
        occurred_at: "2026-01-22T06:40:00.000Z",
        received_at: "2026-11-23T09:00:00.000Z",
        ordering_key: null,
        traceparent: null,
        tracestate: null,
        deliveries: undefined,
      },
    );
    const delivery = read.body.deliveries[0];
    assert.deepEqual(Object.keys(delivery).sort(), [
      "attempt_count",
      "created_at",
      "event_id",
      "event_type",
      "id",
      "last_error_kind",
      "last_status",
      "next_attempt_at",
      "state",
      "updated_at",
      "webhook_id",
    ]);
    assert.equal(delivery.attempt_count, 0);
    assert.equal(delivery.next_attempt_at, "2026-11-23T09:00:00.000Z");
    assert.equal((await api.json("GET", "/api/v1/events/nope")).status, 404);
  });
});

Deno.test("a generated id, null data, and no subscribers are all fine", async () => {
  await withApi(async (api) => {
    const accepted = await api.json("POST", "/api/v1/events", {
      body: { type: "x.y", data: null },
    });
    assert.equal(accepted.status, 202);
    assert.match(accepted.body.id, /^[0-9a-f-]{36}$/);
    assert.deepEqual(accepted.body.deliveries, []);
    const read = await api.json("GET", `/api/v1/events/${accepted.body.id}`);
    assert.equal(read.body.data, null);
    assert.equal(read.body.occurred_at, read.body.received_at);
  });
});

Deno.test("idempotency: a repeated id or key returns the first answer; other content is 409", async () => {
  await withApi(async (api) => {
    await webhook(api, ["*"]);
    const first = await api.json("POST", "/api/v1/events", {
      body: { id: "e1", type: "a.b", data: { x: 1 } },
    });
    assert.equal(first.status, 202);
    api.clock.advance(5000);
    const again = await api.json("POST", "/api/v1/events", {
      body: { id: "e1", type: "a.b", data: { x: 1 } },
    });
    assert.equal(again.status, 200);
    assert.deepEqual(again.body, first.body);
    const conflict = await api.json("POST", "/api/v1/events", {
      body: { id: "e1", type: "a.b", data: { x: 2 } },
    });
    assert.equal(conflict.status, 409);
    assert.equal(conflict.body.error.code, "conflict");
    assert.equal(conflict.body.error.details.event_id, "e1");

    const headers = { "idempotency-key": "req-77" };
    const keyed = await api.json("POST", "/api/v1/events", {
      body: { type: "a.b", data: [1] },
      headers,
    });
    assert.equal(keyed.status, 202);
    const keyedAgain = await api.json("POST", "/api/v1/events", {
      body: { type: "a.b", data: [1] },
      headers,
    });
    assert.equal(keyedAgain.status, 200);
    assert.deepEqual(keyedAgain.body, keyed.body);
    const keyedConflict = await api.json("POST", "/api/v1/events", {
      body: { type: "a.b", data: [2] },
      headers,
    });
    assert.equal(keyedConflict.status, 409);
    // Only the two distinct events were stored, each with one delivery.
    assert.equal((await api.json("GET", "/api/v1/events/e1")).body.deliveries.length, 1);
    assert.equal(
      (await api.json("GET", `/api/v1/events/${keyed.body.id}`)).body.deliveries.length,
      1,
    );
  });
});

Deno.test("event validation names the field", async () => {
  await withApi(async (api) => {
    const table: [unknown, string, RegExp][] = [
      [{ data: 1 }, "type", /required/],
      [{ type: "", data: 1 }, "type", /1-255 characters/],
      [{ type: "has space", data: 1 }, "type", /\[A-Za-z0-9._:-\]/],
      [{ type: "x".repeat(256), data: 1 }, "type", /1-255/],
      [{ type: "a.b" }, "data", /required/],
      [{ type: "a.b", data: 1, id: "" }, "id", /empty/],
      [{ type: "a.b", data: 1, id: "i".repeat(256) }, "id", /255/],
      [{ type: "a.b", data: 1, id: "has space" }, "id", /visible ASCII/],
      [{ type: "a.b", data: 1, id: "tab\there" }, "id", /visible ASCII/],
      [{ type: "a.b", data: 1, occurred_at: "yesterday" }, "occurred_at", /RFC 3339/],
      [{ type: "a.b", data: 1, occurred_at: "2026-02-30T00:00:00Z" }, "occurred_at", /RFC 3339/],
      [{ type: "a.b", data: 1, occurred_at: "2026-01-22T06:40:00" }, "occurred_at", /RFC 3339/],
      [{ type: "a.b", data: 1, tenant_id: 5 }, "tenant_id", /string/],
      [{ type: "a.b", data: 1, tenant_id: "t\r\nX-Evil: 1" }, "tenant_id", /control characters/],
      [{ type: "a.b", data: 1, extra: true }, "body", /unknown field "extra"/],
      [[1, 2], "body", /object/],
    ];
    for (const [body, field, message] of table) {
      const res = await api.json("POST", "/api/v1/events", { body });
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.body.error.details[0].field, field, JSON.stringify(body));
      assert.match(res.body.error.details[0].message, message, JSON.stringify(body));
    }
    const longKey = await api.json("POST", "/api/v1/events", {
      body: { type: "a.b", data: 1 },
      headers: { "idempotency-key": "k".repeat(256) },
    });
    assert.equal(longKey.status, 400);
    assert.equal(longKey.body.error.details[0].field, "Idempotency-Key");
  });
});

Deno.test("batch ingest commits all events in one transaction with per-event results", async () => {
  await withApi(async (api) => {
    await webhook(api, ["a.*"]);
    await api.json("POST", "/api/v1/events", { body: { id: "dup", type: "a.x", data: 1 } });
    const before = api.store.stats().transactions;
    const batch = await api.json("POST", "/api/v1/events/batch", {
      body: {
        events: [
          { id: "b1", type: "a.x", data: { n: 1 } },
          { id: "b2", type: "z.z", data: { n: 2 } },
          { id: "dup", type: "a.x", data: 1 },
          { id: "dup", type: "a.x", data: 2 },
        ],
      },
    });
    assert.equal(batch.status, 202);
    assert.equal(api.store.stats().transactions - before, 1);
    assert.deepEqual(
      batch.body.data.map((r: { id: string; status: string; deliveries?: unknown[] }) => [
        r.id,
        r.status,
        r.deliveries?.length,
      ]),
      [["b1", "created", 1], ["b2", "created", 0], ["dup", "duplicate", 1], [
        "dup",
        "conflict",
        undefined,
      ]],
    );
    assert.equal((await api.json("GET", "/api/v1/events/b2")).status, 200);

    const invalid = await api.json("POST", "/api/v1/events/batch", {
      body: {
        events: [{ id: "ok", type: "a.x", data: 1 }, { id: "bad", type: "no spaces", data: 1 }],
      },
    });
    assert.equal(invalid.status, 400);
    assert.equal(invalid.body.error.details[0].field, "events[1].type");
    // A rejected batch stores nothing, not even its valid events.
    assert.equal((await api.json("GET", "/api/v1/events/ok")).status, 404);
    const empty = await api.json("POST", "/api/v1/events/batch", { body: { events: [] } });
    assert.equal(empty.status, 400);
  });
});

Deno.test("RFC 3339 parsing accepts offsets and fractions, rejects impossible dates", async () => {
  const { parseRfc3339 } = await import("./schemas.ts");
  assert.equal(parseRfc3339("2026-01-22T06:40:00Z"), Date.UTC(2026, 0, 22, 6, 40));
  assert.equal(parseRfc3339("2026-01-22T08:40:00.5+02:00"), Date.UTC(2026, 0, 22, 6, 40, 0, 500));
  assert.equal(parseRfc3339("2024-02-29T00:00:00Z"), Date.UTC(2024, 1, 29));
  for (
    const bad of [
      "2025-02-29T00:00:00Z",
      "2026-13-01T00:00:00Z",
      "2026-01-01T24:00:00Z",
      "2026-01-01",
    ]
  ) {
    assert.equal(parseRfc3339(bad), undefined, bad);
  }
});
