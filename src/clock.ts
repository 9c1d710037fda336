/**
 * Time behind a small adapter so that the scheduler, policies and recorder can
 * be driven by a fake clock in tests (`testing/fake_clock.ts`: a 42-hour retry
 * schedule runs in milliseconds) and by the real timers in production.
 *
 * @module
 */

/** An opaque timer handle: only ever passed back to the same clock's `clearTimeout`. */
export type TimerHandle = unknown;

/** Wall-clock time and one-shot timers. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Runs `fn` once, no earlier than `ms` milliseconds from now (negative or NaN means 0). */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Cancels a timer; unknown, fired or already cleared handles are ignored. */
  clearTimeout(handle: TimerHandle): void;
}

/**
 * Longest delay the platform's `setTimeout` honours: larger values overflow a
 * signed 32-bit integer and would fire at once. Callers that need longer waits
 * must tolerate an early wakeup and re-arm (the timer wheel does).
 */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/** The real clock: `Date.now()` and the global timers. */
export const systemClock: Clock = Object.freeze({
  now: () => Date.now(),
  setTimeout: (fn: () => void, ms: number): TimerHandle =>
    setTimeout(fn, ms > 0 ? Math.min(ms, MAX_TIMER_DELAY_MS) : 0),
  clearTimeout: (handle: TimerHandle): void => clearTimeout(handle as number),
});
