import assert from "node:assert/strict";
import { FakeClock } from "../testing/fake_clock.ts";
import { type PoolOptions, SendingPool, type WebhookLimits } from "./pool.ts";

interface Job {
  readonly webhookId: string;
  readonly n: number;
}

/** A pool whose started jobs are recorded and finished by hand. */
function pool(
  options: Partial<PoolOptions<Job>> & { limits?: Record<string, WebhookLimits> } = {},
) {
  const clock = new FakeClock(0);
  const started: string[] = [];
  const running = new Map<string, () => void>();
  let idle = 0;
  const p = new SendingPool<Job>({
    clock,
    concurrency: 2,
    maxInFlightPerWebhook: 10,
    limitsOf: (id) => options.limits?.[id],
    start: (job, done) => {
      const name = `${job.webhookId}${job.n}`;
      started.push(name);
      running.set(name, done);
    },
    onIdle: () => idle++,
    ...options,
  });
  const finish = (name: string) => running.get(name)!();
  return { p, clock, started, finish, idle: () => idle };
}

Deno.test("webhooks take turns round-robin within the global concurrency", () => {
  const { p, started, finish } = pool({ concurrency: 1 });
  for (let n = 1; n <= 3; n++) p.push({ webhookId: "a", n });
  for (let n = 1; n <= 2; n++) p.push({ webhookId: "b", n });
  assert.deepEqual(started, ["a1"]);
  // b arrived after a1 had started, so a goes once more, then they alternate.
  for (const name of ["a1", "a2", "b1", "a3"]) finish(name);
  assert.deepEqual(started, ["a1", "a2", "b1", "a3", "b2"]);
  assert.equal(p.inFlight, 1);
  assert.equal(p.queued, 0);
});

Deno.test("a webhook at its in-flight cap waits while others go on", () => {
  const { p, started, finish } = pool({
    concurrency: 3,
    limits: { a: { maxInFlight: 1, rateLimitPerSecond: null } },
  });
  for (let n = 1; n <= 3; n++) p.push({ webhookId: "a", n });
  p.push({ webhookId: "b", n: 1 });
  p.push({ webhookId: "b", n: 2 });
  assert.deepEqual(started, ["a1", "b1", "b2"]);
  finish("a1");
  assert.deepEqual(started, ["a1", "b1", "b2", "a2"]);
  finish("a1"); // done() twice frees one slot only
  assert.equal(p.inFlight, 3);
});

Deno.test("the default cap applies to webhooks that set none", () => {
  const { p, started } = pool({ concurrency: 5, maxInFlightPerWebhook: 2 });
  for (let n = 1; n <= 4; n++) p.push({ webhookId: "a", n });
  assert.deepEqual(started, ["a1", "a2"]);
  assert.equal(p.queued, 2);
});

Deno.test("a rate limit spaces a webhook's starts by its token bucket, on the clock", () => {
  const { p, clock, started, finish } = pool({
    concurrency: 10,
    limits: { a: { maxInFlight: null, rateLimitPerSecond: 2 } },
  });
  for (let n = 1; n <= 4; n++) p.push({ webhookId: "a", n });
  p.push({ webhookId: "b", n: 1 });
  // A burst of two, then one every 500 ms; b is not held up by a's limit.
  assert.deepEqual(started, ["a1", "a2", "b1"]);
  for (const name of started) finish(name);
  clock.advance(499);
  assert.deepEqual(started, ["a1", "a2", "b1"]);
  clock.advance(1);
  assert.deepEqual(started, ["a1", "a2", "b1", "a3"]);
  clock.advance(500);
  assert.deepEqual(started, ["a1", "a2", "b1", "a3", "a4"]);
});

