import { describe, isTable, type Table } from "./_util.ts";
import { formatDuration } from "./duration.ts";
import { booleanField, type Field, integerField, numberField, oneOfField } from "./fields.ts";
import type { KeyPath } from "./locate.ts";
import { type OutcomeToken, parseOutcomeToken, toOutcomeSet } from "./outcome_set.ts";
import { POLICY_KEYS, POLICY_LIMITS, POLICY_NAME, SCHEDULE_KEYS } from "./schema.ts";
import { suggest } from "./suggest.ts";
import type { OutcomeSet, Policy, Schedule } from "./types.ts";

/** A problem in one policy; `path` starts with `["policies", NAME]`. */
export interface PolicyIssue {
  readonly path: KeyPath;
  readonly message: string;
}

const JITTER = numberField(0, 1);
const ON_EXHAUSTED = oneOfField(["dead", "failed"]);
const RETRY_AFTER = booleanField();
const ATTEMPTS = integerField(1, POLICY_LIMITS.maxAttempts);
const FACTOR = numberField(1, POLICY_LIMITS.maxFactor);

function message(error: unknown): string {
  return (error instanceof Error ? error.message : String(error))
    .replace(/^Cannot parse \w+: /, "");
}

/** `unknown key; did you mean "x"?`, or the allowed keys when nothing is close. */
export function unknownKeyMessage(key: string, allowed: readonly string[]): string {
  const guess = suggest(key, allowed);
  return guess === undefined
    ? `unknown key; allowed keys are ${allowed.join(", ")}`
    : `unknown key; did you mean "${guess}"?`;
}

/**
 * Resolves one `[policies.NAME]` table. Keys the user's table omits are taken
 * from `base`, the built-in `[policies.default]` (already known to be valid).
 * Checks every key and the rules across keys, and returns the policy only when
 * there are no issues.
 */
export function resolvePolicy(
  name: string,
  user: unknown,
  base: Table,
): { policy: Policy | undefined; issues: PolicyIssue[] } {
  const issues: PolicyIssue[] = [];
  const at = (path: KeyPath, text: string) =>
    issues.push({ path: ["policies", name, ...path], message: text });

  if (!POLICY_NAME.test(name)) {
    at([], `policy names are 1-64 of a-z, 0-9, "_" and "-", got ${JSON.stringify(name)}`);
  }
  if (!isTable(user)) {
    at([], `expected a table of policy keys, got ${describe(user)}`);
    return { policy: undefined, issues };
  }
  for (const key of Object.keys(user)) {
    if (!(POLICY_KEYS as readonly string[]).includes(key)) {
      at([key], unknownKeyMessage(key, POLICY_KEYS));
    }
  }
  const given = (key: string) => Object.hasOwn(user, key);
  const pick = (key: string) => given(key) ? user[key] : base[key];
  const field = <T>(path: KeyPath, f: Field<T>, raw: unknown): T | undefined => {
    try {
      return f.parse(raw);
    } catch (error) {
      at(path, message(error));
      return undefined;
    }
  };

  const timeoutMs = field(["timeout"], POLICY_LIMITS.timeout, pick("timeout"));
  const jitter = field(["jitter"], JITTER, pick("jitter"));
  const schedule = resolveSchedule(pick("schedule"), {
    jitter: jitter ?? 0,
    jitterGiven: given("jitter"),
    defaultJitter: JITTER.parse(base.jitter),
    at,
    field,
  });

  const lists: Record<string, { tokens: OutcomeToken[]; texts: string[] }> = {};
  for (const key of ["success", "retry", "final"] as const) {
    const raw = pick(key);
    const tokens: OutcomeToken[] = [];
    const texts: string[] = [];
    if (!Array.isArray(raw)) {
      at([key], `expected a list of outcomes such as ["2xx", "timeout"], got ${describe(raw)}`);
    } else {
      raw.forEach((item: unknown, index) => {
        if (typeof item !== "string") {
          at([key, index], `expected an outcome string such as "5xx", got ${describe(item)}`);
          return;
        }
        try {
          tokens.push(parseOutcomeToken(item));
          texts.push(item);
        } catch (error) {
          at([key, index], message(error));
        }
      });
    }
    lists[key] = { tokens, texts };
  }
  const success = lists.success ?? { tokens: [], texts: [] };
  checkOutcomes(pick, success, lists.retry, lists.final, at);

  const onExhausted = field(["on_exhausted"], ON_EXHAUSTED, pick("on_exhausted"));
  const retryAfter = field(["retry_after"], RETRY_AFTER, pick("retry_after"));

  if (
    issues.length > 0 || timeoutMs === undefined || schedule === undefined ||
    onExhausted === undefined || retryAfter === undefined
  ) {
    return { policy: undefined, issues };
  }
  const set = (key: string): OutcomeSet => toOutcomeSet(lists[key]?.tokens ?? []);
  return {
    policy: {
      name,
      timeoutMs,
      schedule,
      success: set("success"),
      retry: set("retry"),
      final: set("final"),
      onExhausted,
      retryAfter,
    },
    issues,
  };
}

interface ScheduleContext {
  readonly jitter: number;
  readonly jitterGiven: boolean;
  readonly defaultJitter: number;
  readonly at: (path: KeyPath, text: string) => void;
  readonly field: <T>(path: KeyPath, f: Field<T>, raw: unknown) => T | undefined;
}

