/** Webhook rows: mapping, reads and the writes that change them. */
import type { InValue, Row } from "@libsql/client";
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
import { holdPendingDeliveries, releaseHeldDeliveries } from "./holds.ts";
import { type ReceiverAuth, receiverAuthColumn, receiverAuthFromRow } from "./receiver_auth.ts";
import { forgetReceiverToken, tokenOwner } from "./receiver_tokens.ts";
import { unparkAll } from "./ordering.ts";
import { rotateSecret } from "./secret_rotation.ts";
import { resetHealth } from "./webhook_health.ts";

/** PEM texts for TLS to one receiver. */
export interface WebhookTls {
  /** Certificates to trust in addition to the system's (a private CA, a self-signed receiver). */
  readonly caCerts: string[];
  /** A client certificate chain and key for receivers that require mTLS; both or neither. */
  readonly clientCert: string | null;
  readonly clientKey: string | null;
}

export type WebhookState = "enabled" | "paused" | "disabled";

/**
 * Per-key ordering: `none`; `key` (deliveries with the same `ordering_key` go
 * one at a time in acceptance order; one that ended failed or dead releases
 * the next); `key_strict` (such a one holds the next until it is replayed to
 * success).
 */
export type WebhookOrdering = "none" | "key" | "key_strict";

export interface WebhookRecord {
  readonly id: string;
  readonly url: string;
  readonly description: string;
  readonly eventTypes: string[];
  readonly state: WebhookState;
  /** Why the webhook is disabled (an operator, or which auto-disable rule and the last error). */
  readonly disabledReason: string | null;
  /** When it was disabled; null unless `state` is disabled. */
  readonly disabledAt: number | null;
  readonly policy: string;
  readonly profile: string;
  /** null: the webhook's requests are not signed (seed 002 signs only when a secret is set). */
  readonly secret: string | null;
  readonly previousSecret: string | null;
  readonly previousSecretUntil: number | null;
  readonly headers: Record<string, string>;
  readonly rateLimitPerSecond: number | null;
  readonly maxInFlight: number | null;
  readonly tenantId: string | null;
  readonly metadata: Record<string, unknown>;
  /** A shared credential whose secrets (and headers) sign this webhook's requests instead of its own. */
  readonly credentialId: string | null;
  /** Extra trust and a client certificate for this receiver (mTLS); null: system defaults. */
  readonly tls: WebhookTls | null;
  readonly ordering: WebhookOrdering;
  /** OAuth2 or basic auth to the receiver; null: none of its own (its credential's applies). */
  readonly receiverAuth: ReceiverAuth | null;
  /**
   * The forward proxy its attempts go through: null for `[delivery] proxy`
   * (if any), "direct" for none, or the name of one of `[delivery] proxies`.
   */
  readonly proxy: string | null;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** Fields a caller may change; undefined leaves a field as it is. */
export type WebhookPatch = Partial<
  Pick<
    WebhookRecord,
    | "url"
    | "description"
    | "eventTypes"
    | "state"
    | "disabledReason"
    | "disabledAt"
    | "policy"
    | "profile"
    | "headers"
    | "rateLimitPerSecond"
    | "maxInFlight"
    | "tenantId"
    | "metadata"
    | "credentialId"
    | "tls"
    | "ordering"
    | "receiverAuth"
    | "proxy"
  >
>;

/**
 * Each stored column and how a record fills it: the one mapping insert and
 * update bind from. `mutable` columns are the ones `updateWebhook` writes;
 * the others change only on creation or through a secret rotation.
 */
const FIELDS: readonly {
  readonly column: string;
  readonly value: (w: WebhookRecord) => InValue;
  readonly mutable: boolean;
}[] = [
  { column: "id", value: (w) => w.id, mutable: false },
  { column: "url", value: (w) => w.url, mutable: true },
  { column: "description", value: (w) => w.description, mutable: true },
  { column: "event_types", value: (w) => JSON.stringify(w.eventTypes), mutable: true },
  { column: "state", value: (w) => w.state, mutable: true },
  { column: "disabled_reason", value: (w) => w.disabledReason, mutable: true },
  { column: "disabled_at", value: (w) => w.disabledAt, mutable: true },
  { column: "policy", value: (w) => w.policy, mutable: true },
  { column: "profile", value: (w) => w.profile, mutable: true },
  { column: "secret", value: (w) => w.secret, mutable: false },
  { column: "previous_secret", value: (w) => w.previousSecret, mutable: false },
  { column: "previous_secret_until", value: (w) => w.previousSecretUntil, mutable: false },
  { column: "headers", value: (w) => JSON.stringify(w.headers), mutable: true },
  { column: "rate_limit_per_second", value: (w) => w.rateLimitPerSecond, mutable: true },
  { column: "max_in_flight", value: (w) => w.maxInFlight, mutable: true },
  { column: "tenant_id", value: (w) => w.tenantId, mutable: true },
  { column: "metadata", value: (w) => JSON.stringify(w.metadata), mutable: true },
  { column: "credential_id", value: (w) => w.credentialId, mutable: true },
  { column: "tls", value: (w) => (w.tls === null ? null : JSON.stringify(w.tls)), mutable: true },
  { column: "ordering", value: (w) => w.ordering, mutable: true },
  { column: "receiver_auth", value: (w) => receiverAuthColumn(w.receiverAuth), mutable: true },
  { column: "proxy", value: (w) => w.proxy, mutable: true },
  { column: "created_at", value: (w) => w.createdAt, mutable: false },
  { column: "updated_at", value: (w) => w.updatedAt, mutable: true },
];
const MUTABLE = FIELDS.filter((f) => f.mutable);

const COLUMNS = `${FIELDS.map((f) => f.column).join(", ")}, deleted_at`;
const INSERT_SQL = `INSERT INTO webhooks (${COLUMNS})
  VALUES (${FIELDS.map(() => "?").join(", ")}, NULL)`;
const UPDATE_SQL = `UPDATE webhooks SET ${MUTABLE.map((f) => `${f.column} = ?`).join(", ")}
  WHERE id = ?`;

export function webhookFromRow(row: Row): WebhookRecord {
  return {
    id: text(row, "id"),
    url: text(row, "url"),
    description: text(row, "description"),
    eventTypes: JSON.parse(text(row, "event_types")),
    state: text(row, "state") as WebhookState,
    disabledReason: textOrNull(row, "disabled_reason"),
    disabledAt: intOrNull(row, "disabled_at"),
    policy: text(row, "policy"),
    profile: text(row, "profile"),
    secret: textOrNull(row, "secret"),
    previousSecret: textOrNull(row, "previous_secret"),
    previousSecretUntil: intOrNull(row, "previous_secret_until"),
    headers: JSON.parse(text(row, "headers")),
    rateLimitPerSecond: intOrNull(row, "rate_limit_per_second"),
    maxInFlight: intOrNull(row, "max_in_flight"),
    tenantId: textOrNull(row, "tenant_id"),
    metadata: JSON.parse(text(row, "metadata")),
    credentialId: textOrNull(row, "credential_id"),
    tls: row.tls === null || row.tls === undefined ? null : JSON.parse(text(row, "tls")),
    ordering: (textOrNull(row, "ordering") ?? "none") as WebhookOrdering,
    receiverAuth: receiverAuthFromRow(row),
    proxy: textOrNull(row, "proxy"),
    createdAt: int(row, "created_at"),
    updatedAt: int(row, "updated_at"),
  };
}

export async function insertWebhook(db: Executor, webhook: WebhookRecord): Promise<WebhookRecord> {
  await db.execute({ sql: INSERT_SQL, args: FIELDS.map((f) => f.value(webhook)) });
  return webhook;
}

export async function getWebhook(db: Executor, id: string): Promise<WebhookRecord | null> {
  const result = await db.execute({
    sql: `SELECT ${COLUMNS} FROM webhooks WHERE id = ? AND deleted_at IS NULL`,
    args: [id],
  });
  const row = result.rows[0];
  return row ? webhookFromRow(row) : null;
}

export interface WebhookFilter {
  readonly state?: WebhookState;
  readonly tenantId?: string;
}

export async function listWebhooks(
  db: Executor,
  filter: WebhookFilter,
  page: Page,
): Promise<PageResult<WebhookRecord>> {
  const where = ["deleted_at IS NULL"];
  const args: (string | number)[] = [];
  if (page.after !== undefined) (where.push("id > ?"), args.push(page.after));
  if (filter.state !== undefined) (where.push("state = ?"), args.push(filter.state));
  if (filter.tenantId !== undefined) (where.push("tenant_id = ?"), args.push(filter.tenantId));
  args.push(page.limit + 1);
  const result = await db.execute({
    sql: `SELECT ${COLUMNS} FROM webhooks WHERE ${where.join(" AND ")} ORDER BY id LIMIT ?`,
    args,
  });
  return toPage(result.rows.map(webhookFromRow), page.limit);
}

/**
 * Applies a partial update and the delivery side effects of a state change:
 * pausing or disabling holds waiting deliveries (nothing accepted before it is
 * lost), enabling releases the held ones, due now. What a disabled webhook
 * does not get is new deliveries: fan-out skips it (seed 004: events during a
 * disable are not replayed). Cancelling held deliveries is a separate,
 * explicit act (`cancelOpenDeliveries`).
 */
export async function updateWebhook(
  db: Executor,
  id: string,
  patch: WebhookPatch,
  now: number,
): Promise<WebhookRecord | null> {
  const current = await getWebhook(db, id);
  if (!current) return null;
  const next: WebhookRecord = { ...current, ...definedOnly(patch), updatedAt: now };
  const mutable = next as { disabledReason: string | null; disabledAt: number | null };
  if (next.state !== "disabled") {
    mutable.disabledReason = null;
    mutable.disabledAt = null;
  } else if (current.state !== "disabled") {
    mutable.disabledAt = patch.disabledAt ?? now;
  }
  await db.execute({ sql: UPDATE_SQL, args: [...MUTABLE.map((f) => f.value(next)), id] });
  // A token fetched with other settings is never used again: do not keep it.
  if (patch.receiverAuth !== undefined) await forgetReceiverToken(db, tokenOwner("webhook", id));
  // Parked deliveries wait under the old rule: let each claim decide under the new one.
  if (current.ordering !== next.ordering) await unparkAll(db, id, now);
  if (current.state !== next.state) {
    if (next.state === "enabled") {
      await releaseHeldDeliveries(db, id, now);
      // Enabled again by an operator: the auto-disable counts start afresh.
      await resetHealth(db, id);
    } else if (current.state === "enabled") await holdPendingDeliveries(db, id, now);
  }
  return next;
}

/** Rotates the signing secret; the previous one keeps signing until `previousUntil`. */
export async function rotateWebhookSecret(
  db: Executor,
  id: string,
  secret: string,
  previousUntil: number,
  now: number,
): Promise<WebhookRecord | null> {
  const current = await getWebhook(db, id);
  if (!current) return null;
  return await rotateSecret(db, "webhooks", current, id, secret, previousUntil, now);
}

/** Soft-deletes a webhook and cancels its pending deliveries (seed 000: never sent). */
export async function deleteWebhook(db: Executor, id: string, now: number): Promise<boolean> {
  const result = await db.execute({
    sql: "UPDATE webhooks SET deleted_at = ?, updated_at = ? WHERE id = ? AND deleted_at IS NULL",
    args: [now, now, id],
  });
  if (result.rowsAffected === 0) return false;
  await cancelOpenDeliveries(db, id, now);
  await forgetReceiverToken(db, tokenOwner("webhook", id));
  return true;
}

/** The open states a cancel may take; `sending` is in flight. */
export type OpenDeliveryState = "pending" | "held" | "sending";

/**
 * Cancels a webhook's deliveries in `states` (by default every open one) and
 * returns how many. A delivery in flight finishes its attempt, but the result
 * no longer moves it. One statement per state, each naming its state as a
 * literal so SQLite takes that state's partial index instead of the webhook's
 * whole history; deliveries in flight are found among all in flight (few, and
 * indexed by lease), never by walking the history.
 */
export async function cancelOpenDeliveries(
  db: Executor,
  webhookId: string,
  now: number,
  states: readonly OpenDeliveryState[] = ["pending", "held", "sending"],
): Promise<number> {
  let cancelled = 0;
  for (const state of states) {
    const indexed = state === "sending" ? "INDEXED BY deliveries_sending" : "";
    const result = await db.execute({
      sql: `UPDATE deliveries ${indexed} SET state = 'cancelled', next_attempt_at = NULL,
          lease_owner = NULL, lease_until = NULL, held_at = NULL, updated_at = ?
        WHERE webhook_id = ? AND state = '${state}'`,
      args: [now, webhookId],
    });
    cancelled += result.rowsAffected;
  }
  return cancelled;
}

/** Every webhook not deleted, for the in-memory webhook view (webhook_view.ts). */
export async function liveWebhooks(db: Executor): Promise<WebhookRecord[]> {
  const result = await db.execute(`SELECT ${COLUMNS} FROM webhooks WHERE deleted_at IS NULL`);
  return result.rows.map(webhookFromRow);
}

function definedOnly<T extends object>(patch: T): Partial<T> {
  return Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as Partial<T>;
}
