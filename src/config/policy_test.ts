import assert from "node:assert/strict";
import { parse } from "smol-toml";
import type { Table } from "./_util.ts";
import type { KeyPath } from "./locate.ts";
import { policies } from "./policy.ts";
import type { Policy } from "./types.ts";

/** Resolves one `[policies.NAME]` table alone: the policy, or every problem in it. */
function resolvePolicy(name: string, user: unknown) {
  const result = policies.safeParse({ [name]: user });
  return {
    policy: result.data?.[name] as Policy | undefined,
    issues: (result.error?.issues ?? []).map((issue) => ({
      path: ["policies", ...issue.path] as KeyPath,
      message: issue.message,
    })),
  };
}

/** Parses `[policies.NAME]` body text and resolves it. */
function resolve(body: string, name = "p") {
  const user = (parse(`[policies.${JSON.stringify(name)}]\n${body}`).policies as Table)[name];
  return resolvePolicy(name, user);
}

function ok(body: string): Policy {
  const { policy, issues } = resolve(body);
  assert.deepEqual(issues, []);
  assert.ok(policy !== undefined);
  return policy;
}

function issues(body: string, name = "p"): [string, string][] {
  const result = resolve(body, name);
  assert.equal(result.policy, undefined);
  return result.issues.map((issue) => [issue.path.join("."), issue.message]);
}

const NONE = { statuses: [], any: false, network: false, timeout: false, auth: false };

Deno.test("resolvePolicy() with no keys is the built-in default policy", () => {
  assert.deepEqual(ok(""), {
    name: "p",
    timeoutMs: 10_000,
    schedule: {
      kind: "list",
      delaysMs: [0, 5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000],
      jitter: 0.1,
    },
    success: { ...NONE, statuses: [[200, 299]] },
    retry: { ...NONE, any: true },
    final: NONE,
    onExhausted: "dead",
    retryAfter: true,
    autoDisable: {
      failingForMs: 5 * 86_400_000,
      exhaustedInRow: null,
      onStatus: { ...NONE, statuses: [[410, 410]] },
    },
    breaker: {
      failures: 10,
      failureRate: null,
      windowMs: 60_000,
      minAttempts: 20,
      cooldownMs: 30_000,
      maxCooldownMs: 600_000,
    },
    adaptiveConcurrency: true,
  });
});

Deno.test("resolvePolicy() reads the auto-disable rules and says what each allows", () => {
  const policy = ok(
    'disable_after_failing_for = "2h"\ndisable_after_exhausted = 3\n' +
      'disable_on_status = ["404", "410-411"]\n',
  );
  assert.deepEqual(policy.autoDisable, {
    failingForMs: 7_200_000,
    exhaustedInRow: 3,
    onStatus: { ...NONE, statuses: [[404, 404], [410, 411]] },
  });
  const off = ok('disable_after_failing_for = "never"\ndisable_on_status = []\n');
  assert.deepEqual(off.autoDisable, { failingForMs: null, exhaustedInRow: null, onStatus: NONE });
  assert.deepEqual(
    issues(
      'disable_after_failing_for = "soon"\ndisable_after_exhausted = -1\n' +
        'disable_on_status = ["timeout"]\n',
    ),
    [
      [
        "policies.p.disable_after_failing_for",
        'expected a duration such as "5d", or "never", got "soon"',
      ],
      ["policies.p.disable_after_exhausted", "expected an integer from 0 to 1000000, got -1"],
      ["policies.p.disable_on_status.0", 'lists statuses only, got "timeout"'],
    ],
  );
});

Deno.test("resolvePolicy() reads a list schedule and policy-level jitter", () => {
  const policy = ok('timeout = "5s"\nschedule = ["0s", "1s", "2s"]\njitter = 0\n');
  assert.equal(policy.timeoutMs, 5_000);
  assert.deepEqual(policy.schedule, { kind: "list", delaysMs: [0, 1_000, 2_000], jitter: 0 });
  assert.deepEqual(ok('schedule = ["1m"]').schedule, {
    kind: "list",
    delaysMs: [60_000],
    jitter: 0.1,
  });
});

