/**
 * The store's single writer. It owns the libSQL connection and the webhook
 * index used for fan-out, and runs each batch of writes as one transaction:
 * one commit, one fsync, however many operations it carries.
 *
 * It runs inside the store worker (see worker.ts) because libSQL in file mode
 * blocks the calling thread; tests may also drive it directly.
 */
import { type Client, createClient } from "@libsql/client/node";
import { WebhookIndex } from "../ingest/webhook_index.ts";
import { type SerializedError, serializeError, StoreUnavailableError } from "./errors.ts";
import { type AttemptToRecord, recordAttempts } from "./delivery_queue.ts";
import { ingestEvents, type IngestRequest } from "./events.ts";
import type { Executor } from "./executor.ts";
import { FileWriter, localFilePath } from "./file_writer.ts";
import { migrate } from "./migrations.ts";
import {
  type OperationContext,
  readOperations,
  WEBHOOK_WRITES,
  writeOperations,
} from "./operations.ts";
import { webhooksChangedSince } from "./webhooks.ts";

export interface OpenOptions {
  readonly url: string;
  readonly authToken?: string;
  /** Time for the migrations' bookkeeping, ms since epoch. */
  readonly now: number;
}

export interface WriteRequest {
  readonly name: string;
  readonly args: unknown;
}

export type WriteOutcome =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly error: SerializedError };

/** A write transaction, on the client or on the {@linkcode FileWriter}. */
interface WriteTransaction extends Executor {
  commit(): Promise<void>;
  rollback(): Promise<void>;
  close(): void;
}

/** How far back an index refresh looks, so clock skew between daemons cannot hide a change. */
const REFRESH_OVERLAP_MS = 5_000;

export class StoreEngine {
  readonly #options: OpenOptions;
  /**
   * The single writer's own client: transactions, migrations and index
   * refreshes, strictly one at a time, so its pool never holds more than the
   * one connection it was set up on, and replacing it disturbs nobody.
   */
  #writer: Client;
  /**
   * For a local file, the connection write transactions run on instead of
   * the client's (see file_writer.ts); the client keeps migrations and
   * index refreshes. Undefined for remote or in-memory databases.
   */
  #fileWriter: FileWriter | undefined;
  /** Reads run while a write transaction is open (WAL lets them), on connections of their own. */
  readonly #reader: Client;
  /**
   * Set when a write found its connection read-only. SQLite opens a file it
   * cannot write (say, made immutable) read-only without a word, and that
   * connection stays read-only after the file is writable again; so the next
   * write starts on a fresh client instead of failing for as long as it lives.
   */
  #writerReadOnly = false;
  readonly #context: OperationContext;
  #indexSeenUntil = 0;
  #transactions = 0;

  private constructor(
    options: OpenOptions,
    writer: Client,
    reader: Client,
    fileWriter: FileWriter | undefined,
  ) {
    this.#options = options;
    this.#writer = writer;
    this.#fileWriter = fileWriter;
    this.#reader = reader;
    this.#context = { index: new WebhookIndex() };
  }

  /** Opens the database, applies pending migrations and loads the webhook index. */
  static async open(options: OpenOptions): Promise<StoreEngine> {
    const writer = await openClient(options);
    let reader: Client | undefined;
    let fileWriter: FileWriter | undefined;
    try {
      await migrate(writer, options.now);
      reader = await openClient(options);
      fileWriter = openFileWriter(options);
      const engine = new StoreEngine(options, writer, reader, fileWriter);
      await engine.refreshIndex();
      return engine;
    } catch (error) {
      writer.close();
      reader?.close();
      fileWriter?.close();
      throw error;
    }
  }

  /** Transactions committed so far; group commit keeps this far below the write count. */
  get transactions(): number {
    return this.#transactions;
  }

  /**
   * Runs every request in one transaction. If one of them fails, the batch is
   * rolled back and each request is retried in a transaction of its own, so a
   * bad request fails alone and the others still commit.
   */
  async write(requests: readonly WriteRequest[]): Promise<WriteOutcome[]> {
    try {
      const values = await this.#transaction(requests);
      return values.map((value) => ({ ok: true, value }));
    } catch (error) {
      if (requests.length === 1 || error instanceof StoreUnavailableError) {
        const failed = serializeError(error);
        return requests.map(() => ({ ok: false, error: failed }));
      }
    }
    const outcomes: WriteOutcome[] = [];
    for (const request of requests) {
      try {
        const [value] = await this.#transaction([request]);
        outcomes.push({ ok: true, value });
      } catch (error) {
        outcomes.push({ ok: false, error: serializeError(error) });
      }
    }
    return outcomes;
  }

