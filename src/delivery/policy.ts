/**
 * Pure retry-policy decisions: is an outcome a success, worth retrying, or
 * final; how long to wait before the next attempt; and what state a delivery
 * moves to after an attempt. No clock and no randomness of their own: both are
 * passed in, so a 42-hour schedule can be tested in microseconds.
 *
 * @module
 */

import type { OutcomeSet, Policy } from "../config/types.ts";
import type { ErrorKind, Outcome } from "./outcome.ts";

/** A source of uniform random numbers in [0, 1), like `Math.random`. */
export type Rng = () => number;

/**
 * The longest `Retry-After` hookd honours: 24 hours. A receiver asking for
 * longer (or sending a date years ahead, by mistake or malice) gets its retry
 * after 24 h instead of parking the delivery indefinitely; the schedule's
 * own times and `max_age` still apply.
 */
export const RETRY_AFTER_MAX_MS = 24 * 60 * 60 * 1000;

/** How an attempt's outcome counts under a policy. */
export type Classification = "success" | "retry" | "final";

/** What happens to a delivery after an attempt. */
export type Decision =
  | { readonly state: "succeeded" }
  | { readonly state: "retry"; readonly nextAttemptAt: number }
  | {
    readonly state: "failed" | "dead";
    /** `final`: the outcome is not retryable; `exhausted`: no attempt left in the schedule. */
    readonly reason: "final" | "exhausted";
  };

/** Input of {@linkcode decideNext}. */
export interface DecideNextOptions {
  /** What the attempt just made produced. */
  readonly outcome: Outcome;
  readonly policy: Policy;
  /** The number of the attempt just made, 1-based. */
  readonly attemptNumber: number;
  /** When the delivery was created, ms since the epoch; `max_age` counts from here. */
  readonly createdAt: number;
  /** When the attempt's outcome arrived, ms since the epoch; delays count from here. */
  readonly now: number;
  /** Randomness for jitter. */
  readonly rng: Rng;
}

function statusIn(set: OutcomeSet, status: number): boolean {
  for (const [lo, hi] of set.statuses) {
    if (status >= lo && status <= hi) return true;
  }
  return false;
}

/**
 * Whether an outcome belongs to a set: `any` matches everything, status
 * ranges match responses, `timeout` matches the timeout error, `auth` a
 * failed OAuth2 token request, and `network` the other transport errors
 * (dns, connect, tls, reset, blocked, proxy).
 */
export function matchesOutcome(set: OutcomeSet, outcome: Outcome): boolean {
  if (set.any) return true;
  if (outcome.kind === "response") return statusIn(set, outcome.status);
  if (outcome.error === "timeout") return set.timeout;
  return outcome.error === "auth" ? set.auth : set.network;
}

/**
 * Classifies an attempt's outcome under a policy.
 *
 * A response whose status is in `success` is a success (transport errors never
 * are). Otherwise `final` wins over `retry`, so `retry = ["any"]` with
 * `final = ["410"]` stops on 410. An outcome in neither set is final: retrying
 * is opt-in, so a policy that lists `retry = ["5xx"]` does not retry a 418.
 */
export function classify(outcome: Outcome, policy: Policy): Classification {
  if (
    outcome.kind === "response" &&
    (policy.success.any || statusIn(policy.success, outcome.status))
  ) {
    return "success";
  }
  if (matchesOutcome(policy.final, outcome)) return "final";
  if (matchesOutcome(policy.retry, outcome)) return "retry";
  return "final";
}

/**
 * The `error_kind` to record for an attempt: null for a success, `redirect`
 * for a 3xx that is not a success, `status` for any other non-success
 * response, otherwise the transport error itself.
 */
export function errorKindOf(outcome: Outcome, policy: Policy): ErrorKind | null {
  if (outcome.kind === "error") return outcome.error;
  if (classify(outcome, policy) === "success") return null;
  return outcome.status >= 300 && outcome.status <= 399 ? "redirect" : "status";
}

/** The number of attempts the schedule allows, or undefined when only `max_age` bounds it. */
export function maxAttempts(policy: Policy): number | undefined {
  const s = policy.schedule;
  return s.kind === "list" ? s.delaysMs.length : s.attempts;
}

function assertAttemptNumber(what: string, n: number): void {
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new RangeError(`Cannot ${what}: attempt number must be an integer >= 1, got ${n}`);
  }
}

