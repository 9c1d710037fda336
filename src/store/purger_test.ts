import assert from "node:assert/strict";
import { type Json, recordAttempts, withApi } from "../testing/api_harness.ts";
import type { RetentionConfig } from "../config/types.ts";
import { silentLogger } from "../ops/log.ts";
import { Purger } from "./purger.ts";

const DAY = 86_400_000;
const RETENTION: RetentionConfig = {
  succeededMs: 30 * DAY,
  deadMs: 90 * DAY,
  eventsMs: 30 * DAY,
  intervalMs: 60_000,
  batch: 10,
};

/** Every delivery as `event:webhook-name:state`, and every event id, sorted. */
async function rows(api: { store: import("./client.ts").Store }, names: Map<string, string>) {
  const deliveries: string[] = [];
  for (const [id, name] of names) {
    const page = await api.store.read("listDeliveries", {
      filter: { webhookId: id },
      page: { limit: 1000 },
    });
    for (const d of page.items) deliveries.push(`${d.eventId}:${name}:${d.state}`);
  }
  return deliveries.sort();
}

Deno.test("purge removes exactly what is past retention, in batches", async () => {
  await withApi(async (api) => {
    const post = async (path: string, body: unknown, status = 202) => {
      const res = await api.json("POST", path, { body });
      assert.equal(res.status, status, JSON.stringify(res.body));
      return res.body;
    };
    const a = await post(
      "/api/v1/webhooks",
      { url: "https://a.example/h", event_types: ["a.*"] },
      201,
    );
    const p = await post("/api/v1/webhooks", {
      url: "https://p.example/h",
      event_types: ["a.mixed", "p.held"],
      state: "paused",
    }, 201);
    const names = new Map([[a.id, "a"], [p.id, "p"]]);
    const deliveryOf = (accepted: Json, webhookId: string) =>
      accepted.deliveries.find((d: Json) => d.webhook_id === webhookId).id;

    // Day 0: 25 succeeded (more than two batches), one dead, one failed, one cancelled, one
    // still pending, one held, one event nobody receives, one event half succeeded, half held.
    const succeeded: string[] = [];
    for (let i = 0; i < 25; i++) {
      succeeded.push(
        deliveryOf(await post("/api/v1/events", { id: `s${i}`, type: "a.s", data: i }), a.id),
      );
    }
    const dead = deliveryOf(
      await post("/api/v1/events", { id: "dead", type: "a.d", data: 1 }),
      a.id,
    );
    const failed = deliveryOf(
      await post("/api/v1/events", { id: "failed", type: "a.f", data: 1 }),
      a.id,
    );
    await post("/api/v1/events", { id: "cancel", type: "a.c", data: 1 });
    const pending = deliveryOf(
      await post("/api/v1/events", { id: "pending", type: "a.p", data: 1 }),
      a.id,
    );
    await post("/api/v1/events", { id: "held", type: "p.held", data: 1 });
    await post("/api/v1/events", { id: "nobody", type: "z.none", data: 1 });
    const mixed = deliveryOf(
      await post("/api/v1/events", { id: "mixed", type: "a.mixed", data: 1 }),
      a.id,
    );
    await recordAttempts(api.store, api.clock, [...succeeded, mixed], { state: "succeeded" });
    await recordAttempts(api.store, api.clock, [dead], { state: "dead" });
    await recordAttempts(api.store, api.clock, [failed], { state: "failed" });
    await recordAttempts(api.store, api.clock, [pending], {
      state: "pending",
      nextAttemptAt: api.clock.now() + 200 * DAY,
    });
    // Cancelled: its webhook's delivery cancelled as an erasure or a delete would leave it.
    await api.store.write("eraseEvent", { id: "cancel", now: api.clock.now() });

    // Day 35: one more success, recent.
    api.clock.advance(35 * DAY);
    const recent = deliveryOf(
      await post("/api/v1/events", { id: "recent", type: "a.s", data: 2 }),
      a.id,
    );
    await recordAttempts(api.store, api.clock, [recent], { state: "succeeded" });

    api.clock.advance(5 * DAY); // day 40
    const rests: number[] = [];
    const purger = new Purger({
      store: api.store,
      clock: api.clock,
      log: silentLogger,
      retention: RETENTION,
      rest: (stepMs) => {
        rests.push(stepMs);
        return Promise.resolve();
      },
    });
    const first = await purger.purge();
    assert.equal(first.deliveries, 26, "the 25 old successes and the mixed event's success");
    assert.equal(first.attempts, 26);
    assert.ok(first.steps >= 4, `looked at in batches of 10, got ${first.steps} steps`);
    // It rests between steps (not before the first one), as long as the step before took.
    assert.equal(rests.length, first.steps - 1);
    assert.ok(rests.every((ms) => ms > 0), rests.join(", "));
    assert.deepEqual(await rows(api, names), [
      "cancel:a:cancelled",
      "dead:a:dead",
      "failed:a:failed",
      "held:p:held",
      "mixed:p:held",
      "pending:a:pending",
      "recent:a:succeeded",
    ]);
    // Events without a delivery left go: the successes' and the one nobody received.
    assert.equal(first.events, 26);
    for (const id of ["s0", "s24", "nobody"]) {
      assert.equal(await api.store.read("getEvent", { id }), null, id);
    }
    for (const id of ["mixed", "held", "pending", "dead", "recent"]) {
      assert.ok(await api.store.read("getEvent", { id }), id);
    }
    // The erased event's row stays while it has deliveries; its tombstone stays for good.
    assert.notEqual(await api.store.read("eventErasedAt", { id: "cancel" }), null);
    assert.equal(purger.purged.get("deliveries"), 26);

    // Nothing more to do: a second pass deletes nothing.
    assert.deepEqual({ ...(await purger.purge()), steps: 0 }, {
      deliveries: 0,
      attempts: 0,
      events: 0,
      steps: 0,
    });

    // Day 100: the dead letters' retention has passed too; open ones stay, whatever their age.
    api.clock.advance(60 * DAY);
    const second = await purger.purge();
    assert.equal(second.deliveries, 4, "dead, failed, cancelled and the recent success");
    assert.deepEqual(await rows(api, names), [
      "held:p:held",
      "mixed:p:held",
      "pending:a:pending",
    ]);
    for (const id of ["dead", "failed", "recent"]) {
      assert.equal(await api.store.read("getEvent", { id }), null, id);
    }
    // The erased event is gone but its tombstone still answers.
    assert.notEqual(await api.store.read("eventErasedAt", { id: "cancel" }), null);
    const reuse = await api.json("POST", "/api/v1/events", {
      body: { id: "cancel", type: "a.c", data: 1 },
    });
    assert.equal(reuse.status, 410);
    // A purged event's id may be used again.
    assert.equal(
      (await api.json("POST", "/api/v1/events", {
        body: { id: "s0", type: "a.s", data: 0 },
      })).status,
      202,
    );
  });
});

