/**
 * The sending pool: who goes next. Jobs wait in per-webhook queues; a job
 * starts when a sending slot is free (global concurrency), its webhook is
 * under its in-flight cap, and its webhook's token bucket (rate limit) has a
 * token. Webhooks take turns round-robin, so one slow or busy endpoint cannot
 * starve the others. The pool knows nothing of stores or HTTP: it hands a
 * started job to `start` with a `done` to call when the slot is free again.
 * Flow control that decides per webhook (breaker, AIMD, ordering) belongs here.
 */
import type { Clock, TimerHandle } from "../clock.ts";
import { JobQueue } from "./job_queue.ts";
import { TokenBucket } from "./token_bucket.ts";

/** What the pool needs of a job. */
export interface PoolJob {
  readonly webhookId: string;
}

/** A webhook's own limits, as its record says now; null: the pool's default / none. */
export interface WebhookLimits {
  readonly maxInFlight: number | null;
  readonly rateLimitPerSecond: number | null;
}

export interface PoolOptions<J extends PoolJob> {
  readonly clock: Clock;
  /** Attempts in flight at once, over all webhooks. */
  readonly concurrency: number;
  /** In-flight cap of a webhook whose record sets none. */
  readonly maxInFlightPerWebhook: number;
  /** A webhook's limits now; undefined for one that no longer exists (default cap, no rate). */
  readonly limitsOf: (webhookId: string) => WebhookLimits | undefined;
  /** Runs a job that got its slot; `done` gives the slot back (once; later calls do nothing). */
  readonly start: (job: J, done: () => void) => void;
  /** The last queued job started: a good moment to load more work. */
  readonly onIdle?: () => void;
}

export class SendingPool<J extends PoolJob> {
  readonly #o: PoolOptions<J>;
  /** Per-webhook backlogs; Map order is the round-robin order. */
  readonly #queues = new Map<string, JobQueue<J>>();
  readonly #inFlightPer = new Map<string, number>();
  readonly #buckets = new Map<string, TokenBucket>();
  #queued = 0;
  #inFlight = 0;
  #pumpTimer: TimerHandle | undefined;
  #closed = false;

  constructor(options: PoolOptions<J>) {
    this.#o = options;
  }

  /** Jobs waiting for a slot. */
  get queued(): number {
    return this.#queued;
  }

  /** Jobs holding a slot. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Queues a job and starts whatever can start now. */
  push(job: J): void {
    if (this.#closed) return;
    let queue = this.#queues.get(job.webhookId);
    if (!queue) this.#queues.set(job.webhookId, queue = new JobQueue());
    queue.push(job);
    this.#queued++;
    this.#pump();
  }

  /** Stops starting jobs and returns those still queued, in webhook round-robin order. */
  close(): J[] {
    this.#closed = true;
    this.#o.clock.clearTimeout(this.#pumpTimer);
    this.#pumpTimer = undefined;
    const left: J[] = [];
    for (const queue of this.#queues.values()) left.push(...queue.drain());
    this.#queues.clear();
    this.#queued = 0;
    return left;
  }

  #pump(): void {
    if (this.#closed) return;
    const now = this.#o.clock.now();
    let earliestToken = Infinity;
    while (this.#inFlight < this.#o.concurrency && this.#queues.size > 0) {
      let picked: string | undefined;
      for (const [webhookId] of this.#queues) {
        const limits = this.#o.limitsOf(webhookId);
        const cap = limits?.maxInFlight ?? this.#o.maxInFlightPerWebhook;
        if ((this.#inFlightPer.get(webhookId) ?? 0) >= cap) continue;
        const wait = this.#bucketFor(webhookId, limits?.rateLimitPerSecond ?? null, now)
          ?.take(now) ?? 0;
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

  #bucketFor(webhookId: string, rate: number | null, now: number): TokenBucket | undefined {
    if (rate === null) {
      this.#buckets.delete(webhookId);
      return undefined;
    }
    let bucket = this.#buckets.get(webhookId);
    if (!bucket || bucket.rate !== rate) {
      this.#buckets.set(webhookId, bucket = new TokenBucket(rate, now));
    }
    return bucket;
  }

  #start(job: J): void {
    const { webhookId } = job;
    this.#inFlight++;
    this.#inFlightPer.set(webhookId, (this.#inFlightPer.get(webhookId) ?? 0) + 1);
    let held = true;
    this.#o.start(job, () => {
      if (!held) return;
      held = false;
      this.#inFlight--;
      const left = (this.#inFlightPer.get(webhookId) ?? 1) - 1;
      if (left > 0) this.#inFlightPer.set(webhookId, left);
      else this.#inFlightPer.delete(webhookId);
      this.#pump();
    });
  }
}
