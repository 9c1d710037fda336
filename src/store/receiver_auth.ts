/**
 * How hookd authenticates to a receiver, beyond signing: OAuth2 client
 * credentials (RFC 6749 §4.4, a bearer token fetched from the receiver's
 * token endpoint) or plain HTTP basic auth (RFC 7617). A webhook or a shared
 * credential carries at most one. Stored as JSON in `receiver_auth`
 * (migration 10); its secrets are write-only: the API shows that they are
 * set, never what they are.
 */
import type { Row } from "@libsql/client";
import { textOrNull } from "./executor.ts";

/** How the client authenticates at the token endpoint (RFC 6749 §2.3.1). */
export type OAuth2AuthMethod = "client_secret_basic" | "client_secret_post";

export interface OAuth2ClientCredentials {
  readonly kind: "oauth2";
  readonly tokenUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Space-separated scopes asked for; null: the endpoint's default. */
  readonly scope: string | null;
  /** The `audience` parameter many providers (Auth0, Okta) want; null: none sent. */
  readonly audience: string | null;
  readonly authMethod: OAuth2AuthMethod;
}

export interface BasicAuth {
  readonly kind: "basic";
  readonly username: string;
  readonly password: string;
}

export type ReceiverAuth = OAuth2ClientCredentials | BasicAuth;

/** The column's value for a record's auth. */
export function receiverAuthColumn(auth: ReceiverAuth | null): string | null {
  return auth === null ? null : JSON.stringify(auth);
}

/** A row's auth; null when the column is NULL (or absent from the selection). */
export function receiverAuthFromRow(row: Row): ReceiverAuth | null {
  const json = row.receiver_auth === undefined ? null : textOrNull(row, "receiver_auth");
  return json === null ? null : JSON.parse(json) as ReceiverAuth;
}
