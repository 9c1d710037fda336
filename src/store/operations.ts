/**
 * Every operation the store worker runs, by name. Writes run inside the
 * worker's group-commit transaction; reads run on their own. The main thread
 * imports only the types, so the native libSQL binding loads in the worker
 * alone.
 */
import type { WebhookIndex } from "../ingest/webhook_index.ts";
import {
  type ApiKeyRecord,
  getApiKey,
  insertApiKey,
  listApiKeys,
  revokeApiKey,
  touchApiKeys,
} from "./api_keys.ts";
import type { AttemptRecord } from "./attempts.ts";
import {
  type CredentialRecord,
  credentialsChangedSince,
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
  replayDeadLetters,
  retryDelivery,
} from "./delivery_history.ts";
import {
  type AttemptVerdict,
  claimDeliveries,
  dueDeliveries,
  recordAttempt,
  releaseDeliveries,
} from "./delivery_queue.ts";
import { getEvent, ingestEvents, type IngestRequest } from "./events.ts";
import type { Executor, Page } from "./executor.ts";
import { SCHEMA_VERSION } from "./migrations.ts";
import {
  deleteWebhook,
  getWebhook,
  insertWebhook,
  listWebhooks,
  rotateWebhookSecret,
  updateWebhook,
  type WebhookFilter,
  type WebhookPatch,
  type WebhookRecord,
  webhooksChangedSince,
} from "./webhooks.ts";

/** What an operation may use besides the database. */
export interface OperationContext {
  readonly index: WebhookIndex;
}

export const writeOperations = {
  /** Readiness: a commit that touches one row, to prove the store takes writes. */
  probeWrite: async (db: Executor, _: OperationContext, a: { now: number }) => {
    await db.execute({
      sql: "UPDATE readiness_probe SET checked_at = ? WHERE id = 1",
      args: [a.now],
    });
    return null;
  },
  insertWebhook: (db: Executor, _: OperationContext, a: { webhook: WebhookRecord }) =>
    insertWebhook(db, a.webhook),
  updateWebhook: (
    db: Executor,
    _: OperationContext,
    a: { id: string; patch: WebhookPatch; now: number },
  ) => updateWebhook(db, a.id, a.patch, a.now),
  rotateWebhookSecret: (
    db: Executor,
    _: OperationContext,
    a: { id: string; secret: string; previousUntil: number; now: number },
  ) => rotateWebhookSecret(db, a.id, a.secret, a.previousUntil, a.now),
  deleteWebhook: (db: Executor, _: OperationContext, a: { id: string; now: number }) =>
    deleteWebhook(db, a.id, a.now),
  /**
   * Several events in one operation: the batch endpoint commits them all or
   * none. The engine runs consecutive ingests of a group commit together
   * (see `ingestEvents`); this is the one-request form.
   */
  ingest: async (db: Executor, ctx: OperationContext, a: IngestRequest) =>
    (await ingestEvents(db, ctx.index, [a]))[0]!,
  claimDeliveries: (
    db: Executor,
    _: OperationContext,
    a: { ids: string[]; owner: string; now: number; leaseUntil: number },
  ) => claimDeliveries(db, a.ids, a.owner, a.now, a.leaseUntil),
  recordAttempt: (
    db: Executor,
    _: OperationContext,
    a: { attempt: AttemptRecord; owner: string; verdict: AttemptVerdict; now: number },
  ) => recordAttempt(db, a.attempt, a.owner, a.verdict, a.now),
  releaseDeliveries: (
    db: Executor,
    _: OperationContext,
    a: { ids: string[]; owner: string; state: "pending" | "held" | "cancelled"; now: number },
  ) => releaseDeliveries(db, a.ids, a.owner, a.state, a.now),
  retryDelivery: (db: Executor, _: OperationContext, a: { id: string; now: number }) =>
    retryDelivery(db, a.id, a.now),
  replayDeadLetters: (
    db: Executor,
    _: OperationContext,
    a: { filter: Omit<DeliveryFilter, "state">; afterId?: string; limit: number; now: number },
  ) => replayDeadLetters(db, a.filter, a.afterId, a.limit, a.now),
  insertCredential: (db: Executor, _: OperationContext, a: { credential: CredentialRecord }) =>
    insertCredential(db, a.credential),
  updateCredential: (
    db: Executor,
    _: OperationContext,
    a: { id: string; patch: { name?: string; headers?: Record<string, string> }; now: number },
  ) => updateCredential(db, a.id, a.patch, a.now),
  rotateCredentialSecret: (
    db: Executor,
    _: OperationContext,
    a: { id: string; secret: string; previousUntil: number; now: number },
  ) => rotateCredentialSecret(db, a.id, a.secret, a.previousUntil, a.now),
  deleteCredential: (db: Executor, _: OperationContext, a: { id: string; now: number }) =>
    deleteCredential(db, a.id, a.now),
  insertApiKey: (db: Executor, _: OperationContext, a: { key: ApiKeyRecord }) =>
    insertApiKey(db, a.key),
  revokeApiKey: (db: Executor, _: OperationContext, a: { id: string; now: number }) =>
    revokeApiKey(db, a.id, a.now),
  touchApiKeys: (db: Executor, _: OperationContext, a: { ids: string[]; now: number }) =>
    touchApiKeys(db, a.ids, a.now),
};

/** Writes after which the worker refreshes its webhook index before answering. */
export const WEBHOOK_WRITES: ReadonlySet<string> = new Set<keyof typeof writeOperations>([
  "insertWebhook",
  "updateWebhook",
  "rotateWebhookSecret",
  "deleteWebhook",
]);

export const readOperations = {
  getWebhook: (db: Executor, a: { id: string }) => getWebhook(db, a.id),
  listWebhooks: (db: Executor, a: { filter: WebhookFilter; page: Page }) =>
    listWebhooks(db, a.filter, a.page),
  getEvent: async (db: Executor, a: { id: string }) => {
    const event = await getEvent(db, a.id);
    return event ? { event, deliveries: await deliveriesOfEvent(db, a.id) } : null;
  },
  dueDeliveries: (db: Executor, a: { until: number; now: number; limit: number }) =>
    dueDeliveries(db, a.until, a.now, a.limit),
  getDelivery: (db: Executor, a: { id: string }) => getDelivery(db, a.id),
  listDeliveries: (db: Executor, a: { filter: DeliveryFilter; page: Page }) =>
    listDeliveries(db, a.filter, a.page),
  /** Webhooks changed at or after `since`, for the delivery engine's cache. */
  webhooksChangedSince: (db: Executor, a: { since: number }) => webhooksChangedSince(db, a.since),
  getCredential: (db: Executor, a: { id: string }) => getCredential(db, a.id),
  listCredentials: (db: Executor, a: { page: Page }) => listCredentials(db, a.page),
  /** Credentials changed at or after `since`, for the delivery engine's cache. */
  credentialsChangedSince: (db: Executor, a: { since: number }) =>
    credentialsChangedSince(db, a.since),
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
export type WriteArgs<K extends WriteName> = Parameters<WriteOperations[K]>[2];
export type WriteResult<K extends WriteName> = Awaited<ReturnType<WriteOperations[K]>>;
export type ReadArgs<K extends ReadName> = Parameters<ReadOperations[K]>[1];
export type ReadResult<K extends ReadName> = Awaited<ReturnType<ReadOperations[K]>>;
