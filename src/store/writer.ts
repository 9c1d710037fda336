/**
 * The store's single writer. It owns the libSQL connections and the webhook
 * view used for fan-out, and runs each batch of writes as one transaction:
 * one commit, one fsync, however many operations it carries.
 *
 * It runs inside the store worker (see worker.ts) because libSQL in file mode
 * blocks the calling thread; tests may also drive it directly.
 */
import { type Client, createClient } from "@libsql/client/node";
import { type SerializedError, serializeError, StoreUnavailableError } from "./errors.ts";
import type { Executor } from "./executor.ts";
import { FileConnection, localFilePath } from "./file_connection.ts";
import { migrate } from "./migrations.ts";
import {
  type OperationContext,
  readOperations,
  type WriteOperation,
  writeOperations,
} from "./operations.ts";
import {
  loadWebhookSnapshot,
  type WebhookSnapshot,
  WebhookView,
  webhookViewVersion,
} from "./webhook_view.ts";

/**
 * What runs write transactions: `prepared`, the file writer's connection
 * with its kept statements (local files only; file_connection.ts), or `client`,
 * `@libsql/client`'s own transactions, which every remote URL takes. The
 * default picks `prepared` wherever it can; the store's contract suite runs
 * against both (store_contract_test.ts).
 */
export type WriteExecutor = "prepared" | "client";

export interface OpenOptions {
  readonly url: string;
  readonly authToken?: string;
  /** Time for the migrations' bookkeeping, ms since epoch. */
  readonly now: number;
  /** Default: `prepared` for a local file, else `client` (reads and writes alike). */
  readonly executor?: WriteExecutor;
}

export interface WriteRequest {
  readonly name: string;
  readonly args: unknown;
}

export type WriteOutcome =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly error: SerializedError };

/** A write transaction, on the client or on the {@linkcode FileConnection}. */
interface WriteTransaction extends Executor {
  commit(): Promise<void>;
  rollback(): Promise<void>;
  close(): void;
}

const operations = writeOperations as Record<string, WriteOperation<unknown, unknown>>;

export class StoreWriter {
  readonly #options: OpenOptions;
  /**
   * The single writer's own client: transactions, migrations and the first
   * load of the webhook view, strictly one at a time, so its pool never holds more than the
   * one connection it was set up on, and replacing it disturbs nobody.
   */
  #writer: Client;
  /**
   * For a local file, the connection write transactions run on instead of
   * the client's (see file_connection.ts); the client keeps migrations.
   * Undefined for remote or in-memory databases.
   */
  #fileWriter: FileConnection | undefined;
  /**
   * Reads run while a write transaction is open (WAL lets them), on a
   * connection of their own: a file connection for a local file, whose
   * queries open no row cursor (file_connection.ts), else a client.
   */
  readonly #reader: Client | FileConnection;
  /**
   * Set when a write found its connection read-only. SQLite opens a file it
   * cannot write (say, made immutable) read-only without a word, and that
   * connection stays read-only after the file is writable again; so the next
   * write starts on a fresh client instead of failing for as long as it lives.
   */
  #writerReadOnly = false;
  #view = WebhookView.EMPTY;
  /**
   * False when `#view` may hold changes that were never committed (it was
   * reloaded inside a transaction that then rolled back): the version row
   * went back, and a later commit by anyone could bring it to the same
   * number with other content; the next check reloads whatever it reads.
   */
  #viewTrusted = false;
  /** The view not yet handed to the main thread, if it changed. */
  #viewToSend: WebhookView | undefined;
  #transactions = 0;

  private constructor(
    options: OpenOptions,
    writer: Client,
    reader: Client | FileConnection,
    fileWriter: FileConnection | undefined,
  ) {
    this.#options = options;
    this.#writer = writer;
    this.#fileWriter = fileWriter;
    this.#reader = reader;
  }

  /** Opens the database, applies pending migrations and loads the webhook view. */
  static async open(options: OpenOptions): Promise<StoreWriter> {
    const writer = await openClient(options);
    let reader: Client | FileConnection | undefined;
    let fileWriter: FileConnection | undefined;
    try {
      await migrate(writer, options.now);
      reader = openFileConnection(options) ?? await openClient(options);
      fileWriter = openFileConnection(options);
      const store = new StoreWriter(options, writer, reader, fileWriter);
      await store.#viewAsOf(writer);
      return store;
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
    const operation = (readOperations as Record<string, (db: Executor, a: unknown) => unknown>)[
      name
    ];
    if (!operation) throw new TypeError(`Unknown store read "${name}"`);
    return await operation(this.#reader, args);
  }

  /**
   * The webhook view, once, if it changed since the last call: the worker
   * sends it to the main thread with the reply of the request that loaded it.
   */
  takeChangedView(): WebhookSnapshot | undefined {
    const view = this.#viewToSend;
    this.#viewToSend = undefined;
    return view?.snapshot;
  }

  /** The view as `db` sees the version row now; reloaded only when the row moved. */
  async #viewAsOf(db: Executor): Promise<WebhookView> {
    const version = await webhookViewVersion(db);
    if (!this.#viewTrusted || version !== this.#view.version) {
      this.#view = new WebhookView(await loadWebhookSnapshot(db));
      this.#viewTrusted = true;
      this.#viewToSend = this.#view;
    }
    return this.#view;
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
    const context: OperationContext = { view: () => this.#viewAsOf(tx) };
    const values: unknown[] = [];
    try {
      for (let i = 0; i < requests.length;) {
        const { name } = requests[i]!;
        const operation = operations[name];
        if (!operation) throw new TypeError(`Unknown store write "${name}"`);
        let end = i + 1;
        if (operation.batched) {
          while (requests[end]?.name === name) end++;
        }
        if (end - i > 1) {
          const group = requests.slice(i, end).map((r) => r.args);
          values.push(...await operation.batched!(tx, context, group));
        } else {
          values.push(await operation.single(tx, context, requests[i]!.args));
        }
        i = end;
      }
      // Webhook writes of this transaction reach the view (and the main
      // thread) with its reply, before anyone can use what they changed.
      await this.#viewAsOf(tx);
      try {
        await tx.commit();
      } catch (error) {
        throw new StoreUnavailableError(`Cannot commit: ${messageOf(error)}`, { cause: error });
      }
    } catch (error) {
      this.#writerReadOnly ||= isReadOnly(error);
      // A view loaded inside this transaction may hold what is now rolled back.
      this.#viewTrusted = false;
      this.#viewToSend = undefined;
      // Never leave a failed transaction open on the single writer connection.
      await tx.rollback().catch(() => {});
      throw error;
    } finally {
      tx.close();
    }
    this.#transactions++;
    return values;
  }

  /** Replaces the writer's connections; while the file is still unwritable the new ones are read-only too. */
  async #reopenWriter(): Promise<void> {
    let fresh: Client;
    let freshFile: FileConnection | undefined;
    try {
      fresh = await openClient(this.#options);
      try {
        freshFile = this.#fileWriter === undefined ? undefined : openFileConnection(this.#options);
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

/** A file connection to a local database file, or undefined for any other URL. */
function openFileConnection(options: OpenOptions): FileConnection | undefined {
  if (options.executor === "client") return undefined;
  const path = localFilePath(options.url, options.authToken || undefined);
  return path === undefined ? undefined : new FileConnection(path);
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
