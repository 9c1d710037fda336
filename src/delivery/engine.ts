/**
 * The delivery engine: scheduler (timer wheel + loader) and sender pool
 * (dispatcher), wired together; webhooks come from the store's webhook view.
 * It is the intake's sink: deliveries claimed at ingest go straight to the
 * dispatcher under the lease ingest claimed them with, with no store round
 * trip. It is also the API's `DeliveryTrigger`: manual retries and replays
 * wake the scheduler.
 */
import type { Clock, TimerHandle } from "../clock.ts";
import type { Config } from "../config/types.ts";
import type { Logger } from "../ops/log.ts";
import type { MetricFamily } from "../ops/metrics.ts";
import { DeliveryLoader } from "../scheduler/loader.ts";
import { TimerWheel } from "../scheduler/timer_wheel.ts";
import type { Lease } from "../store/deliveries.ts";
import type { ClaimedDelivery, DueDelivery } from "../store/delivery_queue.ts";
import type { Store } from "../store/client.ts";
import { DeliveryMetrics } from "./delivery_metrics.ts";
import { Dispatcher, type DispatcherStats } from "./dispatcher.ts";
import { GuardedSender } from "./guarded_sender.ts";
import { OAuth2Sender } from "./oauth2_sender.ts";
import { fetchToken } from "./oauth2_token_request.ts";
import { OAuth2Tokens } from "./oauth2_tokens.ts";
import type { WebhookFlow } from "./pool.ts";
import type { Rng } from "./policy.ts";
import { type AttemptTransport, HttpSender } from "./sender.ts";
import { type GuardResult, TargetGuard } from "../net/target_guard.ts";
import { systemResolver } from "../net/resolver.ts";
import type { DeliveryTrigger } from "./trigger.ts";
import type { EndpointEventSink } from "./endpoint_events.ts";

export interface EngineOptions {
  readonly config: Config;
  readonly store: Store;
  readonly clock: Clock;
  readonly log: Logger;
  readonly rng?: Rng;
  /**
   * Replaces the HTTP transport (tests); the SSRF guard and the HTTPS rule
   * still run in front of it. The engine closes only a transport it made.
   */
  readonly transport?: AttemptTransport;
  /** Replaces the SSRF guard built from `[security]` (tests with scripted DNS). */
  readonly guard?: { check(url: URL): Promise<GuardResult> };
  /** Lease owner id; unique per process by default. */
  readonly owner?: string;
  /** Told of auto-disables, dead letters and recoveries (hookd's operational events). */
  readonly events?: EndpointEventSink;
}

/** Deliveries loaded per look at the store. */
const PAGE_SIZE = 5_000;
/** How often a daemon looks for overflow parked by a daemon no longer there. */
const ADOPT_EVERY_MS = 30_000;
/**
 * Deliveries ingest may claim and queue here directly (no store round trip);
 * past this many waiting, new ones stay pending in the store for the loader.
 */
const INGEST_CLAIM_LIMIT = 10_000;

export class DeliveryEngine implements DeliveryTrigger {
  readonly owner: string;
  /** OAuth2 tokens for receivers that want them, shared by every attempt here. */
  readonly tokens: OAuth2Tokens;
  readonly #config: Config;
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #metrics = new DeliveryMetrics();
  readonly #wheel: TimerWheel<DueDelivery>;
  readonly #dispatcher: Dispatcher;
  readonly #loader: DeliveryLoader;
  readonly #ownSender: HttpSender | undefined;
  #stopped = false;
  readonly #log: Logger;
  #adoptTimer: TimerHandle | undefined;

