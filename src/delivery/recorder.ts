/**
 * The recorder: an attempt's conclusion to the store, then what follows from
 * it. A retry goes back to the scheduler; every outcome is counted. The
 * store write is conditional on this daemon still holding the delivery's
 * lease, so a result that comes back after the delivery was cancelled or
 * taken over is kept as history only, and nothing follows from it.
 */
import type { DueDelivery } from "../store/delivery_queue.ts";
import type { Store } from "../store/client.ts";
import type { Conclusion } from "./attempt.ts";

export interface RecorderOptions {
  readonly store: Store;
  /** This daemon's lease owner id. */
  readonly owner: string;
  /** A retry was recorded as pending: hand it back to the scheduler. */
  readonly onRetry: (due: DueDelivery) => void;
}

export interface RecorderStats {
  /** Attempts answered (or failed) so far, recorded or being recorded. */
  readonly attempts: number;
  /** Attempts being written to the store now. */
  readonly recording: number;
  readonly succeeded: number;
  readonly retried: number;
  readonly failed: number;
  readonly dead: number;
}

export class AttemptRecorder {
  readonly #o: RecorderOptions;
  #recording = 0;
  #counts = { attempts: 0, succeeded: 0, retried: 0, failed: 0, dead: 0 };

  constructor(options: RecorderOptions) {
    this.#o = options;
  }

  stats(): RecorderStats {
    return { ...this.#counts, recording: this.#recording };
  }

  /** Records the conclusion (through group commit) and acts on it once it is durable. */
  async record(conclusion: Conclusion, webhookId: string, now: number): Promise<void> {
    const { attempt, verdict } = conclusion;
    this.#counts.attempts++;
    this.#recording++;
    let moved: boolean;
    try {
      moved = await this.#o.store.write("recordAttempt", {
        attempt,
        owner: this.#o.owner,
        verdict,
        now,
      });
    } finally {
      this.#recording--;
    }
    if (!moved) return; // cancelled or taken over meanwhile: history only
    if (verdict.state === "pending") {
      this.#counts.retried++;
      this.#o.onRetry({ id: attempt.deliveryId, webhookId, dueAt: verdict.nextAttemptAt! });
    } else {
      this.#counts[verdict.state]++;
    }
  }
}
