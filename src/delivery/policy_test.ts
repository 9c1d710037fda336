import assert from "node:assert/strict";
import type { OutcomeSet, Policy, Schedule } from "../config/types.ts";
import type { Outcome, TransportError } from "./outcome.ts";
import {
  classify,
  decideNext,
  errorKindOf,
  matchesOutcome,
  maxAttempts,
  nextDelay,
  RETRY_AFTER_MAX_MS,
  type Rng,
} from "./policy.ts";
import { seededRng } from "../testing/seeded_rng.ts";

const S = 1000;
const M = 60 * S;
const H = 60 * M;

/** An OutcomeSet from config-style tokens, parsed by hand for these tests. */
function set(...tokens: string[]): OutcomeSet {
  const statuses: [number, number][] = [];
  let any = false, network = false, timeout = false, auth = false;
  for (const t of tokens) {
    if (t === "any") any = true;
    else if (t === "network") network = true;
    else if (t === "auth") auth = true;
    else if (t === "timeout") timeout = true;
    else if (/^\dxx$/.test(t)) statuses.push([Number(t[0]) * 100, Number(t[0]) * 100 + 99]);
    else if (t.includes("-")) {
      const [lo, hi] = t.split("-").map(Number);
      statuses.push([lo!, hi!]);
    } else statuses.push([Number(t), Number(t)]);
  }
  return { statuses, any, network, timeout, auth };
}

function policy(overrides: Partial<Policy> & { schedule: Schedule }): Policy {
  return {
    name: "test",
    timeoutMs: 10 * S,
    success: set("2xx"),
    retry: set("any"),
    final: set(),
    onExhausted: "failed",
    retryAfter: true,
    autoDisable: { failingForMs: null, exhaustedInRow: null, onStatus: set() },
    breaker: {
      failures: null,
      failureRate: null,
      windowMs: 60 * S,
      minAttempts: 20,
      cooldownMs: 30 * S,
      maxCooldownMs: 600 * S,
    },
    adaptiveConcurrency: false,
    ...overrides,
  };
}

function list(delaysMs: number[], jitter = 0): Schedule {
  return { kind: "list", delaysMs, jitter };
}

function exponential(
  s: Partial<Extract<Schedule, { kind: "exponential" }>>,
): Schedule {
  return {
    kind: "exponential",
    firstMs: 5 * M,
    factor: 2,
    attempts: undefined,
    jitter: 0,
    maxDelayMs: 24 * H,
    maxAgeMs: undefined,
    ...s,
  };
}

// A Svix-like list, standing in for the built-in default (owned by src/config).
const DEFAULT_LIST = [0, 5 * S, 5 * M, 30 * M, 2 * H, 5 * H, 10 * H, 10 * H];

/** The five seed contracts as policies (see /work/shared/seeds and DESIGN.md). */
const SEEDS = {
  "000": policy({
    name: "seed-000",
    timeoutMs: 5 * S,
    schedule: exponential({ firstMs: 5 * M, factor: 2, attempts: 10, jitter: 0.1 }),
  }),
  "001": policy({
    name: "seed-001",
    schedule: list([0, 30 * S, 2 * M, 10 * M, 30 * M, 1 * H, 4 * H, 12 * H]),
    onExhausted: "dead",
  }),
  "002": policy({
    name: "seed-002",
    timeoutMs: 5 * S,
    success: set("200-399"),
    retry: set("408", "429", "5xx", "network", "timeout"),
    final: set("400", "401", "403", "404", "410"),
    schedule: exponential({ firstMs: 30 * S, factor: 2, maxDelayMs: 2 * H, maxAgeMs: 24 * H }),
  }),
  "003": policy({ name: "seed-003", success: set("200"), schedule: list(DEFAULT_LIST) }),
  "004": policy({
    name: "seed-004",
    success: set("2xx"),
    retry: set("4xx", "5xx", "network", "timeout"),
    schedule: list([0, 5 * M, 30 * M, 2 * H]),
  }),
} as const;

