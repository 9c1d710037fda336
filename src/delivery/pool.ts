/**
 * The sending pool: who goes next. Jobs wait in per-webhook queues; a job
 * starts when a sending slot is free (global concurrency), its webhook is
 * under its in-flight cap, and its webhook's token bucket (rate limit) has a
 * token. Webhooks take turns round-robin, so one slow or busy endpoint cannot
 * starve the others. The pool knows nothing of stores or HTTP: it hands a
 * started job to `start` with a `done` to call when the slot is free again.
 *
 * A webhook's queue holds at most {@linkcode QUEUE_PER_CAP} times its
 * in-flight cap (at least {@linkcode MIN_QUEUE}): more goes back to the
 * store through `postpone`, due when the queue should have room
 * (drain_schedule.ts). So a webhook that gets more than it can take keeps
 * its backlog in the store, not in memory ahead of every other webhook.
 * That time is an estimate from the webhook's recent pace: when its queue
 * runs down to a quarter of the bound while some of its overflow is still
 * out, the pool asks for it back at once (`recall`), so a receiver that sped
 * up is not left idle until the estimate comes due.
 *
 * Flow control per webhook lives here too, fed by `observe` with each
 * attempt's outcome: a circuit breaker (circuit_breaker.ts) whose open state
 * hands the webhook's jobs to `postpone` instead of starting them, and AIMD
 * (adaptive_limit.ts) that lowers the webhook's in-flight cap under pushback.
 */
import type { Clock, TimerHandle } from "../clock.ts";
import { AdaptiveLimit } from "./adaptive_limit.ts";
import {
  breakerEnabled,
  type BreakerSettings,
  CircuitBreaker,
  type CircuitView,
  type HealthKind,
  type Transition,
} from "./circuit_breaker.ts";
import { DrainSchedule } from "./drain_schedule.ts";
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

/** A webhook's flow control, from its policy now. */
export interface FlowSettings {
  readonly breaker: BreakerSettings;
  readonly adaptiveConcurrency: boolean;
}

/** What one attempt's outcome says to flow control. */
export interface FlowSignal {
  readonly health: HealthKind;
  /** The receiver pushed back (429, 502, 503, 504, a timeout): concurrency halves. */
  readonly congestion: boolean;
}

/** A webhook's flow state as the API and metrics show it. */
export interface WebhookFlow {
  readonly circuit: CircuitView;
  /** In-flight cap now: the configured one, lowered by AIMD under pushback. */
  readonly effectiveConcurrency: number;
}

/** A webhook's queue holds this many times its in-flight cap... */
export const QUEUE_PER_CAP = 64;
/**
 * ...and at least this many: a whole batch request (1,000 events) to a fresh
 * webhook fits, so a burst to a healthy receiver is never sent the long way
 * round. Well below the engine's 10,000 queued at which ingest stops
 * claiming for everyone: one webhook alone cannot reach that.
 */
export const MIN_QUEUE = 1_000;

/** How many jobs a webhook with in-flight cap `cap` may have queued in memory. */
function queueBound(cap: number): number {
  return Math.max(MIN_QUEUE, QUEUE_PER_CAP * cap);
}

export interface PoolOptions<J extends PoolJob> {
  readonly clock: Clock;
  /** Attempts in flight at once, over all webhooks. */
  readonly concurrency: number;
  /** In-flight cap of a webhook whose record sets none. */
  readonly maxInFlightPerWebhook: number;
  /** A webhook's limits now; undefined for one that no longer exists (default cap, no rate). */
  readonly limitsOf: (webhookId: string) => WebhookLimits | undefined;
  /** A webhook's flow control now; undefined: none (no breaker, fixed cap). */
  readonly flowOf?: (webhookId: string) => FlowSettings | undefined;
  /** Runs a job that got its slot; `done` gives the slot back (once; later calls do nothing). */
  readonly start: (job: J, done: () => void) => void;
  /**
   * Jobs not started, to attempt at `until` instead: their webhook's breaker
   * is open, or its queue is full. Without it, queues are unbounded.
   */
  readonly postpone?: (jobs: J[], until: number, reason: "full" | "breaker") => void;
  /**
   * Asks for up to `limit` of a webhook's jobs postponed for a full queue
   * back now: the queue has room again.
   */
  readonly recall?: (webhookId: string, limit: number) => void;
  /** The last queued job started: a good moment to load more work. */
  readonly onIdle?: () => void;
  /**
   * A job of the webhook started and its queue is down to half its bound or
   * less: `room` more fit before `push` postpones (see {@linkcode SendingPool.roomFor}).
   */
  readonly onRoom?: (webhookId: string, room: number) => void;
}