/**
 * The delay in ms before attempt `attemptNumber` (1-based: pass the number of
 * the attempt about to be scheduled), or undefined when the schedule has no
 * such attempt.
 *
 * - list: `delaysMs[n - 1]`; the list length is the attempt count.
 * - exponential: attempt 1 is immediate, attempt n ≥ 2 waits
 *   `firstMs · factor^(n - 2)`, capped at `maxDelayMs`; beyond `attempts` (when
 *   set) there is no attempt. `max_age` is not checked here: it needs the
 *   delivery's creation time, see {@linkcode decideNext}.
 *
 * Jitter `j` multiplies the delay by a factor uniform in [1 - j, 1 + j), drawn
 * from one call to `rng` (no call when `j` or the delay is 0, so jitter-free
 * schedules never consume randomness). The result is rounded to whole ms and never negative.
 * For exponential schedules `maxDelayMs` is a hard ceiling on the jittered
 * delay too: `max_delay = "1d"` means no wait is longer than a day.
 */
export function nextDelay(attemptNumber: number, policy: Policy, rng: Rng): number | undefined {
  assertAttemptNumber("compute retry delay", attemptNumber);
  const s = policy.schedule;
  let base: number;
  let ceiling = Infinity;
  if (s.kind === "list") {
    const d = s.delaysMs[attemptNumber - 1];
    if (d === undefined) return undefined;
    base = d;
  } else {
    if (s.attempts !== undefined && attemptNumber > s.attempts) return undefined;
    ceiling = s.maxDelayMs;
    if (attemptNumber === 1 || s.firstMs <= 0) {
      base = 0;
    } else {
      // factor ** n overflows to Infinity for large n; the cap absorbs it.
      base = Math.min(s.firstMs * s.factor ** (attemptNumber - 2), ceiling);
    }
  }
  if (s.jitter > 0 && base > 0) {
    base *= 1 - s.jitter + 2 * s.jitter * rng();
  }
  return Math.max(0, Math.min(Math.round(base), ceiling));
}

/**
 * Decides what happens to a delivery after an attempt.
 *
 * - success → `succeeded`.
 * - final (not retryable) → `failed` with reason `final`, whatever
 *   `on_exhausted` says: the receiver answered that this request will never be
 *   accepted (400, 404, 410…), so re-sending it unchanged from the dead-letter
 *   queue would not help. It stays visible in history and can still be retried
 *   by hand.
 * - retryable → `retry` at `now + nextDelay(attemptNumber + 1)`. When the
 *   policy honours `Retry-After` and the response carried one, the attempt is
 *   pushed to at least `now + retryAfterMs` (capped at
 *   {@linkcode RETRY_AFTER_MAX_MS}); it is never brought earlier. If no attempt
 *   is left (beyond the list or `attempts`) or the attempt would start after
 *   `createdAt + maxAgeMs`, the delivery is exhausted and ends in
 *   `policy.onExhausted` (`dead` for the dead-letter queue, or `failed`).
 *
 * Only the numbers count: a failed manual retry of an exhausted delivery is
 * exhausted again.
 */
export function decideNext(options: DecideNextOptions): Decision {
  const { outcome, policy, attemptNumber, createdAt, now, rng } = options;
  assertAttemptNumber("decide next delivery state", attemptNumber);
  const kind = classify(outcome, policy);
  if (kind === "success") return { state: "succeeded" };
  if (kind === "final") return { state: "failed", reason: "final" };

  const exhausted: Decision = { state: policy.onExhausted, reason: "exhausted" };
  const delay = nextDelay(attemptNumber + 1, policy, rng);
  if (delay === undefined) return exhausted;
  let nextAttemptAt = now + delay;
  if (
    policy.retryAfter && outcome.kind === "response" && outcome.retryAfterMs !== undefined &&
    !Number.isNaN(outcome.retryAfterMs)
  ) {
    const wait = Math.min(Math.max(0, outcome.retryAfterMs), RETRY_AFTER_MAX_MS);
    nextAttemptAt = Math.max(nextAttemptAt, now + wait);
  }
  const s = policy.schedule;
  if (
    s.kind === "exponential" && s.maxAgeMs !== undefined && nextAttemptAt > createdAt + s.maxAgeMs
  ) {
    return exhausted;
  }
  return { state: "retry", nextAttemptAt };
}
