/**
 * The sender pool. Takes due deliveries, claims them under a lease (in
 * batches, through group commit), sends each attempt within a global
 * concurrency limit, a per-webhook in-flight cap and an optional per-webhook
 * rate limit, and records every result. Webhooks are served round-robin, so
 * one slow or busy endpoint cannot starve the others.
 *
 *   job ──claim──▶ send ──classify/decide──▶ record ──▶ retry due soon? → scheduler
 */
import type { Clock, TimerHandle } from "../clock.ts";
import { STANDARD_PROFILE } from "../config/profile.ts";
import type { Policy, Profile } from "../config/types.ts";
import { uuidv7 } from "../ids.ts";
import type { RouteTls } from "../net/http1_route.ts";
import type { Logger } from "../ops/log.ts";
import type { AttemptRecord } from "../store/attempts.ts";
import type { AttemptVerdict, ClaimedDelivery, DueDelivery } from "../store/delivery_queue.ts";
import type { Store } from "../store/client.ts";
import type { WebhookRecord } from "../store/webhooks.ts";
import { VERSION } from "../version.ts";
import { JobQueue } from "./job_queue.ts";
import { decideNext, errorKindOf, type Rng } from "./policy.ts";
import { headersForLog, renderRequest } from "./render_request.ts";
import type { GuardResult } from "./ssrf/guard.ts";
import { type SigningMaterial, signingMaterial } from "./signing_material.ts";
import {
  type AttemptResult,
  failedAttempt,
  SenderClosedError,
  type SendRequest,
} from "./sender.ts";
import { TokenBucket } from "./token_bucket.ts";

/** A delivery to attempt; `claim` is set when it is already claimed (fresh from ingest). */
export interface DispatchJob {
  readonly deliveryId: string;
  readonly webhookId: string;
  readonly claim?: { readonly delivery: ClaimedDelivery; readonly leaseUntil: number };
}

/** What the dispatcher needs of a sender; `HttpSender` is the real one. */
export interface AttemptSender {
  send(request: SendRequest): Promise<AttemptResult>;
}

export interface DispatcherOptions {
  readonly store: Store;
  readonly sender: AttemptSender;
  readonly clock: Clock;
  readonly rng: Rng;
  readonly log: Logger;
  /** This daemon's lease owner id. */
  readonly owner: string;
  readonly leaseMs: number;
  readonly concurrency: number;
  readonly maxInFlightPerWebhook: number;
  readonly policies: Readonly<Record<string, Policy>>;
  /** Request profiles by name; a webhook naming an unknown one gets `standard`. */
  readonly profiles: Readonly<Record<string, Profile>>;
  /** Refuse plain-http targets at send time too (the setting may have changed since creation). */
  readonly requireHttps?: boolean;
  /** Refuses targets in private or reserved address space before every attempt. */
  readonly guard?: { check(url: URL): Promise<GuardResult> };
  /** A retry was recorded as pending: hand it back to the scheduler. */
  readonly onRetry: (due: DueDelivery) => void;
  /** The last queued job started: a good moment to load more work. */
  readonly onIdle?: () => void;
}

/** A claim must outlive the attempt by this much, or it is renewed before sending. */
const LEASE_MARGIN_MS = 5_000;

export interface DispatcherStats {
  readonly queued: number;
  readonly inFlight: number;
  readonly recording: number;
  readonly attempts: number;
  readonly succeeded: number;
  readonly retried: number;
  readonly failed: number;
  readonly dead: number;
}

export class Dispatcher {
  readonly #o: DispatcherOptions;
  /** Per-webhook backlogs; Map order is the round-robin order. */
  readonly #queues = new Map<string, JobQueue<DispatchJob>>();
  readonly #known = new Set<string>();
  readonly #inFlightPer = new Map<string, number>();
  readonly #buckets = new Map<string, TokenBucket>();
  readonly #running = new Set<Promise<void>>();
  #queued = 0;
  #inFlight = 0;
  /** Attempts answered and being written to the store. */
  #recording = 0;
  /** Due deliveries being claimed before they queue. */
  #claiming = 0;
  #pumpTimer: TimerHandle | undefined;
  /** Deliveries to claim in the next claim write, with who waits for each. */
  #claimBatch: { deliveryId: string; resolve: (claim: ClaimedDelivery | undefined) => void }[] = [];
  #closed = false;
  #counts = { attempts: 0, succeeded: 0, retried: 0, failed: 0, dead: 0 };

