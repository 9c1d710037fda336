/**
 * The dispatcher: due deliveries in, recorded attempts out.
 *
 *   job ──claim──▶ pool (slot, caps, rate) ──▶ prepare ──▶ send ──▶ conclude ──▶ record
 *
 * It claims deliveries under a lease (one batcher: every claim asked for in
 * the same turn goes in one store write), queues them in the sending pool
 * (pool.ts), and runs each attempt as named steps: `prepareAttempt` and
 * `concludeAttempt` (attempt.ts, pure), the sender in between (the OAuth2
 * bearer token when the receiver wants one, oauth2_sender.ts; then the
 * guarded sender, guarded_sender.ts: the SSRF guard and the HTTPS rule),
 * and the recorder
 * (recorder.ts: store write, retry hand-off, counters). Webhooks come from
 * the store's webhook view, the one fan-out used.
 */
import type { EndpointEventSink } from "./endpoint_events.ts";
import type { Clock, TimerHandle } from "../clock.ts";
import { STANDARD_PROFILE } from "../config/profile.ts";
import type { Policy, Profile } from "../config/types.ts";
import { uuidv7 } from "../ids.ts";
import type { Logger } from "../ops/log.ts";
import { endSpan, recordedIds, startSpan } from "../ops/tracing.ts";
import type { Span } from "@opentelemetry/api";
import type { ClaimedDelivery, DueDelivery } from "../store/delivery_queue.ts";
import type { Store } from "../store/client.ts";
import type { WebhookRecord } from "../store/webhooks.ts";
import {
  concludeAttempt,
  prepareAttempt,
  type PreparedAttempt,
  unpreparedAttempt,
} from "./attempt.ts";
import type { DeliveryMetrics } from "./delivery_metrics.ts";
import type { AuthorizedRequest } from "./oauth2_sender.ts";
import { type EffectiveAuth, receiverAuthOf } from "./receiver_auth.ts";
import type { Rng } from "./policy.ts";
import { flowSignal } from "./flow_signal.ts";
import type { Transition } from "./circuit_breaker.ts";
import { SendingPool, type WebhookFlow } from "./pool.ts";
import { AttemptRecorder, type RecorderStats } from "./recorder.ts";
import { type AttemptResult, failedAttempt, SenderClosedError } from "./sender.ts";
import { type SigningMaterial, signingMaterial } from "./signing_material.ts";

/** A delivery to attempt; `claim` is set when it is already claimed (fresh from ingest). */
export interface DispatchJob {
  readonly deliveryId: string;
  readonly webhookId: string;
  readonly claim?: { readonly delivery: ClaimedDelivery; readonly leaseUntil: number };
}

export interface DispatcherOptions {
  readonly store: Store;
  /** The guarded sender, behind the OAuth2 one when receivers want tokens (oauth2_sender.ts). */
  readonly sender: { send(request: AuthorizedRequest): Promise<AttemptResult> };
  readonly clock: Clock;
  readonly rng: Rng;
  readonly log: Logger;
  /** This daemon's lease owner id. */
  readonly owner: string;
  readonly leaseMs: number;
  readonly concurrency: number;
  readonly maxInFlightPerWebhook: number;
  /**
   * Payload bytes of claimed deliveries to hold here at most, queued or in
   * flight (`[delivery] payload_memory`); see {@linkcode Dispatcher.overBudget}.
   */
  readonly payloadMemory: number;
  readonly policies: Readonly<Record<string, Policy>>;
  /** Request profiles by name; a webhook naming an unknown one gets `standard`. */
  readonly profiles: Readonly<Record<string, Profile>>;
  /** A retry was recorded as pending: hand it back to the scheduler. */
  readonly onRetry: (due: DueDelivery) => void;
  /** Told of auto-disables, dead letters and recoveries (hookd's operational events). */
  readonly events?: EndpointEventSink;
  /** The last queued job started: a good moment to load more work. */
  readonly onIdle?: () => void;
  /** Counts each concluded attempt. */
  readonly metrics?: DeliveryMetrics;
}

