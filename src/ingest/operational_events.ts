/**
 * hookd's own operational events, emitted through its own pipeline: an
 * operator subscribes an ordinary webhook to `hookd.*` and gets them signed
 * and retried like any delivery. Payloads (the event's `data`):
 *
 * - `hookd.webhook.disabled`: `{webhook_id, rule, reason, last_problem,
 *   failing_since, disabled_at}`; `rule` is `status`, `failing_for` or
 *   `exhausted_in_row`. Its pending deliveries are held.
 * - `hookd.delivery.dead`: at most one per webhook per
 *   `[delivery] dead_letter_event_window`, opened by the first dead letter and
 *   sent when the window closes: `{webhook_id, count, first_delivery_ids,
 *   first_event_ids, window_started_at, window_ended_at}` (the first ids, at
 *   most 10 each; `count` is all of them).
 * - `hookd.webhook.recovered`: `{webhook_id, recovered_at}`, the first success
 *   after deliveries to it had ended without success.
 * - `hookd.webhook.circuit_opened`: `{webhook_id, opened_at, next_probe_at}`,
 *   when a daemon's breaker opens (not again after each failed probe).
 * - `hookd.webhook.circuit_closed`: `{webhook_id, opened_at, closed_at}`.
 *
 * Loops are cut twice: an event about a webhook never fans out to that
 * webhook, and dead letters of `hookd.*` events themselves are not reported.
 * Only patterns that name the `hookd.` namespace receive these events; a `*`
 * subscriber does not (see `fanout/event_pattern.ts`).
 */
import type { Clock, TimerHandle } from "../clock.ts";
import { OPERATIONAL_PREFIX } from "../fanout/event_pattern.ts";
import type { Logger } from "../ops/log.ts";
import type { IngestResult } from "../store/events.ts";
import type { AutoDisabled } from "../store/webhook_health.ts";
import type { ValidatedEvent } from "./intake.ts";

/** How many ids a `hookd.delivery.dead` event lists; its `count` covers the rest. */
export const FIRST_IDS = 10;

export interface OperationalEventsOptions {
  /** The intake's `accept`: the events go the way every event goes. */
  readonly accept: (events: readonly ValidatedEvent[]) => Promise<IngestResult[]>;
  readonly clock: Clock;
  readonly log: Logger;
  /** At most one `hookd.delivery.dead` per webhook per this many ms. */
  readonly deadWindowMs: number;
}

/** Dead letters of one webhook gathered while its window is open. */
interface DeadWindow {
  readonly startedAt: number;
  count: number;
  readonly deliveryIds: string[];
  readonly eventIds: string[];
  readonly timer: TimerHandle;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Implements the delivery engine's `EndpointEventSink`. */
export class OperationalEvents {
  readonly #o: OperationalEventsOptions;
  readonly #windows = new Map<string, DeadWindow>();
  readonly #emitting = new Set<Promise<void>>();

  constructor(options: OperationalEventsOptions) {
    this.#o = options;
  }

  webhookDisabled(disabled: AutoDisabled): void {
    this.#emit("hookd.webhook.disabled", disabled.webhookId, {
      webhook_id: disabled.webhookId,
      rule: disabled.rule,
      reason: disabled.reason,
      last_problem: disabled.lastProblem,
      failing_since: disabled.failingSince === null ? null : iso(disabled.failingSince),
      disabled_at: iso(disabled.disabledAt),
    });
  }

  webhookRecovered(webhookId: string, at: number): void {
    this.#emit("hookd.webhook.recovered", webhookId, {
      webhook_id: webhookId,
      recovered_at: iso(at),
    });
  }

  circuitOpened(webhookId: string, openedAt: number, nextProbeAt: number): void {
    this.#emit("hookd.webhook.circuit_opened", webhookId, {
      webhook_id: webhookId,
      opened_at: iso(openedAt),
      next_probe_at: iso(nextProbeAt),
    });
  }

  circuitClosed(webhookId: string, openedAt: number, closedAt: number): void {
    this.#emit("hookd.webhook.circuit_closed", webhookId, {
      webhook_id: webhookId,
      opened_at: iso(openedAt),
      closed_at: iso(closedAt),
    });
  }

  deliveryDead(dead: {
    webhookId: string;
    deliveryId: string;
    eventId: string;
    eventType: string;
    at: number;
  }): void {
    // A dead operational event reported as another one could ping-pong between two
    // failing operator webhooks for ever.
    if (dead.eventType.startsWith(OPERATIONAL_PREFIX)) return;
    let window = this.#windows.get(dead.webhookId);
    if (!window) {
      const timer = this.#o.clock.setTimeout(
        () => this.#closeWindow(dead.webhookId),
        this.#o.deadWindowMs,
      );
      window = { startedAt: dead.at, count: 0, deliveryIds: [], eventIds: [], timer };
      this.#windows.set(dead.webhookId, window);
    }
    window.count++;
    if (window.deliveryIds.length < FIRST_IDS) {
      window.deliveryIds.push(dead.deliveryId);
      window.eventIds.push(dead.eventId);
    }
  }

  /** Events being stored now (tests wait for none). */
  get emitting(): number {
    return this.#emitting.size;
  }

  /** Sends every open window now and waits for all emissions (shutdown). */
  async flush(): Promise<void> {
    for (const [webhookId, window] of this.#windows) {
      this.#o.clock.clearTimeout(window.timer);
      this.#closeWindow(webhookId);
    }
    await Promise.all(this.#emitting);
  }

  #closeWindow(webhookId: string): void {
    const window = this.#windows.get(webhookId);
    if (!window) return;
    this.#windows.delete(webhookId);
    this.#emit("hookd.delivery.dead", webhookId, {
      webhook_id: webhookId,
      count: window.count,
      first_delivery_ids: window.deliveryIds,
      first_event_ids: window.eventIds,
      window_started_at: iso(window.startedAt),
      window_ended_at: iso(this.#o.clock.now()),
    });
  }

  #emit(type: string, aboutWebhookId: string, data: Record<string, unknown>): void {
    const emitting = this.#o.accept([{
      type,
      data,
      tenantId: null,
      exceptWebhookId: aboutWebhookId,
    }])
      .then(() => {}, (error) => {
        // Nothing else is lost: the fact itself is durable (the webhook row, the dead
        // letters) and the log line below carries it.
        this.#o.log.error("could not emit an operational event", {
          event_type: type,
          webhook_id: aboutWebhookId,
          error,
        });
      })
      .finally(() => this.#emitting.delete(emitting));
    this.#emitting.add(emitting);
  }
}
