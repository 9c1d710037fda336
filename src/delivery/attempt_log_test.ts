/**
 * The attempt line, driven through the real engine in virtual time: every
 * field seed 002 recommends, for a success, a retry, a dead letter and a
 * manual retry, and the dead-letter warning with what to do.
 */
import assert from "node:assert/strict";
import { START } from "../testing/api_harness.ts";
import { withEngine } from "../testing/engine_harness.ts";
import { FakeClock } from "../testing/fake_clock.ts";
import { captureLogs } from "../testing/log_capture.ts";
import type { AttemptResult, AttemptTransport, SendRequest } from "./sender.ts";

/** Answers by path: `/ok` 200 and anything else 503 unless `healed`; each answer takes 12 ms. */
class PathSender implements AttemptTransport {
  healed = false;
  send(request: SendRequest): Promise<AttemptResult> {
    const status = request.url.endsWith("/ok") || this.healed ? 200 : 503;
    return Promise.resolve({
      outcome: { kind: "response", status },
      status,
      responseHeaders: { "set-cookie": "receiver-session-secret" },
      responseBody: "receiver body secret",
      durationMs: 12.4,
      errorMessage: null,
    });
  }
}

const CONFIG = `
[policies.default]
schedule = ["0s", "10s"]
jitter = 0
`;

const iso = (ms: number) => new Date(ms).toISOString();

Deno.test("every attempt logs seed 002's fields at info: succeeded, retry, dead, manual", async () => {
  const clock = new FakeClock(START);
  const sender = new PathSender();
  const logs = captureLogs("info", () => clock.now());
  await withEngine({ clock, sender, configToml: CONFIG, log: logs.log }, async (h) => {
    const ok = (await h.api("POST", "/api/v1/webhooks", { url: "http://127.0.0.1:9/ok" })).body;
    const down = (await h.api("POST", "/api/v1/webhooks", {
      url: "http://127.0.0.1:9/down",
      event_types: ["order.*"],
    })).body;
    const sent = await h.api("POST", "/api/v1/events", {
      id: "evt_1",
      type: "order.created",
      data: { card: "4111 1111 1111 1111" },
    });
    const byWebhook = new Map<string, string>(
      sent.body.deliveries.map((d: { webhook_id: string; id: string }) => [d.webhook_id, d.id]),
    );
    const okDelivery = byWebhook.get(ok.id)!;
    const downDelivery = byWebhook.get(down.id)!;
    await h.settle();

    const first = logs.withMessage("attempt");
    assert.equal(first.length, 2, logs.text());
    const line = (deliveryId: string, n: number) =>
      logs.withMessage("attempt").find((e) => e.delivery_id === deliveryId && e.attempt === n);
    /** The attempts as stored: the log must say what the store says. */
    const stored = async (deliveryId: string) =>
      (await h.api("GET", `/api/v1/deliveries/${deliveryId}`)).body.attempts as {
        id: string;
        started_at: string;
      }[];

    const [okAttempt] = await stored(okDelivery);
    assert.deepEqual(line(okDelivery, 1), {
      time: iso(START),
      level: "info",
      msg: "attempt",
      event_id: "evt_1",
      event_type: "order.created",
      delivery_id: okDelivery,
      attempt_id: okAttempt!.id,
      attempt: 1,
      webhook_id: ok.id,
      attempted_at: iso(START),
      status: 200,
      error_kind: null,
      duration_ms: 12,
      outcome: "succeeded",
      next_attempt_at: null,
      trigger: "scheduled",
    });
    const [downAttempt1] = await stored(downDelivery);
    assert.deepEqual(line(downDelivery, 1), {
      time: iso(START),
      level: "info",
      msg: "attempt",
      event_id: "evt_1",
      event_type: "order.created",
      delivery_id: downDelivery,
      attempt_id: downAttempt1!.id,
      attempt: 1,
      webhook_id: down.id,
      attempted_at: iso(START),
      status: 503,
      error_kind: "status",
      duration_ms: 12,
      outcome: "retry",
      next_attempt_at: iso(START + 10_000),
      trigger: "scheduled",
    });

    // The last attempt of the schedule fails too: dead, with a warning that says what to do.
    clock.advanceTo(START + 10_000);
    await h.engine.refill();
    clock.advance(10);
    await h.settle();
    const [, downAttempt2] = await stored(downDelivery);
    // Virtual time stands still during the attempt: logged when it started.
    const attemptedAt = downAttempt2!.started_at;
    assert.ok(Date.parse(attemptedAt) >= START + 10_000, attemptedAt);
    assert.deepEqual(line(downDelivery, 2), {
      time: attemptedAt,
      level: "info",
      msg: "attempt",
      event_id: "evt_1",
      event_type: "order.created",
      delivery_id: downDelivery,
      attempt_id: downAttempt2!.id,
      attempt: 2,
      webhook_id: down.id,
      attempted_at: attemptedAt,
      status: 503,
      error_kind: "status",
      duration_ms: 12,
      outcome: "dead",
      next_attempt_at: null,
      trigger: "scheduled",
    });
    const [dead] = logs.withMessage("delivery dead-lettered: its retries are exhausted");
    assert.equal(dead?.level, "warn");
    assert.equal(dead.delivery_id, downDelivery);
    assert.equal(dead.event_id, "evt_1");
    assert.equal(dead.webhook_id, down.id);
    assert.equal(dead.attempts, 2);
    assert.match(String(dead.action), /hookd replay --webhook ID/);
    assert.match(String(dead.action), /POST \/api\/v1\/dead-letters\/replay/);

    // A manual retry is an attempt like any other, with its trigger.
    sender.healed = true;
    assert.equal((await h.api("POST", `/api/v1/deliveries/${downDelivery}/retry`)).status, 202);
    clock.advance(10); // one wheel tick
    await h.settle();
    assert.equal(line(downDelivery, 3)?.outcome, "succeeded", logs.text());
    assert.equal(line(downDelivery, 3)?.trigger, "manual");
    assert.equal(line(downDelivery, 3)?.status, 200);

    // Never headers or bodies, the event's or the receiver's.
    for (const secret of ["4111", "receiver-session-secret", "receiver body secret"]) {
      assert.ok(!logs.text().includes(secret), `${secret} reached the log`);
    }
  });
});