type SeedName = keyof typeof SEEDS;

const res = (status: number, retryAfterMs?: number): Outcome =>
  retryAfterMs === undefined
    ? { kind: "response", status }
    : { kind: "response", status, retryAfterMs };
const err = (error: TransportError): Outcome => ({ kind: "error", error });

const noRng: Rng = () => {
  throw new Error("rng must not be called");
};

/** A fixed sequence, cycled: exact jitter values can be worked out by hand. */
function sequence(...values: number[]): Rng {
  let i = 0;
  return () => values[i++ % values.length]!;
}

Deno.test("matchesOutcome: network covers dns/connect/tls/reset/blocked/proxy, not timeout or auth", () => {
  const cases: [OutcomeSet, Outcome, boolean][] = [
    [set("network"), err("auth"), false],
    [set("auth"), err("auth"), true],
    [set("auth"), err("connect"), false],
    [set("auth"), res(401), false],
    [set("any"), err("auth"), true],
    [set("network"), err("dns"), true],
    [set("network"), err("connect"), true],
    [set("network"), err("tls"), true],
    [set("network"), err("reset"), true],
    [set("network"), err("blocked"), true],
    [set("network"), err("proxy"), true],
    [set("network"), err("timeout"), false],
    [set("timeout"), err("proxy"), false],
    [set("5xx"), err("proxy"), false],
    [set("network"), res(500), false],
    [set("timeout"), err("timeout"), true],
    [set("timeout"), err("dns"), false],
    [set("timeout"), res(408), false],
    [set("any"), err("timeout"), true],
    [set("any"), err("blocked"), true],
    [set("any"), res(302), true],
    [set("5xx"), res(500), true],
    [set("5xx"), res(599), true],
    [set("5xx"), res(600), false],
    [set("5xx"), res(499), false],
    [set("200-399"), res(399), true],
    [set("200-399"), res(400), false],
    [set("404", "410"), res(410), true],
    [set("404", "410"), res(405), false],
    [set(), res(200), false],
    [set(), err("timeout"), false],
  ];
  for (const [s, outcome, expected] of cases) {
    assert.equal(
      matchesOutcome(s, outcome),
      expected,
      `${JSON.stringify(s)} ∋ ${JSON.stringify(outcome)}`,
    );
  }
});

Deno.test("classify follows each seed contract", () => {
  const cases: [SeedName, Outcome, ReturnType<typeof classify>][] = [
    // 000: 2xx success; everything else, 4xx and 30x included, is retried.
    ["000", res(200), "success"],
    ["000", res(204), "success"],
    ["000", res(299), "success"],
    ["000", res(302), "retry"],
    ["000", res(301), "retry"],
    ["000", res(404), "retry"],
    ["000", res(410), "retry"],
    ["000", res(500), "retry"],
    ["000", res(100), "retry"],
    ["000", err("timeout"), "retry"],
    ["000", err("dns"), "retry"],
    ["000", err("blocked"), "retry"],
    // 001: 2xx success; non-2xx and timeouts retried.
    ["001", res(201), "success"],
    ["001", res(503), "retry"],
    ["001", res(400), "retry"],
    ["001", err("timeout"), "retry"],
    // 002: 200–399 success; 400/401/403/404/410 final; 408/429/5xx/network/timeout retried.
    ["002", res(200), "success"],
    ["002", res(302), "success"],
    ["002", res(399), "success"],
    ["002", res(400), "final"],
    ["002", res(401), "final"],
    ["002", res(403), "final"],
    ["002", res(404), "final"],
    ["002", res(410), "final"],
    ["002", res(408), "retry"],
    ["002", res(429), "retry"],
    ["002", res(500), "retry"],
    ["002", res(599), "retry"],
    ["002", res(418), "final"], // not listed as retryable
    ["002", res(422), "final"],
    ["002", err("tls"), "retry"],
    ["002", err("dns"), "retry"],
    ["002", err("connect"), "retry"],
    ["002", err("reset"), "retry"],
    ["002", err("timeout"), "retry"],
    // 003: exactly 200 is success; anything else fails.
    ["003", res(200), "success"],
    ["003", res(201), "retry"],
    ["003", res(204), "retry"],
    ["003", res(500), "retry"],
    ["003", err("connect"), "retry"],
    // 004: 2xx success; 4xx, 5xx, timeout, refused, DNS retried.
    ["004", res(200), "success"],
    ["004", res(202), "success"],
    ["004", res(400), "retry"],
    ["004", res(404), "retry"],
    ["004", res(503), "retry"],
    ["004", err("timeout"), "retry"],
    ["004", err("connect"), "retry"],
    ["004", err("dns"), "retry"],
    ["004", res(302), "final"], // in neither set: retrying is opt-in
  ];
  for (const [seed, outcome, expected] of cases) {
    assert.equal(
      classify(outcome, SEEDS[seed]),
      expected,
      `seed ${seed}: ${JSON.stringify(outcome)}`,
    );
  }
});