Deno.test("resolvePolicy() reads an exponential schedule with defaults for omitted keys", () => {
  assert.deepEqual(ok('schedule = { first = "5m", attempts = 3 }').schedule, {
    kind: "exponential",
    firstMs: 300_000,
    factor: 2,
    attempts: 3,
    jitter: 0.1,
    maxDelayMs: 86_400_000,
    maxAgeMs: undefined,
  });
  assert.deepEqual(
    ok(
      'schedule = { first = "1s", factor = 1.5, max_age = "2h", max_delay = "10m", jitter = 0 }',
    ).schedule,
    {
      kind: "exponential",
      firstMs: 1_000,
      factor: 1.5,
      attempts: undefined,
      jitter: 0,
      maxDelayMs: 600_000,
      maxAgeMs: 7_200_000,
    },
  );
});

Deno.test("resolvePolicy() rejects bad schedules saying what is allowed", () => {
  const table: [string, [string, string][]][] = [
    ["schedule = []", [[
      "policies.p.schedule",
      "expected 1 to 100 delays (one per attempt), got 0",
    ]]],
    [
      `schedule = [${Array(101).fill('"1s"').join(",")}]`,
      [["policies.p.schedule", "expected 1 to 100 delays (one per attempt), got 101"]],
    ],
    [
      'schedule = ["0s", "5 min", 5]',
      [
        [
          "policies.p.schedule.1",
          'expected a number followed by ms, s, m, h or d (e.g. "5s", "1h30m"), got "5 min"',
        ],
        ["policies.p.schedule.2", 'expected a duration such as "5s" or "1h30m", got 5'],
      ],
    ],
    [
      'schedule = "5s"',
      [[
        "policies.p.schedule",
        'expected a list of delays such as ["0s", "1m"] or an inline table ' +
        '{ first, factor, attempts, max_age, max_delay, jitter }, got "5s"',
      ]],
    ],
    [
      "schedule = { attempts = 3 }",
      [[
        "policies.p.schedule",
        'missing "first", the delay before the second attempt (e.g. "5m")',
      ]],
    ],
    [
      'schedule = { first = "1s" }',
      [["policies.p.schedule", 'needs "attempts", "max_age" or both, so that retries end']],
    ],
    [
      'schedule = { first = "1s", factor = 0.5, attempts = 0 }',
      [
        ["policies.p.schedule.factor", "expected a number from 1 to 100, got 0.5"],
        ["policies.p.schedule.attempts", "expected an integer from 1 to 100, got 0"],
      ],
    ],
    [
      'schedule = { first = "1s", attempts = 101, jitter = 2 }',
      [
        ["policies.p.schedule.attempts", "expected an integer from 1 to 100, got 101"],
        ["policies.p.schedule.jitter", "expected a number from 0 to 1, got 2"],
      ],
    ],
    [
      'schedule = { first = "1h", attempts = 3, max_delay = "10m" }',
      [[
        "policies.p.schedule.max_delay",
        'max_delay must be at least first ("1h"), got "10m"',
      ]],
    ],
    [
      'schedule = { first = "2d", attempts = 3 }',
      [["policies.p.schedule", 'max_delay (default "1d") must be at least first ("2d"), got "1d"']],
    ],
    [
      'schedule = { first = "0s", max_age = "1h" }',
      [["policies.p.schedule.first", 'must be above "0s" when only max_age bounds the retries']],
    ],
    [
      'schedule = { first = "1s", attempts = 3, factr = 2 }',
      [["policies.p.schedule.factr", 'unknown key; did you mean "factor"?']],
    ],
  ];
  for (const [body, expected] of table) assert.deepEqual(issues(body), expected, body);
});

Deno.test("resolvePolicy() allows jitter only once, matching the schedule form", () => {
  assert.deepEqual(
    issues('jitter = 0.2\nschedule = { first = "1s", attempts = 2, jitter = 0.1 }'),
    [[
      "policies.p.jitter",
      "jitter is given both here and inside the schedule table; keep one (the table's)",
    ]],
  );
  assert.deepEqual(issues('jitter = 0.2\nschedule = { first = "1s", attempts = 2 }'), [[
    "policies.p.jitter",
    "policy-level jitter applies to a list schedule only; put jitter inside the schedule table",
  ]]);
  assert.deepEqual(issues("jitter = 1.5"), [[
    "policies.p.jitter",
    "expected a number from 0 to 1, got 1.5",
  ]]);
});

