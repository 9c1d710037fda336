/**
 * Seed 000 (HI Platform), end to end with examples/000-hi-platform/hookd.toml:
 * headers, signature, body, "only 2xx succeeds", every failure retried, the
 * 10-attempt exponential schedule with a small random offset, then `failed`.
 */
import assert from "node:assert/strict";
import { systemClock } from "../../src/clock.ts";
import { FakeClock } from "../../src/testing/fake_clock.ts";
import { loadConfig } from "../../src/config/load_config.ts";
import { withEngine } from "../../src/testing/engine_harness.ts";
import { startReceiver } from "../../src/testing/receiver.ts";
import {
  exampleToml,
  gapsOf,
  header,
  headerNames,
  hmacHex,
  HOUR,
  MINUTE,
  readDelivery,
  runSchedule,
  type Scripted,
  ScriptedSender,
  START,
  TICK,
  UUID,
} from "./_helpers.ts";
import { seededRng } from "../../src/testing/seeded_rng.ts";

const SEED = "000-hi-platform";
const TOML = exampleToml(SEED);
const DATA = { participation_id: "p_1", score: 0.75, name: "Zoë ✓", tags: ["a", "b"] };

Deno.test("000: the example loads", () => {
  const config = loadConfig({ file: `examples/${SEED}/hookd.toml` });
  assert.equal(config.policies.default!.timeoutMs, 5_000);
  assert.equal(config.policies.default!.onExhausted, "failed");
});

Deno.test("000: every failure is retried: 10 attempts, 5m x2 with a small offset, then failed", async () => {
  const clock = new FakeClock(START);
  const sender = new ScriptedSender(clock);
  // Every kind of failure, one per attempt: all are retried, none is final.
  const script: Scripted[] = [503, 404, 302, 301, 400, "timeout", "connect", "dns", 410, "reset"];
  sender.script.push(...script);
  await withEngine({ clock, sender, rng: seededRng(7), configToml: TOML }, async (h) => {
    const hook = await h.api("POST", "/api/v1/webhooks", { url: "http://127.0.0.1:9/hook" });
    assert.equal(hook.status, 201);
    const secret = hook.body.secret as string;
    const event = await h.api("POST", "/api/v1/events", {
      id: "evt_000",
      type: "assessment.completed",
      data: DATA,
    });
    assert.equal(event.status, 202);
    const id = event.body.deliveries[0].id as string;
    assert.match(id, UUID);

    const final = await runSchedule(h, clock, sender, id);
    assert.equal(final.state, "failed");
    assert.equal(final.attempt_count, 10);
    assert.equal(final.next_attempt_at, null);
    assert.equal(sender.sent.length, 10);
    assert.deepEqual(
      final.attempts.map((a: { response_status: number | null }) => a.response_status),
      [503, 404, 302, 301, 400, null, null, null, 410, null],
    );
    assert.deepEqual(
      final.attempts.map((a: { error_kind: string }) => a.error_kind),
      [
        "status",
        "status",
        "redirect",
        "redirect",
        "status",
        "timeout",
        "connect",
        "dns",
        "status",
        "reset",
      ],
    );

    // Delay since the previous attempt: ~5m, 10m, 20m, ... ~21h20m, each within +-5%.
    const gaps = gapsOf(sender);
    assert.equal(gaps.length, 9);
    gaps.forEach((gap, i) => {
      const base = 5 * MINUTE * 2 ** i;
      assert.ok(
        gap >= base * 0.95 && gap <= base * 1.05 + TICK,
        `gap before attempt ${i + 2}: ${gap} vs ${base}`,
      );
    });
    assert.ok(
      Math.abs(gaps[8]! - (21 * HOUR + 20 * MINUTE)) <= 0.05 * (21 * HOUR + 20 * MINUTE) + TICK,
    );
    // The offset is really random (seeded, so this is stable), not a fixed delay.
    assert.ok(gaps.some((gap, i) => Math.abs(gap - 5 * MINUTE * 2 ** i) > 1_000));
    const total = sender.sent[9]!.at - sender.sent[0]!.at;
    assert.ok(
      total > 40 * HOUR && total < 45 * HOUR,
      `total ${total / HOUR} h, "roughly 42 hours"`,
    );

    // Every request: exactly the four headers, a stable delivery id, a fresh signed timestamp.
    for (const { at, request } of sender.sent) {
      assert.deepEqual(headerNames(request), [
        "x-webhook-delivery-id",
        "x-webhook-event",
        "x-webhook-signature",
        "x-webhook-timestamp",
      ]);
      assert.equal(request.body, JSON.stringify(DATA));
      assert.equal(header(request, "X-Webhook-Event"), "assessment.completed");
      assert.equal(header(request, "X-Webhook-Delivery-Id"), id);
      const timestamp = header(request, "X-Webhook-Timestamp")!;
      assert.match(timestamp, /^\d{10}$/);
      assert.equal(Number(timestamp), Math.floor(at / 1000));
      const signature = header(request, "X-Webhook-Signature")!;
      assert.match(signature, /^[0-9a-f]{64}$/);
      assert.equal(signature, hmacHex(secret, `${timestamp}.${request.body}`));
      assert.equal(request.timeoutMs, 5_000);
    }

    // Nothing more, however long we wait.
    clock.advance(72 * HOUR);
    await h.engine.refill();
    await h.settle();
    assert.equal(sender.sent.length, 10);
    assert.equal((await h.api("GET", "/api/v1/dead-letters")).body.data.length, 0);
  });
});

