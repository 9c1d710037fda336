/**
 * The shapes the API answers with, as zod schemas. Each is a named component
 * of the OpenAPI document (`#/components/schemas/<name>`); routes name them
 * per status, `render.ts` is typed against them, and the tests validate real
 * answers against the document, so what is documented is what is sent.
 *
 * Objects are strict: a field the renderer adds without declaring it here
 * fails the type check and the conformance tests.
 */
import { z } from "zod";
import { DELIVERY_STATES } from "../store/deliveries.ts";
import { SCOPES } from "./scopes.ts";

/** The document's `components.schemas`: every schema registered here, under its name. */
export const components = z.registry<{ id: string; description?: string }>();

function component<T extends z.ZodType>(id: string, description: string, schema: T): T {
  components.add(schema, { id, description });
  return schema;
}

const timestamp = z.iso.datetime().describe("RFC 3339, UTC");
const stringMap = z.record(z.string(), z.string());

export const FieldProblem = component(
  "FieldProblem",
  "One field that failed validation: where, and what was wrong and allowed",
  z.strictObject({ field: z.string(), message: z.string() }),
);

export const ErrorResponse = component(
  "Error",
  "Every error answer. `details`: null when there is nothing more to say, the problems by " +
    "field on a 400, or an object with specifics (the required scope, the conflicting id, ...)",
  z.strictObject({
    error: z.strictObject({
      code: z.string(),
      message: z.string(),
      details: z.union([z.null(), z.array(FieldProblem), z.record(z.string(), z.unknown())]),
    }),
  }),
);

export const Health = component(
  "Health",
  "The process is up",
  z.strictObject({ status: z.literal("ok") }),
);

export const Ready = component(
  "Ready",
  "The store answers, has this build's schema and takes writes",
  z.strictObject({ status: z.literal("ready"), schema_version: z.int() }),
);

export const NotReady = component(
  "NotReady",
  "Why the daemon cannot serve now",
  z.strictObject({ status: z.literal("unavailable"), reason: z.string() }),
);

export const OpenApiDocument = component(
  "OpenApiDocument",
  "This document",
  z.looseObject({
    openapi: z.string(),
    info: z.looseObject({ title: z.string(), version: z.string() }),
    paths: z.record(z.string(), z.unknown()),
  }),
);

export const OAuth2Settings = component(
  "OAuth2Settings",
  "OAuth2 client credentials (RFC 6749 §4.4): hookd fetches a token from `token_url` and sends " +
    "it as `Authorization: Bearer`; the client secret and tokens are never shown",
  z.strictObject({
    token_url: z.string(),
    client_id: z.string(),
    client_secret: z.literal("[set]"),
    scope: z.string().nullable(),
    audience: z.string().nullable(),
    auth_method: z.enum(["client_secret_basic", "client_secret_post"]),
  }),
);

export const BasicAuthSettings = component(
  "BasicAuthSettings",
  "HTTP basic auth (RFC 7617) sent to the receiver as `Authorization: Basic`; the password is " +
    "never shown",
  z.strictObject({ username: z.string(), password: z.literal("[set]") }),
);

/**
 * How a webhook or credential signs, and the public half when it has one:
 * what a receiver needs, readable at any time (the private key never is).
 */
function signingFields<const K extends readonly [string, ...string[]]>(kinds: K) {
  return {
    signing: z.enum(kinds).describe(
      "`hmac`: a shared secret signs `v1,` signatures; `ed25519`: a key pair signs `v1a,` " +
        "signatures (Standard Webhooks), and the public key is published as a JWKS" +
        (kinds.includes("none") ? "; `none`: requests go unsigned" : ""),
    ),
    public_key: z.string().nullable().describe(
      "The current ed25519 public key, `whpk_` + base64 of its 32 bytes; null for HMAC",
    ),
  };
}

export const Webhook = component(
  "Webhook",
  "A receiver and what it subscribes to; its secret is shown only at creation and rotation",
  z.strictObject({
    id: z.string(),
    url: z.string(),
    description: z.string(),
    event_types: z.array(z.string()),
    enabled: z.boolean(),
    state: z.enum(["enabled", "paused", "disabled"]),
    disabled_reason: z.string().nullable(),
    disabled_at: timestamp.nullable(),
    circuit: z.strictObject({
      state: z.enum(["closed", "open", "half_open"]),
      opened_at: timestamp.nullable(),
      next_probe_at: timestamp.nullable(),
    }).nullable().describe(
      "This daemon's circuit breaker for the webhook; null when the answering process sends nothing",
    ),
    effective_concurrency: z.int().nullable().describe(
      "Attempts in flight allowed now: max_in_flight, lowered by AIMD after pushback",
    ),
    policy: z.string(),
    profile: z.string(),
    headers: stringMap,
    rate_limit: z.number().nullable(),
    max_in_flight: z.int().nullable(),
    tenant_id: z.string().nullable(),
    metadata: z.record(z.string(), z.unknown()),
    credential_id: z.string().nullable(),
    ...signingFields(["hmac", "ed25519", "none"]),
    tls: z.strictObject({
      ca_certs: z.array(z.string()),
      client_cert: z.string().nullable(),
      client_key: z.literal("[set]").nullable().describe("The key itself is never shown again"),
    }).nullable(),
    ordering: z.enum(["none", "key", "key_strict"]),
    oauth2: OAuth2Settings.nullable().describe(
      "The webhook's own OAuth2 settings; null: none (its credential's apply, if any)",
    ),
    basic_auth: BasicAuthSettings.nullable(),
    proxy: z.string().nullable().describe(
      "The forward proxy its attempts go through: null for the [delivery] proxy (if any), " +
        '"direct" for none, or the name of one of [delivery] proxies (URLs and credentials ' +
        "stay in the config file)",
    ),
    created_at: timestamp,
    updated_at: timestamp,
  }),
);

