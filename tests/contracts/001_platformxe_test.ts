/**
 * Seed 001 (PlatformXe), end to end with examples/001-platformxe/hookd.toml:
 * a signing secret generated at creation, Standard Webhooks signatures with a
 * signed timestamp, 8 attempts at the published delays, then the dead-letter
 * queue and a manual replay that delivers.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createHmac } from "node:crypto";
import { Webhook } from "standardwebhooks";
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
  SECOND,
  START,
  TICK,
} from "./_helpers.ts";
import { seededRng } from "../../src/testing/seeded_rng.ts";

const SEED = "001-platformxe";
const TOML = exampleToml(SEED);
const DATA = { email_id: "em_1", to: "a@example.com", subject: "Grüße" };
/** The table's "Delay" column: the wait before each attempt since the previous one. */
const DELAYS = [
  30 * SECOND,
  2 * MINUTE,
  10 * MINUTE,
  30 * MINUTE,
  1 * HOUR,
  4 * HOUR,
  12 * HOUR,
];

/** Standard Webhooks verification written here with node:crypto, not hookd's code. */
function verifyStandard(secret: string, request: SendRequest): void {
  const id = request.headers["webhook-id"]!;
  const timestamp = request.headers["webhook-timestamp"]!;
  const key = Buffer.from(secret.slice("whsec_".length), "base64");
  const expected = createHmac("sha256", key).update(`${id}.${timestamp}.${request.body}`)
    .digest("base64");
  const signatures = request.headers["webhook-signature"]!.split(" ");
  assert.ok(signatures.includes(`v1,${expected}`), "the signature verifies");
}

Deno.test("001: the example loads", () => {
  const config = loadConfig({ file: `examples/${SEED}/hookd.toml` });
  assert.equal(config.policies.default!.timeoutMs, 10_000);
  assert.equal(config.policies.default!.onExhausted, "dead");
});

Deno.test("001: 8 attempts at 0, 30s, 2m, 10m, 30m, 1h, 4h, 12h, then dead; a replay delivers", async () => {
  const clock = new FakeClock(START);
  const sender = new ScriptedSender(clock);
  // Timeouts and every non-2xx are failures that retry.
  sender.script.push(500, 302, 404, "timeout", 429, "connect", 400, 503);
  await withEngine({ clock, sender, rng: seededRng(3), configToml: TOML }, async (h) => {
    const hook = await h.api("POST", "/api/v1/webhooks", {
      url: "http://127.0.0.1:9/hook",
      event_types: ["email.sent", "file.*"],
    });
    assert.equal(hook.status, 201);
    // The secret is generated on creation and shown once.
    const secret = hook.body.secret as string;
    assert.match(secret, /^whsec_[A-Za-z0-9+/]+={0,2}$/);
    assert.ok(Buffer.from(secret.slice(6), "base64").length >= 24);
    assert.equal((await h.api("GET", `/api/v1/webhooks/${hook.body.id}`)).body.secret, undefined);

    // Event-based subscriptions: an unsubscribed type creates no delivery.
    const other = await h.api("POST", "/api/v1/events", { type: "permission.changed", data: {} });
    assert.deepEqual(other.body.deliveries, []);

    const event = await h.api("POST", "/api/v1/events", {
      id: "evt_001",
      type: "email.sent",
      data: DATA,
    });
    const id = event.body.deliveries[0].id as string;
    const dead = await runSchedule(h, clock, sender, id);
    assert.equal(dead.state, "dead");
    assert.equal(dead.attempt_count, 8);
    assert.equal(sender.sent.length, 8);
    assert.deepEqual(
      dead.attempts.map((a: { error_kind: string }) => a.error_kind),
      ["status", "redirect", "status", "timeout", "status", "connect", "status", "status"],
    );

    // Exact delays (no jitter), each counted from the previous attempt.
    gapsOf(sender).forEach((gap, i) => {
      assert.ok(
        gap >= DELAYS[i]! && gap <= DELAYS[i]! + TICK,
        `gap ${i + 2}: ${gap} vs ${DELAYS[i]}`,
      );
    });
    const span = sender.sent[7]!.at - sender.sent[0]!.at;
    const sum = DELAYS.reduce((a, b) => a + b, 0);
    assert.equal(sum, 17 * HOUR + 42 * MINUTE + 30 * SECOND);
    assert.ok(span >= sum && span <= sum + 7 * TICK);

    for (const { at, request } of sender.sent) {
      assert.deepEqual(headerNames(request), [
        "webhook-id",
        "webhook-signature",
        "webhook-timestamp",
      ]);
      assert.equal(request.headers["webhook-id"], "evt_001");
      // Replay protection: the timestamp of this attempt, inside the signed content.
      assert.equal(request.headers["webhook-timestamp"], String(Math.floor(at / 1000)));
      assert.match(request.headers["webhook-signature"]!, /^v1,[A-Za-z0-9+/]{43}=$/);
      assert.equal(request.body, JSON.stringify(DATA));
      assert.equal(request.timeoutMs, 10_000);
      verifyStandard(secret, request);
    }

    // Dead-lettered; nothing more goes out by itself.
    clock.advance(72 * HOUR);
    await h.engine.refill();
    await h.settle();
    assert.equal(sender.sent.length, 8);
    const letters = await h.api("GET", "/api/v1/dead-letters");
    assert.deepEqual(letters.body.data.map((d: { id: string }) => d.id), [id]);

    // Manual replay once the endpoint is fixed.
    sender.fallback = 200;
    const replay = await h.api("POST", "/api/v1/dead-letters/replay", { webhook_id: hook.body.id });
    assert.equal(replay.status, 200);
    assert.deepEqual(replay.body, { replayed: 1 });
    await h.engine.refill();
    clock.advance(TICK);
    await h.settle();
    assert.equal(sender.sent.length, 9);
    const replayed = sender.sent[8]!;
    assert.equal(replayed.request.headers["webhook-id"], "evt_001");
    assert.equal(replayed.request.body, JSON.stringify(DATA));
    verifyStandard(secret, replayed.request);
    const delivered = await readDelivery(h, id);
    assert.equal(delivered.state, "succeeded");
    assert.equal(delivered.attempt_count, 9);
    assert.equal(delivered.attempts[8].trigger, "manual");
    assert.equal(delivered.attempts[8].response_status, 200);
    assert.equal((await h.api("GET", "/api/v1/dead-letters")).body.data.length, 0);
  });
});

