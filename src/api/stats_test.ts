import assert from "node:assert/strict";
import { uuidv7 } from "../ids.ts";
import { recordAttempts, withApi } from "../testing/api_harness.ts";

async function postEvent(api: Parameters<Parameters<typeof withApi>[0]>[0], id: string) {
  const accepted = await api.json("POST", "/api/v1/events", {
    body: { id, type: "order.created", data: {} },
  });
  return accepted.body.deliveries[0].id as string;
}

Deno.test("webhook stats show each webhook's recent attempts and last status", async () => {
  await withApi(async (api) => {
    const webhook = await api.json("POST", "/api/v1/webhooks", {
      body: { url: "https://example.com/hook", event_types: ["order.*"] },
    });
    const first = await postEvent(api, "e1");
    const second = await postEvent(api, "e2");
    // Attempt ids are UUIDv7 of their start, as the dispatcher makes them.
    await recordAttempts(api.store, api.clock, [first], { state: "succeeded" }, {
      id: uuidv7(api.clock.now()),
      responseStatus: 200,
      errorKind: null,
      errorMessage: null,
    });
    api.clock.advance(1_000);
    await recordAttempts(api.store, api.clock, [second], { state: "dead" }, {
      id: uuidv7(api.clock.now()),
      responseStatus: 503,
    });

    const stats = await api.json("GET", "/api/v1/stats/webhooks");
    assert.equal(stats.status, 200);
    assert.equal(stats.body.complete, true);
    assert.equal(stats.body.since, new Date(api.clock.now() - 3_600_000).toISOString());
    assert.deepEqual(stats.body.data, [{
      webhook_id: webhook.body.id,
      attempts: 2,
      succeeded: 1,
      failed: 1,
      last_status: 503,
      last_error_kind: "status",
      last_attempt_at: new Date(api.clock.now()).toISOString(),
    }]);

    // Just over an hour later the window is empty again.
    api.clock.advance(3_600_001);
    const later = await api.json("GET", "/api/v1/stats/webhooks?window_minutes=60");
    assert.deepEqual(later.body.data, []);
    const wide = await api.json("GET", "/api/v1/stats/webhooks?window_minutes=120");
    assert.equal(wide.body.data[0].attempts, 2);
    assert.equal((await api.json("GET", "/api/v1/stats/webhooks?window_minutes=0")).status, 400);
  });
});

Deno.test("live counters are this daemon's totals; a key needs deliveries:read", async () => {
  await withApi(async (api) => {
    await api.json("POST", "/api/v1/webhooks", { body: { url: "https://example.com/hook" } });
    await postEvent(api, "e1");
    await postEvent(api, "e2");
    const live = await api.json("GET", "/api/v1/stats/live");
    assert.equal(live.status, 200);
    assert.equal(live.body.events_ingested, 2);
    assert.equal(live.body.at, new Date(api.clock.now()).toISOString());
    // No delivery engine runs in this harness: its figures read 0.
    assert.equal(live.body.attempts, 0);

    const writer = await api.json("POST", "/api/v1/keys", {
      body: { name: "producer", scopes: ["events:write"] },
    });
    const refused = await api.json("GET", "/api/v1/stats/live", { key: writer.body.key });
    assert.equal(refused.status, 403);
  });
});
