/**
 * The main thread's handle on the store (the worker side is writer.ts).
 * Reads go straight to the worker;
 * writes are gathered into batches (group commit): the first write waits at
 * most `commitWindowMs` for company, a full batch goes at once, and while one
 * batch commits the next one fills up. One batch is in flight at a time: the
 * moment its answer arrives, what queued meanwhile is sent, before that
 * answer's writers go on (their HTTP answers and next sends would otherwise
 * keep the store thread idle). Two in flight, as before, left the worker no
 * idle round trip but split the queue in two: a write arriving while one
 * batch committed went at once as a second batch of its own, so commits held
 * 13 single-event ingests instead of 21, and each commit's fixed work (the
 * WAL frames of every B-tree it touches, an `fsync`, a message each way) was
 * shared by fewer events (measured 2026-12-07, ingest alone, 64 clients
 * posting one event per request: 124–135 against 102–106 µs of hookd's CPU
 * per event; README, "One batch in flight, sent first").
 *
 * A write nobody is waiting on right away (an attempt's result: its delivery
 * slot is already free) may be `deferrable`: it waits up to
 * {@linkcode DEFERRABLE_WINDOW_MS} so that the results of that time share one
 * commit. Below saturation each event was two commits or more, its ingest and
 * its attempt's result, each with a commit's fixed work (the WAL frames of
 * every B-tree page it touched, an `fsync`). Urgent writes never take along
 * deferred ones still inside their window: that would put their statements on
 * the path of an answer someone waits for (measured: warm ack p50 at 500/s
 * 2.75 → 3.61 ms when they did).
 */
import type { StoreConfig } from "../config/types.ts";
import { Counter, Gauge, Histogram, type MetricFamily } from "../ops/metrics.ts";
import { WebhookView } from "./webhook_view.ts";
import type { OpenOptions, WriteOutcome } from "./writer.ts";
import { deserializeError, StoreUnavailableError } from "./errors.ts";
import type {
  ReadArgs,
  ReadName,
  ReadResult,
  WriteArgs,
  WriteName,
  WriteResult,
} from "./operations.ts";
import type { Reply, Request, WorkerMemory } from "./protocol.ts";

/** Batches sent to the worker and not yet answered (see the module comment). */
const MAX_BATCHES_IN_FLIGHT = 1;

/**
 * How long a deferrable write may wait for company (or `commitWindowMs`, if
 * longer). Short enough that what follows a recorded result (a retry
 * scheduled, a webhook auto-disabled) is not noticeably later; long enough
 * that at a few hundred events a second several results share a commit.
 */
export const DEFERRABLE_WINDOW_MS = 5;

export interface WriteOptions {
  /**
   * Nobody waits on this write's answer to go on: it may wait up to
   * {@linkcode DEFERRABLE_WINDOW_MS} to share a commit with others like it.
   * It is as durable as any write once its promise resolves; a stop commits
   * it at once.
   */
  readonly deferrable?: boolean;
}

type StoreOptions =
  & Pick<StoreConfig, "url" | "authToken" | "commitWindowMs" | "commitMaxBatch">
  & Pick<OpenOptions, "executor">
  & {
    /** How long deferrable writes may wait; {@linkcode DEFERRABLE_WINDOW_MS} unless a test says. */
    readonly deferrableWindowMs?: number;
  };