  private constructor(options: EngineOptions) {
    const { config, store, clock, log } = options;
    this.#config = config;
    this.#store = store;
    this.#clock = clock;
    this.#log = log;
    this.owner = options.owner ??
      `${Deno.hostname()}:${Deno.pid}:${crypto.randomUUID().slice(0, 8)}`;
    this.#ownSender = options.transport ? undefined : new HttpSender({
      clock,
      responseBodyLimit: config.delivery.responseBodyLimit,
    });
    const guarded = new GuardedSender({
      transport: options.transport ?? this.#ownSender!,
      guard: options.guard ?? new TargetGuard({
        allowPrivate: config.security.allowPrivateTargets,
        allowCidrs: config.security.allowCidrs,
        resolver: systemResolver,
      }),
      requireHttps: config.security.requireHttps,
      proxies: config.delivery,
      clock,
    });
    // Token requests take the deliveries' path: the HTTPS rule, the SSRF guard, pinning.
    this.tokens = new OAuth2Tokens({
      fetch: (settings, timeoutMs) => fetchToken(guarded, settings, timeoutMs),
      store: {
        read: (owner) => store.read("getReceiverToken", { owner }),
        write: (token) => store.write("putReceiverToken", { token }).then(() => {}),
      },
      clock,
      log,
    });
    this.#dispatcher = new Dispatcher({
      store,
      sender: new OAuth2Sender({ inner: guarded, tokens: this.tokens, clock }),
      clock,
      rng: options.rng ?? Math.random,
      log,
      owner: this.owner,
      leaseMs: config.delivery.leaseMs,
      concurrency: config.delivery.concurrency,
      maxInFlightPerWebhook: config.delivery.maxInFlightPerWebhook,
      payloadMemory: config.delivery.payloadMemory,
      policies: config.policies,
      profiles: config.profiles,
      onRetry: (due) => this.#scheduleIfNear(due),
      events: options.events,
      // Not a look per idle: see DeliveryLoader.refillIfBehind.
      onIdle: () => void this.#loader.refillIfBehind(),
      metrics: this.#metrics,
    });
    this.#wheel = new TimerWheel<DueDelivery>({
      clock,
      onDue: (items) => {
        const now = clock.now();
        for (const due of items) this.#metrics.latenessSeconds.observe((now - due.dueAt) / 1000);
        this.#dispatcher.enqueue(items.map((d) => ({ deliveryId: d.id, webhookId: d.webhookId })));
      },
    });
    this.#loader = new DeliveryLoader({
      store,
      clock,
      log,
      horizonMs: config.delivery.horizonMs,
      intervalMs: Math.max(250, Math.min(config.delivery.horizonMs / 4, 5_000)),
      pageSize: PAGE_SIZE,
      maxInMemory: PAGE_SIZE * 4,
      isKnown: (id) => this.#wheel.has(id) || this.#dispatcher.has(id),
      inMemory: () => {
        const { queued, waiting } = this.#dispatcher.stats();
        return this.#wheel.size + queued + waiting;
      },
      schedule: (due) => this.#wheel.schedule(due.id, due.dueAt, due),
    });
  }

  /** Loads what is due and starts sending. */
  static async start(options: EngineOptions): Promise<DeliveryEngine> {
    const engine = new DeliveryEngine(options);
    engine.#wheel.start();
    await engine.#loader.start();
    await engine.#adoptPostponed();
    return engine;
  }

  /**
   * Looks for full queues' overflow this daemon does not know of (left by a
   * daemon before a restart, or by a peer sharing the database that went
   * away) now and then every {@linkcode ADOPT_EVERY_MS}; the pool recalls it
   * as its queues have room.
   */
  async #adoptPostponed(): Promise<void> {
    if (this.#stopped) return;
    await this.#dispatcher.adoptPostponed()
      .catch((error) => this.#log.warn("could not look for postponed deliveries", { error }));
    if (this.#stopped) return;
    this.#adoptTimer = this.#clock.setTimeout(() => void this.#adoptPostponed(), ADOPT_EVERY_MS);
  }

  stats(): DispatcherStats & { scheduled: number } {
    return { ...this.#dispatcher.stats(), scheduled: this.#wheel.size };
  }

  /** The engine's families for `/metrics`; {@linkcode collectMetrics} refreshes them. */
  metricFamilies(): MetricFamily[] {
    return [...this.#metrics.families(), ...this.tokens.families()];
  }

  /** Reads what `/metrics` shows at scrape time: totals, gauges and the store's backlog. */
  collectMetrics(): Promise<void> {
    const { queued, waiting, inFlight, payloadBytes, scheduled, ...recorded } = this.stats();
    return this.#metrics.collect(
      { store: this.#store, clock: this.#clock, horizonMs: this.#config.delivery.horizonMs },
      recorded,
      {
        queued: queued + waiting,
        inFlight,
        payloadBytes,
        scheduled,
        flow: this.#dispatcher.flowSummary(),
      },
    );
  }

  ingestLease(): Lease | undefined {
    if (this.#stopped) return undefined;
    // Under backlog, new deliveries wait in the store instead of piling up here.
    // Not counting the deliveries waiting for room in their webhook's queue:
    // one webhook's backlog must not stop ingest claiming for all the others.
    // Nor past the payload budget, whatever the count: large payloads wait in the store.
    const { queued } = this.#dispatcher.stats();
    const limit = Math.max(this.#config.delivery.concurrency * 4, INGEST_CLAIM_LIMIT);
    if (queued >= limit || this.#dispatcher.overBudget()) {
      this.#loader.markBehind();
      return undefined;
    }
    return { owner: this.owner, until: this.#clock.now() + this.#config.delivery.leaseMs };
  }

  claimed(deliveries: readonly ClaimedDelivery[], leaseUntil: number): void {
    this.#dispatcher.enqueue(deliveries.map((delivery) => ({
      deliveryId: delivery.id,
      webhookId: delivery.webhookId,
      claim: { delivery, leaseUntil },
    })));
  }

  due(deliveries: readonly DueDelivery[]): void {
    for (const due of deliveries) this.#wheel.schedule(due.id, due.dueAt, due);
  }

  /** Looks in the store for due work now; resolves when that look is done. */
  refill(): Promise<void> {
    return this.#loader.refill();
  }

  /** The store's view already has the change; a resumed webhook's held deliveries are due. */
  flowOf(webhookId: string): WebhookFlow {
    return this.#dispatcher.flowOf(webhookId);
  }

  webhookChanged(_id: string): void {
    void this.#loader.refill();
  }

  /**
   * Stops scheduling and claiming, waits up to `graceMs` for attempts in
   * flight to finish and be recorded, then closes the sender.
   */
  async stop(graceMs: number): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#clock.clearTimeout(this.#adoptTimer);
    this.#loader.stop();
    this.#wheel.stop();
    await this.#dispatcher.close(graceMs);
    this.#ownSender?.close();
  }

  #scheduleIfNear(due: DueDelivery): void {
    if (this.#stopped) return;
    // Retries beyond the horizon stay in the store until the loader's window reaches them.
    if (due.dueAt <= this.#clock.now() + this.#config.delivery.horizonMs) {
      this.#wheel.schedule(due.id, due.dueAt, due);
    }
  }
}