/**
 * Postponements counted per look for others' overflow: a recall asks for a
 * queue's room at a time, so counting further would change nothing.
 */
const ADOPT_AT_MOST = 10_000;

/** What a payload is assumed to weigh before any was seen, bytes. */
const FIRST_PAYLOAD_GUESS = 1_024;

/** A claim must outlive the attempt by this much, or it is renewed before sending. */
const LEASE_MARGIN_MS = 5_000;

export interface DispatcherStats extends RecorderStats {
  /** Claimed (or being claimed) and waiting for a sending slot. */
  readonly queued: number;
  /**
   * Due but not claimed yet: no room in their webhook's queue or the payload
   * budget, or their webhook's breaker is half open and its probe is out. Ids only.
   */
  readonly waiting: number;
  /** Payload bytes of the claimed deliveries held here (see `[delivery] payload_memory`). */
  readonly payloadBytes: number;
  readonly inFlight: number;
}

export class Dispatcher {
  readonly #o: DispatcherOptions;
  readonly #pool: SendingPool<DispatchJob & { readonly claim: NonNullable<DispatchJob["claim"]> }>;
  readonly #recorder: AttemptRecorder;
  /** Deliveries claimed, queued or being attempted here. */
  readonly #known = new Set<string>();
  readonly #running = new Set<Promise<void>>();
  /** Due deliveries being claimed before they queue. */
  #claiming = 0;
  /** Per webhook, its deliveries being claimed now. */
  readonly #claimingFor = new Map<string, number>();
  /**
   * Per webhook, due deliveries not claimed yet because its queue has no
   * room (or the payload budget none): claimed as room is made, in due order.
   * Only ids are held here; the store keeps them pending, so nothing is lost
   * if the daemon stops.
   */
  readonly #waiting = new Map<string, DispatchJob[]>();
  #waitingCount = 0;
  /**
   * Per webhook whose deliveries wait for its breaker's probe: a look again
   * when the probe is overdue. Its result normally calls first, but a probe
   * may end without one (its webhook paused meanwhile, its claim lost).
   */
  readonly #probeWatch = new Map<string, TimerHandle>();
  /**
   * Payload sizes (string lengths: a byte a character for ASCII JSON) of the
   * claimed deliveries held here, queued or in flight. Counts and queue
   * bounds alone let large payloads fill the heap: a webhook's queue of
   * 1,000 with 1 MiB events is a GiB.
   */
  #payloadBytes = 0;
  /** A running mean of recent payloads, to size claims to what the budget has left. */
  #payloadMean = FIRST_PAYLOAD_GUESS;
  /**
   * Deliveries wait for the budget: none is claimed until half of it is free
   * again (`#letGo`), so claims go out in batches, not one per finished
   * attempt.
   */
  #waitingForBudget = false;
  /** Deliveries to claim in the next claim write, with who waits for each. */
  #claimBatch: { deliveryId: string; resolve: (claim: ClaimedDelivery | undefined) => void }[] = [];
  #closed = false;