export class SendingPool<J extends PoolJob> {
  readonly #o: PoolOptions<J>;
  /** Per-webhook backlogs; Map order is the round-robin order. */
  readonly #queues = new Map<string, JobQueue<J>>();
  readonly #inFlightPer = new Map<string, number>();
  readonly #buckets = new Map<string, TokenBucket>();
  readonly #breakers = new Map<string, CircuitBreaker>();
  readonly #adaptive = new Map<string, AdaptiveLimit>();
  /** Started jobs that are their breaker's probe. */
  readonly #probes = new Set<J>();
  /** Each started job's number, in start order (AIMD tells bursts apart by it). */
  readonly #startNumbers = new WeakMap<J, number>();
  #started = 0;
  readonly #drain = new Map<string, DrainSchedule>();
  /**
   * Jobs to postpone, by reason and the time they are postponed to: over
   * their webhook's queue bound, or behind its open breaker. They go out
   * together a microtask later: pushing a thousand claimed jobs to a webhook
   * whose breaker is open pumps a thousand times, one job each.
   */
  #postponing = new Map<string, { until: number; reason: "full" | "breaker"; jobs: J[] }>();
  /** Per webhook, jobs postponed for a full queue and not yet recalled. */
  readonly #overflowed = new Map<string, number>();
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