Deno.test("classify: final wins over retry, transport errors are never success", () => {
  const p = policy({ schedule: list([0]), success: set("any"), final: set("410") });
  assert.equal(classify(res(500), p), "success");
  assert.equal(classify(err("timeout"), p), "retry");
  const q = policy({ schedule: list([0]), final: set("410", "timeout") });
  assert.equal(classify(res(410), q), "final");
  assert.equal(classify(err("timeout"), q), "final");
  assert.equal(classify(err("dns"), q), "retry");
});

Deno.test("errorKindOf: null on success, redirect for unsuccessful 3xx, status otherwise", () => {
  const cases: [SeedName, Outcome, ReturnType<typeof errorKindOf>][] = [
    ["000", res(200), null],
    ["000", res(302), "redirect"],
    ["000", res(304), "redirect"],
    ["000", res(404), "status"],
    ["000", res(500), "status"],
    ["000", res(100), "status"],
    ["002", res(302), null],
    ["002", res(404), "status"],
    ["003", res(201), "status"],
    ["000", err("timeout"), "timeout"],
    ["000", err("dns"), "dns"],
    ["000", err("connect"), "connect"],
    ["000", err("tls"), "tls"],
    ["000", err("reset"), "reset"],
    ["000", err("blocked"), "blocked"],
  ];
  for (const [seed, outcome, expected] of cases) {
    assert.equal(
      errorKindOf(outcome, SEEDS[seed]),
      expected,
      `seed ${seed}: ${JSON.stringify(outcome)}`,
    );
  }
});

Deno.test("nextDelay: seed 000, exponential 5 min doubling to 21 h 20 min, 10 attempts", () => {
  const p = policy({ schedule: exponential({ firstMs: 5 * M, factor: 2, attempts: 10 }) });
  const expected = [
    0,
    5 * M,
    10 * M,
    20 * M,
    40 * M,
    80 * M,
    160 * M,
    320 * M,
    640 * M,
    76_800_000, // 21 h 20 min
    undefined,
  ];
  expected.forEach((ms, i) => assert.equal(nextDelay(i + 1, p, noRng), ms, `attempt ${i + 1}`));
  // The whole budget: 5 min · (2⁹ − 1) ≈ 42.6 h, "roughly 42 hours".
  let total = 0;
  for (let n = 2; n <= 10; n++) total += nextDelay(n, p, noRng)!;
  assert.equal(total, 5 * M * 511);
  assert.equal(maxAttempts(p), 10);
});

