/**
 * Auto-disable in virtual time: each rule fires on exactly the attempt that
 * crosses it and not before, a success resets the counts, and the pending
 * deliveries of a webhook it disables are held (never attempted) until an
 * operator enables it again, then sent.
 */
import assert from "node:assert/strict";
import { FakeClock } from "../src/testing/fake_clock.ts";
import { withEngine } from "../src/testing/engine_harness.ts";
import type { EngineHarness } from "../src/testing/engine_harness.ts";
import { captureLogs } from "../src/testing/log_capture.ts";
import { seededRng } from "../src/testing/seeded_rng.ts";
import { HOUR, readDelivery, ScriptedSender, START, TICK } from "./contracts/_helpers.ts";

/** Hourly attempts, no jitter, only the failing-for rule switched on. */
function policyToml(failingFor: string): string {
  return `[policies.default]
schedule = ["0s", "1h", "1h", "1h", "1h", "1h", "1h", "1h", "1h", "1h"]
jitter = 0
disable_after_failing_for = "${failingFor}"
disable_on_status = []
`;
}

async function webhookState(h: EngineHarness, id: string) {
  const res = await h.api("GET", `/api/v1/webhooks/${id}`);
  assert.equal(res.status, 200);
  return res.body as { state: string; disabled_reason: string | null; disabled_at: string | null };
}

/** Moves virtual time to `at` and lets everything due by then run. */
async function runUntil(h: EngineHarness, clock: FakeClock, at: number): Promise<void> {
  // Into the scheduler's window first, as time passing would bring it there.
  clock.advanceTo(Math.max(clock.now(), at - 20));
  await h.engine.refill();
  await h.settle();
  clock.advanceTo(at);
  await h.engine.refill();
  clock.advance(TICK);
  await h.settle();
}

/** Runs the delivery's next attempt: to its `next_attempt_at`, and one tick on. */
async function runNextAttempt(h: EngineHarness, clock: FakeClock, id: string): Promise<void> {
  const delivery = await readDelivery(h, id);
  assert.equal(delivery.state, "pending");
  await runUntil(h, clock, Date.parse(delivery.next_attempt_at));
}

Deno.test("auto-disable: failing without a success for 3h fires on the attempt at 3h, not before", async () => {
  const clock = new FakeClock(START);
  const sender = new ScriptedSender(clock);
  const logs = captureLogs("info");
  const toml = policyToml("3h");
  await withEngine(
    { clock, sender, rng: seededRng(1), configToml: toml, log: logs.log },
    async (h) => {
      const hook = (await h.api("POST", "/api/v1/webhooks", { url: "http://127.0.0.1:9/a" })).body;
      const first = await h.api("POST", "/api/v1/events", { type: "t", data: { n: 1 } });
      const failing = first.body.deliveries[0].id as string;
      await h.settle();
      // Attempts at 0, 1h, 2h fail (each delay counts from the previous answer, a tick
      // or two later): failing for just over 2h, still enabled.
      await runNextAttempt(h, clock, failing);
      await runNextAttempt(h, clock, failing);
      assert.equal(sender.sent.length, 3);
      assert.equal((await webhookState(h, hook.id)).state, "enabled");
      clock.advanceTo(START + 2.5 * HOUR);
      const second = await h.api("POST", "/api/v1/events", { type: "t", data: { n: 2 } });
      const queued = second.body.deliveries[0].id as string;
      await h.settle(); // its first attempt fails too; its retry is due at 3h30m
      assert.equal(sender.sent.length, 4);

      // The attempt at 3h fails: 3h without a success, disabled by it.
      await runNextAttempt(h, clock, failing);
      assert.equal(sender.sent.length, 5);
      const disabled = await webhookState(h, hook.id);
      assert.equal(disabled.state, "disabled");
      const disabledAt = Date.parse(disabled.disabled_at!);
      assert.ok(disabledAt >= START + 3 * HOUR && disabledAt <= clock.now(), disabled.disabled_at!);
      assert.match(disabled.disabled_reason!, /disable_after_failing_for.*last: HTTP 503/);
      assert.equal((await readDelivery(h, failing)).state, "held");
      assert.equal((await readDelivery(h, queued)).state, "held");
      const [warning] = logs.withMessage("webhook auto-disabled");
      assert.equal(warning?.webhook_id, hook.id);
      assert.equal(warning?.rule, "failing_for");

      // Held means held: a day later nothing more has gone out.
      await runUntil(h, clock, START + 27 * HOUR);
      assert.equal(sender.sent.length, 5);

      // Enabled again: both go out (the receiver is fixed), and the counts start afresh.
      sender.fallback = 200;
      const on = await h.api("PATCH", `/api/v1/webhooks/${hook.id}`, { state: "enabled" });
      assert.equal(on.body.disabled_reason, null);
      await runUntil(h, clock, clock.now());
      assert.equal(sender.sent.length, 7);
      assert.equal((await readDelivery(h, failing)).state, "succeeded");
      assert.equal((await readDelivery(h, queued)).state, "succeeded");
    },
  );
});

