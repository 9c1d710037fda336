import { z } from "zod";
import { describe, isTable, type Table } from "./_util.ts";
import { DEFAULTS } from "./default_toml.ts";
import { formatDuration, parseDuration } from "./duration.ts";
import {
  booleanField,
  converted,
  durationField,
  durationOrNeverField,
  integerField,
  numberField,
  oneOfField,
} from "./fields.ts";
import { parseOutcomeToken, toOutcomeSet } from "./outcome_set.ts";
import { namedTables, table, withRules } from "./table.ts";

const HOUR = 3_600_000;
const DAY = 86_400_000;
const MAX_ATTEMPTS = 100;
/** What an exponential schedule's omitted keys mean (documented in default.toml). */
const DEFAULT_FACTOR = 2;
const DEFAULT_MAX_DELAY = "1d";
const DEFAULT_MAX_DELAY_MS = parseDuration(DEFAULT_MAX_DELAY);

/**
 * The built-in `[policies.default]` of default.toml, which every policy starts
 * from. Its `jitter` is kept apart: whether a policy gives `jitter` itself
 * matters (it belongs inside an exponential schedule's table instead).
 */
const { jitter: builtInJitter, ...BUILT_IN } = (DEFAULTS.policies as Table).default as Table;

const JITTER = numberField(0, 1);
const BUILT_IN_JITTER = JITTER.parse(builtInJitter);

/** `["0s", "1m", …]`: the delay before each attempt; the length is the attempt count. */
const attemptCount = {
  error: (issue: { readonly input?: unknown }) =>
    `expected 1 to ${MAX_ATTEMPTS} delays (one per attempt), got ${
      (issue.input as unknown[]).length
    }`,
};
const listSchedule = z.array(durationField(0, 30 * DAY))
  .min(1, attemptCount)
  .max(MAX_ATTEMPTS, attemptCount)
  .transform((delaysMs) => ({ kind: "list" as const, delaysMs }));

/** `{ first = "5m", factor = 2, attempts = 10, … }`: exponential backoff. */
const exponentialSchedule = withRules(
  table({
    first: durationField(0, 30 * DAY).optional(),
    factor: numberField(1, 100).optional(),
    attempts: integerField(1, MAX_ATTEMPTS).optional(),
    jitter: JITTER.optional(),
    max_delay: durationField(0, 365 * DAY).optional(),
    max_age: durationField(1, 365 * DAY).optional(),
  }),
  (s, { given, report }) => {
    if (!given("first")) {
      report([], 'missing "first", the delay before the second attempt (e.g. "5m")');
    }
    if (!given("attempts") && !given("max_age")) {
      report([], 'needs "attempts", "max_age" or both, so that retries end');
    }
    const maxDelayMs = given("max_delay") ? s.max_delay : DEFAULT_MAX_DELAY_MS;
    if (s.first !== undefined && maxDelayMs !== undefined && maxDelayMs < s.first) {
      report(
        given("max_delay") ? ["max_delay"] : [],
        `max_delay ${given("max_delay") ? "" : `(default "${DEFAULT_MAX_DELAY}") `}` +
          `must be at least first ("${formatDuration(s.first)}"), got "${
            formatDuration(maxDelayMs)
          }"`,
      );
    }
    if (s.first === 0 && !given("attempts") && s.max_age !== undefined) {
      report(["first"], 'must be above "0s" when only max_age bounds the retries');
    }
  },
).transform((s) => ({
  kind: "exponential" as const,
  /** Delay before the second attempt, ms; the first is immediate. */
  firstMs: s.first ?? 0, // present: the rule above requires it
  factor: s.factor ?? DEFAULT_FACTOR,
  /** Total attempts including the first; undefined: bounded by maxAgeMs only. */
  attempts: s.attempts,
  /** Undefined until the policy resolves it (to the built-in jitter). */
  jitter: s.jitter,
  maxDelayMs: s.max_delay ?? DEFAULT_MAX_DELAY_MS,
  /** No attempt starts later than this after the delivery was created; undefined: no bound. */
  maxAgeMs: s.max_age,
}));

/** A list schedule or an exponential one, told apart by the TOML value's shape. */
const schedule = z.unknown().transform((raw, ctx) => {
  const form = Array.isArray(raw) ? listSchedule : isTable(raw) ? exponentialSchedule : undefined;
  if (form === undefined) {
    ctx.issues.push({
      code: "custom",
      message: 'expected a list of delays such as ["0s", "1m"] or an inline table ' +
        `{ first, factor, attempts, max_age, max_delay, jitter }, got ${describe(raw)}`,
      input: raw,
    });
    return z.NEVER;
  }
  const result = form.safeParse(raw);
  if (result.success) return result.data;
  for (const { path, message } of result.error.issues) {
    ctx.issues.push({ code: "custom", path, message, input: raw });
  }
  return z.NEVER;
});

/** One outcome token, keeping its text for messages. */
const outcome = converted(
  z.string({
    error: (issue) => `expected an outcome string such as "5xx", got ${describe(issue.input)}`,
  }),
  (text) => ({ text, token: parseOutcomeToken(text) }),
);

function outcomeList<T>(item: z.ZodType<T>) {
  return z.array(item, {
    error: (issue) =>
      `expected a list of outcomes such as ["2xx", "timeout"], got ${describe(issue.input)}`,
  });
}

/** A duration, or `"never"` (null) to switch a rule off. */
const durationOrNever = durationOrNeverField(1, 365 * DAY);