Deno.test("nextDelay: list schedules (seed 001, seed 004, a default list)", () => {
  const cases: [Policy, (number | undefined)[]][] = [
    [SEEDS["001"], [0, 30 * S, 2 * M, 10 * M, 30 * M, 1 * H, 4 * H, 12 * H, undefined]],
    [SEEDS["004"], [0, 5 * M, 30 * M, 2 * H, undefined]],
    [SEEDS["003"], [...DEFAULT_LIST, undefined]],
  ];
  for (const [p, expected] of cases) {
    expected.forEach((ms, i) =>
      assert.equal(nextDelay(i + 1, p, noRng), ms, `${p.name} #${i + 1}`)
    );
    assert.equal(maxAttempts(p), expected.length - 1);
  }
  assert.equal(nextDelay(100, SEEDS["001"], noRng), undefined);
});

Deno.test("nextDelay: exponential cap, unbounded attempts, overflow, zero first delay", () => {
  const p = policy({
    schedule: exponential({ firstMs: 1 * S, factor: 10, maxDelayMs: 1 * H }),
  });
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6, 7, 50, 5000].map((n) => nextDelay(n, p, noRng)),
    [0, 1 * S, 10 * S, 100 * S, 1000 * S, 1 * H, 1 * H, 1 * H, 1 * H],
  );
  assert.equal(maxAttempts(p), undefined);
  const zero = policy({ schedule: exponential({ firstMs: 0, factor: 2 }) });
  assert.equal(nextDelay(5000, zero, noRng), 0);
  const flat = policy({ schedule: exponential({ firstMs: 30 * S, factor: 1 }) });
  assert.equal(nextDelay(9, flat, noRng), 30 * S);
});

Deno.test("nextDelay rejects attempt numbers that are not positive integers", () => {
  for (const n of [0, -1, 1.5, NaN, Infinity]) {
    assert.throws(() => nextDelay(n, SEEDS["001"], noRng), RangeError);
  }
});

Deno.test("nextDelay: jitter multiplies by a factor in [1 − j, 1 + j) (fixed sequence)", () => {
  const p = policy({ schedule: exponential({ firstMs: 5 * M, attempts: 10, jitter: 0.1 }) });
  const cases: [number, number, number][] = [
    // [rng value, attempt, expected ms]
    [0, 2, 270_000],
    [0.5, 2, 300_000],
    [0.75, 2, 315_000],
    [0.25, 3, 570_000],
    [0.999_999, 2, 330_000], // 329 999.94 rounds up
    [0.123_456_7, 10, 71_016_295], // 76.8e6 · 0.92469134 = 71 016 294.9… → rounded
  ];
  for (const [r, n, expected] of cases) {
    assert.equal(nextDelay(n, p, () => r), expected, `rng ${r}, attempt ${n}`);
  }
  // Exactly one draw per delay: a cycling sequence lines up with successive calls.
  const seq = sequence(0, 0.5, 0.75);
  assert.deepEqual([2, 2, 2, 2].map((n) => nextDelay(n, p, seq)), [
    270_000,
    300_000,
    315_000,
    270_000,
  ]);
  // Attempt 1 is immediate: nothing to jitter, no randomness consumed.
  assert.equal(nextDelay(1, p, noRng), 0);
  // List delays jitter too; zero stays zero.
  const l = policy({ schedule: list([0, 10 * S], 0.5) });
  assert.equal(nextDelay(1, l, noRng), 0);
  assert.equal(nextDelay(2, l, () => 0), 5 * S);
  assert.equal(nextDelay(2, l, () => 0.9), 14 * S);
  // max_delay stays a hard ceiling after jitter.
  const capped = policy({
    schedule: exponential({ firstMs: 1 * H, factor: 2, maxDelayMs: 2 * H, jitter: 0.2 }),
  });
  assert.equal(nextDelay(5, capped, () => 0.99), 2 * H);
  assert.equal(nextDelay(5, capped, () => 0), 1.6 * H);
  // A jitter above 1 (which config should reject) never yields a negative delay.
  const wild = policy({ schedule: list([0, 10 * S], 3) });
  assert.equal(nextDelay(2, wild, () => 0), 0);
});

