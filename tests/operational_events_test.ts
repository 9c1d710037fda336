/**
 * hookd's own `hookd.*` events, in virtual time: sent through the ordinary
 * pipeline (signed, to webhooks that subscribe to the namespace), one
 * aggregated `hookd.delivery.dead` per webhook per window, never to the
 * webhook an event is about, never to a `*` subscriber.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createHmac } from "node:crypto";
import type { AttemptResult, AttemptTransport, SendRequest } from "../src/delivery/sender.ts";
import { FakeClock } from "../src/testing/fake_clock.ts";
import { type EngineHarness, withEngine } from "../src/testing/engine_harness.ts";
import { seededRng } from "../src/testing/seeded_rng.ts";
import { MINUTE, START, TICK } from "./contracts/_helpers.ts";

/** Answers by URL path: a status per path (200 unless told), recording every request. */
class RoutedSender implements AttemptTransport {
  readonly sent: { at: number; path: string; request: SendRequest }[] = [];
  readonly statusOf = new Map<string, number>();
  constructor(private readonly clock: FakeClock) {}

  send(request: SendRequest): Promise<AttemptResult> {
    const path = new URL(request.url).pathname;
    this.sent.push({ at: this.clock.now(), path, request });
    const status = this.statusOf.get(path) ?? 200;
    return Promise.resolve({
      outcome: { kind: "response", status },
      status,
      responseHeaders: {},
      responseBody: "",
      durationMs: 0,
      errorMessage: null,
    });
  }

  /** Requests to `path`, their bodies parsed. */
  to(path: string): { type: string; data: Record<string, unknown> }[] {
    return this.sent.filter((s) => s.path === path).map((s) => JSON.parse(s.request.body));
  }
}

/** One attempt, then dead; nothing disables (or holds back) on its own unless a test says so. */
const TOML = `[policies.default]
schedule = ["0s"]
on_exhausted = "dead"
disable_after_failing_for = "never"
disable_on_status = []
breaker_failures = 0

[profiles.standard]
body = { type = "{event_type}", data = "{data}" }
`;