  async read(name: string, args: unknown): Promise<unknown> {
    const operation = (readOperations as Record<string, (db: Client, a: unknown) => unknown>)[
      name
    ];
    if (!operation) throw new TypeError(`Unknown store read "${name}"`);
    return await operation(this.#reader, args);
  }

  /** Loads webhooks changed since the last look into the fan-out index. */
  async refreshIndex(): Promise<void> {
    const since = Math.max(0, this.#indexSeenUntil - REFRESH_OVERLAP_MS);
    for (const { webhook, deleted } of await webhooksChangedSince(this.#writer, since)) {
      if (deleted) this.#context.index.remove(webhook.id);
      else this.#context.index.put(webhook);
      this.#indexSeenUntil = Math.max(this.#indexSeenUntil, webhook.updatedAt);
    }
  }

  close(): void {
    this.#writer.close();
    this.#fileWriter?.close();
    this.#reader.close();
  }

  async #transaction(requests: readonly WriteRequest[]): Promise<unknown[]> {
    if (this.#writerReadOnly) await this.#reopenWriter();
    let tx: WriteTransaction;
    try {
      tx = this.#fileWriter?.begin() ?? await this.#writer.transaction("write");
    } catch (error) {
      this.#writerReadOnly ||= isReadOnly(error);
      throw new StoreUnavailableError(`Cannot begin a transaction: ${messageOf(error)}`, {
        cause: error,
      });
    }
    const values: unknown[] = [];
    let touchesWebhooks = false;
    try {
      for (let i = 0; i < requests.length;) {
        const request = requests[i]!;
        if (request.name === "recordAttempt") {
          // Consecutive results share one insert and one update as well.
          let end = i + 1;
          while (requests[end]?.name === "recordAttempt") end++;
          const group = requests.slice(i, end).map((r) => r.args as AttemptToRecord);
          values.push(...await recordAttempts(tx, group));
          i = end;
          continue;
        }
        if (request.name === "ingest") {
          // Consecutive ingests share multi-row inserts (the hot path of group commit).
          let end = i + 1;
          while (requests[end]?.name === "ingest") end++;
          const group = requests.slice(i, end).map((r) => r.args as IngestRequest);
          values.push(...await ingestEvents(tx, this.#context.index, group));
          i = end;
          continue;
        }
        const operation = (writeOperations as Record<
          string,
          (db: Executor, ctx: OperationContext, a: unknown) => Promise<unknown>
        >)[request.name];
        if (!operation) throw new TypeError(`Unknown store write "${request.name}"`);
        values.push(await operation(tx, this.#context, request.args));
        touchesWebhooks ||= WEBHOOK_WRITES.has(request.name);
        i++;
      }
      try {
        await tx.commit();
      } catch (error) {
        throw new StoreUnavailableError(`Cannot commit: ${messageOf(error)}`, { cause: error });
      }
    } catch (error) {
      this.#writerReadOnly ||= isReadOnly(error);
      // Never leave a failed transaction open on the single writer connection.
      await tx.rollback().catch(() => {});
      throw error;
    } finally {
      tx.close();
    }
    this.#transactions++;
    if (touchesWebhooks) await this.refreshIndex();
    return values;
  }

  /** Replaces the writer's connections; while the file is still unwritable the new ones are read-only too. */
  async #reopenWriter(): Promise<void> {
    let fresh: Client;
    let freshFile: FileWriter | undefined;
    try {
      fresh = await openClient(this.#options);
      try {
        freshFile = this.#fileWriter === undefined ? undefined : openFileWriter(this.#options);
      } catch (error) {
        fresh.close();
        throw error;
      }
    } catch (error) {
      throw new StoreUnavailableError(`Cannot reopen the database: ${messageOf(error)}`, {
        cause: error,
      });
    }
    this.#writer.close();
    this.#fileWriter?.close();
    this.#writer = fresh;
    this.#fileWriter = freshFile;
    this.#writerReadOnly = false;
  }
}

/** The file writer for a local database file, or undefined for any other URL. */
function openFileWriter(options: OpenOptions): FileWriter | undefined {
  const path = localFilePath(options.url, options.authToken || undefined);
  return path === undefined ? undefined : new FileWriter(path);
}

/** A client with the settings hookd relies on (they apply to the connection it opens first). */
async function openClient(options: OpenOptions): Promise<Client> {
  const client = createClient({ url: options.url, authToken: options.authToken || undefined });
  try {
    if (options.url.startsWith("file:")) {
      await client.execute("PRAGMA journal_mode = WAL");
      // FULL: a commit is on disk before the API acknowledges it.
      await client.execute("PRAGMA synchronous = FULL");
      await client.execute("PRAGMA busy_timeout = 5000");
      await client.execute("PRAGMA foreign_keys = ON");
    }
    return client;
  } catch (error) {
    client.close();
    throw error;
  }
}

/** Whether a failed write says its connection cannot write (SQLITE_READONLY and its extended codes). */
function isReadOnly(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    const code = (e as { code?: unknown }).code;
    if (/SQLITE_READONLY/.test(`${typeof code === "string" ? code : ""} ${e.message}`)) return true;
  }
  return false;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
