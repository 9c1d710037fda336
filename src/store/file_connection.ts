/**
 * A connection to a local database file, with its prepared statements kept
 * for reuse: the store's single writer has one, and its reads another.
 *
 * Why not `@libsql/client` here: for every statement it runs, it prepares
 * the SQL again, probes whether it returns rows by catching an exception, and
 * builds each row with `Object.defineProperty` per column. On the write path
 * of group commit that was a quarter of the store thread's time (prepare
 * alone 15%). The same `libsql` binding, used directly, prepares a statement
 * once. And the client reads every row through the binding's row cursor,
 * which on Deno 2.9.6 leaks its native memory for good (see `queryOne`):
 * here a query's rows come back as one JSON value instead (`rowsAsJsonSql`).
 * Migrations and remote databases keep using the client.
 *
 * @module
 */

import type { InStatement, InValue, ResultSet, Row } from "@libsql/client";
import { expandConfig, isInMemoryConfig } from "@libsql/core/config";
import Database from "libsql";
import type { Executor } from "./executor.ts";

type Connection = InstanceType<typeof Database>;
type Statement = ReturnType<Connection["prepare"]>;

interface Prepared {
  readonly statement: Statement;
  /** Column names when the statement returns rows, else null. */
  readonly columns: readonly string[] | null;
  /**
   * For a query (SELECT, VALUES or WITH ... SELECT): the same query wrapped
   * to return all its rows as one JSON array (`rowsAsJsonSql`), read by `get`.
   * Null for statements that cannot be wrapped (INSERT/UPDATE/DELETE with
   * RETURNING, PRAGMA): those still open a cursor.
   */
  readonly asJson: Statement | null;
}

/**
 * Distinct statements kept. SQL that grows with its input (multi-row
 * inserts, `IN` lists) comes in a few shapes (`statementChunks`), so a
 * daemon stays far below this: on Deno 2.9.6 every statement dropped here
 * leaks its native memory (about 8 KB measured; statement_shapes_test.ts).
 * Past it the statement unused longest is dropped, so the ones every
 * transaction runs are never prepared (and leaked) again.
 */
const MAX_CACHED_STATEMENTS = 512;
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * The file path `@libsql/client` would open for `url`, or undefined when the
 * URL is not a plain local file (remote, in memory, an embedded replica, or
 * encrypted): those keep the client's own connection.
 */
export function localFilePath(url: string, authToken?: string): string | undefined {
  let config: ReturnType<typeof expandConfig>;
  try {
    config = expandConfig({ url, authToken }, true);
  } catch {
    return undefined; // the client reports a bad URL itself
  }
  if (config.scheme !== "file" || isInMemoryConfig(config)) return undefined;
  if (config.syncUrl !== undefined || config.encryptionKey !== undefined) return undefined;
  return config.path;
}

function toSql(value: InValue | undefined): unknown {
  switch (typeof value) {
    case "number":
      if (!Number.isFinite(value)) {
        throw new RangeError("Only finite numbers (not Infinity or NaN) can be stored");
      }
      return value;
    case "boolean":
      return value ? 1 : 0;
    case "undefined":
      throw new TypeError("undefined cannot be passed as argument to the database");
    default:
      if (value instanceof Date) return value.valueOf();
      if (value instanceof ArrayBuffer) return new Uint8Array(value);
      return value;
  }
}

function fromSql(value: unknown): unknown {
  if (typeof value === "bigint") {
    if (value < MIN_SAFE || value > MAX_SAFE) {
      throw new RangeError(
        "Received integer which cannot be safely represented as a JavaScript number",
      );
    }
    return Number(value);
  }
  if (value instanceof Uint8Array) {
    return value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength);
  }
  return value;
}

/**
 * A SQLite error with its code in the message, as `@libsql/client` words it
 * (`SQLITE_IOERR_WRITE: disk I/O error`): logs and the store's
 * availability checks read the code there.
 */
export class SqliteFileError extends Error {
  override readonly name = "SqliteFileError";
  constructor(readonly code: string, message: string, options?: ErrorOptions) {
    super(`${code}: ${message}`, options);
  }
}

function mapError(error: unknown): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (error instanceof Error && typeof code === "string" && code.startsWith("SQLITE_")) {
    return new SqliteFileError(code, error.message, { cause: error });
  }
  return error;
}

/** Runs `fn` on the database, its SQLite errors worded as the client words them. */
function guarded<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    throw mapError(error);
  }
}

/** A result in the shape store code reads from `@libsql/client`: rows by column name. */
function resultSet(
  columns: readonly string[],
  rows: Row[],
  rowsAffected: number,
  lastInsertRowid: bigint | undefined,
): ResultSet {
  return {
    columns: [...columns],
    columnTypes: columns.map(() => ""),
    rows,
    rowsAffected,
    lastInsertRowid,
    toJSON: () => ({ columns, rows, rowsAffected, lastInsertRowid: lastInsertRowid?.toString() }),
  };
}

