import assert from "node:assert/strict";
import type { Store } from "../store/client.ts";
import { WebhookView } from "../store/webhook_view.ts";
import { FakeClock } from "../testing/fake_clock.ts";
import { webhookFixture } from "../testing/webhook_fixture.ts";
import { attemptFixture } from "../testing/attempt_fixture.ts";
import { BACKLOG_CACHE_MS, DeliveryMetrics } from "./delivery_metrics.ts";

const NOW = Date.UTC(2026, 11, 1, 9, 0, 0);
const RECORDED = { attempts: 5, recording: 0, succeeded: 2, retried: 2, failed: 0, dead: 1 };
const GAUGES = {
  queued: 3,
  inFlight: 4,
  payloadBytes: 2_048,
  scheduled: 7,
  flow: { open: 2, halfOpen: 1, reduced: 5 },
};

/** A store whose backlog read is counted and answers what the test set. */
function fakeStore(now: number) {
  const reads: { until: number }[] = [];
  let fail = false;
  const store = {
    reads,
    failNext: () => fail = true,
    webhooks: new WebhookView({
      version: 1,
      webhooks: [
        webhookFixture("a", ["*"], now),
        webhookFixture("b", ["*"], now, { state: "paused" }),
        webhookFixture("c", ["*"], now, { state: "paused" }),
      ],
      credentials: [],
    }),
    read: ((_name: "backlog", args: { until: number }) => {
      reads.push(args);
      if (fail) {
        fail = false;
        return Promise.reject(new Error("store down"));
      }
      return Promise.resolve({ dueSoon: reads.length, later: 20, held: 30, dead: 40 });
    }) as unknown as Store["read"],
  };
  return store;
}

Deno.test("scrapes read the backlog at most once per cache period, and retry after a failure", async () => {
  const clock = new FakeClock(NOW);
  const store = fakeStore(NOW);
  const metrics = new DeliveryMetrics();
  const source = { store, clock, horizonMs: 60_000 };
  const text = () => metrics.families().map((f) => f.render()).join("");

  await Promise.all([
    metrics.collect(source, RECORDED, GAUGES),
    metrics.collect(source, RECORDED, GAUGES),
  ]);
  assert.deepEqual(store.reads, [{ until: NOW + 60_000 }], "concurrent scrapes share one read");
  assert.match(text(), /^hookd_deliveries_pending_due_soon 1$/m);
  assert.match(text(), /^hookd_deliveries_pending_later 20$/m);
  assert.match(text(), /^hookd_deliveries_held 30$/m);
  assert.match(text(), /^hookd_deliveries_dead 40$/m);
  assert.match(text(), /^hookd_webhooks\{state="enabled"\} 1$/m);
  assert.match(text(), /^hookd_webhooks\{state="paused"\} 2$/m);
  assert.match(text(), /^hookd_deliveries_finished_total\{outcome="dead"\} 1$/m);
  assert.match(text(), /^hookd_attempts_in_flight 4$/m);
  assert.match(text(), /^hookd_deliveries_payload_bytes 2048$/m);

  clock.advance(BACKLOG_CACHE_MS - 1);
  await metrics.collect(source, RECORDED, GAUGES);
  assert.equal(store.reads.length, 1, "still cached");

  clock.advance(1);
  store.failNext();
  await assert.rejects(metrics.collect(source, RECORDED, GAUGES), /store down/);
  await metrics.collect(source, RECORDED, GAUGES);
  assert.equal(store.reads.length, 3, "a failed read is not cached");
  assert.match(text(), /^hookd_deliveries_pending_due_soon 3$/m);
});

Deno.test("attempts are counted by status class and error kind", () => {
  const metrics = new DeliveryMetrics();
  const base = attemptFixture("a1", "d1", NOW);
  metrics.attempt({ ...base, responseStatus: 204, errorKind: null, durationMs: 12 });
  metrics.attempt({ ...base, responseStatus: 503, errorKind: "status", durationMs: 40 });
  metrics.attempt({ ...base, responseStatus: null, errorKind: "timeout", durationMs: 5_000 });
  metrics.attempt({ ...base, responseStatus: 302, errorKind: "redirect", durationMs: 3 });
  assert.equal(metrics.attempts.get("2xx", "none"), 1);
  assert.equal(metrics.attempts.get("5xx", "status"), 1);
  assert.equal(metrics.attempts.get("none", "timeout"), 1);
  assert.equal(metrics.attempts.get("3xx", "redirect"), 1);
  assert.equal(metrics.attemptSeconds.count(), 4);
  assert.match(metrics.attemptSeconds.render(), /^hookd_attempt_duration_seconds_sum 5\.055$/m);
});
