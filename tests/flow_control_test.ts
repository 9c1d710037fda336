/**
 * Flow control per webhook, end to end in virtual time: the circuit breaker
 * postpones without spending attempts, probes and closes; AIMD halves and
 * recovers; a rate limit holds while another webhook runs at full speed;
 * `Retry-After` moves the next attempt.
 */
import assert from "node:assert/strict";
import type { AttemptResult, AttemptTransport, SendRequest } from "../src/delivery/sender.ts";
import { FakeClock } from "../src/testing/fake_clock.ts";
import { type EngineHarness, withEngine } from "../src/testing/engine_harness.ts";
import { captureLogs } from "../src/testing/log_capture.ts";
import { DeliveryEngine } from "../src/delivery/engine.ts";
import { silentLogger } from "../src/ops/log.ts";
import { seededRng } from "../src/testing/seeded_rng.ts";
import { readDelivery, SECOND, START, TICK } from "./contracts/_helpers.ts";

/** Answers by URL path, recording each request with its virtual send time. */
class RoutedSender implements AttemptTransport {
  readonly sent: { at: number; path: string; request: SendRequest }[] = [];
  /** A status per path (200 otherwise), or a function of the request. */
  readonly answer = new Map<string, number | { status: number; headers: Record<string, string> }>();
  /** Requests not answered yet, when `hold` is set: AIMD needs attempts in flight. */
  hold = false;
  readonly #held: (() => void)[] = [];
  constructor(private readonly clock: FakeClock) {}