  /**
   * How many more jobs the webhook's queue takes before `push` postpones
   * them (unbounded without `postpone`). Claiming no more than this keeps a
   * backlog in the store instead of claiming it only to postpone it again.
   */
  roomFor(webhookId: string): number {
    if (!this.#o.postpone) return Infinity;
    const queued = this.#queues.get(webhookId)?.length ?? 0;
    return Math.max(0, queueBound(this.#capOf(webhookId)) - queued);
  }

  /** Jobs queued for the webhook, not yet started. */
  queuedFor(webhookId: string): number {
    return this.#queues.get(webhookId)?.length ?? 0;
  }

  /** Webhooks whose attempt pace the pool keeps (for tests). */
  get pacedWebhooks(): number {
    return this.#drain.size;
  }

  /** Jobs holding a slot. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Queues a job and starts whatever can start now. */
  push(job: J): void {
    if (this.#closed) return;
    const { webhookId } = job;
    let queue = this.#queues.get(webhookId);
    if (!queue) this.#queues.set(webhookId, queue = new JobQueue());
    const cap = this.#capOf(webhookId);
    if (this.#o.postpone && queue.length >= queueBound(cap)) {
      let drain = this.#drain.get(webhookId);
      if (!drain) this.#drain.set(webhookId, drain = new DrainSchedule());
      const rate = this.#o.limitsOf(webhookId)?.rateLimitPerSecond ?? null;
      const until = drain.slot(this.#o.clock.now(), queue.length, cap, rate);
      this.#postponeLater([job], until, "full");
      this.#overflowed.set(webhookId, (this.#overflowed.get(webhookId) ?? 0) + 1);
      return;
    }
    queue.push(job);
    this.#queued++;
    this.#pump();
  }

  #postponeLater(jobs: J[], until: number, reason: "full" | "breaker"): void {
    const key = `${reason} ${until}`;
    let batch = this.#postponing.get(key);
    if (!batch) {
      if (this.#postponing.size === 0) queueMicrotask(() => this.#flushPostponing());
      this.#postponing.set(key, batch = { until, reason, jobs: [] });
    }
    for (const job of jobs) batch.jobs.push(job);
  }

  #flushPostponing(): void {
    const batches = this.#postponing;
    this.#postponing = new Map();
    for (const { until, reason, jobs } of batches.values()) this.#o.postpone!(jobs, until, reason);
  }

  /**
   * The store holds `count` of the webhook's jobs postponed for a full queue,
   * its own among them and maybe others' (a daemon before a restart, a peer
   * that went away): they are recalled like its own, at once if the queue
   * has room. The store's count includes this pool's own, so it raises the
   * pool's count to it rather than adding: asking again never counts twice.
   */
  adoptOverflow(webhookId: string, count: number): void {
    if (this.#closed || count <= (this.#overflowed.get(webhookId) ?? 0)) return;
    this.#overflowed.set(webhookId, count);
    this.#recallIfRoom(webhookId, this.#queues.get(webhookId)?.length ?? 0);
  }

  /** Asks for a webhook's overflow back once its queue is down to a quarter of the bound. */
  #recallIfRoom(webhookId: string, queued: number): void {
    const out = this.#overflowed.get(webhookId);
    if (out === undefined || !this.#o.recall) return;
    const bound = queueBound(this.#capOf(webhookId));
    if (queued > bound / 4) return;
    const room = bound - queued;
    if (out > room) this.#overflowed.set(webhookId, out - room);
    else this.#overflowed.delete(webhookId);
    this.#o.recall(webhookId, Math.min(out, room));
  }

  /**
   * Feeds an attempt's outcome to its webhook's flow control. Returns the
   * breaker's change of state, if any, for the caller to tell.
   */
  observe(job: J, signal: FlowSignal): Transition | null {
    const { webhookId } = job;
    const now = this.#o.clock.now();
    const probe = this.#probes.delete(job);
    const settings = this.#o.flowOf?.(webhookId);
    if (settings?.adaptiveConcurrency) {
      const cap = this.#configuredCap(webhookId);
      let adaptive = this.#adaptive.get(webhookId);
      if (!adaptive) this.#adaptive.set(webhookId, adaptive = new AdaptiveLimit(cap));
      if (signal.congestion) {
        adaptive.congestion(this.#startNumbers.get(job) ?? this.#started, this.#started, cap);
      } else if (signal.health === "success") adaptive.success(cap);
    } else {
      this.#adaptive.delete(webhookId);
    }
    let transition: Transition | null = null;
    let breaker = this.#breakers.get(webhookId);
    if (settings && breakerEnabled(settings.breaker)) {
      if (!breaker) this.#breakers.set(webhookId, breaker = new CircuitBreaker(settings.breaker));
      breaker.configure(settings.breaker);
      transition = breaker.record(signal.health, now, probe);
      // A closed breaker with nothing to remember need not be kept.
      if (transition?.to === "closed") this.#breakers.delete(webhookId);
    } else if (breaker) {
      this.#breakers.delete(webhookId);
    }
    this.#pump();
    return transition;
  }

  /** The webhook's breaker state and effective concurrency. */
  flowOf(webhookId: string): WebhookFlow {
    const cap = this.#configuredCap(webhookId);
    return {
      circuit: this.#breakers.get(webhookId)?.view() ??
        { state: "closed", openedAt: null, nextProbeAt: null },
      effectiveConcurrency: this.#adaptive.get(webhookId)?.limit(cap) ?? cap,
    };
  }

  /** Every webhook whose breaker is not closed, and every one AIMD holds below its cap. */
  flowSummary(): { open: number; halfOpen: number; reduced: number } {
    let open = 0, halfOpen = 0, reduced = 0;
    for (const breaker of this.#breakers.values()) {
      const { state } = breaker.view();
      if (state === "open") open++;
      else if (state === "half_open") halfOpen++;
    }
    for (const [webhookId, adaptive] of this.#adaptive) {
      const cap = this.#configuredCap(webhookId);
      if (adaptive.limit(cap) < cap) reduced++;
    }
    return { open, halfOpen, reduced };
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
    let nextPumpIn = Infinity;
    while (this.#inFlight < this.#o.concurrency && this.#queues.size > 0) {
      let picked: string | undefined;
      /** The picked webhook's in-flight cap, as the pick read it; undefined for a probe. */
      let pickedCap: number | undefined;
      let probe = false;
      for (const [webhookId, queue] of this.#queues) {
        const breaker = this.#breakers.get(webhookId);
        if (breaker && breaker.view().state !== "closed") {
          const gate = breaker.gate(now);
          if (gate.kind === "postpone") {
            // Open: none of its jobs takes a slot; they come back at the next probe.
            this.#queues.delete(webhookId);
            this.#queued -= queue.length;
            if (this.#o.postpone) this.#postponeLater(queue.drain(), gate.until, "breaker");
            continue;
          }
          if (gate.kind === "wait") {
            nextPumpIn = Math.min(nextPumpIn, gate.until - now);
            continue;
          }
          if (gate.kind === "probe") {
            picked = webhookId;
            probe = true;
            break;
          }
        }
        const limits = this.#o.limitsOf(webhookId);
        const cap = this.#capOf(webhookId, limits);
        if ((this.#inFlightPer.get(webhookId) ?? 0) >= cap) continue;
        const wait = this.#bucketFor(webhookId, limits?.rateLimitPerSecond ?? null, now)
          ?.take(now) ?? 0;
        if (wait > 0) {
          nextPumpIn = Math.min(nextPumpIn, wait);
          continue;
        }
        picked = webhookId;
        pickedCap = cap;
        break;
      }
      if (picked === undefined) {
        if (this.#queued === 0) this.#o.onIdle?.();
        break;
      }
      const queue = this.#queues.get(picked)!;
      const job = queue.shift()!;
      this.#recallIfRoom(picked, queue.length);
      if (this.#o.onRoom) {
        const bound = queueBound(pickedCap ?? this.#capOf(picked));
        if (queue.length <= bound / 2) this.#o.onRoom(picked, bound - queue.length);
      }
      if (--this.#queued === 0) this.#o.onIdle?.();
      // Move the webhook to the back of the round-robin order.
      this.#queues.delete(picked);
      if (queue.length > 0) this.#queues.set(picked, queue);
      if (probe) this.#probes.add(job);
      this.#start(job);
    }
    if (nextPumpIn !== Infinity && this.#pumpTimer === undefined) {
      this.#pumpTimer = this.#o.clock.setTimeout(() => {
        this.#pumpTimer = undefined;
        this.#pump();
      }, nextPumpIn);
    }
  }

  /** The webhook's configured in-flight cap: its own, or the default. */
  #configuredCap(webhookId: string, limits = this.#o.limitsOf(webhookId)): number {
    return limits?.maxInFlight ?? this.#o.maxInFlightPerWebhook;
  }

  /** The webhook's in-flight cap now: the configured one, lowered by AIMD. */
  #capOf(webhookId: string, limits = this.#o.limitsOf(webhookId)): number {
    const cap = this.#configuredCap(webhookId, limits);
    return this.#adaptive.get(webhookId)?.limit(cap) ?? cap;
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
    this.#startNumbers.set(job, ++this.#started);
    this.#inFlight++;
    this.#inFlightPer.set(webhookId, (this.#inFlightPer.get(webhookId) ?? 0) + 1);
    let held = true;
    const startedAt = this.#o.clock.now();
    let drain = this.#drain.get(webhookId);
    if (!drain) this.#drain.set(webhookId, drain = new DrainSchedule());
    this.#o.start(job, () => {
      if (!held) return;
      held = false;
      this.#probes.delete(job);
      drain.observe(this.#o.clock.now() - startedAt);
      this.#inFlight--;
      const left = (this.#inFlightPer.get(webhookId) ?? 1) - 1;
      if (left > 0) {
        this.#inFlightPer.set(webhookId, left);
      } else {
        this.#inFlightPer.delete(webhookId);
        // The last attempt of a webhook that no longer exists: nothing asks
        // its pace or its rate again, and a daemon whose webhooks come and
        // go would otherwise keep them for good.
        if (!this.#queues.has(webhookId) && this.#o.limitsOf(webhookId) === undefined) {
          this.#drain.delete(webhookId);
          this.#buckets.delete(webhookId);
        }
      }
      this.#pump();
    });
  }
}
