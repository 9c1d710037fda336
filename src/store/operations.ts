/**
 * Every operation the store worker runs, declared once, by name. A write
 * runs inside the worker's group-commit transaction and is declared with
 * `single` (one request at a time) or `batched` (consecutive requests of it
 * in one transaction run together, in one multi-row form; the one-request
 * form is that with a single row). The writer groups by this declaration
 * alone: no operation is special to it. Reads run on their own connection.
 * The main thread imports only the types, so the native libSQL binding loads
 * in the worker alone.
 */
import {
  type ApiKeyRecord,
  getApiKey,
  insertApiKey,
  listApiKeys,
  revokeApiKey,
  touchApiKeys,
} from "./api_keys.ts";
import {
  type CredentialPatch,
  type CredentialRecord,
  deleteCredential,
  getCredential,
  insertCredential,
  listCredentials,
  rotateCredentialSecret,
  updateCredential,
} from "./credentials.ts";
import { deliveriesOfEvent } from "./deliveries.ts";
import {
  type DeliveryFilter,
  getDelivery,
  listDeliveries,
  listDeliveryHistory,
  replayDeadLetters,
  retryDelivery,
} from "./delivery_history.ts";
import {
  type AttemptToRecord,
  backlog,
  claimDeliveries,
  deferDeliveries,
  type DueCursor,
  dueDeliveries,
  postponeDeliveries,
  recallableByWebhook,
  recallPostponed,
  recordAttempts,
  releaseDeliveries,
} from "./delivery_queue.ts";
import { erasedAt, eraseEvent } from "./erasure.ts";
import { getEvent, ingestEvents, type IngestRequest } from "./events.ts";
import type { Executor, Page } from "./executor.ts";
import { SCHEMA_VERSION } from "./migrations.ts";
import { unparkAll } from "./ordering.ts";
import { getReceiverToken, putReceiverToken, type ReceiverToken } from "./receiver_tokens.ts";
import { type RecoverCursor, recoverEvents } from "./recover.ts";
import {
  type DeliveryCutoffs,
  type EventCursor,
  purgeDeliveries,
  purgeEvents,
} from "./retention.ts";
import type { WebhookView } from "./webhook_view.ts";
import { webhookStats } from "./webhook_stats.ts";
import {
  cancelOpenDeliveries,
  deleteWebhook,
  getWebhook,
  insertWebhook,
  listWebhooks,
  rotateWebhookSecret,
  updateWebhook,
  type WebhookFilter,
  type WebhookPatch,
  type WebhookRecord,
} from "./webhooks.ts";

/** What a write may use besides its transaction. */
export interface OperationContext {
  /**
   * The webhook view as of this point of the transaction: the version row is
   * read, and the view reloaded first when any daemon's write moved it.
   */
  view(): Promise<WebhookView>;
}

/** A declared write: its one-request form, and its many-request form when it batches. */
export interface WriteOperation<A, R> {
  readonly single: (db: Executor, ctx: OperationContext, args: A) => Promise<R>;
  readonly batched?: (db: Executor, ctx: OperationContext, args: readonly A[]) => Promise<R[]>;
}

/** A write that runs one request at a time. */
function single<A, R>(
  run: (db: Executor, ctx: OperationContext, args: A) => Promise<R>,
): WriteOperation<A, R> {
  return { single: run };
}

/** A write whose consecutive requests run together; one request is a batch of one. */
function batched<A, R>(
  runMany: (db: Executor, ctx: OperationContext, args: readonly A[]) => Promise<R[]>,
): WriteOperation<A, R> {
  return {
    single: async (db, ctx, args) => (await runMany(db, ctx, [args]))[0]!,
    batched: runMany,
  };
}

