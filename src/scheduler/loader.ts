/**
 * Keeps the timer wheel stocked from the store, window by window. The store's
 * `next_attempt_at` is the truth; the wheel only ever holds what falls due
 * within the horizon, a page at a time, so a million pending retries cost
 * disk, not memory. Deliveries whose lease expired (their daemon died
 * mid-attempt) come back the same way.
 */
import type { Clock, TimerHandle } from "../clock.ts";
import type { Logger } from "../ops/log.ts";
import type { DueDelivery } from "../store/delivery_queue.ts";
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
    // Keep loading pages while they bring new work and memory allows.
    while (this.#running && o.inMemory() < o.maxInMemory) {
      const now = o.clock.now();
      const limit = Math.min(o.pageSize, o.maxInMemory - o.inMemory());
      const due = await o.store.read("dueDeliveries", { until: now + o.horizonMs, now, limit });
      let added = 0;
      for (const delivery of due) {
        if (o.isKnown(delivery.id)) continue;
        o.schedule(delivery);
        added++;
      }
      if (due.length < limit || added === 0) return;
    }
  }
}