  constructor(options: DispatcherOptions) {
    this.#o = options;
  }

  /** Whether the delivery is queued or being attempted here. */
  has(deliveryId: string): boolean {
    return this.#known.has(deliveryId);
  }

  stats(): DispatcherStats {
    return {
      queued: this.#queued + this.#claiming,
      inFlight: this.#inFlight,
      recording: this.#recording,
      ...this.#counts,
    };
  }

  /**
   * Takes due deliveries. Those not yet claimed are claimed together, in one
   * store write, before they queue: a sending slot is only ever spent on an
   * attempt that can start at once.
   */
  enqueue(jobs: readonly DispatchJob[]): void {
    if (this.#closed) return;
    const unclaimed: DispatchJob[] = [];
    for (const job of jobs) {
      if (this.#known.has(job.deliveryId)) continue;
      this.#known.add(job.deliveryId);
      if (job.claim) this.#push(job);
      else unclaimed.push(job);
    }
    for (const job of unclaimed) void this.#claimForQueue(job);
    this.#pump();
  }

  #push(job: DispatchJob): void {
    let queue = this.#queues.get(job.webhookId);
    if (!queue) this.#queues.set(job.webhookId, queue = new JobQueue());
    queue.push(job);
    this.#queued++;
  }

  async #claimForQueue(job: DispatchJob): Promise<void> {
    this.#claiming++;
    const leaseUntil = this.#o.clock.now() + this.#o.leaseMs;
    const delivery = await this.#claim(job.deliveryId);
    this.#claiming--;
    if (!delivery) {
      // Not claimed: another daemon has it, it is no longer due, or its webhook stopped it.
      this.#known.delete(job.deliveryId);
    } else if (this.#closed) {
      await this.#release(delivery.id, "pending").catch(() => {});
    } else {
      this.#push({ ...job, claim: { delivery, leaseUntil } });
      this.#pump();
    }
  }

