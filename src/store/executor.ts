import type { InStatement, ResultSet, Row } from "@libsql/client";

/** What store operations need: a client or an open transaction. */
export interface Executor {
  execute(statement: InStatement): Promise<ResultSet>;
  /**
   * The first row of a statement that returns at most one, without building
   * a result set; a file connection has it (see `FileConnection.queryOne` for why),
   * the libSQL client does not, and `firstRow` falls back to `execute`.
   */
  queryOne?(statement: InStatement): Promise<Row | undefined>;
}

/** The one row `statement` returns, or undefined when it returns none. */
export function firstRow(db: Executor, statement: InStatement): Promise<Row | undefined> {
  return db.queryOne ? db.queryOne(statement) : db.execute(statement).then((r) => r.rows[0]);
}

/**
 * Splits rows for multi-row statements into chunks whose sizes are powers of
 * two, at most `maxRows`: 84 rows run as 64 + 16 + 4. A statement's SQL
 * depends on its row count, and the store's writer keeps prepared
 * statements (file_connection.ts); this way batches of every size share a few
 * statement shapes (log2 of the maximum, plus one) instead of one per size.
 */
export function statementChunks<T>(items: readonly T[], maxRows: number): T[][] {
  const largest = 2 ** Math.floor(Math.log2(Math.max(1, maxRows)));
  const chunks: T[][] = [];
  for (let i = 0; i < items.length;) {
    let size = largest;
    while (size > items.length - i) size /= 2;
    chunks.push(items.slice(i, i + size));
    i += size;
  }
  return chunks;
}

/** Column helpers: libSQL hands back `Value`s; these narrow them once, here. */
export function text(row: Row, column: string): string {
  return String(row[column]);
}

export function textOrNull(row: Row, column: string): string | null {
  const value = row[column];
  return value === null || value === undefined ? null : String(value);
}

export function int(row: Row, column: string): number {
  return Number(row[column]);
}

export function intOrNull(row: Row, column: string): number | null {
  const value = row[column];
  return value === null || value === undefined ? null : Number(value);
}

/** The page size and position of a list request. */
export interface Page {
  readonly limit: number;
  /** The id of the last item of the previous page; items sort by id. */
  readonly after?: string;
}

export interface PageResult<T> {
  readonly items: T[];
  /** The id to continue after, or null on the last page. */
  readonly nextAfter: string | null;
}

/** Runs a query that selected `limit + 1` rows and turns the extra row into a cursor. */
export function toPage<T extends { id: string }>(rows: T[], limit: number): PageResult<T> {
  if (rows.length <= limit) return { items: rows, nextAfter: null };
  const items = rows.slice(0, limit);
  return { items, nextAfter: items[items.length - 1]!.id };
}
