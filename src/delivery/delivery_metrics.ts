/**
 * The delivery engine's families for `/metrics`. Attempts are counted as the
 * dispatcher concludes them, lateness as the timer wheel hands deliveries
 * over; the rest is read at scrape time: the recorder's totals, the pool's
 * gauges, and the backlog from the store (one read, cached for
 * {@linkcode BACKLOG_CACHE_MS} so scrapes cannot hammer the store).
 *
 * No family has a per-webhook or per-event label: label values are the fixed
 * sets below, so a daemon with 100,000 webhooks exports the same series as
 * one with a single webhook.
 */
import type { Clock } from "../clock.ts";
import { Counter, Gauge, Histogram, type MetricFamily } from "../ops/metrics.ts";
import type { AttemptRecord } from "../store/attempts.ts";
import type { Store } from "../store/client.ts";
import type { Backlog } from "../store/delivery_queue.ts";
import type { WebhookState } from "../store/webhooks.ts";
import type { ErrorKind } from "./outcome.ts";
import type { RecorderStats } from "./recorder.ts";

/** How long a backlog count is reused; counting walks indexes as long as the backlog. */
export const BACKLOG_CACHE_MS = 5_000;

const STATUS_CLASSES = ["2xx", "3xx", "4xx", "5xx", "none"] as const;
const ERROR_KINDS = [
  "none",
  "status",
  "redirect",
  "timeout",
  "dns",
  "connect",
  "tls",
  "reset",
  "blocked",
  "auth",
  "proxy",
] as const satisfies readonly (ErrorKind | "none")[];
// Every error kind has its label value: a new kind fails the type check here.
const _everyKind: [Exclude<ErrorKind, (typeof ERROR_KINDS)[number]>] extends [never] ? true
  : never = true;
const WEBHOOK_STATES = ["enabled", "paused", "disabled"] as const satisfies readonly WebhookState[];

/** Prometheus's usual latency buckets, stretched to the longest attempt timeouts. */
const ATTEMPT_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** From a millisecond (the wheel's tick is 10 ms) to minutes behind (a backlog, a restart). */
const LATENESS_SECONDS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30, 60, 300];

export interface DeliveryGauges {
  readonly queued: number;
  readonly inFlight: number;
  readonly payloadBytes: number;
  readonly scheduled: number;
  readonly flow: { readonly open: number; readonly halfOpen: number; readonly reduced: number };
}