Deno.test("onIdle fires when the last queued job starts; close hands back what is queued", () => {
  const { p, started, idle } = pool({ concurrency: 1 });
  p.push({ webhookId: "a", n: 1 });
  assert.equal(idle(), 1);
  p.push({ webhookId: "a", n: 2 });
  p.push({ webhookId: "b", n: 1 });
  assert.equal(idle(), 1);
  const left = p.close();
  assert.deepEqual(left.map((j) => `${j.webhookId}${j.n}`), ["a2", "b1"]);
  assert.equal(p.queued, 0);
  p.push({ webhookId: "c", n: 1 });
  assert.deepEqual(started, ["a1"], "a closed pool starts nothing");
});

Deno.test("a webhook's queue is bounded: the overflow goes back, due at its turn; others go on", async () => {
  const postponed: { n: number[]; until: number }[] = [];
  const { p, started } = pool({
    concurrency: 100,
    limits: { slow: { maxInFlight: 4, rateLimitPerSecond: null } },
    postpone: (jobs, until) => postponed.push({ n: jobs.map((j) => j.n), until }),
  });
  // 4 in flight and 1,000 queued (the floor of the bound), then 96 over it.
  for (let n = 1; n <= 1_100; n++) p.push({ webhookId: "slow", n });
  p.push({ webhookId: "fast", n: 1 });
  assert.equal(p.inFlight, 5);
  assert.ok(started.includes("fast1"), "another webhook is not held back");
  assert.equal(p.queued, 1_000);
  await Promise.resolve(); // overflow goes out together, a microtask later
  const over = postponed.flatMap((p) => p.n);
  assert.deepEqual(over, Array.from({ length: 96 }, (_, i) => 1_005 + i));
  // Due in the future, spread at the webhook's pace, in order.
  const times = postponed.map((p) => p.until);
  assert.ok(times[0]! > 0);
  assert.deepEqual(times, [...times].sort((a, b) => a - b));
  // Without a postpone handler the pool keeps everything (tests, tools).
  const { p: unbounded } = pool({ concurrency: 1 });
  for (let n = 1; n <= 2_000; n++) unbounded.push({ webhookId: "a", n });
  assert.equal(unbounded.queued, 1_999);
});

Deno.test("a webhook's overflow is recalled once its queue runs down to a quarter of the bound", async () => {
  const recalls: { webhookId: string; limit: number }[] = [];
  const reasons: string[] = [];
  const { p, finish } = pool({
    concurrency: 100,
    limits: { w: { maxInFlight: 4, rateLimitPerSecond: null } },
    postpone: (_jobs, _until, reason) => reasons.push(reason),
    recall: (webhookId, limit) => recalls.push({ webhookId, limit }),
  });
  // 4 in flight, 1,000 queued (the bound), 300 over it.
  for (let n = 1; n <= 1_304; n++) p.push({ webhookId: "w", n });
  await Promise.resolve();
  assert.deepEqual([...new Set(reasons)], ["full"]);
  // Finishing jobs drains the queue; nothing is recalled while it holds more than 250.
  let next = 1;
  const finishOne = () => finish(`w${next++}`);
  while (p.queued > 251) finishOne();
  assert.deepEqual(recalls, []);
  finishOne();
  assert.equal(p.queued, 250);
  // Room for 750, 300 are out: all of them, once.
  assert.deepEqual(recalls, [{ webhookId: "w", limit: 300 }]);
  while (p.queued > 0) finishOne();
  assert.equal(recalls.length, 1, "nothing more is out");
});

Deno.test("roomFor says how many more a queue takes; onRoom calls once it is half empty", () => {
  const rooms: { webhookId: string; room: number }[] = [];
  const { p, finish } = pool({
    concurrency: 100,
    limits: { w: { maxInFlight: 4, rateLimitPerSecond: null } },
    postpone: () => {},
    onRoom: (webhookId, room) => rooms.push({ webhookId, room }),
  });
  assert.equal(p.roomFor("w"), 1_000, "an empty queue takes its bound");
  for (let n = 1; n <= 904; n++) p.push({ webhookId: "w", n });
  // 4 in flight, 900 queued. The four started while the queue was still short.
  assert.equal(p.roomFor("w"), 100);
  assert.equal(rooms.length, 4);
  rooms.length = 0;
  let next = 1;
  while (p.queued > 501) finish(`w${next++}`);
  assert.deepEqual(rooms, [], "a job started from a queue over half its bound says nothing");
  finish(`w${next++}`);
  assert.equal(p.queued, 500);
  assert.deepEqual(rooms, [{ webhookId: "w", room: 500 }]);
  // Without a postpone handler the queue is unbounded, so the room is too.
  assert.equal(pool({}).p.roomFor("w"), Infinity);
});