export const writeOperations = {
  /** Readiness: a commit that touches one row, to prove the store takes writes. */
  probeWrite: single(async (db, _, a: { now: number }) => {
    await db.execute({
      sql: "UPDATE readiness_probe SET checked_at = ? WHERE id = 1",
      args: [a.now],
    });
    return null;
  }),
  insertWebhook: single((db, _, a: { webhook: WebhookRecord }) => insertWebhook(db, a.webhook)),
  updateWebhook: single((db, _, a: { id: string; patch: WebhookPatch; now: number }) =>
    updateWebhook(db, a.id, a.patch, a.now)
  ),
  rotateWebhookSecret: single((
    db,
    _,
    a: { id: string; secret: string; previousUntil: number; now: number },
  ) => rotateWebhookSecret(db, a.id, a.secret, a.previousUntil, a.now)),
  deleteWebhook: single((db, _, a: { id: string; now: number }) => deleteWebhook(db, a.id, a.now)),
  /** An operator drops what a paused or disabled webhook holds; null: no such webhook. */
  cancelHeldDeliveries: single(async (db, _, a: { webhookId: string; now: number }) => {
    if (!(await getWebhook(db, a.webhookId))) return null;
    const cancelled = await cancelOpenDeliveries(db, a.webhookId, a.now, ["held"]);
    // Ordered deliveries waiting behind the cancelled ones may go now.
    await unparkAll(db, a.webhookId, a.now);
    return cancelled;
  }),
  /**
   * Events with their fan-out deliveries; one request is one API call (the
   * batch endpoint's events commit together or not at all). Consecutive
   * ingests of a group commit share multi-row inserts: the hot path.
   */
  ingest: batched(async (db, ctx, requests: readonly IngestRequest[]) =>
    ingestEvents(db, await ctx.view(), requests)
  ),
  claimDeliveries: single(async (
    db,
    ctx,
    a: { ids: string[]; owner: string; now: number; leaseUntil: number },
  ) => claimDeliveries(db, await ctx.view(), a.ids, a.owner, a.now, a.leaseUntil)),
  /** Consecutive results share one insert and one update. */
  recordAttempt: batched((db, _, items: readonly AttemptToRecord[]) => recordAttempts(db, items)),
  releaseDeliveries: single((
    db,
    _,
    a: { ids: string[]; owner: string; state: "pending" | "held" | "cancelled"; now: number },
  ) => releaseDeliveries(db, a.ids, a.owner, a.state, a.now)),
  postponeDeliveries: single((
    db,
    _,
    a: { ids: string[]; owner: string; until: number; now: number; recallable: boolean },
  ) => postponeDeliveries(db, a.ids, a.owner, a.until, a.now, a.recallable)),
  deferDeliveries: single((db, _, a: { ids: string[]; until: number; now: number }) =>
    deferDeliveries(db, a.ids, a.until, a.now)
  ),
  recallPostponed: single((db, _, a: { webhookId: string; now: number; limit: number }) =>
    recallPostponed(db, a.webhookId, a.now, a.limit)
  ),
  retryDelivery: single((db, _, a: { id: string; now: number }) => retryDelivery(db, a.id, a.now)),
  replayDeadLetters: single((
    db,
    _,
    a: { filter: Omit<DeliveryFilter, "state">; afterId?: string; limit: number; now: number },
  ) => replayDeadLetters(db, a.filter, a.afterId, a.limit, a.now)),
  /**
   * One page of a recover (recover.ts); null: no such webhook. The webhook is
   * read in the transaction, so a change to it applies from the next page on.
   */
  recoverEvents: single(async (
    db,
    _,
    a: {
      webhookId: string;
      since: number;
      until: number;
      after?: RecoverCursor;
      limit: number;
      now: number;
    },
  ) => {
    const webhook = await getWebhook(db, a.webhookId);
    if (!webhook) return null;
    return await recoverEvents(db, webhook, a, a.after, a.limit, a.now);
  }),
  /** One step of the retention purge over deliveries and their attempts (retention.ts). */
  purgeDeliveries: single((
    db,
    _,
    a: { cutoffs: DeliveryCutoffs; after?: string; limit: number },
  ) => purgeDeliveries(db, a.cutoffs, a.after, a.limit)),
  /** One step of the retention purge over events left without deliveries (retention.ts). */
  purgeEvents: single((db, _, a: { before: number; after?: EventCursor; limit: number }) =>
    purgeEvents(db, a.before, a.after, a.limit)
  ),
  /** Erases an event's data for good, keeping a tombstone (erasure.ts). */
  eraseEvent: single((db, _, a: { id: string; now: number }) => eraseEvent(db, a.id, a.now)),
  insertCredential: single((db, _, a: { credential: CredentialRecord }) =>
    insertCredential(db, a.credential)
  ),
  updateCredential: single((
    db,
    _,
    a: { id: string; patch: CredentialPatch; now: number },
  ) => updateCredential(db, a.id, a.patch, a.now)),
  rotateCredentialSecret: single((
    db,
    _,
    a: { id: string; secret: string; previousUntil: number; now: number },
  ) => rotateCredentialSecret(db, a.id, a.secret, a.previousUntil, a.now)),
  deleteCredential: single((db, _, a: { id: string; now: number }) =>
    deleteCredential(db, a.id, a.now)
  ),
  insertApiKey: single((db, _, a: { key: ApiKeyRecord }) => insertApiKey(db, a.key)),
  revokeApiKey: single((db, _, a: { id: string; now: number }) => revokeApiKey(db, a.id, a.now)),
  touchApiKeys: single((db, _, a: { ids: string[]; now: number }) =>
    touchApiKeys(db, a.ids, a.now)
  ),
  /** An OAuth2 token a daemon fetched, for every daemon sharing the database. */
  putReceiverToken: single(async (db, _, a: { token: ReceiverToken }) => {
    await putReceiverToken(db, a.token);
    return null;
  }),
};