Deno.test("001: any 2xx acknowledges the first attempt", async () => {
  const clock = new FakeClock(START);
  const sender = new ScriptedSender(clock);
  await withEngine({ clock, sender, configToml: TOML }, async (h) => {
    await h.api("POST", "/api/v1/webhooks", { url: "http://127.0.0.1:9/hook" });
    for (const status of [200, 201, 204]) {
      sender.script.push(status);
      const event = await h.api("POST", "/api/v1/events", { type: "file.uploaded", data: {} });
      const final = await runSchedule(h, clock, sender, event.body.deliveries[0].id);
      assert.equal(final.state, "succeeded");
      assert.equal(final.attempt_count, 1);
    }
  });
});

Deno.test("001: on the wire, the standardwebhooks library verifies the request", async () => {
  await using receiver = await startReceiver();
  await withEngine({ clock: systemClock, configToml: TOML }, async (h) => {
    const hook = await h.api("POST", "/api/v1/webhooks", { url: `${receiver.url}/xe` });
    await h.api("POST", "/api/v1/events", { id: "evt_wire", type: "email.sent", data: DATA });
    const [request] = await receiver.waitForRequests(1);
    const r = request!;
    assert.equal(r.headers["content-type"], "application/json");
    const payload = new Webhook(hook.body.secret).verify(r.body, {
      "webhook-id": r.headers["webhook-id"]!,
      "webhook-timestamp": r.headers["webhook-timestamp"]!,
      "webhook-signature": r.headers["webhook-signature"]!,
    });
    assert.deepEqual(payload, DATA);
    // A replayed (old) timestamp is refused by the receiver's library.
    assert.throws(() =>
      new Webhook(hook.body.secret).verify(r.body, {
        "webhook-id": r.headers["webhook-id"]!,
        "webhook-timestamp": String(Math.floor(Date.now() / 1000) - 3600),
        "webhook-signature": r.headers["webhook-signature"]!,
      })
    );
  });
});