Deno.test("overflow in the store that another daemon left is recalled as the queue has room", () => {
  const recalls: { webhookId: string; limit: number }[] = [];
  const { p, finish } = pool({
    concurrency: 100,
    limits: { w: { maxInFlight: 4, rateLimitPerSecond: null } },
    postpone: () => {},
    recall: (webhookId, limit) => recalls.push({ webhookId, limit }),
  });
  // An empty queue: the bound's worth of 2,500 comes at once, the rest as it drains.
  p.adoptOverflow("idle", 2_500);
  assert.deepEqual(recalls, [{ webhookId: "idle", limit: 1_000 }]);
  // A webhook whose queue is full waits until it is down to a quarter.
  for (let n = 1; n <= 1_004; n++) p.push({ webhookId: "w", n });
  recalls.length = 0;
  p.adoptOverflow("w", 100);
  // A later look finds the same 100 (or fewer): they are not counted twice.
  p.adoptOverflow("w", 100);
  p.adoptOverflow("w", 0);
  assert.deepEqual(recalls, []);
  let next = 1;
  while (p.queued > 250) finish(`w${next++}`);
  assert.deepEqual(recalls, [{ webhookId: "w", limit: 100 }]);
});

Deno.test("an open breaker's postponements go back marked as the breaker's, not a full queue's", async () => {
  const recalls: string[] = [];
  const postponed: string[] = [];
  const { p, finish } = pool({
    concurrency: 100,
    limits: { w: { maxInFlight: 1, rateLimitPerSecond: null } },
    flowOf: () => ({
      breaker: {
        failures: 1,
        failureRate: null,
        windowMs: 60_000,
        minAttempts: 1,
        cooldownMs: 30_000,
        maxCooldownMs: 600_000,
      },
      adaptiveConcurrency: false,
    }),
    postpone: (_jobs, _until, reason) => postponed.push(reason),
    recall: (webhookId) => recalls.push(webhookId),
  });
  for (let n = 1; n <= 20; n++) p.push({ webhookId: "w", n });
  p.observe({ webhookId: "w", n: 1 }, { health: "failure", congestion: false });
  finish("w1");
  await Promise.resolve(); // postponements go out together, a microtask later
  assert.deepEqual(postponed, ["breaker"], "the 19 queued, in one postponement");
  assert.equal(p.queued, 0);
  assert.deepEqual(recalls, []);
  // A claim of a thousand arriving while the breaker is open: one postponement, not a thousand.
  for (let n = 21; n <= 1_020; n++) p.push({ webhookId: "w", n });
  await Promise.resolve();
  assert.deepEqual(postponed, ["breaker", "breaker"]);
  assert.equal(p.queued, 0);
});

Deno.test("a webhook that no longer exists is forgotten after its last attempt", () => {
  const limits = { maxInFlight: 2, rateLimitPerSecond: null };
  const { p, finish } = pool({ concurrency: 4, limits: { kept: limits } });
  p.push({ webhookId: "kept", n: 1 });
  p.push({ webhookId: "gone", n: 1 });
  p.push({ webhookId: "gone", n: 2 });
  assert.equal(p.pacedWebhooks, 2);
  finish("gone1");
  assert.equal(p.pacedWebhooks, 2, "one of its attempts is still out");
  finish("gone2");
  finish("kept1");
  assert.equal(p.pacedWebhooks, 1, "the webhook that exists keeps its pace");
});