/**
 * `sql` wrapped to return all its rows as one JSON array, a row an array of
 * its column values, typed so that `readRows` gives back exactly what
 * the binding's cursor would: integers as JSON numbers; text as a string
 * (`|| ''` drops a JSON subtype, so text from `json()` stays text instead of
 * being nested); reals as `["<17 significant digits>"]`, because SQLite
 * writes a real into JSON with 15 and would round it; blobs as
 * `{"b": "<hex>"}`. The rows keep the query's order: SQLite does not flatten
 * a subquery with an ORDER BY into an aggregate (its flattener's restriction
 * 16, from ticket #2942, whose test `group_concat` over an ordered subquery
 * SQLite keeps), so the aggregate takes them as the query returns them.
 * Preparing fails for what is not a query (DML with RETURNING, PRAGMA).
 */
export function rowsAsJsonSql(sql: string, columnCount: number): string {
  const names = Array.from({ length: columnCount }, (_, i) => `c${i}`);
  const values = names.map((c) =>
    `CASE typeof(${c}) WHEN 'text' THEN ${c} || '' ` +
    `WHEN 'real' THEN json_array(printf('%!.17g', ${c})) ` +
    `WHEN 'blob' THEN json_object('b', hex(${c})) ELSE ${c} END`
  );
  // The query on lines of its own: a trailing line comment must not swallow the parenthesis.
  return `WITH hookd_rows(${names.join(", ")}) AS (\n${sql.trim().replace(/;+$/, "")}\n)\n` +
    `SELECT json_group_array(json_array(${values.join(", ")})) FROM hookd_rows`;
}

/** The value `rowsAsJsonSql` encoded, as `fromSql` would have made it of the binding's. */
function fromJson(value: unknown): unknown {
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) {
      throw new RangeError(
        "Received integer which cannot be safely represented as a JavaScript number",
      );
    }
    return value;
  }
  if (value === null || typeof value === "string") return value;
  if (Array.isArray(value)) {
    // SQLite prints an infinite real as "Inf", which Number() does not read.
    const real = value[0] as string;
    return real === "Inf" ? Infinity : real === "-Inf" ? -Infinity : Number(real);
  }
  const hex = (value as { b: string }).b;
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return bytes.buffer;
}

/**
 * A query's rows by column name: from its JSON form when it has one, by the
 * cursor when it has not, or when the JSON form fails while the query does
 * not (a result too big for one SQLite string: `SQLITE_TOOBIG` past 1 GB),
 * so a read never fails for the sake of the leak. Of two columns with one
 * name the first wins, as in the client's rows (hence the loops run from
 * the last column).
 */
export function readRows(
  json: (() => string) | null,
  cursor: () => unknown[][],
  columns: readonly string[],
): Row[] {
  if (json !== null) {
    let text: string | undefined;
    try {
      text = json();
    } catch {
      // The cursor below runs the same query: a real error shows there.
    }
    if (text !== undefined) {
      return (JSON.parse(text) as unknown[][]).map((values) => {
        const row: Record<string, unknown> = {};
        for (let i = columns.length - 1; i >= 0; i--) row[columns[i]!] = fromJson(values[i]);
        return row as Row;
      });
    }
  }
  return cursor().map((raw) => {
    const row: Record<string, unknown> = {};
    for (let i = columns.length - 1; i >= 0; i--) row[columns[i]!] = fromSql(raw[i]);
    return row as Row;
  });
}

/** One open write transaction on a {@linkcode FileConnection}. */
export interface FileTransaction extends Executor {
  commit(): Promise<void>;
  rollback(): Promise<void>;
  close(): void;
}

/** A connection to a local database file: the store's single writer, or its reads. */
export class FileConnection implements Executor {
  readonly #db: Connection;
  /** Kept statements, the one used last at the end (Map order). */
  readonly #prepared = new Map<string, Prepared>();
  readonly #maxStatements: number;
  #preparedTotal = 0;

  /** Opens `path` with the settings hookd relies on (see `writer.ts`'s `openClient`). */
  constructor(path: string, options: { maxStatements?: number } = {}) {
    this.#maxStatements = options.maxStatements ?? MAX_CACHED_STATEMENTS;
    this.#db = guarded(() => new Database(path));
    try {
      guarded(() => {
        this.#db.exec("PRAGMA journal_mode = WAL");
        // FULL: a commit is on disk before the API acknowledges it.
        this.#db.exec("PRAGMA synchronous = FULL");
        this.#db.exec("PRAGMA busy_timeout = 5000");
        this.#db.exec("PRAGMA foreign_keys = ON");
      });
    } catch (error) {
      this.#db.close();
      throw error;
    }
  }

  /** Statements prepared and kept (for tests). */
  get cachedStatements(): number {
    return this.#prepared.size;
  }

  /** Statements prepared over the connection's life, again after a drop included (for tests). */
  get preparedTotal(): number {
    return this.#preparedTotal;
  }

