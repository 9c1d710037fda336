/**
 * A per-webhook rate limit: `ratePerSecond` tokens refill continuously, up to
 * a burst of max(1, rate). Pure apart from the time passed in, so the limit
 * is tested without waiting.
 */
export class TokenBucket {
  readonly #rate: number;
  readonly #burst: number;
  #tokens: number;
  #updatedAt: number;

  constructor(ratePerSecond: number, now: number) {
    if (!(ratePerSecond > 0)) {
      throw new RangeError(`Cannot create a rate limit: rate must be > 0, got ${ratePerSecond}`);
    }
    this.#rate = ratePerSecond;
    this.#burst = Math.max(1, ratePerSecond);
    this.#tokens = this.#burst;
    this.#updatedAt = now;
  }

  get rate(): number {
    return this.#rate;
  }

  /** Takes a token if one is there and returns 0; otherwise returns the ms until one is. */
  take(now: number): number {
    this.#refill(now);
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - this.#tokens) / this.#rate) * 1000);
  }

  #refill(now: number): void {
    if (now > this.#updatedAt) {
      this.#tokens = Math.min(
        this.#burst,
        this.#tokens + ((now - this.#updatedAt) / 1000) * this.#rate,
      );
      this.#updatedAt = now;
    }
  }
}