  constructor(options: DispatcherOptions) {
    this.#o = options;
    this.#recorder = new AttemptRecorder({
      store: options.store,
      owner: options.owner,
      log: options.log,
      onRetry: options.onRetry,
      events: options.events,
    });
    this.#pool = new SendingPool({
      clock: options.clock,
      concurrency: options.concurrency,
      maxInFlightPerWebhook: options.maxInFlightPerWebhook,
      limitsOf: (webhookId) => options.store.webhooks.get(webhookId),
      flowOf: (webhookId) => this.#policyFor(options.store.webhooks.get(webhookId)),
      start: (job, done) => this.#start(job, done),
      postpone: (jobs, until, reason) => void this.#postpone(jobs, until, reason === "full"),
      recall: (webhookId, limit) => void this.#recall(webhookId, limit),
      onRoom: (webhookId, room) => this.#claimWaiting(webhookId, room),
      onIdle: options.onIdle,
    });
  }

  /** A webhook's breaker state and effective concurrency in this daemon. */
  flowOf(webhookId: string): WebhookFlow {
    return this.#pool.flowOf(webhookId);
  }

  /** How many webhooks have a breaker open or half open, or AIMD below their cap. */
  flowSummary(): { open: number; halfOpen: number; reduced: number } {
    return this.#pool.flowSummary();
  }

  /**
   * Takes on the full queues' postponements in the store (left by a daemon
   * that stopped, was killed, or by a peer that went away): the pool recalls
   * them as its queues have room, as it does its own. Without this, work
   * postponed in a slow spell by a daemon no longer there would wait out the
   * slow pace's estimate.
   */
  async adoptPostponed(): Promise<void> {
    const now = this.#o.clock.now();
    const recallable = await this.#o.store.read("recallableByWebhook", {
      now,
      limit: ADOPT_AT_MOST,
    });
    for (const { webhookId, count } of recallable) this.#pool.adoptOverflow(webhookId, count);
  }

  /** Whether the delivery is waiting, queued or being attempted here. */
  has(deliveryId: string): boolean {
    return this.#known.has(deliveryId);
  }

  stats(): DispatcherStats {
    return {
      ...this.#recorder.stats(),
      queued: this.#pool.queued + this.#claiming,
      waiting: this.#waitingCount,
      payloadBytes: this.#payloadBytes,
      inFlight: this.#pool.inFlight,
    };
  }

  /**
   * Whether the claimed deliveries held here weigh the payload budget or
   * more: ingest then leaves new ones in the store (the loader brings them
   * when there is room), and waiting ones stay unclaimed.
   */
  overBudget(): boolean {
    return this.#payloadBytes >= this.#o.payloadMemory;
  }

  /** A claimed delivery's payload is held here from now on. */
  #hold(delivery: ClaimedDelivery): void {
    const bytes = delivery.event.payload.length;
    this.#payloadBytes += bytes;
    this.#payloadMean += (bytes - this.#payloadMean) / 4;
  }

  /** A held payload is gone (sent, postponed, released); waiting ones may now fit. */
  #letGo(delivery: ClaimedDelivery): void {
    this.#payloadBytes -= delivery.event.payload.length;
    if (!this.#waitingForBudget || this.#payloadBytes > this.#o.payloadMemory / 2) return;
    this.#waitingForBudget = false;
    for (const webhookId of [...this.#waiting.keys()]) {
      this.#claimWaiting(webhookId, this.#pool.roomFor(webhookId));
    }
  }

  /**
   * Takes due deliveries. Those not yet claimed are claimed (together, in one
   * store write) before they queue: a sending slot is only ever spent on an
   * attempt that can start at once. A webhook's claims stop at the room its
   * queue has; the rest wait here, unclaimed, until it makes room. Claiming
   * them all would only postpone most of them again, each a claim and a
   * postponement in the store, with its payload read for nothing.
   */
  enqueue(jobs: readonly DispatchJob[]): void {
    if (this.#closed) return;
    const touched = new Set<string>();
    for (const job of jobs) {
      if (this.#known.has(job.deliveryId)) continue;
      this.#known.add(job.deliveryId);
      if (job.claim) {
        this.#hold(job.claim.delivery);
        this.#pool.push({ ...job, claim: job.claim });
        continue;
      }
      let waiting = this.#waiting.get(job.webhookId);
      if (!waiting) this.#waiting.set(job.webhookId, waiting = []);
      waiting.push(job);
      this.#waitingCount++;
      touched.add(job.webhookId);
    }
    for (const webhookId of touched) {
      this.#claimWaiting(webhookId, this.#pool.roomFor(webhookId));
    }
  }

  /**
   * Claims as many of the webhook's waiting deliveries as `room` allows, in
   * due order, unless a claim of its own is still out (its answer changes
   * the room).
   */
  #claimWaiting(webhookId: string, room: number): void {
    const waiting = this.#waiting.get(webhookId);
    if (!waiting || this.#closed) return;
    const { circuit } = this.#pool.flowOf(webhookId);
    if (circuit.state !== "closed") {
      if (circuit.nextProbeAt !== null && this.#o.clock.now() < circuit.nextProbeAt) {
        // Half open: the probe is out, and its result (within an attempt's
        // timeout) decides for the rest, which wait here unclaimed; the
        // attempt's end calls this again (#start).
        if (circuit.state === "half_open") {
          this.#watchProbe(webhookId, circuit.nextProbeAt);
          return;
        }
        // Open: its breaker sends nothing before the probe. Claimed, every
        // one of them would only be postponed to it, its payload read for
        // nothing, a queue's worth at a time through the whole backlog.
        this.#waiting.delete(webhookId);
        this.#waitingCount -= waiting.length;
        void this.#defer(waiting, circuit.nextProbeAt);
        return;
      }
      // The probe is due: it alone is claimed (one queued is the probe to
      // be). A queue's worth claimed with it would wait on its result, and
      // go back to the store, claimed and postponed for nothing, each time
      // a probe fails.
      room = Math.min(room, this.#pool.queuedFor(webhookId) > 0 ? 0 : 1);
    }
    if (this.#claimingFor.has(webhookId)) return;
    // Only with half the budget free or more, so each claim is a batch; then as many as
    // the rest fits at the recent mean (payloads are unknown until claimed).
    const left = this.#o.payloadMemory - this.#payloadBytes;
    if (this.#waitingForBudget || left < this.#o.payloadMemory / 2) {
      this.#waitingForBudget = true;
      return;
    }
    const affordable = Math.max(1, Math.floor(left / this.#payloadMean));
    const take = waiting.splice(0, Math.min(room, affordable, waiting.length));
    if (take.length === 0) return;
    if (waiting.length === 0) this.#waiting.delete(webhookId);
    this.#waitingCount -= take.length;
    this.#claimingFor.set(webhookId, take.length);
    for (const job of take) void this.#claimThenQueue(job);
  }

  #watchProbe(webhookId: string, at: number): void {
    if (this.#probeWatch.has(webhookId)) return;
    const { clock } = this.#o;
    this.#probeWatch.set(
      webhookId,
      clock.setTimeout(() => {
        this.#probeWatch.delete(webhookId);
        this.#claimWaiting(webhookId, this.#pool.roomFor(webhookId));
      }, Math.max(0, at - clock.now())),
    );
  }

  /**
   * Stops taking work, gives queued claims back to the store, and waits up to
   * `graceMs` for attempts in flight to finish and be recorded. Attempts still
   * running after that keep their lease and are retried once it expires.
   */
  async close(graceMs: number): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // Waiting deliveries were never claimed: the store has them pending.
    for (const waiting of this.#waiting.values()) {
      for (const job of waiting) this.#known.delete(job.deliveryId);
    }
    this.#waiting.clear();
    this.#waitingCount = 0;
    for (const timer of this.#probeWatch.values()) this.#o.clock.clearTimeout(timer);
    this.#probeWatch.clear();
    const queued = this.#pool.close();
    for (const job of queued) this.#letGo(job.claim.delivery);
    const claimed = queued.map((job) => job.deliveryId);
    if (claimed.length > 0) {
      await this.#release(claimed, "pending")
        .catch((error) => this.#o.log.warn("could not release queued deliveries", { error }));
    }
    let timer: TimerHandle | undefined;
    const grace = new Promise<void>((resolve) =>
      timer = this.#o.clock.setTimeout(resolve, graceMs)
    );
    await Promise.race([Promise.allSettled([...this.#running]), grace]);
    this.#o.clock.clearTimeout(timer);
  }

  async #claimThenQueue(job: DispatchJob): Promise<void> {
    this.#claiming++;
    const leaseUntil = this.#o.clock.now() + this.#o.leaseMs;
    const delivery = await this.#claim(job.deliveryId);
    this.#claiming--;
    if (!delivery) {
      // Not claimed: another daemon has it, it is no longer due, or its webhook stopped it.
      this.#known.delete(job.deliveryId);
    } else if (this.#closed) {
      await this.#release([delivery.id], "pending").catch(() => {});
    } else {
      this.#hold(delivery);
      this.#pool.push({ ...job, claim: { delivery, leaseUntil } });
    }
    const left = (this.#claimingFor.get(job.webhookId) ?? 1) - 1;
    if (left > 0) {
      this.#claimingFor.set(job.webhookId, left);
    } else {
      // The webhook's claim is answered: if some were not claimed, there is room for more.
      this.#claimingFor.delete(job.webhookId);
      this.#claimWaiting(job.webhookId, this.#pool.roomFor(job.webhookId));
    }
  }

  /**
   * Claims a delivery (or renews this daemon's claim on it). The one claim
   * batcher: every claim asked for in the same turn of the event loop goes
   * in one store write. Resolves undefined when it could not be claimed.
   */
  #claim(deliveryId: string): Promise<ClaimedDelivery | undefined> {
    return new Promise((resolve) => {
      this.#claimBatch.push({ deliveryId, resolve });
      if (this.#claimBatch.length === 1) queueMicrotask(() => this.#flushClaims());
    });
  }

  async #flushClaims(): Promise<void> {
    const batch = this.#claimBatch;
    this.#claimBatch = [];
    const now = this.#o.clock.now();
    try {
      const claimed = await this.#o.store.write("claimDeliveries", {
        ids: batch.map((b) => b.deliveryId),
        owner: this.#o.owner,
        now,
        leaseUntil: now + this.#o.leaseMs,
      });
      const byId = new Map(claimed.map((c) => [c.id, c]));
      for (const { deliveryId, resolve } of batch) resolve(byId.get(deliveryId));
    } catch (error) {
      // Unclaimed work stays in the store; the loader offers it again later.
      this.#o.log.warn("could not claim deliveries", { count: batch.length, error });
      for (const { resolve } of batch) resolve(undefined);
    }
  }

  #release(ids: string[], state: "pending" | "held" | "cancelled"): Promise<void> {
    return this.#o.store.write("releaseDeliveries", {
      ids,
      owner: this.#o.owner,
      state,
      now: this.#o.clock.now(),
    });
  }

  /** The pool gave the job a slot; `done` gives it back. */
  #start(job: DispatchJob & { claim: NonNullable<DispatchJob["claim"]> }, done: () => void): void {
    const run = this.#attempt(job, done)
      .catch((error) =>
        this.#o.log.error("delivery attempt failed unexpectedly", {
          delivery_id: job.deliveryId,
          error,
        })
      )
      .finally(() => {
        this.#running.delete(run);
        this.#known.delete(job.deliveryId);
        this.#letGo(job.claim.delivery);
        done();
        // Deliveries left waiting for a probe's result go now (closed), back
        // to the store until the next probe (open again), or as the next
        // probe (it ended without a result). Only with the webhook's queue
        // empty: otherwise the pool asks for more as it drains (`onRoom`),
        // a batch at a time rather than a claim per finished attempt.
        if (this.#waiting.has(job.webhookId) && this.#pool.queuedFor(job.webhookId) === 0) {
          this.#claimWaiting(job.webhookId, this.#pool.roomFor(job.webhookId));
        }
      });
    this.#running.add(run);
  }

  async #attempt(
    job: DispatchJob & { claim: NonNullable<DispatchJob["claim"]> },
    done: () => void,
  ): Promise<void> {
    const { store, clock } = this.#o;
    const policy = this.#policyFor(store.webhooks.get(job.webhookId));
    const delivery = await this.#renewIfShort(job.claim, policy);
    if (!delivery) return; // another daemon has it, it is no longer due, or its webhook stopped it
    // The view as of the last write transaction, which may be newer than the claim.
    const webhook = store.webhooks.get(job.webhookId);
    if (!webhook || webhook.state !== "enabled") {
      // Nowhere to send it: a deleted webhook's delivery is cancelled, a paused or
      // disabled one's is held until the webhook is enabled again.
      await this.#release([delivery.id], webhook ? "held" : "cancelled");
      return;
    }
    const credential = webhook.credentialId === null
      ? undefined
      : store.webhooks.credential(webhook.credentialId);
    const material = signingMaterial(webhook, credential, clock.now());
    if (!material) {
      // Never send unsigned what should be signed; try again on the next look.
      this.#o.log.warn("credential of webhook not found; delivery put back", {
        webhook_id: webhook.id,
        credential_id: webhook.credentialId,
      });
      await this.#release([delivery.id], "pending");
      return;
    }
    const sent = await this.#send(
      webhook,
      policy,
      delivery,
      material,
      receiverAuthOf(webhook, credential),
    );
    if (!sent) return; // shutting down: its lease expires and it is retried
    const { span } = sent;
    // Flow control first, so the slot given back next is given under the new state.
    const transition = this.#pool.observe(
      job,
      flowSignal(sent.result.outcome, policy),
    );
    if (transition) this.#circuitChanged(webhook.id, transition);
    // The receiver has answered: the slot is free while the store records the result.
    done();
    const now = clock.now();
    const conclusion = concludeAttempt({ ...sent, delivery, policy, now, rng: this.#o.rng });
    this.#o.metrics?.attempt(conclusion.attempt);
    const { attempt, verdict } = conclusion;
    span?.setAttributes({
      "hookd.attempt.duration_ms": attempt.durationMs,
      "hookd.attempt.outcome": verdict.state === "pending" ? "retry" : verdict.state,
      ...(attempt.responseStatus === null
        ? {}
        : { "http.response.status_code": attempt.responseStatus }),
      ...(attempt.errorKind === null ? {} : { "hookd.attempt.error_kind": attempt.errorKind }),
    });
    endSpan(span, attempt.errorKind ?? undefined);
    await this.#recorder.record(conclusion, delivery, now);
  }

  /** Prepares and sends; undefined when the sender closed under it (no attempt happened). */
  async #send(
    webhook: WebhookRecord,
    policy: Policy,
    delivery: ClaimedDelivery,
    material: SigningMaterial,
    auth: EffectiveAuth | null,
  ): Promise<
    { prepared: PreparedAttempt; result: AttemptResult; span: Span | undefined } | undefined
  > {
    const { clock, profiles } = this.#o;
    const now = clock.now();
    const attemptId = uuidv7(now);
    // The ids of seed 002's logging list, as on the attempt's log line.
    const span = startSpan("hookd.attempt", delivery.event.traceparent, () => ({
      "hookd.event_id": delivery.event.id,
      "hookd.event_type": delivery.event.type,
      "hookd.delivery_id": delivery.id,
      "hookd.attempt_id": attemptId,
      "hookd.attempt": delivery.attempts + 1,
      "hookd.webhook_id": webhook.id,
    }), "client");
    let prepared = unpreparedAttempt({ webhook, policy, delivery, attemptId, now });
    try {
      prepared = prepareAttempt({
        webhook,
        policy,
        profile: profiles[webhook.profile] ?? profiles.standard ?? STANDARD_PROFILE,
        delivery,
        material,
        attemptId,
        now,
        span: recordedIds(span),
        auth,
      });
      return { prepared, result: await this.#o.sender.send(prepared), span };
    } catch (error) {
      if (error instanceof SenderClosedError) {
        endSpan(span, "the sender closed: no attempt was made");
        return undefined;
      }
      // A request that cannot even be built must still end, not be retaken forever.
      const result = failedAttempt(
        "connect",
        `could not build or send the request: ${error instanceof Error ? error.message : error}`,
        clock.now() - now,
      );
      return { prepared, result, span };
    }
  }

  /**
   * Deliveries of a webhook whose breaker is open, or whose queue is full,
   * go back to the store, due at the next probe or when the queue should
   * have room, with no attempt spent; the scheduler takes them again (a
   * full queue's sooner if the pool recalls them).
   */
  async #postpone(
    jobs: (DispatchJob & { claim: NonNullable<DispatchJob["claim"]> })[],
    until: number,
    recallable: boolean,
  ): Promise<void> {
    for (const job of jobs) this.#letGo(job.claim.delivery);
    const ids = jobs.map((job) => job.deliveryId);
    try {
      await this.#o.store.write("postponeDeliveries", {
        ids,
        owner: this.#o.owner,
        until,
        now: this.#o.clock.now(),
        recallable,
      });
    } catch (error) {
      // Their lease runs out and they are taken again: later, not lost.
      this.#o.log.warn("could not postpone deliveries", { count: ids.length, error });
      for (const id of ids) this.#known.delete(id);
      return;
    }
    for (const job of jobs) {
      this.#known.delete(job.deliveryId);
      this.#o.onRetry({ id: job.deliveryId, webhookId: job.webhookId, dueAt: until });
    }
  }

  /**
   * Sends unclaimed deliveries back to the store, due at `until` (their
   * webhook's next probe), without claiming them. On failure they are
   * forgotten here and stay due: the loader brings them again.
   */
  async #defer(jobs: readonly DispatchJob[], until: number): Promise<void> {
    const ids = jobs.map((job) => job.deliveryId);
    try {
      await this.#o.store.write("deferDeliveries", { ids, until, now: this.#o.clock.now() });
    } catch (error) {
      this.#o.log.warn("could not defer deliveries behind an open breaker", {
        count: ids.length,
        error,
      });
      for (const id of ids) this.#known.delete(id);
      return;
    }
    for (const job of jobs) {
      this.#known.delete(job.deliveryId);
      this.#o.onRetry({ id: job.deliveryId, webhookId: job.webhookId, dueAt: until });
    }
  }

  /**
   * A webhook's queue has room again before its overflow was due: the store
   * makes up to `limit` of them due now and the scheduler takes them at once.
   * On failure they simply come at the time they were given.
   */
  async #recall(webhookId: string, limit: number): Promise<void> {
    const now = this.#o.clock.now();
    let ids: string[];
    try {
      ids = await this.#o.store.write("recallPostponed", { webhookId, now, limit });
    } catch (error) {
      this.#o.log.warn("could not recall postponed deliveries; they come at their time", {
        webhook_id: webhookId,
        error,
      });
      return;
    }
    for (const id of ids) this.#o.onRetry({ id, webhookId, dueAt: now });
  }

  #circuitChanged(webhookId: string, transition: Transition): void {
    const { log, events, metrics } = this.#o;
    metrics?.circuitTransitions.add(1, transition.to);
    if (transition.to === "closed") {
      const closedAt = this.#o.clock.now();
      log.info("circuit closed: the probe succeeded", {
        webhook_id: webhookId,
        opened_at: new Date(transition.openedAt).toISOString(),
      });
      events?.circuitClosed(webhookId, transition.openedAt, closedAt);
      return;
    }
    const first = transition.openedAt === this.#o.clock.now();
    log.warn(first ? "circuit opened" : "circuit opened again: the probe failed", {
      webhook_id: webhookId,
      opened_at: new Date(transition.openedAt).toISOString(),
      next_probe_at: new Date(transition.nextProbeAt).toISOString(),
      effect: "its due deliveries wait for the probe, with no attempt spent",
    });
    if (first) events?.circuitOpened(webhookId, transition.openedAt, transition.nextProbeAt);
  }

  #policyFor(webhook: WebhookRecord | undefined): Policy {
    const policies = this.#o.policies;
    return (webhook && policies[webhook.policy]) || policies.default!;
  }

  /** The claim if it outlasts this attempt, else a renewed one. */
  #renewIfShort(
    claim: NonNullable<DispatchJob["claim"]>,
    policy: Policy,
  ): Promise<ClaimedDelivery | undefined> {
    const now = this.#o.clock.now();
    if (claim.leaseUntil - now >= policy.timeoutMs + LEASE_MARGIN_MS) {
      return Promise.resolve(claim.delivery);
    }
    return this.#claim(claim.delivery.id);
  }
}
