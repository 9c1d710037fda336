/**
 * A backlog in the store bigger than its webhook's queue (a paused webhook
 * resumed, a burst past the ingest claim limit, a restart): the engine takes
 * it as the queue makes room. Claiming it all at once would claim most of it
 * only to postpone it again, each a store write with payloads read for
 * nothing, over and over while the backlog lasts: 60,000 events to one
 * webhook drained at 1.9k/s that way, against 8k/s now. And a backlog of
 * large payloads stays in the store past `[delivery] payload_memory`.
 */
import assert from "node:assert/strict";
import { systemClock } from "../clock.ts";
import { MIN_QUEUE } from "./pool.ts";
import { type EngineHarness, withEngine } from "../testing/engine_harness.ts";
import { gatedTransport } from "../testing/gated_transport.ts";

const BACKLOG = 2_500;
const CAP = 4;

/**
 * A webhook created paused, holding the deliveries of `count` events posted
 * in batches of 1,000; the returned function resumes it, making them all due
 * at once.
 */
async function heldBacklog(
  h: EngineHarness,
  count: number,
  webhook: { max_in_flight: number; event_types?: string[] },
): Promise<() => Promise<unknown>> {
  const hook = await h.api("POST", "/api/v1/webhooks", {
    url: "http://127.0.0.1:9/hook",
    ...webhook,
    state: "paused",
  });
  const type = webhook.event_types?.[0] ?? "t";
  for (let posted = 0; posted < count; posted += 1_000) {
    const events = Array.from(
      { length: Math.min(1_000, count - posted) },
      (_, i) => ({ type, data: posted + i }),
    );
    assert.equal((await h.api("POST", "/api/v1/events/batch", { events })).status, 202);
  }
  await h.settle();
  return () => h.api("PATCH", `/api/v1/webhooks/${hook.body.id}`, { state: "enabled" });
}

/** From now on, calls `seen` with the delivery ids of every store write of these names. */
function watchWrites(
  h: EngineHarness,
  seen: (name: "claimDeliveries" | "postponeDeliveries", ids: readonly string[]) => void,
): void {
  const write = h.store.write.bind(h.store);
  h.store.write = ((name, args) => {
    if (name === "claimDeliveries" || name === "postponeDeliveries") {
      seen(name, (args as { ids: string[] }).ids);
    }
    return write(name, args);
  }) as typeof h.store.write;
}

Deno.test("a backlog bigger than its webhook's queue is claimed as room frees, never postponed", async () => {
  const { transport, started, open } = gatedTransport();
  await withEngine({ clock: systemClock, sender: transport }, async (h) => {
    const resume = await heldBacklog(h, BACKLOG, { max_in_flight: CAP });
    const claimed: string[] = [];
    let postponed = 0;
    // Claimed and not yet sent, at its most when a claim went out: at most a queue and those in flight.
    let ahead = 0;
    watchWrites(h, (name, ids) => {
      if (name === "postponeDeliveries") postponed += ids.length;
      if (name !== "claimDeliveries") return;
      claimed.push(...ids);
      ahead = Math.max(ahead, claimed.length - started());
    });

    // Resumed: the whole backlog is due at once, and the receiver holds every attempt.
    await resume();
    await h.until(() => started() === CAP);
    assert.ok(claimed.length >= MIN_QUEUE, `claimed ${claimed.length}: the queue is filled`);
    assert.equal(postponed, 0, "nothing claimed only to be postponed");
    const { queued, waiting } = h.engine.stats();
    assert.equal(queued + waiting, BACKLOG - CAP, "the rest wait in memory");
    assert.equal(waiting, BACKLOG - claimed.length, "unclaimed");

    open();
    await h.until(() => started() === BACKLOG);
    await h.settle();
    assert.ok(
      ahead <= MIN_QUEUE + CAP,
      `${ahead} claimed ahead of the attempts sent: more than a queue and those in flight`,
    );
    assert.equal(claimed.length, BACKLOG, "each delivery claimed once");
    assert.equal(new Set(claimed).size, BACKLOG);
    assert.equal(postponed, 0);
    const left = await h.store.read("backlog", { until: Date.now() + 60_000 });
    assert.deepEqual(left, { dueSoon: 0, later: 0, held: 0, dead: 0 }, "all delivered");
  });
});