Deno.test("auto-disable: a success resets the failing time", async () => {
  const clock = new FakeClock(START);
  const sender = new ScriptedSender(clock);
  const toml = policyToml("3h");
  await withEngine({ clock, sender, rng: seededRng(2), configToml: toml }, async (h) => {
    const hook = (await h.api("POST", "/api/v1/webhooks", { url: "http://127.0.0.1:9/a" })).body;
    const first = await h.api("POST", "/api/v1/events", { type: "t", data: { n: 1 } });
    const failing = first.body.deliveries[0].id as string;
    await h.settle();
    await runNextAttempt(h, clock, failing);
    await runNextAttempt(h, clock, failing);
    // At 2h30m another event gets through: the webhook is healthy again.
    clock.advanceTo(START + 2.5 * HOUR);
    sender.script.push(200);
    await h.api("POST", "/api/v1/events", { type: "t", data: { n: 2 } });
    await h.settle();
    assert.equal(sender.sent.length, 4);
    // Failing again from about 3h: 2h later (at about 5h) still enabled; 3h later disabled.
    for (const attempt of [4, 5, 6]) {
      await runNextAttempt(h, clock, failing);
      assert.equal((await webhookState(h, hook.id)).state, "enabled", `after attempt ${attempt}`);
    }
    await runNextAttempt(h, clock, failing);
    assert.equal((await webhookState(h, hook.id)).state, "disabled");
  });
});

Deno.test("auto-disable: a status listed in disable_on_status disables at once", async () => {
  const clock = new FakeClock(START);
  const sender = new ScriptedSender(clock);
  // The built-in policy: 410 disables, every failure is retried.
  await withEngine({ clock, sender, rng: seededRng(3) }, async (h) => {
    const hook = (await h.api("POST", "/api/v1/webhooks", { url: "http://127.0.0.1:9/a" })).body;
    const other = (await h.api("POST", "/api/v1/webhooks", { url: "http://127.0.0.1:9/b" })).body;
    sender.script.push(500, 500);
    await h.api("POST", "/api/v1/events", { type: "t", data: { n: 1 } });
    await h.settle();
    assert.equal((await webhookState(h, hook.id)).state, "enabled", "a 500 does not disable");
    sender.script.push(410, 200);
    const gone = await h.api("POST", "/api/v1/events", { type: "t", data: { n: 2 } });
    await h.settle();
    const states = await Promise.all([hook.id, other.id].map((id) => webhookState(h, id)));
    const byWebhook = new Map<string, string>();
    for (const d of gone.body.deliveries as { id: string; webhook_id: string }[]) {
      byWebhook.set(d.webhook_id, (await readDelivery(h, d.id)).state);
    }
    // Fan-out goes in webhook id order: the first webhook got the 410.
    assert.equal(states[0]!.state, "disabled");
    assert.match(states[0]!.disabled_reason!, /HTTP 410.*disable_on_status/);
    assert.equal(states[1]!.state, "enabled", "another webhook is not affected");
    assert.equal(byWebhook.get(hook.id), "held");
    assert.equal(byWebhook.get(other.id), "succeeded");
  });
});

Deno.test("auto-disable: N deliveries in a row ending without success; one success resets", async () => {
  const clock = new FakeClock(START);
  const sender = new ScriptedSender(clock);
  const toml = `[policies.default]
schedule = ["0s"]
disable_after_failing_for = "never"
disable_on_status = []
disable_after_exhausted = 3
`;
  await withEngine({ clock, sender, rng: seededRng(4), configToml: toml }, async (h) => {
    const hook = (await h.api("POST", "/api/v1/webhooks", { url: "http://127.0.0.1:9/a" })).body;
    const post = async (n: number) => {
      await h.api("POST", "/api/v1/events", { type: "t", data: { n } });
      await h.settle();
    };
    sender.script.push(500, 500, 200, 500, 500);
    for (const n of [1, 2, 3, 4, 5]) await post(n);
    assert.equal((await webhookState(h, hook.id)).state, "enabled", "2 in a row since the success");
    sender.script.push(500);
    await post(6);
    const state = await webhookState(h, hook.id);
    assert.equal(state.state, "disabled");
    assert.match(state.disabled_reason!, /3 deliveries in a row.*disable_after_exhausted/);
    const held = await h.api("POST", "/api/v1/events", { type: "t", data: { n: 7 } });
    assert.deepEqual(held.body.deliveries, [], "a disabled webhook gets no new deliveries");
  });
});