async function createWebhook(h: EngineHarness, path: string, eventTypes: string[]) {
  const res = await h.api("POST", "/api/v1/webhooks", {
    url: `http://127.0.0.1:9${path}`,
    event_types: eventTypes,
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body as { id: string; secret: string };
}

/** Lets timers due by `at` fire and everything they start settle. */
async function runUntil(h: EngineHarness, clock: FakeClock, at: number): Promise<void> {
  clock.advanceTo(at);
  await h.engine.refill();
  clock.advance(TICK);
  await h.settle();
}

Deno.test("1,000 dead letters make one signed hookd.delivery.dead per window, for hookd.* only", async () => {
  const clock = new FakeClock(START);
  const sender = new RoutedSender(clock);
  await withEngine({ clock, sender, rng: seededRng(1), configToml: TOML }, async (h) => {
    const ops = await createWebhook(h, "/ops", ["hookd.*"]);
    const app = await createWebhook(h, "/app", ["order.*"]);
    await createWebhook(h, "/all", ["*"]);
    sender.statusOf.set("/app", 500);
    for (let batch = 0; batch < 2; batch++) {
      const events = Array.from({ length: 500 }, (_, i) => ({
        type: "order.created",
        data: { n: batch * 500 + i },
      }));
      const res = await h.api("POST", "/api/v1/events/batch", { events });
      assert.equal(res.status, 202);
    }
    await h.settle();
    assert.equal(sender.to("/app").length, 1000);
    assert.equal(sender.to("/ops").length, 0, "nothing until the window closes");

    // The window opened with the first dead letter closes 5 minutes later.
    await runUntil(h, clock, START + 5 * MINUTE - 2 * TICK);
    assert.equal(sender.to("/ops").length, 0);
    await runUntil(h, clock, START + 5 * MINUTE + 1_000);
    const received = sender.to("/ops");
    assert.equal(received.length, 1);
    const [dead] = received;
    assert.equal(dead!.type, "hookd.delivery.dead");
    assert.equal(dead!.data.webhook_id, app.id);
    assert.equal(dead!.data.count, 1000);
    assert.equal((dead!.data.first_delivery_ids as string[]).length, 10);
    assert.equal((dead!.data.first_event_ids as string[]).length, 10);
    // Signed like any delivery: verified with the ops webhook's own secret.
    const request = sender.sent.find((s) => s.path === "/ops")!.request;
    const key = Buffer.from(ops.secret.slice("whsec_".length), "base64");
    const signed = `${request.headers["webhook-id"]}.${
      request.headers["webhook-timestamp"]
    }.${request.body}`;
    const expected = `v1,${createHmac("sha256", key).update(signed).digest("base64")}`;
    assert.ok(request.headers["webhook-signature"]!.split(" ").includes(expected), "signature");
    // A catch-all subscriber got the application's events, never hookd's.
    const all = sender.to("/all");
    assert.equal(all.length, 1000);
    assert.ok(all.every((e) => e.type === "order.created"));

    // The next dead letter opens a new window: one more event, 5 minutes on.
    await h.api("POST", "/api/v1/events", { type: "order.created", data: { n: 1000 } });
    await h.settle();
    await runUntil(h, clock, clock.now() + 5 * MINUTE + 1_000);
    const second = sender.to("/ops");
    assert.equal(second.length, 2);
    assert.equal(second[1]!.data.count, 1);
  });
});

Deno.test("hookd.webhook.disabled goes to the other operator webhooks, never the one disabled", async () => {
  const clock = new FakeClock(START);
  const sender = new RoutedSender(clock);
  const toml = TOML.replace("disable_on_status = []", 'disable_on_status = ["410"]');
  await withEngine({ clock, sender, rng: seededRng(2), configToml: toml }, async (h) => {
    const opsA = await createWebhook(h, "/ops-a", ["hookd.*"]);
    const opsB = await createWebhook(h, "/ops-b", ["hookd.webhook.disabled"]);
    const app = await createWebhook(h, "/app", ["order.*"]);
    sender.statusOf.set("/app", 410);
    await h.api("POST", "/api/v1/events", { type: "order.created", data: {} });
    await h.settle();
    for (const path of ["/ops-a", "/ops-b"]) {
      const [disabled] = sender.to(path);
      assert.equal(disabled?.type, "hookd.webhook.disabled");
      assert.equal(disabled?.data.webhook_id, app.id);
      assert.equal(disabled?.data.rule, "status");
      assert.equal(disabled?.data.last_problem, "HTTP 410");
    }

    // Now operator webhook A answers 410 as well: when it is disabled, B hears of it and A
    // does not (no loop).
    sender.statusOf.set("/ops-a", 410);
    const app2 = await createWebhook(h, "/app2", ["order.*"]);
    sender.statusOf.set("/app2", 410);
    await h.api("POST", "/api/v1/events", { type: "order.created", data: {} });
    await h.settle();
    const about = (path: string) => sender.to(path).map((e) => e.data.webhook_id);
    assert.deepEqual(about("/ops-a"), [app.id, app2.id]);
    assert.deepEqual(about("/ops-b"), [app.id, app2.id, opsA.id]);
    assert.equal((await h.api("GET", `/api/v1/webhooks/${opsA.id}`)).body.state, "disabled");
    assert.equal((await h.api("GET", `/api/v1/webhooks/${opsB.id}`)).body.state, "enabled");
  });
});

Deno.test("hookd.webhook.recovered follows the first success after dead letters", async () => {
  const clock = new FakeClock(START);
  const sender = new RoutedSender(clock);
  await withEngine({ clock, sender, rng: seededRng(3), configToml: TOML }, async (h) => {
    await createWebhook(h, "/ops", ["hookd.webhook.recovered"]);
    const app = await createWebhook(h, "/app", ["order.*"]);
    sender.statusOf.set("/app", 500);
    await h.api("POST", "/api/v1/events", { type: "order.created", data: {} });
    await h.settle();
    sender.statusOf.set("/app", 200);
    await h.api("POST", "/api/v1/events", { type: "order.created", data: {} });
    await h.api("POST", "/api/v1/events", { type: "order.created", data: {} });
    await h.settle();
    const recovered = sender.to("/ops");
    assert.equal(recovered.length, 1, "once, not on every success");
    assert.equal(recovered[0]!.type, "hookd.webhook.recovered");
    assert.equal(recovered[0]!.data.webhook_id, app.id);
  });
});

Deno.test("producers cannot post events in the hookd. namespace", async () => {
  const clock = new FakeClock(START);
  await withEngine({ clock, sender: new RoutedSender(clock), configToml: TOML }, async (h) => {
    const res = await h.api("POST", "/api/v1/events", { type: "hookd.webhook.disabled", data: {} });
    assert.equal(res.status, 400);
    assert.equal(res.body.error.details[0].field, "type");
    assert.match(res.body.error.details[0].message, /reserved for hookd's own operational events/);
  });
});
