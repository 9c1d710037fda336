/**
 * Seed 004 (InfraAudit), end to end with examples/004-infraaudit/hookd.toml:
 * 2xx succeeds; 4xx, 5xx, timeouts, refused connections and DNS failures are
 * retried 5m, 30m and 2h after the previous attempt, then `failed`;
 * `delivery_id` in the payload; `PUT {"enabled": false}` suppresses
 * deliveries: events that fire while disabled are never delivered, even
 * after re-enabling; what was accepted before is held and goes out after it
 * (or is cancelled by an explicit operator act).
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createHmac } from "node:crypto";
import { systemClock } from "../../src/clock.ts";
import { FakeClock } from "../../src/testing/fake_clock.ts";
import { loadConfig } from "../../src/config/load_config.ts";
import type { SendRequest } from "../../src/delivery/sender.ts";
import { withEngine } from "../../src/testing/engine_harness.ts";
import { startReceiver } from "../../src/testing/receiver.ts";
import {
  exampleToml,
  gapsOf,
  headerNames,
  HOUR,
  MINUTE,
  readDelivery,
  runSchedule,
  ScriptedSender,
  START,
  TICK,
  UUID,
} from "./_helpers.ts";
import { seededRng } from "../../src/testing/seeded_rng.ts";
import { CLOSED_PORT } from "../../src/testing/closed_port.ts";

const SEED = "004-infraaudit";
const TOML = exampleToml(SEED);
const DATA = { drift_id: "d_9", resource: "aws_s3_bucket.logs", severity: "high" };
const OCCURRED = "2026-11-23T08:59:30.000Z";

function verifyStandard(secret: string, request: SendRequest): void {
  const key = Buffer.from(secret.slice("whsec_".length), "base64");
  const content = `${request.headers["webhook-id"]}.${
    request.headers["webhook-timestamp"]
  }.${request.body}`;
  const expected = `v1,${createHmac("sha256", key).update(content).digest("base64")}`;
  assert.ok(request.headers["webhook-signature"]!.split(" ").includes(expected), "signature");
}

Deno.test("004: the example loads", () => {
  const config = loadConfig({ file: `examples/${SEED}/hookd.toml` });
  assert.equal(config.policies.default!.timeoutMs, 10_000);
  assert.equal(config.policies.default!.onExhausted, "failed");
});

Deno.test("004: 4 attempts at 0, +5m, +30m, +2h, then failed; delivery_id in every payload", async () => {
  const clock = new FakeClock(START);
  const sender = new ScriptedSender(clock);
  sender.script.push(401, 500, "timeout", "connect");
  await withEngine({ clock, sender, rng: seededRng(8), configToml: TOML }, async (h) => {
    const hook = await h.api("POST", "/api/v1/webhooks", { url: "http://127.0.0.1:9/ia" });
    const event = await h.api("POST", "/api/v1/events", {
      id: "evt_004",
      type: "drift.detected",
      occurred_at: OCCURRED,
      data: DATA,
    });
    const id = event.body.deliveries[0].id as string;
    assert.match(id, UUID);
    const final = await runSchedule(h, clock, sender, id);
    assert.equal(final.state, "failed");
    assert.equal(final.attempt_count, 4);
    assert.deepEqual(
      final.attempts.map((a: { error_kind: string }) => a.error_kind),
      ["status", "status", "timeout", "connect"],
    );
    const expected = [5 * MINUTE, 30 * MINUTE, 2 * HOUR];
    gapsOf(sender).forEach((gap, i) => {
      assert.ok(gap >= expected[i]! && gap <= expected[i]! + TICK, `gap ${i + 2}: ${gap}`);
    });
    const span = sender.sent[3]!.at - sender.sent[0]!.at;
    assert.ok(span >= 2 * HOUR + 35 * MINUTE && span <= 2 * HOUR + 35 * MINUTE + 3 * TICK);

    const body = JSON.stringify({
      delivery_id: id,
      event_id: "evt_004",
      event_type: "drift.detected",
      occurred_at: OCCURRED,
      data: DATA,
    });
    for (const { at, request } of sender.sent) {
      assert.equal(request.body, body, "the same payload with the same delivery_id every time");
      assert.deepEqual(headerNames(request), [
        "webhook-id",
        "webhook-signature",
        "webhook-timestamp",
      ]);
      assert.equal(request.headers["webhook-timestamp"], String(Math.floor(at / 1000)));
      assert.equal(request.timeoutMs, 10_000);
      verifyStandard(hook.body.secret, request);
    }
    clock.advance(48 * HOUR);
    await h.engine.refill();
    await h.settle();
    assert.equal(sender.sent.length, 4, "no further retries");
    assert.equal((await h.api("GET", "/api/v1/dead-letters")).body.data.length, 0);

    // The delivery history lists it with its attempts' statuses.
    const history = await h.api("GET", `/api/v1/webhooks/${hook.body.id}/deliveries`);
    assert.deepEqual(history.body.data.map((d: { id: string; state: string }) => [d.id, d.state]), [
      [id, "failed"],
    ]);
  });
});

Deno.test("004: any 2xx succeeds; DNS failures, 3xx and 404 are retried", async () => {
  const clock = new FakeClock(START);
  const sender = new ScriptedSender(clock);
  await withEngine({ clock, sender, rng: seededRng(8), configToml: TOML }, async (h) => {
    await h.api("POST", "/api/v1/webhooks", { url: "http://127.0.0.1:9/ia" });
    for (const status of [200, 202, 204]) {
      sender.script.push(status);
      const event = await h.api("POST", "/api/v1/events", { type: "t", data: {} });
      const d = await runSchedule(h, clock, sender, event.body.deliveries[0].id);
      assert.equal(d.state, "succeeded");
      assert.equal(d.attempt_count, 1);
    }
    sender.script.push("dns", 404, 302, 200);
    const event = await h.api("POST", "/api/v1/events", { type: "t", data: {} });
    const d = await runSchedule(h, clock, sender, event.body.deliveries[0].id);
    assert.equal(d.state, "succeeded");
    assert.equal(d.attempt_count, 4);
  });
});

Deno.test("004: disabling holds what was pending; events while disabled are never delivered", async () => {
  const clock = new FakeClock(START);
  const sender = new ScriptedSender(clock);
  await withEngine({ clock, sender, rng: seededRng(8), configToml: TOML }, async (h) => {
    const hook = await h.api("POST", "/api/v1/webhooks", { url: "http://127.0.0.1:9/ia" });
    const hookId = hook.body.id as string;
    const before = await h.api("POST", "/api/v1/events", {
      type: "drift.detected",
      data: { n: 1 },
    });
    const heldId = before.body.deliveries[0].id as string;
    await h.settle();
    assert.equal(sender.sent.length, 1);
    assert.equal((await readDelivery(h, heldId)).state, "pending");

    const off = await h.api("PUT", `/api/v1/webhooks/${hookId}`, { enabled: false });
    assert.equal(off.status, 200);
    assert.equal(off.body.state, "disabled");
    assert.equal(off.body.disabled_at, new Date(clock.now()).toISOString());
    assert.equal((await readDelivery(h, heldId)).state, "held");
    const during = await h.api("POST", "/api/v1/events", {
      type: "drift.detected",
      data: { n: 2 },
    });
    assert.equal(during.status, 202);
    assert.deepEqual(during.body.deliveries, []);
    // Longer than the whole schedule (5m + 30m + 2h): a hold spends none of it.
    clock.advance(3 * HOUR);
    await h.engine.refill();
    clock.advance(TICK);
    await h.settle();
    assert.equal(sender.sent.length, 1, "nothing is sent while disabled");
    assert.equal((await readDelivery(h, heldId)).state, "held");

    sender.fallback = 200;
    const on = await h.api("PUT", `/api/v1/webhooks/${hookId}`, { enabled: true });
    assert.equal(on.body.state, "enabled");
    assert.equal(on.body.disabled_at, null);
    await h.engine.refill();
    clock.advance(TICK);
    await h.settle();
    assert.equal(sender.sent.length, 2, "the held delivery goes out once enabled");
    assert.equal(JSON.parse(sender.last().body).data.n, 1);
    const held = await readDelivery(h, heldId);
    assert.equal(held.state, "succeeded");
    assert.equal(held.attempt_count, 2);
    clock.advance(3 * HOUR);
    await h.engine.refill();
    clock.advance(TICK);
    await h.settle();
    assert.equal(sender.sent.length, 2, "nothing from the disabled window is replayed");

    const after = await h.api("POST", "/api/v1/events", { type: "drift.detected", data: { n: 3 } });
    const d = await runSchedule(h, clock, sender, after.body.deliveries[0].id);
    assert.equal(d.state, "succeeded");
    assert.equal(sender.sent.length, 3);
    assert.equal(JSON.parse(sender.last().body).data.n, 3);
  });
});

Deno.test("004: an operator may cancel what a disabled webhook holds instead", async () => {
  const clock = new FakeClock(START);
  const sender = new ScriptedSender(clock);
  sender.fallback = 200;
  await withEngine({ clock, sender, rng: seededRng(8), configToml: TOML }, async (h) => {
    const hook = await h.api("POST", "/api/v1/webhooks", { url: "http://127.0.0.1:9/ia" });
    const hookId = hook.body.id as string;
    await h.api("PUT", `/api/v1/webhooks/${hookId}`, { state: "paused" });
    const ids: string[] = [];
    for (const n of [1, 2]) {
      const e = await h.api("POST", "/api/v1/events", { type: "drift.detected", data: { n } });
      ids.push(e.body.deliveries[0].id as string);
    }
    await h.api("PUT", `/api/v1/webhooks/${hookId}`, { enabled: false });
    const cancel = await h.api("POST", `/api/v1/webhooks/${hookId}/cancel-held`);
    assert.equal(cancel.status, 200);
    assert.deepEqual(cancel.body, { cancelled: 2 });
    for (const id of ids) assert.equal((await readDelivery(h, id)).state, "cancelled");
    await h.api("PUT", `/api/v1/webhooks/${hookId}`, { enabled: true });
    await h.engine.refill();
    clock.advance(TICK);
    await h.settle();
    assert.equal(sender.sent.length, 0, "cancelled deliveries are never sent");
    const missing = await h.api("POST", "/api/v1/webhooks/nope/cancel-held");
    assert.equal(missing.status, 404);
  });
});

Deno.test("004: on the wire: JSON with delivery_id, Content-Type application/json", async () => {
  await using receiver = await startReceiver();
  await withEngine({ clock: systemClock, configToml: TOML }, async (h) => {
    await h.api("POST", "/api/v1/webhooks", { url: `${receiver.url}/ia` });
    const event = await h.api("POST", "/api/v1/events", {
      id: "evt_wire",
      type: "drift.detected",
      occurred_at: OCCURRED,
      data: DATA,
    });
    const [request] = await receiver.waitForRequests(1);
    const r = request!;
    assert.equal(r.headers["content-type"], "application/json");
    assert.deepEqual(JSON.parse(r.body), {
      delivery_id: event.body.deliveries[0].id,
      event_id: "evt_wire",
      event_type: "drift.detected",
      occurred_at: OCCURRED,
      data: DATA,
    });
  });
});

Deno.test("004: on the wire: a refused connection is a failure retried 5 minutes later", async () => {
  const port = CLOSED_PORT; // nothing listens there: the connection is refused
  await withEngine({ clock: systemClock, configToml: TOML }, async (h) => {
    await h.api("POST", "/api/v1/webhooks", { url: `http://127.0.0.1:${port}/ia` });
    const event = await h.api("POST", "/api/v1/events", { type: "drift.detected", data: DATA });
    const id = event.body.deliveries[0].id as string;
    let delivery = await readDelivery(h, id);
    await h.until(async () => {
      delivery = await readDelivery(h, id);
      return delivery.attempt_count === 1;
    });
    assert.equal(delivery.state, "pending");
    assert.equal(delivery.attempts[0].error_kind, "connect");
    const wait = Date.parse(delivery.next_attempt_at) - Date.parse(delivery.attempts[0].started_at);
    assert.ok(wait >= 5 * MINUTE && wait <= 5 * MINUTE + 5_000, `${wait}`);
  });
});