export class DeliveryMetrics {
  readonly attempts = new Counter({
    name: "hookd_attempts_total",
    help: "Delivery attempts by response status class and error kind (none: a success).",
    labels: [
      { name: "status_class", values: STATUS_CLASSES },
      { name: "error_kind", values: ERROR_KINDS },
    ],
  });
  readonly attemptSeconds = new Histogram({
    name: "hookd_attempt_duration_seconds",
    help: "Time from sending an attempt to its response or failure, in seconds.",
    buckets: ATTEMPT_SECONDS,
  });
  readonly latenessSeconds = new Histogram({
    name: "hookd_scheduling_lateness_seconds",
    help: "How long after its due time the scheduler handed a delivery to the sending pool.",
    buckets: LATENESS_SECONDS,
  });
  readonly #finished = new Counter({
    name: "hookd_deliveries_finished_total",
    help: "Deliveries that reached a final outcome here.",
    labels: [{ name: "outcome", values: ["succeeded", "failed", "dead"] }],
  });
  readonly #retried = new Counter({
    name: "hookd_attempts_retried_total",
    help: "Attempts that failed and were rescheduled.",
  });
  readonly #queued = new Gauge({
    name: "hookd_deliveries_queued",
    help: "Deliveries due and waiting for a sending slot.",
  });
  readonly #inFlight = new Gauge({
    name: "hookd_attempts_in_flight",
    help: "Attempts being sent now.",
  });
  readonly #payloadBytes = new Gauge({
    name: "hookd_deliveries_payload_bytes",
    help:
      "Payload bytes of the claimed deliveries held in memory, queued or in flight (bounded by delivery.payload_memory).",
  });
  readonly #scheduled = new Gauge({
    name: "hookd_deliveries_scheduled",
    help: "Deliveries in the timer wheel (due within the horizon).",
  });
  readonly #dueSoon = new Gauge({
    name: "hookd_deliveries_pending_due_soon",
    help: "Pending deliveries in the store due within the scheduler's horizon (or overdue).",
  });
  readonly #later = new Gauge({
    name: "hookd_deliveries_pending_later",
    help: "Pending deliveries in the store due beyond the scheduler's horizon.",
  });
  readonly #held = new Gauge({
    name: "hookd_deliveries_held",
    help: "Deliveries held while their webhook is paused or disabled.",
  });
  readonly #dead = new Gauge({
    name: "hookd_deliveries_dead",
    help: "Deliveries in the dead-letter queue.",
  });
  readonly #webhooks = new Gauge({
    name: "hookd_webhooks",
    help: "Webhooks by state.",
    labels: [{ name: "state", values: WEBHOOK_STATES }],
  });
  readonly circuitTransitions = new Counter({
    name: "hookd_circuit_transitions_total",
    help:
      "Circuit breaker changes in this daemon: opened (again after a failed probe too), closed.",
    labels: [{ name: "to", values: ["open", "closed"] }],
  });
  readonly #circuits = new Gauge({
    name: "hookd_webhook_circuits",
    help: "Webhooks whose circuit breaker in this daemon is open or half open (probing).",
    labels: [{ name: "state", values: ["open", "half_open"] }],
  });
  readonly #reduced = new Gauge({
    name: "hookd_webhooks_concurrency_reduced",
    help:
      "Webhooks whose concurrency AIMD holds below their cap after pushback (429, 5xx, timeouts).",
  });
  #backlogAt = -Infinity;
  #backlog: Promise<Backlog> | undefined;

  families(): MetricFamily[] {
    return [
      this.attempts,
      this.#retried,
      this.attemptSeconds,
      this.#finished,
      this.latenessSeconds,
      this.#queued,
      this.#inFlight,
      this.#payloadBytes,
      this.#scheduled,
      this.#dueSoon,
      this.#later,
      this.#held,
      this.#dead,
      this.#webhooks,
      this.circuitTransitions,
      this.#circuits,
      this.#reduced,
    ];
  }

  /** Counts a concluded attempt; a few array writes, on the hot path. */
  attempt(record: AttemptRecord): void {
    this.attempts.inc(statusClass(record.responseStatus), record.errorKind ?? "none");
    this.attemptSeconds.observe(record.durationMs / 1000);
  }

  /**
   * Refreshes what is read at scrape time. The backlog comes from one store
   * read shared by concurrent scrapes and reused for {@linkcode BACKLOG_CACHE_MS}.
   */
  async collect(
    source: { store: Pick<Store, "read" | "webhooks">; clock: Clock; horizonMs: number },
    recorded: RecorderStats,
    gauges: DeliveryGauges,
  ): Promise<void> {
    this.#finished.set(recorded.succeeded, "succeeded");
    this.#finished.set(recorded.failed, "failed");
    this.#finished.set(recorded.dead, "dead");
    this.#retried.set(recorded.retried);
    this.#queued.set(gauges.queued);
    this.#inFlight.set(gauges.inFlight);
    this.#payloadBytes.set(gauges.payloadBytes);
    this.#scheduled.set(gauges.scheduled);
    this.#circuits.set(gauges.flow.open, "open");
    this.#circuits.set(gauges.flow.halfOpen, "half_open");
    this.#reduced.set(gauges.flow.reduced);
    const byState = { enabled: 0, paused: 0, disabled: 0 };
    for (const webhook of source.store.webhooks.snapshot.webhooks) byState[webhook.state]++;
    for (const state of WEBHOOK_STATES) this.#webhooks.set(byState[state], state);

    const now = source.clock.now();
    if (this.#backlog === undefined || now - this.#backlogAt >= BACKLOG_CACHE_MS) {
      this.#backlogAt = now;
      this.#backlog = source.store.read("backlog", { until: now + source.horizonMs });
      // A failed count is not cached: the next scrape asks again.
      this.#backlog.catch(() => this.#backlog = undefined);
    }
    const backlog = await this.#backlog;
    this.#dueSoon.set(backlog.dueSoon);
    this.#later.set(backlog.later);
    this.#held.set(backlog.held);
    this.#dead.set(backlog.dead);
  }
}

function statusClass(status: number | null): (typeof STATUS_CLASSES)[number] {
  if (status === null || status < 200 || status >= 600) return "none";
  return STATUS_CLASSES[Math.floor(status / 100) - 2]!;
}