  /**
   * Stops taking work, gives queued claims back to the store, and waits up to
   * `graceMs` for attempts in flight to finish and be recorded. Attempts still
   * running after that keep their lease and are retried once it expires.
   */
  async close(graceMs: number): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#o.clock.clearTimeout(this.#pumpTimer);
    const claimed: string[] = [];
    for (const queue of this.#queues.values()) {
      for (const job of queue.drain()) if (job.claim) claimed.push(job.deliveryId);
    }
    this.#queues.clear();
    this.#queued = 0;
    if (claimed.length > 0) {
      await this.#o.store.write("releaseDeliveries", {
        ids: claimed,
        owner: this.#o.owner,
        state: "pending",
        now: this.#o.clock.now(),
      }).catch((error) => this.#o.log.warn("could not release queued deliveries", { error }));
    }
    let timer: TimerHandle | undefined;
    const grace = new Promise<void>((resolve) =>
      timer = this.#o.clock.setTimeout(resolve, graceMs)
    );
    await Promise.race([Promise.allSettled([...this.#running]), grace]);
    this.#o.clock.clearTimeout(timer);
  }

  #pump(): void {
    if (this.#closed) return;
    const now = this.#o.clock.now();
    let earliestToken = Infinity;
    while (this.#inFlight < this.#o.concurrency && this.#queues.size > 0) {
      let picked: string | undefined;
      for (const [webhookId] of this.#queues) {
        const webhook = this.#o.store.webhooks.get(webhookId);
        const cap = webhook?.maxInFlight ?? this.#o.maxInFlightPerWebhook;
        if ((this.#inFlightPer.get(webhookId) ?? 0) >= cap) continue;
        const wait = this.#bucketFor(webhook, now)?.take(now) ?? 0;
        if (wait > 0) {
          earliestToken = Math.min(earliestToken, wait);
          continue;
        }
        picked = webhookId;
        break;
      }
      if (picked === undefined) break;
      const queue = this.#queues.get(picked)!;
      const job = queue.shift()!;
      if (--this.#queued === 0) this.#o.onIdle?.();
      // Move the webhook to the back of the round-robin order.
      this.#queues.delete(picked);
      if (queue.length > 0) this.#queues.set(picked, queue);
      this.#start(job);
    }
    if (earliestToken !== Infinity && this.#pumpTimer === undefined) {
      this.#pumpTimer = this.#o.clock.setTimeout(() => {
        this.#pumpTimer = undefined;
        this.#pump();
      }, earliestToken);
    }
  }

  #bucketFor(webhook: WebhookRecord | undefined, now: number): TokenBucket | undefined {
    const rate = webhook?.rateLimitPerSecond ?? null;
    if (!webhook || rate === null) return undefined;
    let bucket = this.#buckets.get(webhook.id);
    if (!bucket || bucket.rate !== rate) {
      this.#buckets.set(webhook.id, bucket = new TokenBucket(rate, now));
    }
    return bucket;
  }

  #start(job: DispatchJob): void {
    this.#inFlight++;
    this.#inFlightPer.set(job.webhookId, (this.#inFlightPer.get(job.webhookId) ?? 0) + 1);
    let slotHeld = true;
    // The sending slot is given back as soon as the receiver has answered:
    // recording the result is the store's work and must not keep the next
    // attempt to this webhook waiting.
    const freeSlot = () => {
      if (!slotHeld) return;
      slotHeld = false;
      this.#inFlight--;
      const left = (this.#inFlightPer.get(job.webhookId) ?? 1) - 1;
      if (left > 0) this.#inFlightPer.set(job.webhookId, left);
      else this.#inFlightPer.delete(job.webhookId);
      this.#pump();
    };
    const run = this.#attempt(job, freeSlot)
      .catch((error) =>
        this.#o.log.error("delivery attempt failed unexpectedly", {
          delivery_id: job.deliveryId,
          error,
        })
      )
      .finally(() => {
        this.#running.delete(run);
        this.#known.delete(job.deliveryId);
        freeSlot();
      });
    this.#running.add(run);
  }

  async #attempt(job: DispatchJob, freeSlot: () => void): Promise<void> {
    const views = this.#o.store;
    const policy = this.#policyFor(views.webhooks.get(job.webhookId));
    const claimed = await this.#renewIfShort(job, policy);
    if (!claimed) return; // another daemon has it, it is no longer due, or its webhook stopped it
    // The view as of the last write transaction, which may be newer than the claim.
    const webhook = views.webhooks.get(job.webhookId);
    if (!webhook || webhook.state !== "enabled") {
      // Nowhere to send it: a deleted or disabled webhook's delivery is cancelled,
      // a paused one's is held until the webhook resumes.
      await this.#release(claimed.id, webhook?.state === "paused" ? "held" : "cancelled");
      return;
    }
    const credential = webhook.credentialId === null
      ? undefined
      : views.webhooks.credential(webhook.credentialId);
    const material = signingMaterial(webhook, credential, this.#o.clock.now());
    if (!material) {
      // Never send unsigned what should be signed; try again on the next look.
      this.#o.log.warn("credential of webhook not found; delivery put back", {
        webhook_id: webhook.id,
        credential_id: webhook.credentialId,
      });
      await this.#release(claimed.id, "pending");
      return;
    }
    await this.#send(webhook, policy, claimed, material, freeSlot);
  }

  #release(id: string, state: "pending" | "held" | "cancelled"): Promise<void> {
    return this.#o.store.write("releaseDeliveries", {
      ids: [id],
      owner: this.#o.owner,
      state,
      now: this.#o.clock.now(),
    });
  }

  #policyFor(webhook: WebhookRecord | undefined): Policy {
    const policies = this.#o.policies;
    return (webhook && policies[webhook.policy]) || policies.default!;
  }

  /** The job's claim if it outlasts this attempt, else a renewed one. */
  #renewIfShort(job: DispatchJob, policy: Policy): Promise<ClaimedDelivery | undefined> {
    const now = this.#o.clock.now();
    if (job.claim && job.claim.leaseUntil - now >= policy.timeoutMs + LEASE_MARGIN_MS) {
      return Promise.resolve(job.claim.delivery);
    }
    return this.#claim(job.deliveryId);
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

  async #send(
    webhook: WebhookRecord,
    policy: Policy,
    delivery: ClaimedDelivery,
    material: SigningMaterial,
    freeSlot: () => void,
  ): Promise<void> {
    const { clock, store, owner } = this.#o;
    const startedAt = clock.now();
    const attemptId = uuidv7(startedAt);
    const profiles = this.#o.profiles;
    let request: { url: string; headers: Record<string, string>; body: string } = {
      url: webhook.url,
      headers: {},
      body: "",
    };
    let result: AttemptResult;
    try {
      request = renderRequest({
        profile: profiles[webhook.profile] ?? profiles.standard ?? STANDARD_PROFILE,
        webhook: { id: webhook.id, url: webhook.url, headers: material.headers },
        secrets: material.secrets,
        event: delivery.event,
        deliveryId: delivery.id,
        attemptId,
        attemptNumber: delivery.attempts + 1,
        now: startedAt,
      });
      // The host is checked on every attempt: DNS may have moved it into private space.
      const target = new URL(webhook.url);
      const verdict = this.#o.requireHttps && target.protocol !== "https:"
        ? { ok: false as const, kind: "blocked" as const, reason: "[security] require_https is on" }
        : this.#o.guard
        ? await this.#o.guard.check(target)
        : undefined;
      if (verdict && !verdict.ok) {
        result = failedAttempt(verdict.kind, verdict.reason, clock.now() - startedAt);
      } else {
        result = await this.#o.sender.send({
          ...request,
          timeoutMs: policy.timeoutMs,
          // Connect to exactly the address the guard approved: DNS-rebinding protection.
          route: { address: verdict?.address, tls: routeTls(webhook) },
        });
      }
    } catch (error) {
      // Shutting down: the attempt never happened; its lease expires and it is retried.
      if (error instanceof SenderClosedError) return;
      // A request that cannot even be built must still end, not be retaken forever.
      result = failedAttempt(
        "connect",
        `could not build or send the request: ${error instanceof Error ? error.message : error}`,
        clock.now() - startedAt,
      );
    }
    const now = clock.now();
    const decision = decideNext({
      outcome: result.outcome,
      policy,
      attemptNumber: delivery.scheduleAttempts + 1,
      createdAt: delivery.scheduleStartedAt,
      now,
      rng: this.#o.rng,
    });
    const verdict: AttemptVerdict = {
      state: decision.state === "retry" ? "pending" : decision.state,
      nextAttemptAt: decision.state === "retry" ? decision.nextAttemptAt : null,
      scheduleAttempts: delivery.scheduleAttempts + 1,
    };
    const errorKind = errorKindOf(result.outcome, policy);
    const attempt: AttemptRecord = {
      id: attemptId,
      deliveryId: delivery.id,
      number: delivery.attempts + 1,
      trigger: delivery.trigger,
      startedAt,
      durationMs: Math.max(0, Math.round(result.durationMs)),
      requestHeaders: headersForLog({
        ...request.headers,
        "content-type": "application/json",
        "user-agent": `hookd/${VERSION}`,
      }),
      responseStatus: result.status,
      responseHeaders: result.responseHeaders ? { ...result.responseHeaders } : null,
      responseBody: result.responseBody,
      errorKind,
      errorMessage: result.errorMessage ??
        (errorKind === null ? null : describeStatus(result.status, errorKind)),
    };
    this.#counts.attempts++;
    freeSlot();
    this.#recording++;
    let moved: boolean;
    try {
      moved = await store.write("recordAttempt", { attempt, owner, verdict, now });
    } finally {
      this.#recording--;
    }
    if (!moved) return; // cancelled or taken over meanwhile: history only
    if (verdict.state === "pending") {
      this.#counts.retried++;
      this.#o.onRetry({ id: delivery.id, webhookId: webhook.id, dueAt: verdict.nextAttemptAt! });
    } else {
      this.#counts[verdict.state]++;
    }
  }
}

function describeStatus(status: number | null, kind: string): string {
  if (kind === "redirect") return `HTTP ${status}: redirects are not followed`;
  return `HTTP ${status} is not a success for this webhook's policy`;
}

/** The webhook's TLS settings for its connections, identified by its version. */
function routeTls(webhook: WebhookRecord): RouteTls | undefined {
  const tls = webhook.tls;
  if (tls === null) return undefined;
  return {
    id: `${webhook.id}@${webhook.updatedAt}`,
    caCerts: tls.caCerts,
    ...(tls.clientCert !== null && tls.clientKey !== null
      ? { cert: tls.clientCert, key: tls.clientKey }
      : {}),
  };
}
