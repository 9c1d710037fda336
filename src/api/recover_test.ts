import assert from "node:assert/strict";
import { type Json, recordAttempts, RecordingTrigger, withApi } from "../testing/api_harness.ts";

const at = (ms: number) => new Date(ms).toISOString();

Deno.test("recover delivers exactly the missed events once", async () => {
  const trigger = new RecordingTrigger();
  await withApi(
    async (api) => {
      const call = async (method: string, path: string, body?: unknown) => {
        const res = await api.json(method, path, { body });
        return res;
      };
      const ok = async (method: string, path: string, status: number, body?: unknown) => {
        const res = await call(method, path, body);
        assert.equal(res.status, status, `${method} ${path}: ${JSON.stringify(res.body)}`);
        return res.body;
      };
      const event = (id: string, type: string, tenant: string | null) =>
        ok("POST", "/api/v1/events", 202, {
          id,
          type,
          data: { id },
          ...(tenant === null ? {} : { tenant_id: tenant }),
        });
      const hook = await ok("POST", "/api/v1/webhooks", 201, {
        url: "https://example.com/t1",
        event_types: ["order.*"],
        tenant_id: "t1",
      });
      const ops = await ok("POST", "/api/v1/webhooks", 201, {
        url: "https://example.com/ops",
        event_types: ["hookd.*"],
        state: "disabled",
      });

      await event("before", "order.created", "t1"); // outside the window
      api.clock.advance(60_000);
      const since = api.clock.now();
      const received = await event("received", "order.created", "t1");
      const failing = await event("failing", "order.created", "t1");
      await recordAttempts(api.store, api.clock, [received.deliveries[0].id], {
        state: "succeeded",
      });
      await recordAttempts(api.store, api.clock, [failing.deliveries[0].id], { state: "dead" });
      await ok("PATCH", `/api/v1/webhooks/${hook.id}`, 200, { enabled: false });
      const missed = await event("missed", "order.paid", "t1");
      assert.deepEqual(missed.deliveries, [], "a disabled webhook gets no delivery");
      await event("other-type", "invoice.paid", "t1");
      await event("other-tenant", "order.created", "t2");
      await event("no-tenant", "order.created", null);
      // hookd's own events reach a `hookd.*` subscriber, never through recover.
      await api.store.write("ingest", {
        events: [{
          id: "op",
          tenantId: null,
          type: "hookd.webhook.disabled",
          payload: "{}",
          fingerprint: "",
        }],
        now: api.clock.now(),
      });
      await ok("PATCH", `/api/v1/webhooks/${hook.id}`, 200, { enabled: true });
      api.clock.advance(60_000);

      const window = { since: at(since) };
      assert.deepEqual(
        await ok("POST", `/api/v1/webhooks/${hook.id}/recover`, 200, window),
        { created: 2, skipped: 1 },
      );
      assert.ok(trigger.refills > 0, "the engine is told to look in the store");
      const history = await ok("GET", `/api/v1/webhooks/${hook.id}/deliveries?limit=100`, 200);
      const created = history.data.filter((d: Json) => d.created_at === at(api.clock.now()));
      assert.deepEqual(created.map((d: Json) => d.event_id).sort(), ["failing", "missed"]);
      for (const d of created) {
        assert.equal(d.state, "pending");
        assert.equal(d.next_attempt_at, at(api.clock.now()));
      }

      // Idempotent: what the first run created is on its way; nothing is doubled.
      assert.deepEqual(
        await ok("POST", `/api/v1/webhooks/${hook.id}/recover`, 200, window),
        { created: 0, skipped: 3 },
      );
      assert.deepEqual(
        await ok("POST", `/api/v1/webhooks/${ops.id}/recover`, 200, window),
        { created: 0, skipped: 0 },
      );

      // The window is bounded and ordered, and the webhook must exist.
      const problem = async (body: unknown, pattern: RegExp) => {
        const res = await call("POST", `/api/v1/webhooks/${hook.id}/recover`, body);
        assert.equal(res.status, 400, JSON.stringify(res.body));
        assert.match(res.body.error.message, pattern);
      };
      await problem({ since: at(since), until: at(since) }, /since: must be before until/);
      await problem({ since: at(since - 31 * 86_400_000) }, /at most 30 days/);
      await problem({ since: "yesterday" }, /RFC 3339/);
      await ok("POST", "/api/v1/webhooks/nope/recover", 404, window);
    },
    "",
    { delivery: trigger },
  );
});

Deno.test("a big recover is paged: ingest commits while it runs", async () => {
  await withApi(async (api) => {
    const hook = (await api.json("POST", "/api/v1/webhooks", {
      body: { url: "https://example.com/h", event_types: ["*"], state: "disabled" },
    })).body;
    const since = api.clock.now();
    for (let batch = 0; batch < 5; batch++) {
      const events = Array.from({ length: 1000 }, (_, i) => ({ type: "bulk", data: i }));
      const res = await api.json("POST", "/api/v1/events/batch", { body: { events } });
      assert.equal(res.status, 202);
    }
    await api.json("PATCH", `/api/v1/webhooks/${hook.id}`, { body: { state: "enabled" } });
    api.clock.advance(1_000);

    const finished: string[] = [];
    // An event posted the moment the recover queues its first write: with one long
    // transaction it would wait for all 5,000 deliveries; paged, it shares an early commit.
    const write = api.store.write.bind(api.store);
    let pages = 0;
    let ingest: Promise<Json> | undefined;
    api.store.write = ((name, args) => {
      const written = write(name, args);
      if (name === "recoverEvents" && pages++ === 0) {
        ingest = api.json("POST", "/api/v1/events", { body: { type: "live", data: 1 } })
          .then((res) => (finished.push("ingest"), res));
      }
      return written;
    }) as typeof api.store.write;
    const recovered = await api.json("POST", `/api/v1/webhooks/${hook.id}/recover`, {
      body: { since: at(since) },
    }).then((res) => (finished.push("recover"), res));
    const accepted = await ingest!;
    assert.equal(accepted.status, 202);
    assert.deepEqual(recovered.body, { created: 5000, skipped: 0 });
    assert.ok(pages >= 10, `5,000 events in pages of at most 500, got ${pages} writes`);
    assert.deepEqual(finished, ["ingest", "recover"]);
  });
});