Deno.test("deliveries waiting for room are left pending when the engine stops", async () => {
  const { transport, started, open } = gatedTransport();
  await withEngine({ clock: systemClock, sender: transport }, async (h) => {
    const resume = await heldBacklog(h, 2_000, { max_in_flight: 1 });
    await resume();
    await h.until(() => started() === 1 && h.engine.stats().waiting > 0);
    const stopping = h.engine.stop(0);
    open();
    await stopping;
    await h.settle({ queued: false });
    // Everything not attempted is pending again, due, for the next daemon to take.
    const counts = await h.store.read("backlog", { until: Date.now() + 60_000 });
    assert.equal(counts.dueSoon + 1, 2_000, `${JSON.stringify(counts)}: all but the one sent`);
  });
});

Deno.test("one webhook's backlog waiting for room does not stop ingest claiming for the others", async () => {
  const { transport, started, open } = gatedTransport();
  await withEngine({ clock: systemClock, sender: transport }, async (h) => {
    // More than the 10,000 queued at which ingest stops claiming for everyone.
    const resume = await heldBacklog(h, 12_000, { max_in_flight: 1, event_types: ["busy"] });
    await resume();
    await h.until(() => h.engine.stats().waiting >= 10_000);
    assert.ok(started() <= 1);
    await h.api("POST", "/api/v1/webhooks", {
      url: "http://127.0.0.1:9/other",
      event_types: ["other"],
    });
    const other = await h.api("POST", "/api/v1/events", { type: "other", data: 1 });
    assert.equal(other.status, 202);
    assert.equal(other.body.deliveries[0].state, "sending", "claimed at ingest, sent at once");
    open();
  });
});

Deno.test("large payloads: memory holds no more than payload_memory; the rest waits in the store", async () => {
  const { transport, started, open } = gatedTransport();
  const budget = 1_048_576;
  const payload = 100_000;
  await withEngine({
    clock: systemClock,
    sender: transport,
    env: { HOOKD_DELIVERY_PAYLOAD_MEMORY: "1MiB" },
  }, async (h) => {
    await h.api("POST", "/api/v1/webhooks", { url: "http://127.0.0.1:9/hook", max_in_flight: 4 });
    let peak = 0;
    const look = () => peak = Math.max(peak, h.engine.stats().payloadBytes);
    const states: string[] = [];
    for (let i = 0; i < 40; i++) {
      // JSON text of a string of `payload` - 2 characters: `payload` bytes in all.
      const data = String(i).padEnd(payload - 2, "x");
      const answer = await h.api("POST", "/api/v1/events", { type: "t", data });
      assert.equal(answer.status, 202);
      states.push(answer.body.deliveries[0].state);
      look();
    }
    // Claimed at ingest until the budget was reached; the rest went to the store unclaimed.
    const claimed = states.filter((s) => s === "sending").length;
    assert.equal(claimed, Math.ceil(budget / payload), states.join(" "));
    assert.equal(states.length - claimed, 40 - claimed);
    await h.until(() => (look(), started() === 4));
    const claims: number[] = [];
    watchWrites(h, (name, ids) => name === "claimDeliveries" && claims.push(ids.length));
    open();
    await h.until(() => (look(), started() === 40), 20_000);
    await h.settle();
    assert.ok(
      peak <= budget + payload,
      `peak ${peak} bytes held: within the budget and one payload`,
    );
    // Once the budget ran out, claims wait for half of it: batches, not one per attempt.
    const claimedLater = claims.reduce((a, b) => a + b, 0);
    assert.equal(claimedLater, 40 - claimed);
    assert.ok(
      claims.slice(0, -1).every((n) => n >= (budget / 2 / payload) - 2),
      `claims of ${claims.join(", ")} deliveries: each about half the budget`,
    );
    assert.equal(h.engine.stats().payloadBytes, 0, "nothing held once all are sent");
    const left = await h.store.read("backlog", { until: Date.now() + 60_000 });
    assert.deepEqual(left, { dueSoon: 0, later: 0, held: 0, dead: 0 }, "all delivered");
  });
});