Deno.test("nextDelay: seeded jitter matches a table and stays within bounds", () => {
  const p = SEEDS["000"]; // jitter 0.1
  const rng = seededRng(42);
  const got = [2, 3, 4, 5, 6, 7, 8, 9, 10].map((n) => nextDelay(n, p, rng));
  // seededRng(42) gives 0.6011037…, 0.4482905…, 0.8524657…; factor 0.9 + 0.2 · r.
  const expected = [
    306_066,
    593_795,
    1_284_592,
    2_481_472,
    4_487_821,
    9_651_058,
    18_329_195,
    39_358_039,
    82_413_691,
  ];
  assert.deepEqual(got, expected);
  got.forEach((ms, i) => {
    const base = 5 * M * 2 ** i;
    assert.ok(ms! >= base * 0.9 && ms! <= base * 1.1, `attempt ${i + 2}: ${ms} vs ${base}`);
  });
  // The same seed gives the same schedule.
  const again = seededRng(42);
  assert.deepEqual([2, 3, 4, 5, 6, 7, 8, 9, 10].map((n) => nextDelay(n, p, again)), expected);
});

const T0 = Date.UTC(2026, 0, 1);

Deno.test("decideNext: success, final and retry", () => {
  const base = { createdAt: T0, now: T0 + 1 * S, rng: noRng };
  assert.deepEqual(
    decideNext({ ...base, outcome: res(200), policy: SEEDS["000"], attemptNumber: 1 }),
    { state: "succeeded" },
  );
  assert.deepEqual(
    decideNext({ ...base, outcome: res(404), policy: SEEDS["002"], attemptNumber: 1 }),
    { state: "failed", reason: "final" },
  );
  // Final is "failed" even where exhaustion dead-letters.
  const deadOnExhaust = { ...SEEDS["002"], onExhausted: "dead" as const };
  assert.deepEqual(
    decideNext({ ...base, outcome: res(410), policy: deadOnExhaust, attemptNumber: 3 }),
    { state: "failed", reason: "final" },
  );
  assert.deepEqual(
    decideNext({ ...base, outcome: res(500), policy: SEEDS["001"], attemptNumber: 1 }),
    { state: "retry", nextAttemptAt: base.now + 30 * S },
  );
  assert.deepEqual(
    decideNext({ ...base, outcome: err("timeout"), policy: SEEDS["001"], attemptNumber: 7 }),
    { state: "retry", nextAttemptAt: base.now + 12 * H },
  );
  // Seed 000 jitters: rng 0.5 is the exact schedule.
  assert.deepEqual(
    decideNext({
      ...base,
      outcome: res(302),
      policy: SEEDS["000"],
      attemptNumber: 9,
      rng: () => 0.5,
    }),
    { state: "retry", nextAttemptAt: base.now + 76_800_000 },
  );
});

Deno.test("decideNext: exhaustion ends in on_exhausted (dead vs failed)", () => {
  const base = { createdAt: T0, now: T0 + 40 * H, rng: () => 0.5 };
  assert.deepEqual(
    decideNext({ ...base, outcome: res(500), policy: SEEDS["001"], attemptNumber: 8 }),
    { state: "dead", reason: "exhausted" },
  );
  assert.deepEqual(
    decideNext({ ...base, outcome: res(500), policy: SEEDS["000"], attemptNumber: 10 }),
    { state: "failed", reason: "exhausted" },
  );
  assert.deepEqual(
    decideNext({ ...base, outcome: err("dns"), policy: SEEDS["004"], attemptNumber: 4 }),
    { state: "failed", reason: "exhausted" },
  );
  // A failing manual retry past the end is exhausted again.
  assert.deepEqual(
    decideNext({ ...base, outcome: res(500), policy: SEEDS["001"], attemptNumber: 9 }),
    { state: "dead", reason: "exhausted" },
  );
});

