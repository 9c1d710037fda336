/**
 * Store records → the API's JSON shapes (snake_case fields, RFC 3339
 * timestamps), each typed as the response schema it must match.
 */
import { publicKeyOf } from "../delivery/ed25519_keys.ts";
import type { WebhookFlow } from "../delivery/pool.ts";
import { signingKindOf } from "../delivery/signing_kind.ts";
import type { z } from "zod";
import type { CredentialRecord } from "../store/credentials.ts";
import { encodeCursor } from "./cursor.ts";
import { renderReceiverAuth } from "./receiver_auth.ts";
import type { ApiKey, Attempt, Credential, Delivery, Event, Webhook } from "./responses.ts";
import type { Scope } from "./scopes.ts";
import type { ApiKeyRecord } from "../store/api_keys.ts";
import type { AttemptRecord } from "../store/attempts.ts";
import type { DeliveryRecord } from "../store/deliveries.ts";
import type { EventRecord } from "../store/events.ts";
import type { WebhookRecord } from "../store/webhooks.ts";

export function rfc3339(ms: number): string;
export function rfc3339(ms: number | null): string | null;
export function rfc3339(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

/** How a secret signs, and its public key when it has one; never the secret itself. */
export function renderSigning(secret: string) {
  const signing = signingKindOf(secret);
  return { signing, public_key: signing === "ed25519" ? publicKeyOf(secret) : null };
}

export function renderWebhook(
  webhook: WebhookRecord,
  flow: WebhookFlow | undefined,
): z.input<typeof Webhook> {
  return {
    id: webhook.id,
    url: webhook.url,
    description: webhook.description,
    event_types: webhook.eventTypes,
    enabled: webhook.state === "enabled",
    state: webhook.state,
    disabled_reason: webhook.disabledReason,
    disabled_at: rfc3339(webhook.disabledAt),
    circuit: flow === undefined ? null : {
      state: flow.circuit.state,
      opened_at: rfc3339(flow.circuit.openedAt),
      next_probe_at: rfc3339(flow.circuit.nextProbeAt),
    },
    effective_concurrency: flow?.effectiveConcurrency ?? null,
    policy: webhook.policy,
    profile: webhook.profile,
    headers: webhook.headers,
    rate_limit: webhook.rateLimitPerSecond,
    max_in_flight: webhook.maxInFlight,
    tenant_id: webhook.tenantId,
    metadata: webhook.metadata,
    credential_id: webhook.credentialId,
    ...(webhook.secret === null
      ? { signing: "none" as const, public_key: null }
      : renderSigning(webhook.secret)),
    // Certificates are public; the client key is never shown again.
    tls: webhook.tls === null ? null : {
      ca_certs: webhook.tls.caCerts,
      client_cert: webhook.tls.clientCert,
      client_key: webhook.tls.clientKey === null ? null : "[set]",
    },
    ordering: webhook.ordering,
    ...renderReceiverAuth(webhook.receiverAuth),
    proxy: webhook.proxy,
    created_at: rfc3339(webhook.createdAt),
    updated_at: rfc3339(webhook.updatedAt),
  };
}

export function renderDelivery(delivery: DeliveryRecord): z.input<typeof Delivery> {
  return {
    id: delivery.id,
    event_id: delivery.eventId,
    event_type: delivery.eventType,
    webhook_id: delivery.webhookId,
    state: delivery.state,
    attempt_count: delivery.attempts,
    next_attempt_at: rfc3339(delivery.nextAttemptAt),
    last_status: delivery.lastStatus,
    last_error_kind: delivery.lastError,
    created_at: rfc3339(delivery.createdAt),
    updated_at: rfc3339(delivery.updatedAt),
  };
}

export function renderAttempt(attempt: AttemptRecord): z.input<typeof Attempt> {
  return {
    id: attempt.id,
    number: attempt.number,
    trigger: attempt.trigger,
    started_at: rfc3339(attempt.startedAt),
    duration_ms: attempt.durationMs,
    request_headers: attempt.requestHeaders,
    response_status: attempt.responseStatus,
    response_headers: attempt.responseHeaders,
    response_body: attempt.responseBody,
    error_kind: attempt.errorKind,
    error_message: attempt.errorMessage,
  };
}

/** An event without its deliveries; the caller adds them. */
export function renderEvent(event: EventRecord): Omit<z.input<typeof Event>, "deliveries"> {
  return {
    id: event.id,
    type: event.type,
    tenant_id: event.tenantId,
    data: JSON.parse(event.payload) as unknown,
    occurred_at: rfc3339(event.occurredAt),
    received_at: rfc3339(event.receivedAt),
    ordering_key: event.orderingKey,
    traceparent: event.traceparent,
    tracestate: event.tracestate,
  };
}

export function renderApiKey(key: ApiKeyRecord): z.input<typeof ApiKey> {
  return {
    id: key.id,
    name: key.name,
    // Only scopes that exist were ever stored (the key routes and the CLI validate them).
    scopes: key.scopes as Scope[],
    created_at: rfc3339(key.createdAt),
    last_used_at: rfc3339(key.lastUsedAt),
  };
}

export function renderCredential(credential: CredentialRecord): z.input<typeof Credential> {
  return {
    id: credential.id,
    name: credential.name,
    headers: Object.fromEntries(
      Object.keys(credential.headers).map((h) => [h, "[set]" as const]),
    ),
    ...renderReceiverAuth(credential.receiverAuth),
    ...renderSigning(credential.secret),
    previous_secret_expires_at: rfc3339(credential.previousSecretUntil),
    created_at: rfc3339(credential.createdAt),
    updated_at: rfc3339(credential.updatedAt),
  };
}

/** A list page: `{data, next_cursor}`; the cursor is opaque to clients. */
export function renderPage<T, U>(
  page: { items: T[]; nextAfter: string | null },
  render: (t: T) => U,
) {
  return {
    data: page.items.map(render),
    next_cursor: page.nextAfter === null ? null : encodeCursor(page.nextAfter),
  };
}