interface PendingWrite {
  readonly name: WriteName;
  readonly args: unknown;
  readonly deferrable: boolean;
  /** When it was queued (`performance.now()`): its window runs from there. */
  readonly queuedAt: number;
  resolve(value: unknown): void;
  reject(error: Error): void;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export class Store {
  readonly #worker: Worker;
  readonly #options: StoreOptions;
  readonly #replies = new Map<number, (reply: Reply) => void>();
  #nextId = 1;
  #queue: PendingWrite[] = [];
  /** Queued writes that are not deferrable: any one of them ends the wait. */
  #urgentQueued = 0;
  #flushTimer: ReturnType<typeof setTimeout> | undefined;
  /** When the armed flush timer fires (`performance.now()`). */
  #flushTimerAt = Infinity;
  /** Batches sent and not yet answered. */
  #inFlight = 0;
  /** Batches whose writers are not settled yet: a close waits for them. */
  #unsettled = new Set<Promise<void>>();
  readonly #transactions = new Counter({
    name: "hookd_store_transactions_total",
    help: "Store transactions committed (group commit: many writes each).",
  });
  readonly #writes = new Counter({
    name: "hookd_store_writes_total",
    help: "Store writes committed.",
  });
  readonly #commitSize = new Histogram({
    name: "hookd_store_commit_batch_size",
    help: "Writes per group commit batch sent to the store's writer.",
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096],
  });
  // From sending a batch to the worker to its answer: the commit itself, plus
  // any wait behind the other batch in flight (at most one).
  readonly #commitSeconds = new Histogram({
    name: "hookd_store_commit_duration_seconds",
    help: "Round trip of one group commit batch to the store's writer, in seconds.",
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  });
  // The store worker is an isolate of its own: its heap is not in the main thread's
  // `nodejs_heap_*` figures, only in the process's RSS.
  readonly #heapTotal = new Gauge({
    name: "hookd_store_heap_size_total_bytes",
    help: "JavaScript heap reserved by the store's thread, in bytes.",
  });
  readonly #heapUsed = new Gauge({
    name: "hookd_store_heap_size_used_bytes",
    help: "JavaScript heap in use by the store's thread, in bytes.",
  });
  #closed = false;
  /** Why the last write batch failed, while no write has succeeded since. */
  #writeTrouble: string | undefined;
  #webhooks = WebhookView.EMPTY;

  private constructor(options: StoreOptions) {
    this.#options = options;
    this.#worker = new Worker(new URL("./worker.ts", import.meta.url), { type: "module" });
    this.#worker.onmessage = (event: MessageEvent<Reply>) => {
      const settle = this.#replies.get(event.data.id);
      this.#replies.delete(event.data.id);
      if (event.data.ok) {
        // A counter never goes back: the reply to `close` comes from a
        // worker whose writer is gone and counts none.
        if (event.data.transactions > this.#transactions.get()) {
          this.#transactions.set(event.data.transactions);
        }
        if (event.data.view) this.#webhooks = new WebhookView(event.data.view);
      }
      settle?.(event.data);
    };
    this.#worker.onerror = (event) => {
      event.preventDefault();
      const error = new StoreUnavailableError(`The store worker crashed: ${event.message}`);
      for (const settle of this.#replies.values()) {
        settle({
          id: 0,
          ok: false,
          error: { name: error.name, message: error.message, unavailable: true },
        });
      }
      this.#replies.clear();
    };
  }

  /**
   * Starts the worker, opens the database (creating a `file:` database's
   * directory) and applies migrations.
   */
  static async open(options: StoreOptions, now = Date.now()): Promise<Store> {
    prepareDirectory(options.url);
    const store = new Store(options);
    try {
      await store.#call({
        kind: "open",
        options: {
          url: options.url,
          authToken: options.authToken,
          now,
          executor: options.executor,
        },
      });
    } catch (error) {
      store.#worker.terminate();
      throw new Error(`Cannot open the store at ${redactUrl(options.url)}: ${messageOf(error)}`, {
        cause: error,
      });
    }
    return store;
  }

  /** Queues a write for the next group commit; resolves once it is durable. */
  write<K extends WriteName>(
    name: K,
    args: WriteArgs<K>,
    options: WriteOptions = {},
  ): Promise<WriteResult<K>> {
    if (this.#closed) return Promise.reject(new StoreUnavailableError("The store is closed"));
    const deferrable = options.deferrable === true;
    return new Promise((resolve, reject) => {
      this.#queue.push({
        name,
        args,
        deferrable,
        queuedAt: performance.now(),
        resolve: resolve as (v: unknown) => void,
        reject,
      });
      if (!deferrable) this.#urgentQueued++;
      this.#scheduleFlush();
    });
  }

  read<K extends ReadName>(name: K, args: ReadArgs<K>): Promise<ReadResult<K>> {
    if (this.#closed) return Promise.reject(new StoreUnavailableError("The store is closed"));
    return this.#call({ kind: "read", name, args }) as Promise<ReadResult<K>>;
  }

  /**
   * The webhooks and credentials as of the last write transaction, the same
   * view fan-out used (see webhook_view.ts). A write that changed them, here
   * or in another daemon sharing the database, replaces it before that
   * write's own promise settles.
   */
  get webhooks(): WebhookView {
    return this.#webhooks;
  }

  /**
   * Why the store could not take the last batch of writes (disk full, a
   * read-only file, the worker gone), or undefined once a write succeeded
   * since. Readiness looks at it; only another commit can clear it.
   */
  get writeTrouble(): string | undefined {
    return this.#writeTrouble;
  }

  /** Committed transactions and the writes they carried, for tests and metrics. */
  stats(): { transactions: number; writes: number } {
    return { transactions: this.#transactions.get(), writes: this.#writes.get() };
  }

  /**
   * The store's families for `/metrics`: commits, writes, batch sizes, commit
   * times and the store thread's heap ({@linkcode collectMetrics} refreshes it).
   */
  metricFamilies(): MetricFamily[] {
    return [
      this.#transactions,
      this.#writes,
      this.#commitSize,
      this.#commitSeconds,
      this.#heapTotal,
      this.#heapUsed,
    ];
  }

  /** The store thread's heap, as its isolate reports it. */
  memory(): Promise<WorkerMemory> {
    if (this.#closed) return Promise.reject(new StoreUnavailableError("The store is closed"));
    return this.#call({ kind: "memory" }) as Promise<WorkerMemory>;
  }

  /** Reads the store thread's heap for `/metrics` at scrape time. */
  async collectMetrics(): Promise<void> {
    const memory = await this.memory();
    this.#heapTotal.set(memory.heapTotal);
    this.#heapUsed.set(memory.heapUsed);
  }

  /** Commits everything queued, then closes the database and stops the worker. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    while (this.#queue.length > 0 || this.#unsettled.size > 0) {
      this.#flush();
      await Promise.all(this.#unsettled);
    }
    await this.#call({ kind: "close" }).catch(() => {});
    this.#worker.terminate();
  }

  #scheduleFlush(): void {
    // While a batch is in flight, its answer flushes the queue (#commit).
    if (this.#inFlight >= MAX_BATCHES_IN_FLIGHT || this.#queue.length === 0) return;
    const due = this.#flushDue();
    const now = performance.now();
    if (this.#closed || this.#queue.length >= this.#options.commitMaxBatch || due <= now) {
      this.#flush();
    } else if (due < this.#flushTimerAt) {
      clearTimeout(this.#flushTimer);
      this.#flushTimerAt = due;
      this.#flushTimer = setTimeout(() => {
        this.#flushTimer = undefined;
        this.#flushTimerAt = Infinity;
        this.#flush();
      }, due - now);
    }
  }

  /**
   * When the queue must go: `commitWindowMs` after its oldest urgent write,
   * or, with only deferrable writes queued, their window after the oldest.
   */
  #flushDue(): number {
    const { commitWindowMs } = this.#options;
    if (this.#urgentQueued > 0) {
      if (commitWindowMs <= 0) return -Infinity;
      return this.#queue.find((write) => !write.deferrable)!.queuedAt + commitWindowMs;
    }
    return this.#queue[0]!.queuedAt + this.#deferrableWait();
  }

  /** How long a deferrable write may wait: its window, or the commit window if longer. */
  #deferrableWait(): number {
    const window = this.#options.deferrableWindowMs ?? DEFERRABLE_WINDOW_MS;
    return Math.max(window, this.#options.commitWindowMs);
  }

  #flush(): void {
    if (this.#inFlight >= MAX_BATCHES_IN_FLIGHT || this.#queue.length === 0) return;
    clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    this.#flushTimerAt = Infinity;
    const batch = this.#takeBatch();
    this.#inFlight++;
    const commit: Promise<void> = this.#commit(batch).finally(() => this.#unsettled.delete(commit));
    this.#unsettled.add(commit);
  }

  /**
   * The next batch. Urgent writes go without the deferrable ones still inside
   * their window: someone waits on an urgent write's answer, and a deferred
   * result riding along would make its commit longer, not shorter. Deferrable
   * writes go together once the oldest one's window is over (with urgent
   * ones, if any), or at a stop.
   */
  #takeBatch(): PendingWrite[] {
    const max = this.#options.commitMaxBatch;
    const oldestDeferred = this.#queue.find((write) => write.deferrable);
    const deferredDue = this.#closed || this.#urgentQueued === 0 || oldestDeferred === undefined ||
      oldestDeferred.queuedAt + this.#deferrableWait() <= performance.now();
    if (deferredDue) {
      const batch = this.#queue.splice(0, max);
      for (const write of batch) if (!write.deferrable) this.#urgentQueued--;
      return batch;
    }
    const batch: PendingWrite[] = [];
    const waiting: PendingWrite[] = [];
    for (const write of this.#queue) {
      if (!write.deferrable && batch.length < max) batch.push(write);
      else waiting.push(write);
    }
    this.#queue = waiting;
    this.#urgentQueued -= batch.length;
    return batch;
  }

  async #commit(batch: PendingWrite[]): Promise<void> {
    try {
      const started = performance.now();
      let outcomes: WriteOutcome[];
      try {
        outcomes = await this.#call({
          kind: "write",
          requests: batch.map(({ name, args }) => ({ name, args })),
        }) as WriteOutcome[];
      } finally {
        // What queued during this commit goes before this batch's writers
        // are answered: their continuations (HTTP answers, the next sends)
        // would otherwise keep the store thread idle meanwhile. Urgent writes
        // go now; deferrable ones still inside their window wait on.
        this.#inFlight--;
        this.#scheduleFlush();
      }
      this.#commitSeconds.observe((performance.now() - started) / 1000);
      this.#commitSize.observe(batch.length);
      this.#writes.add(batch.length);
      let committed = false;
      let trouble: string | undefined;
      outcomes.forEach((outcome, i) => {
        const write = batch[i]!;
        if (outcome.ok) {
          committed = true;
          write.resolve(outcome.value);
        } else {
          if (outcome.error.unavailable) trouble = outcome.error.message;
          write.reject(deserializeError(outcome.error));
        }
      });
      if (committed) this.#writeTrouble = undefined;
      else if (trouble !== undefined) this.#writeTrouble = trouble;
    } catch (error) {
      this.#writeTrouble = messageOf(error);
      for (const write of batch) write.reject(error as Error);
    }
  }

  #call(request: DistributiveOmit<Request, "id">): Promise<unknown> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#replies.set(id, (reply) => {
        if (reply.ok) resolve(reply.value);
        else reject(deserializeError(reply.error));
      });
      this.#worker.postMessage({ ...request, id } as Request);
    });
  }
}

/** Creates the directory of a `file:` database so a fresh machine just works. */
function prepareDirectory(url: string): void {
  if (!url.startsWith("file:")) return;
  const path = url.slice("file:".length).replace(/^\/\/(?=\/)/, "").split("?")[0]!;
  const slash = path.lastIndexOf("/");
  if (slash <= 0) return;
  const directory = path.slice(0, slash);
  try {
    Deno.mkdirSync(directory, { recursive: true });
  } catch (error) {
    throw new Error(`Cannot create the data directory "${directory}": ${messageOf(error)}`, {
      cause: error,
    });
  }
}

/** A URL safe to log: no credentials or query (tokens travel there). */
function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, "//***@").replace(/\?.*$/, "");
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