Deno.test("000: any 2xx succeeds at once; a 4xx is retried and a later 2xx succeeds", async () => {
  const clock = new FakeClock(START);
  const sender = new ScriptedSender(clock);
  await withEngine({ clock, sender, rng: seededRng(1), configToml: TOML }, async (h) => {
    await h.api("POST", "/api/v1/webhooks", { url: "http://127.0.0.1:9/hook" });
    for (const status of [200, 202, 204, 299]) {
      sender.script.push(status);
      const event = await h.api("POST", "/api/v1/events", { type: "t.ok", data: { status } });
      const final = await runSchedule(h, clock, sender, event.body.deliveries[0].id);
      assert.equal(final.state, "succeeded", `${status}`);
      assert.equal(final.attempt_count, 1);
    }
    sender.script.push(401, 307, 200);
    const event = await h.api("POST", "/api/v1/events", { type: "t.retry", data: {} });
    const final = await runSchedule(h, clock, sender, event.body.deliveries[0].id);
    assert.equal(final.state, "succeeded");
    assert.deepEqual(final.attempts.map((a: { response_status: number }) => a.response_status), [
      401,
      307,
      200,
    ]);
  });
});

Deno.test("000: deleting the webhook cancels pending deliveries; they are never sent", async () => {
  const clock = new FakeClock(START);
  const sender = new ScriptedSender(clock);
  await withEngine({ clock, sender, rng: seededRng(2), configToml: TOML }, async (h) => {
    const hook = await h.api("POST", "/api/v1/webhooks", { url: "http://127.0.0.1:9/hook" });
    const event = await h.api("POST", "/api/v1/events", { type: "t", data: {} });
    const id = event.body.deliveries[0].id as string;
    await h.settle();
    assert.equal(sender.sent.length, 1);
    assert.equal((await readDelivery(h, id)).state, "pending");
    assert.equal((await h.api("DELETE", `/api/v1/webhooks/${hook.body.id}`)).status, 204);
    clock.advance(48 * HOUR);
    await h.engine.refill();
    clock.advance(TICK);
    await h.settle();
    assert.equal(sender.sent.length, 1);
    assert.equal((await readDelivery(h, id)).state, "cancelled");
  });
});

Deno.test("000: on the wire: Content-Type application/json, a signature a receiver verifies", async () => {
  await using receiver = await startReceiver();
  await withEngine({ clock: systemClock, configToml: TOML }, async (h) => {
    const hook = await h.api("POST", "/api/v1/webhooks", { url: `${receiver.url}/hi` });
    const event = await h.api("POST", "/api/v1/events", {
      type: "participation.completed",
      data: DATA,
    });
    const [request] = await receiver.waitForRequests(1);
    const r = request!;
    assert.equal(r.method, "POST");
    assert.equal(r.path, "/hi");
    assert.equal(r.headers["content-type"], "application/json");
    assert.equal(r.body, JSON.stringify(DATA));
    assert.equal(r.headers["x-webhook-event"], "participation.completed");
    assert.equal(r.headers["x-webhook-delivery-id"], event.body.deliveries[0].id);
    const timestamp = r.headers["x-webhook-timestamp"]!;
    assert.ok(Math.abs(Number(timestamp) - Date.now() / 1000) < 30, "a current unix timestamp");
    assert.equal(
      r.headers["x-webhook-signature"],
      hmacHex(hook.body.secret, `${timestamp}.${r.body}`),
    );
    await h.until(async () =>
      (await readDelivery(h, event.body.deliveries[0].id)).state === "succeeded"
    );
  });
});
