/**
 * The recorder: an attempt's conclusion to the store, then what follows from
 * it. A retry goes back to the scheduler; every outcome is counted. The
 * store write is conditional on this daemon still holding the delivery's
 * lease, so a result that comes back after the delivery was cancelled or
 * taken over is kept as history only, and nothing follows from it.
 *
 * Each attempt the store accepted is logged here, once, at `info`: the
 * fields seed 002 recommends, so an operator can follow one event through
 * its attempts (and a receiver can match its own logs) by `event_id`.
 */
import type { Logger } from "../ops/log.ts";
import type { ClaimedDelivery, DueDelivery } from "../store/delivery_queue.ts";
import type { Store } from "../store/client.ts";
import type { AutoDisabled } from "../store/webhook_health.ts";
import type { Conclusion } from "./attempt.ts";
import type { EndpointEventSink } from "./endpoint_events.ts";

/** What the attempt line says about the delivery beyond the conclusion. */
export type AttemptSubject = Pick<ClaimedDelivery, "webhookId"> & {
  readonly event: Pick<ClaimedDelivery["event"], "id" | "type">;
  /** Set when its webhook orders deliveries (store/ordering.ts). */
  readonly orderingKey?: string | null;
};

/** How an attempt ended for its delivery, as the log says it. */
export type AttemptOutcome = "succeeded" | "retry" | "failed" | "dead";

const DEAD_LETTER_ACTION = "fix the receiver, then replay: `hookd replay --webhook ID` or " +
  "POST /api/v1/dead-letters/replay for many, POST /api/v1/deliveries/{id}/retry for this one";

export interface RecorderOptions {
  readonly store: Store;
  /** This daemon's lease owner id. */
  readonly owner: string;
  readonly log: Logger;
  /** A retry was recorded as pending: hand it back to the scheduler. */
  readonly onRetry: (due: DueDelivery) => void;
  /** Told of auto-disables, dead letters and recoveries once they are durable. */
  readonly events?: EndpointEventSink;
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
  async record(conclusion: Conclusion, subject: AttemptSubject, now: number): Promise<void> {
    const { attempt, verdict, health } = conclusion;
    this.#counts.attempts++;
    this.#recording++;
    let recorded;
    try {
      recorded = await this.#o.store.write("recordAttempt", {
        attempt,
        owner: this.#o.owner,
        verdict,
        now,
        health,
        ordering: subject.orderingKey
          ? { webhookId: subject.webhookId, key: subject.orderingKey }
          : undefined,
      }, {
        // The slot is free already; only the next of an ordering key waits
        // on this record, so only then does it commit at once.
        deferrable: !subject.orderingKey,
      });
    } finally {
      this.#recording--;
    }
    const { moved, autoDisabled, recovered, unparked } = recorded;
    // The next of its ordering key may go now: straight to the scheduler.
    if (unparked) this.#o.onRetry(unparked);
    if (autoDisabled) this.#autoDisabled(autoDisabled);
    if (recovered) this.#o.events?.webhookRecovered(subject.webhookId, now);
    if (!moved) {
      this.#o.log.debug("attempt kept as history only: the delivery was cancelled or taken over", {
        delivery_id: attempt.deliveryId,
        attempt_id: attempt.id,
      });
      return;
    }
    this.#log(conclusion, subject);
    if (verdict.state === "pending") {
      this.#counts.retried++;
      this.#o.onRetry({
        id: attempt.deliveryId,
        webhookId: subject.webhookId,
        dueAt: verdict.nextAttemptAt!,
      });
    } else {
      this.#counts[verdict.state]++;
      if (verdict.state === "dead") {
        this.#o.events?.deliveryDead({
          webhookId: subject.webhookId,
          deliveryId: attempt.deliveryId,
          eventId: subject.event.id,
          eventType: subject.event.type,
          at: now,
        });
      }
    }
  }

  #autoDisabled(disabled: AutoDisabled): void {
    this.#o.log.warn("webhook auto-disabled", {
      webhook_id: disabled.webhookId,
      rule: disabled.rule,
      reason: disabled.reason,
      effect: "its pending deliveries are held; new events are not delivered to it",
      action: 'fix the receiver, then PATCH /api/v1/webhooks/{id} {"state":"enabled"} to send ' +
        "what is held, or POST /api/v1/webhooks/{id}/cancel-held to drop it",
    });
    this.#o.events?.webhookDisabled(disabled);
  }

  /** The attempt line; never headers or bodies, which may carry secrets and personal data. */
  #log({ attempt, verdict }: Conclusion, subject: AttemptSubject): void {
    const { log } = this.#o;
    const outcome: AttemptOutcome = verdict.state === "pending" ? "retry" : verdict.state;
    log.info("attempt", {
      event_id: subject.event.id,
      event_type: subject.event.type,
      delivery_id: attempt.deliveryId,
      attempt_id: attempt.id,
      attempt: attempt.number,
      webhook_id: subject.webhookId,
      attempted_at: new Date(attempt.startedAt).toISOString(),
      status: attempt.responseStatus,
      error_kind: attempt.errorKind,
      duration_ms: attempt.durationMs,
      outcome,
      next_attempt_at: verdict.nextAttemptAt === null
        ? null
        : new Date(verdict.nextAttemptAt).toISOString(),
      trigger: attempt.trigger,
    });
    if (outcome === "dead") {
      log.warn("delivery dead-lettered: its retries are exhausted", {
        delivery_id: attempt.deliveryId,
        event_id: subject.event.id,
        webhook_id: subject.webhookId,
        attempts: attempt.number,
        error_kind: attempt.errorKind,
        action: DEAD_LETTER_ACTION,
      });
    }
  }
}