export const CreatedWebhook = component(
  "CreatedWebhook",
  "A new webhook with its HMAC signing secret, shown only this once (null: its requests go " +
    "unsigned, or it signs with ed25519, whose private key is never shown: see `public_key`)",
  Webhook.extend({ secret: z.string().nullable() }),
);

export const SecretRotation = component(
  "SecretRotation",
  "The new secret (or ed25519 key: then `secret` is null and `public_key` its public half); " +
    "the previous one keeps signing until `previous_secret_expires_at`",
  z.strictObject({
    id: z.string(),
    secret: z.string().nullable(),
    public_key: z.string().nullable(),
    previous_secret_expires_at: timestamp,
  }),
);

export const HeldCancelled = component(
  "HeldCancelled",
  "How many held deliveries an operator cancelled",
  z.strictObject({ cancelled: z.int().nonnegative() }),
);

export const Delivery = component(
  "Delivery",
  "One event on its way to one webhook",
  z.strictObject({
    id: z.string(),
    event_id: z.string(),
    event_type: z.string(),
    webhook_id: z.string(),
    state: z.enum(DELIVERY_STATES),
    attempt_count: z.int(),
    next_attempt_at: timestamp.nullable(),
    last_status: z.int().nullable(),
    last_error_kind: z.string().nullable(),
    created_at: timestamp,
    updated_at: timestamp,
  }),
);

export const Attempt = component(
  "Attempt",
  "One try at sending a delivery, as sent and as answered",
  z.strictObject({
    id: z.string(),
    number: z.int(),
    trigger: z.enum(["scheduled", "manual"]),
    started_at: timestamp,
    duration_ms: z.number(),
    request_headers: stringMap.describe(
      "As sent; values of credentials (Authorization, API keys, cookies) read `[redacted]`",
    ),
    response_status: z.int().nullable(),
    response_headers: stringMap.nullable(),
    response_body: z.string().nullable().describe("A capped excerpt"),
    error_kind: z.string().nullable().describe(
      "null for a success; `status`, `redirect`, `timeout`, `dns`, `connect`, `tls`, `reset`, " +
        "`blocked`, or `auth` (no OAuth2 token: the receiver's token endpoint failed)",
    ),
    error_message: z.string().nullable(),
  }),
);

export const DeliveryWithAttempts = component(
  "DeliveryWithAttempts",
  "A delivery and every attempt at it, oldest first",
  Delivery.extend({ attempts: z.array(Attempt) }),
);

export const DeliveryHistoryItem = component(
  "DeliveryHistoryItem",
  "A delivery in a webhook's history: its latest attempt inline (seed 004's delivery record), " +
    "and every attempt with `include=attempts`",
  Delivery.extend({
    latest_attempt: Attempt.nullable(),
    attempts: z.array(Attempt).optional().describe("Only with `include=attempts`; oldest first"),
  }),
);

export const Event = component(
  "Event",
  "A stored event and the deliveries it fanned out to",
  z.strictObject({
    id: z.string(),
    type: z.string(),
    tenant_id: z.string().nullable(),
    data: z.unknown().describe("The event's data, any JSON value"),
    occurred_at: timestamp,
    received_at: timestamp,
    ordering_key: z.string().nullable(),
    traceparent: z.string().nullable().describe("The producer's W3C traceparent, if it sent one"),
    tracestate: z.string().nullable(),
    deliveries: z.array(Delivery),
  }),
);

const acceptedFields = {
  id: z.string(),
  deliveries: z.array(z.strictObject({
    id: z.string(),
    webhook_id: z.string(),
    state: z.enum(DELIVERY_STATES),
  })),
};

export const EventAccepted = component(
  "EventAccepted",
  "The stored event's id and the deliveries created for it",
  z.strictObject(acceptedFields),
);

export const BatchAccepted = component(
  "BatchAccepted",
  "One result per event, in request order",
  z.strictObject({
    data: z.array(z.discriminatedUnion("status", [
      z.strictObject({ ...acceptedFields, status: z.enum(["created", "duplicate"]) }),
      z.strictObject({
        id: z.string(),
        status: z.literal("conflict"),
        error: z.strictObject({ code: z.literal("conflict"), message: z.string() }),
      }),
      z.strictObject({
        id: z.string(),
        status: z.literal("erased"),
        error: z.strictObject({ code: z.literal("erased"), message: z.string() }),
      }).describe("The id or Idempotency-Key belongs to an erased event; never accepted again"),
    ])),
  }),
);