function resolveSchedule(raw: unknown, ctx: ScheduleContext): Schedule | undefined {
  const { at, field } = ctx;
  if (Array.isArray(raw)) {
    if (raw.length < 1 || raw.length > POLICY_LIMITS.maxAttempts) {
      at(
        ["schedule"],
        `expected 1 to ${POLICY_LIMITS.maxAttempts} delays (one per attempt), got ${raw.length}`,
      );
      return undefined;
    }
    const delaysMs = raw.map((item: unknown, index) =>
      field(["schedule", index], POLICY_LIMITS.listDelay, item)
    );
    if (delaysMs.some((delay) => delay === undefined)) return undefined;
    return { kind: "list", delaysMs: delaysMs as number[], jitter: ctx.jitter };
  }
  if (!isTable(raw)) {
    at(
      ["schedule"],
      'expected a list of delays such as ["0s", "1m"] or an inline table ' +
        `{ first, factor, attempts, max_age, max_delay, jitter }, got ${describe(raw)}`,
    );
    return undefined;
  }

  let ok = true;
  const fail = (path: KeyPath, text: string) => {
    ok = false;
    at(path, text);
  };
  if (ctx.jitterGiven) {
    fail(
      ["jitter"],
      Object.hasOwn(raw, "jitter")
        ? "jitter is given both here and inside the schedule table; keep one (the table's)"
        : "policy-level jitter applies to a list schedule only; put jitter inside the " +
          "schedule table",
    );
  }
  for (const key of Object.keys(raw)) {
    if (!(SCHEDULE_KEYS as readonly string[]).includes(key)) {
      fail(["schedule", key], unknownKeyMessage(key, SCHEDULE_KEYS));
    }
  }
  const get = <T>(key: string, f: Field<T>): T | undefined => {
    if (!Object.hasOwn(raw, key)) return undefined;
    const value = field(["schedule", key], f, raw[key]);
    if (value === undefined) ok = false;
    return value;
  };

  const firstMs = get("first", POLICY_LIMITS.first);
  const factor = get("factor", FACTOR) ?? POLICY_LIMITS.defaultFactor;
  const attempts = get("attempts", ATTEMPTS);
  const maxAgeMs = get("max_age", POLICY_LIMITS.maxAge);
  const maxDelayGiven = Object.hasOwn(raw, "max_delay");
  const maxDelayMs = maxDelayGiven
    ? get("max_delay", POLICY_LIMITS.maxDelay)
    : POLICY_LIMITS.maxDelay.parse(POLICY_LIMITS.defaultMaxDelay);
  const jitter = get("jitter", JITTER) ?? ctx.defaultJitter;

  if (!Object.hasOwn(raw, "first")) {
    fail(["schedule"], 'missing "first", the delay before the second attempt (e.g. "5m")');
  }
  if (!Object.hasOwn(raw, "attempts") && !Object.hasOwn(raw, "max_age")) {
    fail(["schedule"], 'needs "attempts", "max_age" or both, so that retries end');
  }
  if (firstMs !== undefined && maxDelayMs !== undefined && maxDelayMs < firstMs) {
    fail(
      maxDelayGiven ? ["schedule", "max_delay"] : ["schedule"],
      `max_delay ${maxDelayGiven ? "" : `(default "${POLICY_LIMITS.defaultMaxDelay}") `}` +
        `must be at least first ("${formatDuration(firstMs)}"), got "${
          formatDuration(maxDelayMs)
        }"`,
    );
  }
  if (firstMs === 0 && !Object.hasOwn(raw, "attempts") && maxAgeMs !== undefined) {
    fail(["schedule", "first"], 'must be above "0s" when only max_age bounds the retries');
  }
  if (!ok || firstMs === undefined || maxDelayMs === undefined) return undefined;
  return { kind: "exponential", firstMs, factor, attempts, jitter, maxDelayMs, maxAgeMs };
}

type Parsed = { tokens: OutcomeToken[]; texts: string[] } | undefined;

function checkOutcomes(
  pick: (key: string) => unknown,
  success: { tokens: OutcomeToken[]; texts: string[] },
  retry: Parsed,
  final: Parsed,
  at: (path: KeyPath, text: string) => void,
): void {
  const raw = pick("success");
  if (Array.isArray(raw) && raw.length === 0) {
    at(["success"], 'must list at least one status, e.g. ["2xx"]');
  }
  const successRanges: { range: readonly [number, number]; text: string }[] = [];
  success.tokens.forEach((token, i) => {
    const text = success.texts[i] ?? "";
    if (token.kind === "status") successRanges.push({ range: token.range, text });
    else {
      const index = Array.isArray(raw) ? raw.indexOf(text) : i;
      at(["success", index], `success lists statuses only, got ${JSON.stringify(text)}`);
    }
  });
  for (const [key, list] of [["retry", retry], ["final", final]] as const) {
    if (list === undefined) continue;
    const items = pick(key);
    list.tokens.forEach((token, i) => {
      if (token.kind !== "status") return;
      const text = list.texts[i] ?? "";
      const clash = successRanges.find(({ range }) =>
        range[0] <= token.range[1] && token.range[0] <= range[1]
      );
      if (clash !== undefined) {
        const index = Array.isArray(items) ? items.indexOf(text) : i;
        at(
          [key, index],
          `${JSON.stringify(text)} overlaps success ${JSON.stringify(clash.text)}; ` +
            `a status cannot be both a success and a failure`,
        );
      }
    });
  }
}
