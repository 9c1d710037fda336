/**
 * The one in-memory view of webhooks and credentials. Fan-out (inside the
 * store's ingest transaction, in the worker) and dispatch (on the main
 * thread) read the same snapshot, and both learn of changes the same way:
 * the `webhook_view_version` row, bumped by triggers on every write to either
 * table by any daemon sharing the database (migration 4), is read inside each
 * write transaction, and the view is reloaded only when it moved. The worker
 * then sends the new snapshot to the main thread with the reply of the
 * transaction that loaded it, ahead of anything that could use it.
 */
import { WebhookIndex } from "../fanout/webhook_index.ts";
import { type CredentialRecord, liveCredentials } from "./credentials.ts";
import { type Executor, firstRow } from "./executor.ts";
import { liveWebhooks, type WebhookRecord } from "./webhooks.ts";

/** A consistent copy of every live webhook and credential, as plain data (it crosses threads). */
export interface WebhookSnapshot {
  /** The `webhook_view_version` this copy was read at (0: nothing loaded yet). */
  readonly version: number;
  readonly webhooks: readonly WebhookRecord[];
  readonly credentials: readonly CredentialRecord[];
}

export class WebhookView {
  static readonly EMPTY = new WebhookView({ version: 0, webhooks: [], credentials: [] });

  readonly #snapshot: WebhookSnapshot;
  readonly #webhooks = new Map<string, WebhookRecord>();
  readonly #credentials = new Map<string, CredentialRecord>();
  readonly #index = new WebhookIndex<WebhookRecord>();

  constructor(snapshot: WebhookSnapshot) {
    this.#snapshot = snapshot;
    for (const webhook of snapshot.webhooks) {
      this.#webhooks.set(webhook.id, webhook);
      this.#index.put(webhook);
    }
    for (const credential of snapshot.credentials) {
      this.#credentials.set(credential.id, credential);
    }
  }

  get version(): number {
    return this.#snapshot.version;
  }

  get snapshot(): WebhookSnapshot {
    return this.#snapshot;
  }

  /** A live webhook, or undefined when it does not exist or was deleted. */
  get(id: string): WebhookRecord | undefined {
    return this.#webhooks.get(id);
  }

  credential(id: string): CredentialRecord | undefined {
    return this.#credentials.get(id);
  }

  /** The webhooks an event fans out to (see `WebhookIndex.subscribers`). */
  subscribers(type: string, tenantId: string | null): WebhookRecord[] {
    return this.#index.subscribers(type, tenantId);
  }
}

/** The version row's value, read in the caller's transaction. */
export async function webhookViewVersion(db: Executor): Promise<number> {
  // Read on every write transaction: one row, no result set (see Executor.queryOne).
  const row = await firstRow(db, "SELECT version FROM webhook_view_version WHERE id = 1");
  return Number(row?.version ?? 0);
}

/**
 * Reads a snapshot. The version is read first, so the rows are at least as
 * new as it: outside a transaction a concurrent change can only make the
 * next check reload once more, never hide a change.
 */
export async function loadWebhookSnapshot(db: Executor): Promise<WebhookSnapshot> {
  const version = await webhookViewVersion(db);
  const webhooks = await liveWebhooks(db);
  const credentials = await liveCredentials(db);
  return { version, webhooks, credentials };
}