const statusList = outcomeList(outcome.refine((o) => o.token.kind === "status", {
  error: (issue) =>
    `lists statuses only, got ${JSON.stringify((issue.input as { text: string }).text)}`,
}));

const successList = outcomeList(outcome.refine((o) => o.token.kind === "status", {
  error: (issue) =>
    `success lists statuses only, got ${JSON.stringify((issue.input as { text: string }).text)}`,
})).min(1, 'must list at least one status, e.g. ["2xx"]');

const POLICY_SHAPE = {
  timeout: durationField(1, HOUR),
  schedule,
  jitter: JITTER.optional(),
  success: successList,
  retry: outcomeList(outcome),
  final: outcomeList(outcome),
  on_exhausted: oneOfField(["dead", "failed"]),
  retry_after: booleanField(),
  disable_after_failing_for: durationOrNever,
  disable_after_exhausted: integerField(0, 1_000_000),
  disable_on_status: statusList,
  breaker_failures: integerField(0, 1_000_000),
  breaker_failure_rate: numberField(0, 1),
  breaker_window: durationField(1_000, DAY),
  breaker_min_attempts: integerField(1, 1_000_000),
  breaker_cooldown: durationField(1, DAY),
  breaker_max_cooldown: durationField(1, 7 * DAY),
  adaptive_concurrency: booleanField(),
};

/** Keys of one `[policies.NAME]` table, in default.toml's order. */
export const POLICY_KEYS: readonly string[] = Object.keys(POLICY_SHAPE);

/**
 * One `[policies.NAME]` table: whether and when to attempt. Keys it omits come
 * from the built-in `[policies.default]` (not from the user's override of it).
 */
const policy = withRules(
  table(POLICY_SHAPE, { expected: "a table of policy keys", defaults: BUILT_IN }),
  (p, { given, report }) => {
    if (p.schedule?.kind === "exponential" && given("jitter")) {
      report(
        ["jitter"],
        p.schedule.jitter !== undefined
          ? "jitter is given both here and inside the schedule table; keep one (the table's)"
          : "policy-level jitter applies to a list schedule only; put jitter inside the " +
            "schedule table",
      );
    }
    // A status cannot be both a success and a failure.
    if (p.success === undefined) return;
    const successes = p.success.flatMap((o) =>
      o.token.kind === "status" ? [{ range: o.token.range, text: o.text }] : []
    );
    for (const key of ["retry", "final"] as const) {
      (p[key] ?? []).forEach(({ token, text }, index) => {
        if (token.kind !== "status") return;
        const clash = successes.find(({ range }) =>
          range[0] <= token.range[1] && token.range[0] <= range[1]
        );
        if (clash !== undefined) {
          report(
            [key, index],
            `${JSON.stringify(text)} overlaps success ${JSON.stringify(clash.text)}; ` +
              `a status cannot be both a success and a failure`,
          );
        }
      });
    }
  },
).transform((p) => ({
  /** How long to wait for the response of one attempt, ms. */
  timeoutMs: p.timeout,
  schedule: p.schedule.kind === "list"
    ? {
      ...p.schedule,
      /** Fraction (0–1) by which each delay may randomly vary either way. */
      jitter: p.jitter ?? BUILT_IN_JITTER,
    }
    : { ...p.schedule, jitter: p.schedule.jitter ?? BUILT_IN_JITTER },
  success: toOutcomeSet(p.success.map((o) => o.token)),
  retry: toOutcomeSet(p.retry.map((o) => o.token)),
  final: toOutcomeSet(p.final.map((o) => o.token)),
  onExhausted: p.on_exhausted,
  /** Honour a `Retry-After` response header when it asks for a later retry. */
  retryAfter: p.retry_after,
  /** When a webhook under this policy is disabled on its own (its deliveries are held). */
  autoDisable: {
    /** Failing without a single success for this long, ms; null: never. */
    failingForMs: p.disable_after_failing_for,
    /** This many deliveries in a row ended without success (failed or dead); null: never. */
    exhaustedInRow: p.disable_after_exhausted === 0 ? null : p.disable_after_exhausted,
    /** A response with one of these statuses disables at once. */
    onStatus: toOutcomeSet(p.disable_on_status.map((o) => o.token)),
  },
  /** Per-webhook circuit breaker; off when both opening rules are null. */
  breaker: {
    /** Consecutive failed attempts that open it; null: this rule is off. */
    failures: p.breaker_failures === 0 ? null : p.breaker_failures,
    /** Share of failed attempts in `windowMs` that opens it; null: this rule is off. */
    failureRate: p.breaker_failure_rate === 0 ? null : p.breaker_failure_rate,
    windowMs: p.breaker_window,
    /** Attempts the window must hold before the rate rule applies. */
    minAttempts: p.breaker_min_attempts,
    /** Wait before the first probe; doubles after each failed probe, up to `maxCooldownMs`. */
    cooldownMs: p.breaker_cooldown,
    maxCooldownMs: Math.max(p.breaker_cooldown, p.breaker_max_cooldown),
  },
  /** Halve a webhook's concurrency on 429/502/503/504 and timeouts; grow it back on success. */
  adaptiveConcurrency: p.adaptive_concurrency,
}));

/** Every `[policies.NAME]`, resolved; `default` is always there. */
export const policies = namedTables({ section: "policies", builtIn: "default", schema: policy });
