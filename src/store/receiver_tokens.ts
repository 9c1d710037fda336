/**
 * OAuth2 access tokens hookd fetched for receivers, one per owner (the
 * webhook or credential whose OAuth2 settings they were fetched with). Kept
 * in the database so that every daemon sharing it uses the token one of them
 * fetched: a daemon reads the row when its own memory has no usable token,
 * which is once per token lifetime, not once per attempt
 * (`delivery/oauth2_tokens.ts` keeps the process-local copy in front).
 *
 * Tokens are secrets: they are read only by the sender, never by the API.
 */
import type { Executor } from "./executor.ts";
import { firstRow, int, text } from "./executor.ts";

export interface ReceiverToken {
  /** `webhook:<id>` or `credential:<id>`, see {@linkcode tokenOwner}. */
  readonly owner: string;
  /** Identifies the OAuth2 settings the token was fetched with. */
  readonly fingerprint: string;
  readonly accessToken: string;
  readonly fetchedAt: number;
  /** From then on the token is fetched anew (shortly before it expires). */
  readonly refreshAt: number;
}

/** Whose token: the webhook's own OAuth2 settings, or those of the credential it references. */
export function tokenOwner(kind: "webhook" | "credential", id: string): string {
  return `${kind}:${id}`;
}

export async function getReceiverToken(
  db: Executor,
  owner: string,
): Promise<ReceiverToken | null> {
  const row = await firstRow(db, {
    sql: `SELECT owner, fingerprint, access_token, fetched_at, refresh_at
      FROM receiver_tokens WHERE owner = ?`,
    args: [owner],
  });
  if (row === undefined) return null;
  return {
    owner: text(row, "owner"),
    fingerprint: text(row, "fingerprint"),
    accessToken: text(row, "access_token"),
    fetchedAt: int(row, "fetched_at"),
    refreshAt: int(row, "refresh_at"),
  };
}

/**
 * Stores a freshly fetched token, unless the row already holds one fetched
 * later (another daemon's, which is at least as good): the newest wins.
 */
export async function putReceiverToken(db: Executor, token: ReceiverToken): Promise<void> {
  await db.execute({
    sql: `INSERT INTO receiver_tokens (owner, fingerprint, access_token, fetched_at, refresh_at)
      VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (owner) DO UPDATE SET fingerprint = excluded.fingerprint,
        access_token = excluded.access_token, fetched_at = excluded.fetched_at,
        refresh_at = excluded.refresh_at
      WHERE excluded.fetched_at >= receiver_tokens.fetched_at
        OR excluded.fingerprint <> receiver_tokens.fingerprint`,
    args: [token.owner, token.fingerprint, token.accessToken, token.fetchedAt, token.refreshAt],
  });
}

/** Drops an owner's token: its settings changed, or it was deleted. */
export async function forgetReceiverToken(db: Executor, owner: string): Promise<void> {
  await db.execute({ sql: "DELETE FROM receiver_tokens WHERE owner = ?", args: [owner] });
}
