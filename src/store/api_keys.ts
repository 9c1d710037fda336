/** API key rows. Only a SHA-256 hash of each key's secret part is stored. */
import type { Row } from "@libsql/client";
import {
  type Executor,
  int,
  intOrNull,
  type Page,
  type PageResult,
  text,
  toPage,
} from "./executor.ts";

export interface ApiKeyRecord {
  readonly id: string;
  readonly name: string;
  /** Lowercase hex SHA-256 of the whole key string. */
  readonly hash: string;
  readonly scopes: string[];
  readonly createdAt: number;
  readonly lastUsedAt: number | null;
  readonly revokedAt: number | null;
}

const COLUMNS = "id, name, hash, scopes, created_at, last_used_at, revoked_at";

function keyFromRow(row: Row): ApiKeyRecord {
  return {
    id: text(row, "id"),
    name: text(row, "name"),
    hash: text(row, "hash"),
    scopes: JSON.parse(text(row, "scopes")),
    createdAt: int(row, "created_at"),
    lastUsedAt: intOrNull(row, "last_used_at"),
    revokedAt: intOrNull(row, "revoked_at"),
  };
}

export async function insertApiKey(db: Executor, key: ApiKeyRecord): Promise<ApiKeyRecord> {
  await db.execute({
    sql: `INSERT INTO api_keys (${COLUMNS}) VALUES (?, ?, ?, ?, ?, NULL, NULL)`,
    args: [key.id, key.name, key.hash, JSON.stringify(key.scopes), key.createdAt],
  });
  return key;
}

export async function getApiKey(db: Executor, id: string): Promise<ApiKeyRecord | null> {
  const result = await db.execute({
    sql: `SELECT ${COLUMNS} FROM api_keys WHERE id = ?`,
    args: [id],
  });
  const row = result.rows[0];
  return row ? keyFromRow(row) : null;
}

export async function listApiKeys(db: Executor, page: Page): Promise<PageResult<ApiKeyRecord>> {
  const result = await db.execute({
    sql: `SELECT ${COLUMNS} FROM api_keys WHERE revoked_at IS NULL ${
      page.after === undefined ? "" : "AND id > ?"
    } ORDER BY id LIMIT ?`,
    args: page.after === undefined ? [page.limit + 1] : [page.after, page.limit + 1],
  });
  return toPage(result.rows.map(keyFromRow), page.limit);
}

export async function revokeApiKey(db: Executor, id: string, now: number): Promise<boolean> {
  const result = await db.execute({
    sql: "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
    args: [now, id],
  });
  return result.rowsAffected > 0;
}

/** Records use of keys; batched by the caller so a busy key costs no write per request. */
export async function touchApiKeys(
  db: Executor,
  ids: readonly string[],
  now: number,
): Promise<void> {
  for (const id of ids) {
    await db.execute({ sql: "UPDATE api_keys SET last_used_at = ? WHERE id = ?", args: [now, id] });
  }
}