export const EventErased = component(
  "EventErased",
  "An erased event: its data and its attempts' headers and bodies are gone for good",
  z.strictObject({
    id: z.string(),
    erased_at: timestamp,
    cancelled: z.int().nonnegative().describe(
      "Deliveries this request cancelled (pending, held, in flight or dead); 0 on a repeat",
    ),
  }),
);

export const Recovered = component(
  "Recovered",
  "What a recover did: deliveries created for missed events, and events skipped because the " +
    "webhook has received them or has a delivery of them on its way",
  z.strictObject({ created: z.int().nonnegative(), skipped: z.int().nonnegative() }),
);

export const Replayed = component(
  "Replayed",
  "How many dead deliveries are pending again, due now",
  z.strictObject({ replayed: z.int() }),
);

export const ApiKey = component(
  "ApiKey",
  "An API key's record; the key itself is shown only at creation",
  z.strictObject({
    id: z.string(),
    name: z.string(),
    scopes: z.array(z.enum(SCOPES)),
    created_at: timestamp,
    last_used_at: timestamp.nullable(),
  }),
);

export const CreatedApiKey = component(
  "CreatedApiKey",
  "A new API key with the key itself, shown only this once",
  ApiKey.extend({ key: z.string() }),
);

export const Credential = component(
  "Credential",
  "A signing secret, headers and receiver auth that several webhooks share; secret values are " +
    "never shown",
  z.strictObject({
    id: z.string(),
    name: z.string(),
    headers: z.record(z.string(), z.literal("[set]")),
    oauth2: OAuth2Settings.nullable(),
    basic_auth: BasicAuthSettings.nullable(),

    ...signingFields(["hmac", "ed25519"]),
    previous_secret_expires_at: timestamp.nullable(),
    created_at: timestamp,
    updated_at: timestamp,
  }),
);

export const CreatedCredential = component(
  "CreatedCredential",
  "A new credential with its HMAC secret, shown only this once (null for ed25519: the private " +
    "key is never shown; see `public_key`)",
  Credential.extend({ secret: z.string().nullable() }),
);

export const Jwks = component(
  "Jwks",
  "A JSON Web Key Set (RFC 7517) of the ed25519 keys that sign now, current first (RFC 8037 " +
    "`OKP`); `kid` is the key's RFC 7638 thumbprint. Signatures name no key: verify a `v1a` " +
    "signature against each listed key",
  z.strictObject({
    keys: z.array(z.strictObject({
      kty: z.literal("OKP"),
      crv: z.literal("Ed25519"),
      x: z.string().describe("The raw public key, base64url"),
      kid: z.string(),
      use: z.literal("sig"),
      alg: z.literal("EdDSA"),
    })),
  }),
);

export const Whoami = component(
  "Whoami",
  "The key that made the request: its id (`admin` for the root key), name and scopes, " +
    "implied ones included (what a client may offer its user)",
  z.strictObject({ key_id: z.string(), name: z.string(), scopes: z.array(z.enum(SCOPES)) }),
);

export const WebhookStats = component(
  "WebhookStats",
  "Recent attempts per webhook: the dashboard's success rate and last status",
  z.strictObject({
    since: timestamp.describe("The oldest attempt time counted"),
    complete: z.boolean().describe(
      "False when the window held more attempts than are counted; then `since` is later " +
        "than asked and only the newest attempts are counted",
    ),
    data: z.array(z.strictObject({
      webhook_id: z.string(),
      attempts: z.int(),
      succeeded: z.int(),
      failed: z.int(),
      last_status: z.int().nullable(),
      last_error_kind: z.string().nullable(),
      last_attempt_at: timestamp,
    })).describe("Webhooks with attempts in the window, latest attempt first"),
  }),
);

export const LiveCounters = component(
  "LiveCounters",
  "This daemon's running totals since it started, and its backlog now; a client computes " +
    "rates from two readings",
  z.strictObject({
    at: timestamp,
    events_ingested: z.number(),
    attempts: z.number(),
    attempts_failed: z.number(),
    deliveries_succeeded: z.number(),
    deliveries_dead: z.number(),
    pending: z.number(),
    held: z.number(),
    dead: z.number(),
  }),
);

/** A list page: `next_cursor` continues it, null on the last page. */
function page<T extends z.ZodType>(item: T, id: string, description: string) {
  return component(
    id,
    description,
    z.strictObject({
      data: z.array(item),
      next_cursor: z.string().nullable().describe("Pass as `cursor` for the next page"),
    }),
  );
}

export const WebhookPage = page(Webhook, "WebhookPage", "A page of webhooks, oldest first");
export const DeliveryPage = page(Delivery, "DeliveryPage", "A page of deliveries, oldest first");
export const DeliveryHistoryPage = page(
  DeliveryHistoryItem,
  "DeliveryHistoryPage",
  "A page of a webhook's history, oldest first",
);
export const ApiKeyPage = page(ApiKey, "ApiKeyPage", "A page of active API keys");
export const CredentialPage = page(Credential, "CredentialPage", "A page of credentials");
