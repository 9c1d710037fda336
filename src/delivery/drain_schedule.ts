/**
 * When a webhook will have room for more: the pool's estimate for work it
 * cannot hold. A webhook's queue in memory is bounded (pool.ts); deliveries
 * beyond it go back to the store, each due at the moment the queue is
 * expected to reach it, so they come back about once, when there is room,
 * instead of crowding memory (and the other webhooks' turns) meanwhile.
 *
 * The pace is the webhook's recent attempt duration (a moving average)
 * divided over its in-flight cap (a receiver that takes 2 s with 16 in flight
 * drains 8 a second), or its rate limit when that is slower. Pure: tested on
 * plain numbers.
 */
/** The attempt duration assumed before a webhook's first answer. */
const UNKNOWN_ATTEMPT_MS = 10;

export class DrainSchedule {
  #avgMs: number | undefined;
  #nextSlot = -Infinity;

  /** An attempt of the webhook took `durationMs`, from its start to its answer. */
  observe(durationMs: number): void {
    this.#avgMs = this.#avgMs === undefined ? durationMs : this.#avgMs * 0.8 + durationMs * 0.2;
  }

  /**
   * When a job that found `queued` ahead of it (with `cap` in flight at once)
   * can expect its turn; consecutive calls hand out consecutive turns. Times
   * are rounded up to 100 ms so jobs sharing a turn's neighbourhood share one
   * store write.
   */
  slot(now: number, queued: number, cap: number, ratePerSecond: number | null = null): number {
    // Unknown pace (it overflowed before a single answer): assume a fast
    // receiver. Too early costs one more postponement when the job finds the
    // queue still full (by then with the pace known); too late idles a
    // receiver that could take it. No floor either: a local receiver at 3 ms
    // with 16 in flight drains one job every 0.19 ms, and a 1 ms floor had
    // held a 20,000-event burst to 1,000 deliveries a second.
    const perJob = Math.max(
      (this.#avgMs ?? UNKNOWN_ATTEMPT_MS) / Math.max(1, cap),
      ratePerSecond === null ? 0 : 1_000 / ratePerSecond,
    );
    this.#nextSlot = Math.max(this.#nextSlot + perJob, now + queued * perJob);
    return Math.ceil(this.#nextSlot / 100) * 100;
  }
}