Deno.test('"never" keeps everything; the purger runs every interval once started', async () => {
  await withApi(async (api) => {
    const never = new Purger({
      store: api.store,
      clock: api.clock,
      log: silentLogger,
      retention: { ...RETENTION, succeededMs: null, deadMs: null, eventsMs: null },
    });
    assert.equal(never.enabled, false);
    never.start();
    assert.equal(api.clock.pending, 0, "no timer when nothing is ever purged");

    const accepted = await api.json("POST", "/api/v1/events", {
      body: { id: "e1", type: "x", data: 1 },
    });
    assert.equal(accepted.status, 202);
    const purger = new Purger({
      store: api.store,
      clock: api.clock,
      log: silentLogger,
      retention: RETENTION,
    });
    purger.start();
    // The first pass, one interval after the start, finds the event too young.
    api.clock.advance(RETENTION.intervalMs);
    const settled = async (check: () => boolean) => {
      // Each store read queues behind the purger's writes: no sleeping, no real time.
      for (let i = 0; i < 1000 && !check(); i++) await api.store.read("schemaVersion", {});
      assert.ok(check());
    };
    await settled(() => api.clock.pending === 1);
    assert.ok(await api.store.read("getEvent", { id: "e1" }));
    // One that starts after the event's 30 days deletes it, and the purger keeps going.
    api.clock.jump(30 * DAY);
    api.clock.advance(RETENTION.intervalMs);
    await settled(() => purger.purged.get("events") === 1 && api.clock.pending === 1);
    await purger.stop();
    assert.equal(api.clock.pending, 0, "stopped: no timer left");
    assert.equal(await api.store.read("getEvent", { id: "e1" }), null);
  });
});
