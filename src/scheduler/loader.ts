/**
 * Keeps the timer wheel stocked from the store, window by window. The store's
 * `next_attempt_at` is the truth; the wheel only ever holds what falls due
 * within the horizon, a page at a time, so a million pending retries cost
 * disk, not memory. Deliveries whose lease expired (their daemon died
 * mid-attempt) come back the same way.
 */
import type { Clock, TimerHandle } from "../clock.ts";
import type { Logger } from "../ops/log.ts";
import type { DueCursor, DueDelivery } from "../store/delivery_queue.ts";
import type { Store } from "../store/client.ts";

export interface LoaderOptions {
  readonly store: Store;
  readonly clock: Clock;
  readonly log: Logger;
  /** How far ahead to load, ms. */
  readonly horizonMs: number;
  /** How often to look even when nobody asked, ms. */
  readonly intervalMs: number;
  /** Most deliveries one look loads. */
  readonly pageSize: number;
  /** Most deliveries to hold in memory (wheel plus queues); beyond this, wait. */
  readonly maxInMemory: number;
  /** Whether the engine already holds this delivery (in the wheel, queued or in flight). */
  readonly isKnown: (id: string) => boolean;
  /** How many deliveries the engine holds now. */
  readonly inMemory: () => number;
  readonly schedule: (due: DueDelivery) => void;
}

export class DeliveryLoader {
  readonly #o: LoaderOptions;
  #timer: TimerHandle | undefined;
  #loading: Promise<void> | undefined;
  #again = false;
  #running = false;
  /**
   * Whether the store may hold due work that is not in memory: the last look
   * stopped at the memory cap or failed, or work went to the store unloaded
   * since (see {@linkcode markBehind}). A look that reached the end of what
   * is due clears it.
   */
  #behind = true;

  constructor(options: LoaderOptions) {
    this.#o = options;
  }

  start(): Promise<void> {
    this.#running = true;
    return this.refill();
  }

  stop(): void {
    this.#running = false;
    this.#o.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /**
   * Looks now only if the store may hold due work that is not in memory;
   * otherwise the periodic look will do. For the dispatcher, whose queue
   * running empty is the moment to take more work when there is more.
   *
   * Why not look every time: with one event per request the queue runs empty
   * after every delivery, so that was one `dueDeliveries` read per delivery
   * (500/s at 500 events/s), nearly all finding nothing. On Deno 2.9.6 each
   * libSQL call through its N-API binding leaves native memory behind
   * (measured: ~250 B per `Store.read("dueDeliveries")`, still linear after
   * 150,000 reads; the same binding under Node 20 stays flat): the daemon's
   * RSS grew without bound at a steady 500 events/s (issue #11, item 8;
   * `deno task bench -- --only soak`).
   */
  refillIfBehind(): Promise<void> {
    if (!this.#behind) return this.#loading ?? Promise.resolve();
    return this.refill();
  }

  /** Due work went to the store without being loaded (ingest did not claim it): look when idle. */
  markBehind(): void {
    this.#behind = true;
  }

  /** Looks in the store now; calls during a look make it look once more after. */
  refill(): Promise<void> {
    if (!this.#running) return Promise.resolve();
    if (this.#loading) {
      this.#again = true;
      return this.#loading;
    }
    this.#o.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#loading = this.#load()
      .catch((error) => this.#o.log.warn("could not load due deliveries", { error }))
      .finally(() => {
        this.#loading = undefined;
        if (!this.#running) return;
        if (this.#again) {
          this.#again = false;
          void this.refill();
        } else {
          this.#timer = this.#o.clock.setTimeout(() => void this.refill(), this.#o.intervalMs);
        }
      });
    return this.#loading;
  }

  async #load(): Promise<void> {
    const o = this.#o;
    // Cleared before looking, so work marked during the look is looked for again.
    this.#behind = false;
    try {
      // Page through what is due, oldest first, while memory allows. What
      // the engine already holds is still pending in the store until it is
      // claimed, so it heads every look; the cursor gets past it instead of
      // taking a page of known ones for the end of the work.
      let after: DueCursor | undefined;
      while (this.#running) {
        if (o.inMemory() >= o.maxInMemory) {
          this.#behind = true;
          return;
        }
        const now = o.clock.now();
        const limit = Math.min(o.pageSize, o.maxInMemory - o.inMemory());
        const due = await o.store.read("dueDeliveries", {
          until: now + o.horizonMs,
          now,
          limit,
          after,
        });
        for (const delivery of due) {
          if (!o.isKnown(delivery.id)) o.schedule(delivery);
        }
        // A short page is all that is due.
        if (due.length < limit) return;
        const last = due[due.length - 1]!;
        after = { dueAt: last.dueAt, id: last.id };
      }
    } catch (error) {
      this.#behind = true;
      throw error;
    }
  }
}