Deno.test("decideNext: max_age stops attempts that would start after createdAt + max_age", () => {
  const p = SEEDS["002"]; // 30 s doubling, capped at 2 h, for up to 24 h
  const base = { outcome: res(503), policy: p, createdAt: T0, rng: noRng };
  // Attempt 9 waits 30 s · 2⁷ = 64 min.
  assert.deepEqual(
    decideNext({ ...base, attemptNumber: 8, now: T0 + 24 * H - 64 * M }),
    { state: "retry", nextAttemptAt: T0 + 24 * H },
  );
  assert.deepEqual(
    decideNext({ ...base, attemptNumber: 8, now: T0 + 24 * H - 64 * M + 1 }),
    { state: "failed", reason: "exhausted" },
  );

  // Run the whole contract: every attempt starts within 24 h, then it gives up.
  let now = T0;
  let attempt = 1;
  const starts = [now];
  for (;;) {
    const d = decideNext({ ...base, attemptNumber: attempt, now });
    if (d.state !== "retry") {
      assert.deepEqual(d, { state: "failed", reason: "exhausted" });
      break;
    }
    now = d.nextAttemptAt;
    starts.push(now);
    attempt++;
  }
  assert.ok(starts.every((t) => t <= T0 + 24 * H));
  // 0, 30 s … 64 min (9 attempts, ≈ 2 h 8 min), then 2 h apart up to 24 h.
  assert.equal(starts.length, 19);
  assert.equal(starts.at(-1), T0 + 127.5 * M + 10 * 2 * H);
});

Deno.test("decideNext: Retry-After pushes the retry later, never earlier", () => {
  const p = SEEDS["002"];
  const base = { policy: p, createdAt: T0, now: T0 + 10 * S, attemptNumber: 1, rng: noRng };
  // Schedule says 30 s; the receiver asks for 10 min.
  assert.deepEqual(decideNext({ ...base, outcome: res(429, 10 * M) }), {
    state: "retry",
    nextAttemptAt: base.now + 10 * M,
  });
  // Asking for less than the schedule changes nothing.
  assert.deepEqual(decideNext({ ...base, outcome: res(503, 5 * S) }), {
    state: "retry",
    nextAttemptAt: base.now + 30 * S,
  });
  // Ignored when the policy does not honour it.
  assert.deepEqual(
    decideNext({ ...base, policy: { ...p, retryAfter: false }, outcome: res(429, 10 * M) }),
    { state: "retry", nextAttemptAt: base.now + 30 * S },
  );
  // Capped at 24 h: without max_age the retry happens after a day.
  const noAge = policy({ schedule: list([0, 1 * S, 1 * S]) });
  assert.deepEqual(
    decideNext({ ...base, policy: noAge, outcome: res(503, 30 * 24 * H) }),
    { state: "retry", nextAttemptAt: base.now + RETRY_AFTER_MAX_MS },
  );
  // ...but still subject to max_age.
  assert.deepEqual(decideNext({ ...base, outcome: res(503, 24 * H) }), {
    state: "failed",
    reason: "exhausted",
  });
  // A final outcome stays final whatever it asks.
  assert.deepEqual(decideNext({ ...base, outcome: res(410, 1 * S) }), {
    state: "failed",
    reason: "final",
  });
  // No schedule slot left: Retry-After does not extend the attempt count.
  assert.deepEqual(
    decideNext({ ...base, policy: SEEDS["004"], attemptNumber: 4, outcome: res(503, 1 * M) }),
    { state: "failed", reason: "exhausted" },
  );
});

Deno.test("decideNext rejects attempt numbers that are not positive integers", () => {
  assert.throws(
    () =>
      decideNext({
        outcome: res(500),
        policy: SEEDS["001"],
        attemptNumber: 0,
        createdAt: T0,
        now: T0,
        rng: noRng,
      }),
    RangeError,
  );
});
