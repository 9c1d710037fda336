/**
 * Credentials: signing secrets (and optional headers, such as a receiver API
 * key, and optional receiver auth: OAuth2 client credentials or basic auth)
 * kept as one object that several webhooks reference, so rotating or
 * changing it applies to all of them at once (seed 003).
 */
import type { Row } from "@libsql/client";
import {
  type Executor,
  int,
  intOrNull,
  type Page,
  type PageResult,
  text,
  textOrNull,
  toPage,
} from "./executor.ts";
import { type ReceiverAuth, receiverAuthColumn, receiverAuthFromRow } from "./receiver_auth.ts";
import { forgetReceiverToken, tokenOwner } from "./receiver_tokens.ts";
import { rotateSecret } from "./secret_rotation.ts";

export interface CredentialRecord {
  readonly id: string;
  readonly name: string;
  readonly secret: string;
  readonly previousSecret: string | null;
  readonly previousSecretUntil: number | null;
  /** Sent with every request of every webhook using this credential. */
  readonly headers: Record<string, string>;
  /** OAuth2 or basic auth to the receivers of every webhook using it; null: none. */
  readonly receiverAuth: ReceiverAuth | null;
  readonly createdAt: number;
  readonly updatedAt: number;
}

const COLUMNS = `id, name, secret, previous_secret, previous_secret_until, headers, receiver_auth,
  created_at, updated_at, deleted_at`;

function credentialFromRow(row: Row): CredentialRecord {
  return {
    id: text(row, "id"),
    name: text(row, "name"),
    secret: text(row, "secret"),
    previousSecret: textOrNull(row, "previous_secret"),
    previousSecretUntil: intOrNull(row, "previous_secret_until"),
    headers: JSON.parse(text(row, "headers")),
    receiverAuth: receiverAuthFromRow(row),
    createdAt: int(row, "created_at"),
    updatedAt: int(row, "updated_at"),
  };
}

export async function insertCredential(
  db: Executor,
  credential: CredentialRecord,
): Promise<CredentialRecord> {
  await db.execute({
    sql: `INSERT INTO credentials (${COLUMNS}) VALUES (?, ?, ?, NULL, NULL, ?, ?, ?, ?, NULL)`,
    args: [
      credential.id,
      credential.name,
      credential.secret,
      JSON.stringify(credential.headers),
      receiverAuthColumn(credential.receiverAuth),
      credential.createdAt,
      credential.updatedAt,
    ],
  });
  return credential;
}

export async function getCredential(db: Executor, id: string): Promise<CredentialRecord | null> {
  const result = await db.execute({
    sql: `SELECT ${COLUMNS} FROM credentials WHERE id = ? AND deleted_at IS NULL`,
    args: [id],
  });
  const row = result.rows[0];
  return row ? credentialFromRow(row) : null;
}

export async function listCredentials(
  db: Executor,
  page: Page,
): Promise<PageResult<CredentialRecord>> {
  const result = await db.execute({
    sql: `SELECT ${COLUMNS} FROM credentials WHERE deleted_at IS NULL ${
      page.after === undefined ? "" : "AND id > ?"
    } ORDER BY id LIMIT ?`,
    args: page.after === undefined ? [page.limit + 1] : [page.after, page.limit + 1],
  });
  return toPage(result.rows.map(credentialFromRow), page.limit);
}

/** Fields a caller may change; undefined leaves a field as it is, a null auth removes it. */
export interface CredentialPatch {
  readonly name?: string;
  readonly headers?: Record<string, string>;
  readonly receiverAuth?: ReceiverAuth | null;
}

export async function updateCredential(
  db: Executor,
  id: string,
  patch: CredentialPatch,
  now: number,
): Promise<CredentialRecord | null> {
  const current = await getCredential(db, id);
  if (!current) return null;
  const next = {
    ...current,
    name: patch.name ?? current.name,
    headers: patch.headers ?? current.headers,
    receiverAuth: patch.receiverAuth === undefined ? current.receiverAuth : patch.receiverAuth,
    updatedAt: now,
  };
  await db.execute({
    sql: `UPDATE credentials SET name = ?, headers = ?, receiver_auth = ?, updated_at = ?
      WHERE id = ?`,
    args: [
      next.name,
      JSON.stringify(next.headers),
      receiverAuthColumn(next.receiverAuth),
      now,
      id,
    ],
  });
  // A token fetched with other settings is never used again: do not keep it.
  if (patch.receiverAuth !== undefined) await forgetReceiverToken(db, tokenOwner("credential", id));
  return next;
}

/** A new secret; the previous one keeps signing until `previousUntil`. */
export async function rotateCredentialSecret(
  db: Executor,
  id: string,
  secret: string,
  previousUntil: number,
  now: number,
): Promise<CredentialRecord | null> {
  const current = await getCredential(db, id);
  if (!current) return null;
  return await rotateSecret(db, "credentials", current, id, secret, previousUntil, now);
}

export type DeleteCredentialResult = "deleted" | "not_found" | { readonly inUseBy: number };

/** Deletes a credential no live webhook references. */
export async function deleteCredential(
  db: Executor,
  id: string,
  now: number,
): Promise<DeleteCredentialResult> {
  const users = await db.execute({
    sql: "SELECT COUNT(*) AS n FROM webhooks WHERE credential_id = ? AND deleted_at IS NULL",
    args: [id],
  });
  const inUseBy = Number(users.rows[0]?.n ?? 0);
  if (inUseBy > 0) {
    const exists = await getCredential(db, id);
    return exists ? { inUseBy } : "not_found";
  }
  const result = await db.execute({
    sql:
      `UPDATE credentials SET deleted_at = ?, updated_at = ? WHERE id = ? AND deleted_at IS NULL`,
    args: [now, now, id],
  });
  if (result.rowsAffected === 0) return "not_found";
  await forgetReceiverToken(db, tokenOwner("credential", id));
  return "deleted";
}

/** Every credential not deleted, for the in-memory webhook view (webhook_view.ts). */
export async function liveCredentials(db: Executor): Promise<CredentialRecord[]> {
  const result = await db.execute(`SELECT ${COLUMNS} FROM credentials WHERE deleted_at IS NULL`);
  return result.rows.map(credentialFromRow);
}
