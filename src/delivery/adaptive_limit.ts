/**
 * AIMD concurrency for one webhook: additive increase, multiplicative
 * decrease, as TCP does with its window. A congestion signal (429, 502, 503,
 * 504, a timeout) halves the webhook's effective concurrency, down to 1; each
 * run of successes as long as the current limit adds one back, up to the
 * webhook's cap. Pure: tested on plain numbers.
 *
 * One burst of trouble halves once: the attempts that were already in flight
 * when the limit was cut report their congestion too, and counting each
 * would take any limit to 1 at once. So a signal from an attempt that
 * started before the last cut is ignored. Attempts are told apart by their
 * start sequence number (the pool numbers them), not by time, which may not
 * have moved between two starts.
 */
export class AdaptiveLimit {
  #limit: number;
  #successes = 0;
  /** The start number of the last attempt started before the last cut. */
  #cutAfter = -Infinity;

  constructor(cap: number) {
    this.#limit = Math.max(1, cap);
  }

  /** The effective concurrency under `cap` (the webhook's configured one). */
  limit(cap: number): number {
    return Math.min(this.#limit, cap);
  }

  /**
   * The receiver pushed back on the attempt started as number `started`;
   * `lastStarted` is the number of the latest attempt started so far.
   */
  congestion(started: number, lastStarted: number, cap: number): void {
    if (started <= this.#cutAfter) return;
    this.#limit = Math.max(1, Math.floor(Math.min(this.#limit, cap) / 2));
    this.#successes = 0;
    this.#cutAfter = lastStarted;
  }

  /** An attempt succeeded. */
  success(cap: number): void {
    if (this.#limit >= cap) {
      this.#limit = cap;
      return;
    }
    if (++this.#successes >= this.#limit) {
      this.#limit++;
      this.#successes = 0;
    }
  }
}