export const readOperations = {
  getWebhook: (db: Executor, a: { id: string }) => getWebhook(db, a.id),
  listWebhooks: (db: Executor, a: { filter: WebhookFilter; page: Page }) =>
    listWebhooks(db, a.filter, a.page),
  getEvent: async (db: Executor, a: { id: string }) => {
    const event = await getEvent(db, a.id);
    return event ? { event, deliveries: await deliveriesOfEvent(db, a.id) } : null;
  },
  /** When event `id` was erased, or null: it was not (erasure.ts). */
  eventErasedAt: (db: Executor, a: { id: string }) => erasedAt(db, a.id),
  dueDeliveries: (
    db: Executor,
    a: { until: number; now: number; limit: number; after?: DueCursor },
  ) => dueDeliveries(db, a.until, a.now, a.limit, a.after),
  /** Per webhook, its full queue's postponements still recallable (daemons adopt them). */
  recallableByWebhook: (db: Executor, a: { now: number; limit: number }) =>
    recallableByWebhook(db, a.now, a.limit),
  /** Backlog counts for `/metrics` (pending within and beyond `until`, held, dead). */
  backlog: (db: Executor, a: { until: number }) => backlog(db, a.until),
  getDelivery: (db: Executor, a: { id: string }) => getDelivery(db, a.id),
  listDeliveries: (db: Executor, a: { filter: DeliveryFilter; page: Page }) =>
    listDeliveries(db, a.filter, a.page),
  listDeliveryHistory: (db: Executor, a: { filter: DeliveryFilter; page: Page }) =>
    listDeliveryHistory(db, a.filter, a.page),
  /** Attempts per webhook since `since`, at most the newest `maxAttempts` of them (the dashboard). */
  webhookStats: (db: Executor, a: { since: number; maxAttempts: number }) =>
    webhookStats(db, a.since, a.maxAttempts),
  getCredential: (db: Executor, a: { id: string }) => getCredential(db, a.id),
  /**
   * A webhook and the credential it signs with, if any, for its public keys.
   * Always two primary-key reads, so the answer for an unknown webhook takes
   * the same work as for a known one (the keys are served without a key).
   */
  webhookSigner: async (db: Executor, a: { id: string }) => {
    const webhook = await getWebhook(db, a.id);
    const credential = await getCredential(db, webhook?.credentialId ?? "");
    return webhook ? { webhook, credential } : null;
  },
  listCredentials: (db: Executor, a: { page: Page }) => listCredentials(db, a.page),
  /** The OAuth2 token some daemon fetched for `owner`, if any (never for the API). */
  getReceiverToken: (db: Executor, a: { owner: string }) => getReceiverToken(db, a.owner),
  getApiKey: (db: Executor, a: { id: string }) => getApiKey(db, a.id),
  listApiKeys: (db: Executor, a: { page: Page }) => listApiKeys(db, a.page),
  /** Readiness: the store answers and carries this build's schema. */
  schemaVersion: async (db: Executor, _: Record<string, never>) => {
    const result = await db.execute("SELECT MAX(version) AS v FROM schema_migrations");
    const version = Number(result.rows[0]?.v ?? 0);
    return { version, expected: SCHEMA_VERSION };
  },
};

export type WriteOperations = typeof writeOperations;
export type ReadOperations = typeof readOperations;
export type WriteName = keyof WriteOperations;
export type ReadName = keyof ReadOperations;
export type WriteArgs<K extends WriteName> = Parameters<WriteOperations[K]["single"]>[2];
export type WriteResult<K extends WriteName> = Awaited<ReturnType<WriteOperations[K]["single"]>>;
export type ReadArgs<K extends ReadName> = Parameters<ReadOperations[K]>[1];
export type ReadResult<K extends ReadName> = Awaited<ReturnType<ReadOperations[K]>>;
