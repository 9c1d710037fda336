/**
 * The retry schedule in virtual time: a fake clock and a scripted sender run
 * the default policy's 8 attempts (about 33 hours) in milliseconds.
 */
import assert from "node:assert/strict";
import { FakeClock } from "../testing/fake_clock.ts";
import { START } from "../testing/api_harness.ts";
import { withEngine } from "../testing/engine_harness.ts";
import { webhookFixture } from "../testing/webhook_fixture.ts";
import type { AttemptTransport } from "./sender.ts";
import type { Outcome } from "./outcome.ts";
import type { AttemptResult, SendRequest } from "./sender.ts";
import { seededRng } from "../testing/seeded_rng.ts";

class ScriptedSender implements AttemptTransport {
  readonly sent: { at: number; request: SendRequest }[] = [];
  status = 503;
  constructor(private readonly clock: FakeClock) {}
  send(request: SendRequest): Promise<AttemptResult> {
    this.sent.push({ at: this.clock.now(), request });
    const outcome: Outcome = { kind: "response", status: this.status };
    return Promise.resolve({
      outcome,
      status: this.status,
      responseHeaders: {},
      responseBody: "",
      durationMs: 0,
      errorMessage: null,
    });
  }
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
/** The built-in default policy's delays before attempts 2..8, jittered ±10%. */
const DEFAULT_DELAYS = [
  5 * SECOND,
  5 * MINUTE,
  30 * MINUTE,
  2 * HOUR,
  5 * HOUR,
  10 * HOUR,
  10 * HOUR,
];

Deno.test("the default policy: 8 attempts on schedule, then dead, then a replay delivers", async () => {
  const clock = new FakeClock(START);
  const sender = new ScriptedSender(clock);
  await withEngine({ clock, sender, rng: seededRng(42) }, async (h) => {
    await h.api("POST", "/api/v1/webhooks", { url: "http://127.0.0.1:9/hook" });
    const event = await h.api("POST", "/api/v1/events", {
      id: "evt_1",
      type: "a.b",
      data: { n: 1 },
    });
    const id = event.body.deliveries[0].id as string;
    const read = async () => (await h.api("GET", `/api/v1/deliveries/${id}`)).body;

    await h.settle();
    assert.equal(sender.sent.length, 1, "the first attempt goes out at once");
    for (let attempt = 2; attempt <= 8; attempt++) {
      const delivery = await read();
      assert.equal(delivery.state, "pending");
      const dueAt = Date.parse(delivery.next_attempt_at);
      // Just before it is due nothing is sent, even after a look at the store.
      clock.advanceTo(dueAt - 20);
      await h.engine.refill();
      await h.settle();
      assert.equal(sender.sent.length, attempt - 1, `attempt ${attempt} went early`);
      clock.advanceTo(dueAt);
      await h.engine.refill();
      clock.advance(10); // one wheel tick
      await h.settle();
      assert.equal(sender.sent.length, attempt, `attempt ${attempt} was not sent when due`);
    }

    const gaps = sender.sent.slice(1).map((s, i) => s.at - sender.sent[i]!.at);
    gaps.forEach((gap, i) => {
      const delay = DEFAULT_DELAYS[i]!;
      assert.ok(gap >= delay * 0.9 && gap <= delay * 1.1 + 10, `gap ${i + 2}: ${gap} vs ${delay}`);
    });
    // Jitter really varies the delays (seeded, so this is stable).
    assert.ok(gaps.some((gap, i) => Math.abs(gap - DEFAULT_DELAYS[i]!) > 10));

    const dead = await read();
    assert.equal(dead.state, "dead");
    assert.equal(dead.attempt_count, 8);
    assert.equal(dead.next_attempt_at, null);
    assert.deepEqual(dead.attempts.map((a: { number: number }) => a.number), [
      1,
      2,
      3,
      4,
      5,
      6,
      7,
      8,
    ]);
    assert.ok(dead.attempts.every((a: { trigger: string }) => a.trigger === "scheduled"));
    // Nothing more is sent, however long we wait.
    clock.advance(48 * HOUR);
    await h.engine.refill();
    await h.settle();
    assert.equal(sender.sent.length, 8);

    const letters = await h.api("GET", "/api/v1/dead-letters");
    assert.deepEqual(letters.body.data.map((d: { id: string }) => d.id), [id]);

    // The receiver is fixed; replay the dead letter.
    sender.status = 200;
    const replay = await h.api("POST", "/api/v1/dead-letters/replay", {});
    assert.deepEqual(replay.body, { replayed: 1 });
    await h.engine.refill();
    clock.advance(10);
    await h.settle();
    assert.equal(sender.sent.length, 9);
    const delivered = await read();
    assert.equal(delivered.state, "succeeded");
    assert.equal(delivered.attempt_count, 9);
    assert.equal(delivered.attempts[8].trigger, "manual");
    assert.equal(delivered.attempts[8].response_status, 200);
    // Every attempt carried the same event id and a fresh signature timestamp.
    const ids = new Set(sender.sent.map((s) => s.request.headers["webhook-id"]));
    assert.deepEqual([...ids], ["evt_1"]);
    assert.equal((await h.api("GET", "/api/v1/dead-letters")).body.data.length, 0);
  });
});

Deno.test("a manual retry sends at once with trigger manual", async () => {
  const clock = new FakeClock(START);
  const sender = new ScriptedSender(clock);
  await withEngine({ clock, sender, rng: seededRng(1) }, async (h) => {
    await h.api("POST", "/api/v1/webhooks", { url: "http://127.0.0.1:9/hook" });
    const event = await h.api("POST", "/api/v1/events", { type: "a.b", data: 1 });
    const id = event.body.deliveries[0].id as string;
    await h.settle();
    assert.equal(sender.sent.length, 1);
    sender.status = 200;
    const retry = await h.api("POST", `/api/v1/deliveries/${id}/retry`);
    assert.equal(retry.status, 202);
    clock.advance(10);
    await h.settle();
    assert.equal(sender.sent.length, 2);
    const delivery = (await h.api("GET", `/api/v1/deliveries/${id}`)).body;
    assert.equal(delivery.state, "succeeded");
    assert.deepEqual(delivery.attempts.map((a: { trigger: string }) => a.trigger), [
      "scheduled",
      "manual",
    ]);
  });
});

Deno.test("Retry-After pushes the next attempt back when the policy honours it", async () => {
  const clock = new FakeClock(START);
  const sender: AttemptTransport & { sent: number } = {
    sent: 0,
    send() {
      this.sent++;
      return Promise.resolve({
        outcome: { kind: "response", status: 429, retryAfterMs: 3 * HOUR },
        status: 429,
        responseHeaders: { "retry-after": "10800" },
        responseBody: "",
        durationMs: 0,
        errorMessage: null,
      });
    },
  };
  await withEngine({ clock, sender, rng: seededRng(7) }, async (h) => {
    await h.api("POST", "/api/v1/webhooks", { url: "http://127.0.0.1:9/hook" });
    const event = await h.api("POST", "/api/v1/events", { type: "a.b", data: 1 });
    await h.settle();
    const delivery = (await h.api("GET", `/api/v1/deliveries/${event.body.deliveries[0].id}`)).body;
    assert.equal(delivery.state, "pending");
    assert.equal(Date.parse(delivery.next_attempt_at) - START, 3 * HOUR);
    assert.equal(delivery.attempts[0].error_kind, "status");
  });
});

Deno.test("paused webhooks hold deliveries and resuming sends them", async () => {
  const clock = new FakeClock(START);
  const sender = new ScriptedSender(clock);
  sender.status = 200;
  await withEngine({ clock, sender }, async (h) => {
    const hook = await h.api("POST", "/api/v1/webhooks", {
      url: "http://127.0.0.1:9/hook",
      state: "paused",
    });
    const event = await h.api("POST", "/api/v1/events", { type: "a.b", data: 1 });
    const id = event.body.deliveries[0].id as string;
    assert.equal(event.body.deliveries[0].state, "held");
    await h.settle();
    assert.equal(sender.sent.length, 0);
    await h.api("PATCH", `/api/v1/webhooks/${hook.body.id}`, { state: "enabled" });
    await h.until(async () => {
      clock.advance(10);
      await h.settle();
      return sender.sent.length === 1;
    });
    assert.equal((await h.api("GET", `/api/v1/deliveries/${id}`)).body.state, "succeeded");
  });
});

Deno.test("a webhook's rate limit spaces its attempts", async () => {
  const clock = new FakeClock(START);
  const sender = new ScriptedSender(clock);
  sender.status = 200;
  await withEngine({ clock, sender }, async (h) => {
    await h.api("POST", "/api/v1/webhooks", { url: "http://127.0.0.1:9/hook", rate_limit: 2 });
    const events = Array.from({ length: 6 }, (_, i) => ({ type: "t", data: i }));
    await h.api("POST", "/api/v1/events/batch", { events });
    const sentBy = async (ms: number) => {
      clock.advanceTo(START + ms);
      await h.settle({ queued: false });
      return sender.sent.length;
    };
    // A burst of two, then one every 500 ms.
    assert.equal(await sentBy(0), 2);
    assert.equal(await sentBy(499), 2);
    assert.equal(await sentBy(500), 3);
    assert.equal(await sentBy(999), 3);
    assert.equal(await sentBy(1000), 4);
    assert.equal(await sentBy(2000), 6);
  });
});

Deno.test("a target that resolves into private space is blocked and recorded as such", async () => {
  const clock = new FakeClock(START);
  const sender = new ScriptedSender(clock);
  const asked: string[] = [];
  const { TargetGuard } = await import("../net/target_guard.ts");
  const guard = new TargetGuard({
    allowPrivate: false,
    resolver: {
      resolve: (name: string) => {
        asked.push(name);
        return Promise.resolve(["10.0.0.7"]);
      },
    },
  });
  await withEngine({ clock, sender, guard, configToml: "" }, async (h) => {
    await h.api("POST", "/api/v1/webhooks", { url: "https://internal.example/hook" });
    const event = await h.api("POST", "/api/v1/events", { type: "a.b", data: 1 });
    await h.settle();
    assert.equal(sender.sent.length, 0, "nothing was sent");
    assert.deepEqual(asked, ["internal.example"]);
    const delivery = (await h.api("GET", `/api/v1/deliveries/${event.body.deliveries[0].id}`)).body;
    assert.equal(delivery.attempts[0].error_kind, "blocked");
    assert.match(delivery.attempts[0].error_message, /10\.0\.0\.7/);
  });
});

Deno.test("require_https also holds at send time for webhooks created before it was set", async () => {
  const clock = new FakeClock(START);
  const sender = new ScriptedSender(clock);
  // The webhook row predates the setting: write it straight to the store.
  await withEngine(
    { clock, sender, env: { HOOKD_SECURITY_REQUIRE_HTTPS: "true" } },
    async (h) => {
      const now = clock.now();
      await h.store.write("insertWebhook", {
        webhook: webhookFixture("old-http", ["*"], now, {
          url: "http://127.0.0.1:9/hook",
          secret: null,
        }),
      });
      h.engine.webhookChanged("old-http");
      await h.settle();
      const event = await h.api("POST", "/api/v1/events", { type: "a.b", data: 1 });
      await h.settle();
      assert.equal(sender.sent.length, 0);
      const delivery =
        (await h.api("GET", `/api/v1/deliveries/${event.body.deliveries[0].id}`)).body;
      assert.equal(delivery.attempts[0].error_kind, "blocked");
      assert.match(delivery.attempts[0].error_message, /require_https/);
    },
  );
});