Deno.test("resolvePolicy() parses outcome lists", () => {
  const policy = ok(
    'success = ["200-399"]\nretry = ["408", "429", "5xx", "network", "timeout"]\n' +
      'final = ["400", "401", "403", "404", "410"]\n',
  );
  assert.deepEqual(policy.success, { ...NONE, statuses: [[200, 399]] });
  assert.deepEqual(policy.retry, {
    statuses: [[408, 408], [429, 429], [500, 599]],
    any: false,
    network: true,
    timeout: true,
    auth: false,
  });
  assert.deepEqual(policy.final, {
    ...NONE,
    statuses: [[400, 400], [401, 401], [403, 403], [404, 404], [410, 410]],
  });
  const overrides = ok('retry = ["4xx"]\nfinal = ["410", "timeout"]');
  assert.deepEqual(overrides.final, { ...NONE, statuses: [[410, 410]], timeout: true });
});

Deno.test("resolvePolicy() enforces rules across outcome lists", () => {
  const table: [string, [string, string][]][] = [
    ["success = []", [["policies.p.success", 'must list at least one status, e.g. ["2xx"]']]],
    [
      'success = ["2xx", "network"]',
      [["policies.p.success.1", 'success lists statuses only, got "network"']],
    ],
    [
      'final = ["404", "204"]',
      [[
        "policies.p.final.1",
        '"204" overlaps success "2xx"; a status cannot be both a success and a failure',
      ]],
    ],
    [
      'success = ["200"]\nretry = ["any", "100-200"]',
      [[
        "policies.p.retry.1",
        '"100-200" overlaps success "200"; a status cannot be both a success and a failure',
      ]],
    ],
    [
      'final = ["399-200", "6xx", 404]',
      [
        ["policies.p.final.0", 'a range must not end below its start, got "399-200"'],
        [
          "policies.p.final.1",
          'expected "any", "network", "timeout", "auth", a status ("404"), a class ("5xx") or a ' +
          'range ("200-399"), got "6xx"',
        ],
        ["policies.p.final.2", 'expected an outcome string such as "5xx", got 404'],
      ],
    ],
    [
      'retry = "any"',
      [[
        "policies.p.retry",
        'expected a list of outcomes such as ["2xx", "timeout"], got "any"',
      ]],
    ],
  ];
  for (const [body, expected] of table) assert.deepEqual(issues(body), expected, body);
});

Deno.test("resolvePolicy() checks names, key types and unknown keys", () => {
  assert.deepEqual(issues("", "Fast"), [[
    "policies.Fast",
    'policy names are 1-64 of a-z, 0-9, "_" and "-", got "Fast"',
  ]]);
  assert.deepEqual(issues("", "a".repeat(65)).length, 1);
  assert.equal(resolve("", "a".repeat(64)).issues.length, 0);
  assert.deepEqual(resolvePolicy("p", "x").issues, [{
    path: ["policies", "p"],
    message: 'expected a table of policy keys, got "x"',
  }]);
  assert.deepEqual(
    issues('timout = "5s"\non_exhausted = "drop"\nretry_after = "yes"\ntimeout = "2h"\nfoo = 1'),
    [
      ["policies.p.timout", 'unknown key; did you mean "timeout"?'],
      [
        "policies.p.foo",
        "unknown key; allowed keys are timeout, schedule, jitter, success, retry, final, " +
        "on_exhausted, retry_after, disable_after_failing_for, disable_after_exhausted, " +
        "disable_on_status, breaker_failures, breaker_failure_rate, breaker_window, " +
        "breaker_min_attempts, breaker_cooldown, breaker_max_cooldown, adaptive_concurrency",
      ],
      ["policies.p.timeout", 'expected a duration from "1ms" to "1h", got "2h"'],
      ["policies.p.on_exhausted", 'expected one of "dead", "failed", got "drop"'],
      ["policies.p.retry_after", 'expected true or false, got "yes"'],
    ],
  );
});