  execute(statement: InStatement): Promise<ResultSet> {
    try {
      return Promise.resolve(guarded(() => this.#run(statement)));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * The first row of a statement, by the binding's `get`. On Deno 2.9.6 every
   * `all`/`iterate` of the `libsql` binding leaves its native row cursor
   * behind for good (measured: 880 B per call, full GC or not; `get` and
   * `run` leave nothing), so statements run on every transaction read their
   * one row this way (issue #11, the soak's leak).
   */
  queryOne(statement: InStatement): Promise<Row | undefined> {
    try {
      return Promise.resolve(guarded(() => this.#first(statement)));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Begins a write transaction (`BEGIN IMMEDIATE`, as the client's "write" mode). */
  begin(): FileTransaction {
    guarded(() => this.#db.exec("BEGIN IMMEDIATE"));
    let open = true;
    const end = (sql: string) => {
      if (!open) return;
      open = false;
      guarded(() => this.#db.exec(sql));
    };
    return {
      execute: (statement) => this.execute(statement),
      queryOne: (statement) => this.queryOne(statement),
      commit: () => {
        try {
          end("COMMIT");
          return Promise.resolve();
        } catch (error) {
          // A failed COMMIT may leave the transaction open: the caller rolls back.
          open = this.#db.inTransaction;
          return Promise.reject(error);
        }
      },
      rollback: () => {
        try {
          if (this.#db.inTransaction) end("ROLLBACK");
          open = false;
          return Promise.resolve();
        } catch (error) {
          return Promise.reject(error);
        }
      },
      close: () => {
        if (open && this.#db.open && this.#db.inTransaction) {
          try {
            this.#db.exec("ROLLBACK");
          } catch { /* the connection is gone */ }
        }
        open = false;
      },
    };
  }

  close(): void {
    this.#prepared.clear();
    if (this.#db.open) this.#db.close();
  }

  #first(statement: InStatement): Row | undefined {
    const { prepared: { statement: prepared, columns }, bound } = this.#bind(statement, "get");
    if (columns === null) throw new TypeError("queryOne needs a statement that returns rows");
    const raw = prepared.get(bound) as unknown[] | undefined;
    if (raw === undefined) return undefined;
    const row: Record<string, unknown> = {};
    for (let i = columns.length - 1; i >= 0; i--) row[columns[i]!] = fromSql(raw[i]);
    return row as Row;
  }

  #bind(statement: InStatement, use: "get" | "all"): {
    prepared: Prepared;
    bound: unknown[] | Record<string, unknown>;
  } {
    const { sql, args } = typeof statement === "string"
      ? { sql: statement, args: undefined }
      : statement;
    const prepared = this.#prepare(sql, use);
    if (args === undefined) return { prepared, bound: [] };
    if (Array.isArray(args)) return { prepared, bound: args.map(toSql) };
    const named: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(args)) {
      named[/^[@$:]/.test(name) ? name.slice(1) : name] = toSql(value);
    }
    return { prepared, bound: named };
  }

  #run(statement: InStatement): ResultSet {
    const { prepared: { statement: prepared, columns, asJson }, bound } = this.#bind(
      statement,
      "all",
    );
    if (columns === null) {
      const info = prepared.run(bound);
      return resultSet([], [], info.changes, BigInt(info.lastInsertRowid));
    }
    const rows = readRows(
      asJson && (() => (asJson.get(bound) as [string])[0]),
      () => prepared.all(bound) as unknown[][],
      columns,
    );
    return resultSet(columns, rows, 0, undefined);
  }

  /**
   * The kept statement for `sql`, one per way of running it: the binding
   * does not reset a statement that `all` stepped through before `get` binds
   * it again (a later `get` with no matching row returned a stale one), so
   * `get` statements and `all`/`run` statements are never the same object.
   */
  #prepare(sql: string, use: "get" | "all"): Prepared {
    const key = `${use}\0${sql}`;
    let prepared = this.#prepared.get(key);
    if (prepared !== undefined) {
      this.#prepared.delete(key);
      this.#prepared.set(key, prepared);
    } else {
      if (this.#prepared.size >= this.#maxStatements) {
        this.#prepared.delete(this.#prepared.keys().next().value!);
      }
      this.#preparedTotal++;
      const statement = this.#db.prepare(sql);
      statement.safeIntegers(true);
      const columns = statement.reader ? statement.raw(true).columns().map((c) => c.name) : null;
      let asJson: Statement | null = null;
      if (use === "all" && columns !== null) {
        try {
          asJson = this.#db.prepare(rowsAsJsonSql(sql, columns.length));
          asJson.raw(true);
        } catch {
          // Not a query (RETURNING, PRAGMA): it reads its rows by cursor.
        }
      }
      prepared = { statement, columns, asJson };
      this.#prepared.set(key, prepared);
    }
    return prepared;
  }
}