  send(request: SendRequest): Promise<AttemptResult> {
    const path = new URL(request.url).pathname;
    this.sent.push({ at: this.clock.now(), path, request });
    const answer = this.answer.get(path) ?? 200;
    const { status, headers } = typeof answer === "number"
      ? { status: answer, headers: {} }
      : answer;
    const result: AttemptResult = {
      outcome: {
        kind: "response",
        status,
        ...(headers["retry-after"] ? { retryAfterMs: Number(headers["retry-after"]) * 1000 } : {}),
      },
      status,
      responseHeaders: headers,
      responseBody: "",
      durationMs: 0,
      errorMessage: null,
    };
    if (!this.hold) return Promise.resolve(result);
    return new Promise((resolve) => this.#held.push(() => resolve(result)));
  }

  /** Answers every held request. */
  release(): number {
    const held = this.#held.splice(0);
    for (const answer of held) answer();
    return held.length;
  }

  count(path: string): number {
    return this.sent.filter((s) => s.path === path).length;
  }
}

const NO_AUTO_DISABLE = `disable_after_failing_for = "never"
disable_on_status = []`;

/** A breaker that opens after 3 failures for 30 s; a failed attempt retries in 10 minutes. */
const BREAKER_AFTER_3 = `[policies.default]
schedule = ["0s", "10m"]
jitter = 0
${NO_AUTO_DISABLE}
breaker_failures = 3
breaker_cooldown = "30s"
adaptive_concurrency = false
`;

async function createWebhook(h: EngineHarness, path: string, extra: Record<string, unknown> = {}) {
  const res = await h.api("POST", "/api/v1/webhooks", {
    url: `http://127.0.0.1:9${path}`,
    ...extra,
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body as { id: string };
}

async function webhook(h: EngineHarness, id: string) {
  return (await h.api("GET", `/api/v1/webhooks/${id}`)).body as {
    circuit: { state: string; opened_at: string | null; next_probe_at: string | null };
    effective_concurrency: number;
  };
}

/**
 * A webhook at `/down` (one attempt at a time) whose breaker three failed
 * attempts have opened; the time of its first probe.
 */
async function openBreaker(
  h: EngineHarness,
  sender: RoutedSender,
): Promise<{ hook: { id: string }; probeAt: number }> {
  const hook = await createWebhook(h, "/down", { max_in_flight: 1 });
  sender.answer.set("/down", 503);
  await h.api("POST", "/api/v1/events/batch", {
    events: Array.from({ length: 3 }, (_, n) => ({ type: "t", data: { n } })),
  });
  await h.settle();
  const open = await webhook(h, hook.id);
  assert.equal(open.circuit.state, "open");
  return { hook, probeAt: Date.parse(open.circuit.next_probe_at!) };
}

async function runUntil(h: EngineHarness, clock: FakeClock, at: number): Promise<void> {
  clock.advanceTo(Math.max(clock.now(), at - 20));
  await h.engine.refill();
  await h.settle();
  clock.advanceTo(at);
  await h.engine.refill();
  clock.advance(TICK);
  await h.settle();
}

Deno.test("the breaker opens after 3 failures, postpones the rest without an attempt, probes and closes", async () => {
  const clock = new FakeClock(START);
  const sender = new RoutedSender(clock);
  const logs = captureLogs("info");
  await withEngine(
    { clock, sender, rng: seededRng(1), configToml: BREAKER_AFTER_3, log: logs.log },
    async (h) => {
      // One at a time, so that the breaker sees each result before the next attempt.
      const hook = await createWebhook(h, "/down", { max_in_flight: 1 });
      sender.answer.set("/down", 503);
      const posted = await h.api("POST", "/api/v1/events/batch", {
        events: Array.from({ length: 10 }, (_, n) => ({ type: "t", data: { n } })),
      });
      const ids = posted.body.data.map((e: { deliveries: { id: string }[] }) =>
        e.deliveries[0]!.id
      );
      await h.settle();
      assert.equal(sender.count("/down"), 3, "three failures, then nothing");
      const open = await webhook(h, hook.id);
      assert.equal(open.circuit.state, "open");
      const probeAt = Date.parse(open.circuit.next_probe_at!);
      assert.equal(probeAt - Date.parse(open.circuit.opened_at!), 30 * SECOND);
      // The other seven are back in the store, due at the probe, with no attempt spent.
      const postponed = [];
      for (const id of ids) {
        const d = await readDelivery(h, id);
        if (d.attempt_count === 0) postponed.push(d);
      }
      assert.equal(postponed.length, 7);
      for (const d of postponed) {
        assert.equal(d.state, "pending");
        assert.equal(Date.parse(d.next_attempt_at), probeAt);
      }
      assert.equal(logs.withMessage("circuit opened").length, 1);

      // Just before the probe time nothing goes out.
      await runUntil(h, clock, probeAt - 1_000);
      assert.equal(sender.count("/down"), 3);
      // At it, one probe; it fails: open again for 60 s, still nothing else sent.
      await runUntil(h, clock, probeAt);
      assert.equal(sender.count("/down"), 4);
      const reopened = await webhook(h, hook.id);
      assert.equal(reopened.circuit.state, "open");
      const secondProbeAt = Date.parse(reopened.circuit.next_probe_at!);
      assert.ok(secondProbeAt - probeAt >= 60 * SECOND, "the cooldown doubled");

      // The receiver is back: the next probe succeeds, the breaker closes, the rest go out.
      sender.answer.set("/down", 200);
      await runUntil(h, clock, secondProbeAt);
      assert.equal((await webhook(h, hook.id)).circuit.state, "closed");
      await h.settle();
      const finals = [];
      for (const id of ids) finals.push((await readDelivery(h, id)).state);
      // The three that failed retry at +10 min. Of the seven postponed, the first probe failed
      // (it retries at +10 min too); the other six went out once the second probe succeeded.
      assert.equal(finals.filter((s) => s === "succeeded").length, 6);
      for (const d of postponed) {
        const now = await readDelivery(h, d.id);
        assert.equal(now.attempt_count, 1, "postponing spent no attempt: each was attempted once");
      }
      assert.equal(logs.withMessage("circuit closed: the probe succeeded").length, 1);
    },
  );
});

Deno.test("AIMD halves a webhook's concurrency on 503 and grows it back with successes", async () => {
  const clock = new FakeClock(START);
  const sender = new RoutedSender(clock);
  const toml = `[policies.default]
schedule = ["0s", "1s"]
jitter = 0
${NO_AUTO_DISABLE}
breaker_failures = 0
`;
  await withEngine({ clock, sender, rng: seededRng(2), configToml: toml }, async (h) => {
    const hook = await createWebhook(h, "/busy", { max_in_flight: 8 });
    assert.equal((await webhook(h, hook.id)).effective_concurrency, 8);
    sender.hold = true;
    sender.answer.set("/busy", 503);
    try {
      await h.api("POST", "/api/v1/events/batch", {
        events: Array.from({ length: 40 }, (_, n) => ({ type: "t", data: { n } })),
      });
      await h.until(() => sender.sent.length === 8);
      // The 8 in flight all answer 503 together: one burst, one halving.
      clock.advance(SECOND);
      assert.equal(sender.release(), 8);
      await h.until(() => sender.sent.length === 12);
      assert.equal((await webhook(h, hook.id)).effective_concurrency, 4);
      clock.advance(SECOND);
      assert.equal(sender.release(), 4, "only 4 were let out");
      await h.until(() => sender.sent.length === 14);
      assert.equal((await webhook(h, hook.id)).effective_concurrency, 2);
      // Successes from the next request on.
      sender.answer.set("/busy", 200);
      const seen: number[] = [];
      for (let round = 0; round < 20 && seen.at(-1) !== 8; round++) {
        clock.advance(SECOND);
        const before = sender.sent.length;
        if (sender.release() === 0) break;
        await h.until(() => {
          const { queued, waiting } = h.engine.stats();
          return sender.sent.length > before || queued + waiting === 0;
        });
        seen.push((await webhook(h, hook.id)).effective_concurrency);
      }
      // The two in flight were answered 503 when sent: one more halving, to 1. From then
      // each round answers as many successes as the limit, and each such run adds one.
      assert.deepEqual(seen, [1, 2, 3, 4, 5, 6, 7, 8]);
    } finally {
      sender.hold = false;
      sender.release();
    }
  });
});

Deno.test("a 10/s rate limit holds over a simulated minute while another webhook runs at full speed", async () => {
  const clock = new FakeClock(START);
  const sender = new RoutedSender(clock);
  await withEngine({ clock, sender, rng: seededRng(3) }, async (h) => {
    await createWebhook(h, "/slow", { rate_limit: 10, event_types: ["slow"] });
    await createWebhook(h, "/fast", { event_types: ["fast"] });
    for (const type of ["slow", "fast"]) {
      const res = await h.api("POST", "/api/v1/events/batch", {
        events: Array.from({ length: 1000 }, (_, n) => ({ type, data: { n } })),
      });
      assert.equal(res.status, 202);
    }
    await h.settle({ queued: false });
    assert.equal(sender.count("/fast"), 1000, "the other webhook is not held back");
    for (let second = 1; second <= 60; second++) {
      clock.advance(SECOND);
      await h.settle({ queued: false });
    }
    const slow = sender.sent.filter((s) => s.path === "/slow");
    // 60 s at 10/s, plus the bucket's initial burst (at most a second's worth).
    assert.ok(slow.length >= 600 && slow.length <= 620, `${slow.length} in a minute`);
    // No second holds more than 10 past the first burst.
    const perSecond = new Map<number, number>();
    for (const s of slow) {
      const second = Math.floor((s.at - START) / SECOND);
      perSecond.set(second, (perSecond.get(second) ?? 0) + 1);
    }
    for (const [second, count] of perSecond) {
      if (second > 0) assert.ok(count <= 11, `second ${second}: ${count}`);
    }
  });
});

Deno.test("Retry-After: 120 moves the next attempt to 120 s or later", async () => {
  const clock = new FakeClock(START);
  const sender = new RoutedSender(clock);
  const toml = `[policies.default]
schedule = ["0s", "5s", "5s"]
jitter = 0
${NO_AUTO_DISABLE}
`;
  await withEngine({ clock, sender, rng: seededRng(4), configToml: toml }, async (h) => {
    await createWebhook(h, "/limited");
    sender.answer.set("/limited", { status: 429, headers: { "retry-after": "120" } });
    const posted = await h.api("POST", "/api/v1/events", { type: "t", data: {} });
    await h.settle();
    const d = await readDelivery(h, posted.body.deliveries[0].id);
    assert.ok(Date.parse(d.next_attempt_at) - START >= 120 * SECOND, d.next_attempt_at);
  });
});

/**
 * For a webhook at /hook with `max_in_flight: 1`: the receiver takes 2 s an
 * answer (the pool learns that pace, and keeps holding answers), then 1,100
 * events come. The queue holds 1,000 and one is in flight; at 2 s each the
 * other 100 go back to the store due about 2,000 s out.
 */
async function overflowAtASlowPace(h: EngineHarness, clock: FakeClock, sender: RoutedSender) {
  sender.hold = true;
  const first = await h.api("POST", "/api/v1/events/batch", {
    events: Array.from({ length: 3 }, (_, n) => ({ type: "a.b", data: { n } })),
  });
  assert.equal(first.status, 202);
  for (let i = 1; i <= 3; i++) {
    await h.until(() => sender.count("/hook") === i);
    clock.advance(2 * SECOND);
    assert.equal(sender.release(), 1);
  }
  for (const size of [1000, 100]) {
    const res = await h.api("POST", "/api/v1/events/batch", {
      events: Array.from({ length: size }, (_, n) => ({ type: "a.b", data: { n } })),
    });
    assert.equal(res.status, 202);
  }
}

/** The webhook's deliveries pending and due more than a minute out, over every page. */
async function parkedFarOut(h: EngineHarness, clock: FakeClock, webhookId: string) {
  const far: string[] = [];
  let cursor: string | null = "";
  while (cursor !== null) {
    const page = (await h.api(
      "GET",
      `/api/v1/webhooks/${webhookId}/deliveries?state=pending&limit=1000${
        cursor ? `&cursor=${cursor}` : ""
      }`,
    )).body as { data: { id: string; next_attempt_at: string }[]; next_cursor: string | null };
    for (const d of page.data) {
      if (Date.parse(d.next_attempt_at) > clock.now() + 60 * SECOND) far.push(d.id);
    }
    cursor = page.next_cursor;
  }
  return far;
}

/**
 * Advances virtual time a second at a time, up to `seconds`, letting an engine
 * other than the harness's finish each second's work, until `done` holds.
 */
async function runEngineUntil(
  h: EngineHarness,
  clock: FakeClock,
  engine: DeliveryEngine,
  seconds: number,
  done: () => boolean,
) {
  for (let second = 0; second < seconds && !done(); second++) {
    clock.advance(SECOND);
    await engine.refill();
    await h.until(() => {
      const { queued, waiting, inFlight, recording } = engine.stats();
      return queued === 0 && waiting === 0 && inFlight === 0 && recording === 0;
    });
    await h.store.read("schemaVersion", {});
  }
}

Deno.test("a full queue's overflow comes back as soon as the receiver speeds up, not at the estimate", async () => {
  const clock = new FakeClock(START);
  const sender = new RoutedSender(clock);
  await withEngine({ clock, sender, rng: seededRng(5) }, async (h) => {
    const { id } = await createWebhook(h, "/hook", { max_in_flight: 1 });
    const pendingPage = async (limit: number) =>
      ((await h.api("GET", `/api/v1/webhooks/${id}/deliveries?state=pending&limit=${limit}`))
        .body as { data: { next_attempt_at: string }[] }).data;
    await overflowAtASlowPace(h, clock, sender);
    // One in flight (held), the queue full, the rest back in the store.
    await h.until(async () => (await pendingPage(200)).length >= 99);
    const overflow = await pendingPage(200);
    const latest = Math.max(...overflow.map((d) => Date.parse(d.next_attempt_at)));
    assert.ok(latest > START + 1_000 * SECOND, "the estimate put them far out");
    // Now it answers at once: the queue runs down and the overflow is recalled.
    sender.hold = false;
    sender.release();
    for (let second = 0; second < 30 && sender.count("/hook") < 1_103; second++) {
      clock.advance(SECOND);
      await h.engine.refill();
      await h.settle({ queued: false });
    }
    assert.equal(sender.count("/hook"), 1_103, "all delivered within 30 s, not 2,000");
    assert.deepEqual(await pendingPage(10), []);
  });
});

Deno.test("a full queue's overflow left by a stopped daemon is recalled by the next one at once", async () => {
  const clock = new FakeClock(START);
  const sender = new RoutedSender(clock);
  await withEngine({ clock, sender, rng: seededRng(6) }, async (h) => {
    const { id } = await createWebhook(h, "/hook", { max_in_flight: 1 });
    await overflowAtASlowPace(h, clock, sender);
    const postponed = () => parkedFarOut(h, clock, id);
    await h.until(async () => (await postponed()).length >= 99);

    // This daemon stops (its queue goes back to the store, due now); the one in flight
    // is answered during the grace period.
    sender.hold = false;
    const stopping = h.engine.stop(5 * SECOND);
    sender.release();
    await stopping;
    assert.ok((await postponed()).length >= 99, "the overflow is still parked far out");

    // The next daemon knows nothing of that overflow but what the store says.
    const next = await DeliveryEngine.start({
      config: h.config,
      store: h.store,
      clock,
      log: silentLogger,
      rng: seededRng(7),
      transport: sender,
    });
    try {
      await runEngineUntil(h, clock, next, 30, () => sender.count("/hook") >= 1_103);
      assert.equal(sender.count("/hook"), 1_103, "all delivered within 30 s, not 2,000");
      assert.deepEqual(await postponed(), []);
    } finally {
      await next.stop(SECOND);
    }
  });
});

Deno.test("a peer's overflow is recalled by a daemon still running once the peer is gone", async () => {
  const clock = new FakeClock(START);
  const sender = new RoutedSender(clock);
  await withEngine({ clock, sender, rng: seededRng(8) }, async (h) => {
    const { id } = await createWebhook(h, "/hook", { max_in_flight: 1 });
    // A second daemon on the same database, running all along, with nothing to do yet.
    const peer = await DeliveryEngine.start({
      config: h.config,
      store: h.store,
      clock,
      log: silentLogger,
      rng: seededRng(9),
      transport: sender,
    });
    try {
      // The first daemon takes the events at ingest, parks 100 about 2,000 s out, and goes.
      await overflowAtASlowPace(h, clock, sender);
      await h.until(async () => (await parkedFarOut(h, clock, id)).length >= 99);
      sender.hold = false;
      const stopping = h.engine.stop(5 * SECOND);
      sender.release();
      await stopping;
      assert.ok((await parkedFarOut(h, clock, id)).length >= 99);
      // The peer takes the released queue from the store, and, at its next look for
      // overflow nobody holds, the parked 100.
      await runEngineUntil(h, clock, peer, 90, () => sender.count("/hook") >= 1_103);
      assert.equal(sender.count("/hook"), 1_103, "all delivered within 90 s, not 2,000");
      assert.deepEqual(await parkedFarOut(h, clock, id), []);
    } finally {
      await peer.stop(SECOND);
    }
  });
});

Deno.test("behind an open breaker a backlog goes back to the store unclaimed, then out after the probe", async () => {
  const clock = new FakeClock(START);
  const sender = new RoutedSender(clock);
  await withEngine({ clock, sender, rng: seededRng(9), configToml: BREAKER_AFTER_3 }, async (h) => {
    const { hook, probeAt } = await openBreaker(h, sender);

    // A backlog bigger than the webhook's queue (1,000) comes due while it is open.
    const claimedIds = new Set<string>();
    const deferredIds = new Set<string>();
    const write = h.store.write.bind(h.store);
    h.store.write = ((name, args) => {
      const ids = (args as { ids?: string[] }).ids ?? [];
      if (name === "claimDeliveries") { for (const id of ids) claimedIds.add(id); }
      if (name === "deferDeliveries") { for (const id of ids) deferredIds.add(id); }
      return write(name, args);
    }) as typeof h.store.write;
    await h.api("PATCH", `/api/v1/webhooks/${hook.id}`, { state: "paused" });
    for (let posted = 0; posted < 2_500; posted += 500) {
      await h.api("POST", "/api/v1/events/batch", {
        events: Array.from({ length: 500 }, (_, n) => ({ type: "t", data: { n: posted + n } })),
      });
    }
    await h.api("PATCH", `/api/v1/webhooks/${hook.id}`, { state: "enabled" });
    // Resumed, all of them (the three that failed too) are due now: one wheel tick on.
    await h.engine.refill();
    clock.advance(TICK);
    await h.settle();
    assert.equal(sender.count("/down"), 3, "nothing was attempted");
    assert.equal(claimedIds.size, 0, "none of the backlog was claimed");
    assert.equal(deferredIds.size, 2_503, "all of it was deferred to the probe");
    const pending = (await h.api(
      "GET",
      `/api/v1/webhooks/${hook.id}/deliveries?state=pending&limit=1000`,
    )).body as { data: { next_attempt_at: string; attempt_count: number }[] };
    assert.equal(pending.data.length, 1_000);
    for (const d of pending.data) assert.equal(Date.parse(d.next_attempt_at), probeAt);
    assert.ok(pending.data.every((d) => d.attempt_count <= 1), "no attempt was spent");

    // The receiver is back by the probe: it succeeds and the backlog goes out.
    sender.answer.set("/down", 200);
    await runUntil(h, clock, probeAt);
    assert.equal((await webhook(h, hook.id)).circuit.state, "closed");
    // The three first attempts, then each of the 2,503 once (the probe among them).
    for (let second = 0; second < 60 && sender.count("/down") < 3 + 2_503; second++) {
      clock.advance(SECOND);
      await h.engine.refill();
      await h.settle({ queued: false });
    }
    assert.equal(sender.count("/down"), 3 + 2_503, "every deferred delivery was sent once");
    const left = (await h.api("GET", `/api/v1/webhooks/${hook.id}/deliveries?state=pending`))
      .body as { data: unknown[] };
    assert.deepEqual(left.data, []);
  });
});

Deno.test("at a probe only the probe is claimed; a failed one sends the backlog back unclaimed", async () => {
  const clock = new FakeClock(START);
  const sender = new RoutedSender(clock);
  await withEngine(
    { clock, sender, rng: seededRng(11), configToml: BREAKER_AFTER_3 },
    async (h) => {
      const { hook, probeAt: firstProbeAt } = await openBreaker(h, sender);

      const claims: string[][] = [];
      const postponed = new Set<string>();
      const write = h.store.write.bind(h.store);
      h.store.write = ((name, args) => {
        const ids = (args as { ids?: string[] }).ids ?? [];
        if (name === "claimDeliveries") claims.push([...ids]);
        if (name === "postponeDeliveries") { for (const id of ids) postponed.add(id); }
        return write(name, args);
      }) as typeof h.store.write;
      await h.api("PATCH", `/api/v1/webhooks/${hook.id}`, { state: "paused" });
      await h.api("POST", "/api/v1/events/batch", {
        events: Array.from({ length: 500 }, (_, n) => ({ type: "t", data: { n } })),
      });
      await h.api("PATCH", `/api/v1/webhooks/${hook.id}`, { state: "enabled" });
      await h.engine.refill();
      clock.advance(TICK);
      await h.settle();
      assert.equal(claims.length, 0, "nothing is claimed before the probe");

      // The first probe fails: it was the one delivery claimed, and the other
      // 502 go back to the store for the next probe without a claim.
      await runUntil(h, clock, firstProbeAt);
      assert.equal(sender.count("/down"), 4, "one probe");
      const open = await webhook(h, hook.id);
      assert.equal(open.circuit.state, "open");
      const claimed = claims.flat();
      assert.equal(claimed.length, 1, `claimed at the probe: ${claimed.length}`);
      assert.equal(postponed.size, 0, "nothing was claimed only to be postponed");
      const secondProbeAt = Date.parse(open.circuit.next_probe_at!);
      assert.ok(secondProbeAt > firstProbeAt);
      const pending = (await h.api(
        "GET",
        `/api/v1/webhooks/${hook.id}/deliveries?state=pending&limit=1000`,
      )).body as { data: { id: string; next_attempt_at: string }[] };
      const backlog = pending.data.filter((d) => d.id !== claimed[0]);
      assert.equal(backlog.length, 502);
      for (const d of backlog) assert.equal(Date.parse(d.next_attempt_at), secondProbeAt);

      // The second probe succeeds (one of the 502): then the rest go, each
      // once. The first probe's delivery is left to its schedule.
      sender.answer.set("/down", 200);
      await runUntil(h, clock, secondProbeAt);
      assert.equal((await webhook(h, hook.id)).circuit.state, "closed");
      for (let second = 0; second < 60 && sender.count("/down") < 3 + 1 + 502; second++) {
        clock.advance(SECOND);
        await h.engine.refill();
        await h.settle({ queued: false });
      }
      assert.equal(
        sender.count("/down"),
        3 + 1 + 502,
        "each delivery was sent once after the probe",
      );
      assert.equal(postponed.size, 0);
      const left = (await h.api("GET", `/api/v1/webhooks/${hook.id}/deliveries?state=pending`))
        .body as { data: { id: string }[] };
      // Only the first probe's delivery may still wait (for its retry, if its schedule has one).
      assert.deepEqual(left.data.filter((d) => d.id !== claimed[0]), []);
    },
  );
});

Deno.test("a probe that ends without a result is tried again a cooldown on", async () => {
  const clock = new FakeClock(START);
  const sender = new RoutedSender(clock);
  await withEngine(
    { clock, sender, rng: seededRng(12), configToml: BREAKER_AFTER_3 },
    async (h) => {
      const { hook, probeAt } = await openBreaker(h, sender);
      await h.api("POST", "/api/v1/events/batch", {
        events: Array.from({ length: 50 }, (_, n) => ({ type: "t", data: { n } })),
      });
      await h.settle();

      // At the probe the dispatcher sees the webhook paused (as if paused that
      // moment): the probe's delivery is held and no outcome reaches the breaker.
      const view = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(h.store), "webhooks")!;
      Object.defineProperty(h.store, "webhooks", {
        configurable: true,
        get() {
          const real = view.get!.call(h.store);
          return new Proxy(real, {
            get(target, prop) {
              if (prop !== "get") return Reflect.get(target, prop, target);
              return (id: string) => {
                const found = target.get(id);
                return found && id === hook.id ? { ...found, state: "paused" } : found;
              };
            },
          });
        },
      });
      sender.answer.set("/down", 200);
      clock.advanceTo(probeAt);
      await h.engine.refill();
      clock.advance(TICK);
      // The rest wait for the probe's result, here: not settled, only quiet.
      await h.settle({ queued: false });
      delete (h.store as { webhooks?: unknown }).webhooks;
      assert.equal(sender.count("/down"), 3, "the probe was not sent");
      const halfOpen = await webhook(h, hook.id);
      assert.equal(halfOpen.circuit.state, "half_open");

      // A cooldown on, the next probe goes, succeeds, and the rest follow.
      const nextProbeAt = Date.parse(halfOpen.circuit.next_probe_at!);
      clock.advanceTo(nextProbeAt);
      await h.settle({ queued: false });
      // The 3 first failures retry 10 minutes on; of the 50 after them, all but the held probe go.
      for (let second = 0; second < 30 && sender.count("/down") < 3 + 49; second++) {
        clock.advance(SECOND);
        await h.engine.refill();
        await h.settle({ queued: false });
      }
      assert.equal(sender.count("/down"), 3 + 49, "all but the held probe were sent");
      assert.equal((await webhook(h, hook.id)).circuit.state, "closed");
    },
  );
});
