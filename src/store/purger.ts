/**
 * The retention purger: every `[retention] interval` it deletes what is past
 * retention (retention.ts decides what), one small step per store write.
 * Each step goes through the store's write queue like any other write, so
 * it shares a group commit with whatever ingest is waiting and holds the
 * single writer only for the few milliseconds its `batch` of rows takes;
 * the next step is queued only when the last one committed.
 *
 * Between steps the purger rests for as long as the last step took, from
 * queueing it to its commit. Back to back, steps kept the writer's thread
 * (a whole core of a small machine) busy: ingest acknowledgements during a
 * purge of 3,000,000 rows went from p99 11.8 to 25.5 ms; resting so, 13.0 to
 * 16.2 ms, with the purge still deleting ≈ 73,000 rows/s (bench/purge.ts,
 * 2026-12-06). A step's duration is real work, so the rest is real time,
 * not the clock's.
 */
import type { Clock, TimerHandle } from "../clock.ts";
import type { RetentionConfig } from "../config/types.ts";
import type { Logger } from "../ops/log.ts";
import { Counter } from "../ops/metrics.ts";
import type { Store } from "./client.ts";
import type { EventCursor } from "./retention.ts";

export interface PurgerOptions {
  readonly store: Store;
  readonly clock: Clock;
  readonly log: Logger;
  readonly retention: RetentionConfig;
  /** Waits between steps, given the last step's duration in ms; default: that long, in real time. */
  readonly rest?: (stepMs: number) => Promise<void>;
}

function restAsLong(stepMs: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, stepMs));
}

/** What one pass deleted, and in how many store writes. */
export interface PurgeTotals {
  readonly deliveries: number;
  readonly attempts: number;
  readonly events: number;
  readonly steps: number;
}

export class Purger {
  readonly #o: PurgerOptions;
  /** For `/metrics`. */
  readonly purged = new Counter({
    name: "hookd_retention_purged_total",
    help: "Rows deleted by the retention purger.",
    labels: [{ name: "table", values: ["deliveries", "attempts", "events"] }],
  });
  #timer: TimerHandle | undefined;
  #running: Promise<unknown> | undefined;
  #stopped = false;

  constructor(options: PurgerOptions) {
    this.#o = options;
  }

  /** Whether anything is ever purged: false when every age is "never". */
  get enabled(): boolean {
    const r = this.#o.retention;
    return r.succeededMs !== null || r.deadMs !== null || r.eventsMs !== null;
  }

  /** Purges once every interval, the first time one interval from now. */
  start(): void {
    if (!this.enabled || this.#stopped) return;
    this.#timer = this.#o.clock.setTimeout(() => {
      this.#timer = undefined;
      this.#running = this.purge()
        .catch((error) =>
          this.#o.log.warn("retention purge failed; the next one retries", {
            error: error instanceof Error ? error.message : String(error),
          })
        )
        .finally(() => {
          this.#running = undefined;
          this.start();
        });
    }, this.#o.retention.intervalMs);
  }

  /** Stops after the step in progress; resolves once it has committed. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) this.#o.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  /**
   * One pass: deletes everything past retention as of now, step by step,
   * until it has caught up (or the purger is stopped). Deliveries go first,
   * so that events they leave behind go in the same pass.
   */
  async purge(): Promise<PurgeTotals> {
    const { store, clock, log, retention } = this.#o;
    const rest = this.#o.rest ?? restAsLong;
    const started = clock.now();
    const before = (ms: number | null) => (ms === null ? null : started - ms);
    const cutoffs = {
      succeededBefore: before(retention.succeededMs),
      deadBefore: before(retention.deadMs),
    };
    let deliveries = 0;
    let attempts = 0;
    let events = 0;
    let steps = 0;
    let lastStepStarted: number | undefined;
    /** Rests after the step before (if any), then times this one. */
    const pace = async () => {
      if (lastStepStarted !== undefined) await rest(performance.now() - lastStepStarted);
      lastStepStarted = performance.now();
    };
    if (cutoffs.succeededBefore !== null || cutoffs.deadBefore !== null) {
      let after: string | undefined;
      do {
        await pace();
        if (this.#stopped) break;
        const step = await store.write("purgeDeliveries", {
          cutoffs,
          after,
          limit: retention.batch,
        });
        steps++;
        deliveries += step.deleted;
        attempts += step.attempts;
        this.purged.add(step.deleted, "deliveries");
        this.purged.add(step.attempts, "attempts");
        after = step.next;
      } while (after !== undefined && !this.#stopped);
    }
    const eventsBefore = before(retention.eventsMs);
    if (eventsBefore !== null && !this.#stopped) {
      let after: EventCursor | undefined;
      do {
        await pace();
        if (this.#stopped) break;
        const step = await store.write("purgeEvents", {
          before: eventsBefore,
          after,
          limit: retention.batch,
        });
        steps++;
        events += step.deleted;
        this.purged.add(step.deleted, "events");
        after = step.next;
      } while (after !== undefined && !this.#stopped);
    }
    if (deliveries + attempts + events > 0) {
      log.info("retention purge", {
        deliveries,
        attempts,
        events,
        steps,
        duration_ms: clock.now() - started,
      });
    }
    return { deliveries, attempts, events, steps };
  }
}
