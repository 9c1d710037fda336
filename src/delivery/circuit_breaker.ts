/**
 * A circuit breaker for one webhook, in this daemon. Pure: time comes in as
 * arguments, so it is tested on plain numbers.
 *
 *   closed ──(N failures in a row, or a failure rate over a window)──▶ open
 *   open ──(cooldown passed: one probe goes out)──▶ half_open
 *   half_open ──probe succeeds──▶ closed     half_open ──probe fails──▶ open (cooldown × 2, capped)
 *
 * While it is open the pool does not attempt the webhook's deliveries: it
 * postpones them to the next probe (`gate`), spending no attempt.
 */
import type { Policy } from "../config/types.ts";

export type BreakerSettings = Policy["breaker"];
export type CircuitState = "closed" | "open" | "half_open";

/** How an attempt's outcome counts for the breaker. */
export type HealthKind = "success" | "failure" | "neutral";

/** What the gate says about a job due now. */
export type Gate =
  | { readonly kind: "pass" }
  /** The one attempt that tests whether the endpoint is back. */
  | { readonly kind: "probe" }
  | { readonly kind: "postpone"; readonly until: number }
  /** The probe is out: keep the job queued until its result (or `until`, if it never comes). */
  | { readonly kind: "wait"; readonly until: number };

/** A change of state worth telling (a log line, an operational event). */
export type Transition =
  | { readonly to: "open"; readonly openedAt: number; readonly nextProbeAt: number }
  | { readonly to: "closed"; readonly openedAt: number };

/** What the API and metrics show. */
export interface CircuitView {
  readonly state: CircuitState;
  readonly openedAt: number | null;
  readonly nextProbeAt: number | null;
}

/** Failure-rate counts per tenth of the window: the rate covers the last 9-10 tenths. */
const SLOTS = 10;

export class CircuitBreaker {
  #settings: BreakerSettings;
  #state: CircuitState = "closed";
  #openedAt: number | null = null;
  #nextProbeAt: number | null = null;
  #cooldownMs: number;
  #failuresInRow = 0;
  #probeOut = false;
  /** Per slot of the window: [slot index, attempts, failures]. */
  readonly #slots: [number, number, number][] = [];

  constructor(settings: BreakerSettings) {
    this.#settings = settings;
    this.#cooldownMs = settings.cooldownMs;
  }

  /** Takes the webhook's policy as it is now (it may have been edited). */
  configure(settings: BreakerSettings): void {
    this.#settings = settings;
  }

  view(): CircuitView {
    return { state: this.#state, openedAt: this.#openedAt, nextProbeAt: this.#nextProbeAt };
  }

  /** Whether a job due `now` may go out. */
  gate(now: number): Gate {
    if (this.#state === "closed") return { kind: "pass" };
    if (now < this.#nextProbeAt!) {
      // Open: back to the store until the probe. Half open: the probe is out, and
      // its result (it comes within an attempt's timeout) decides for the rest.
      return this.#probeOut
        ? { kind: "wait", until: this.#nextProbeAt! }
        : { kind: "postpone", until: this.#nextProbeAt! };
    }
    // If a probe never reports (it was not sent after all), the next goes a cooldown on.
    this.#state = "half_open";
    this.#probeOut = true;
    this.#nextProbeAt = now + this.#cooldownMs;
    return { kind: "probe" };
  }

  /**
   * Counts an attempt's outcome. `probe` says whether it was the probe the
   * gate let out; results of attempts that were already in flight when the
   * breaker opened change nothing while it is open.
   */
  record(kind: HealthKind, now: number, probe: boolean): Transition | null {
    if (probe) {
      this.#probeOut = false;
      if (kind === "success") return this.#close();
      if (kind === "failure") {
        this.#cooldownMs = Math.min(this.#cooldownMs * 2, this.#settings.maxCooldownMs);
        return this.#open(now);
      }
      // Neither: the endpoint answered but the answer says nothing; probe again soon.
      this.#nextProbeAt = now;
      return null;
    }
    if (this.#state !== "closed" || kind === "neutral") return null;
    this.#count(kind === "failure", now);
    if (kind === "success") {
      this.#failuresInRow = 0;
      return null;
    }
    this.#failuresInRow++;
    const { failures, failureRate, minAttempts } = this.#settings;
    if (failures !== null && this.#failuresInRow >= failures) return this.#open(now);
    if (failureRate !== null) {
      const [attempts, failed] = this.#inWindow(now);
      if (attempts >= minAttempts && failed / attempts >= failureRate) return this.#open(now);
    }
    return null;
  }

  #open(now: number): Transition {
    if (this.#state === "closed") this.#openedAt = now;
    this.#state = "open";
    this.#nextProbeAt = now + this.#cooldownMs;
    return { to: "open", openedAt: this.#openedAt!, nextProbeAt: this.#nextProbeAt };
  }

  #close(): Transition {
    const openedAt = this.#openedAt!;
    this.#state = "closed";
    this.#openedAt = null;
    this.#nextProbeAt = null;
    this.#cooldownMs = this.#settings.cooldownMs;
    this.#failuresInRow = 0;
    this.#slots.length = 0;
    return { to: "closed", openedAt };
  }

  #count(failed: boolean, now: number): void {
    const slot = Math.floor(now / (this.#settings.windowMs / SLOTS));
    let last = this.#slots.at(-1);
    if (!last || last[0] !== slot) this.#slots.push(last = [slot, 0, 0]);
    last[1]++;
    if (failed) last[2]++;
    while (this.#slots.length > 0 && this.#slots[0]![0] <= slot - SLOTS) this.#slots.shift();
  }

  #inWindow(now: number): [number, number] {
    const slot = Math.floor(now / (this.#settings.windowMs / SLOTS));
    let attempts = 0, failed = 0;
    for (const [index, a, f] of this.#slots) {
      if (index > slot - SLOTS) (attempts += a, failed += f);
    }
    return [attempts, failed];
  }
}

/** Whether a breaker with these settings can open at all. */
export function breakerEnabled(settings: BreakerSettings): boolean {
  return settings.failures !== null || settings.failureRate !== null;
}
