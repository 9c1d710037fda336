/** `/api/v1/webhooks`: create, list, read, update, delete, rotate the secret. */
import { z } from "zod";
import { customHeaderProblems } from "../delivery/custom_headers.ts";
import { TargetGuard } from "../net/target_guard.ts";
import { targetUrlProblem } from "../delivery/target_url.ts";
import {
  chooseProxy,
  CLIENT_CERT_THROUGH_PROXY,
  proxySettingProblem,
} from "../delivery/proxy_choice.ts";
import { uuidv7 } from "../ids.ts";
import { eventPatternProblem } from "../fanout/event_pattern.ts";
import type { WebhookPatch, WebhookRecord, WebhookState, WebhookTls } from "../store/webhooks.ts";
import type { ApiDeps } from "./deps.ts";
import { ApiError, notFound, validationError } from "./errors.ts";
import { renderPage, renderSigning, renderWebhook, rfc3339 } from "./render.ts";
import {
  CreatedWebhook,
  HeldCancelled,
  SecretRotation,
  Webhook,
  WebhookPage,
} from "./responses.ts";
import { route } from "./route.ts";
import { idParam, jsonObject, pageQuery, tenantId } from "./schemas.ts";
import { suppliedSecret } from "./credentials.ts";
import { createdReceiverAuth, receiverAuthSchemas, updatedReceiverAuth } from "./receiver_auth.ts";
import {
  checkSigningProfile,
  initialSecret,
  rotatedSecret,
  signingChoice,
} from "./signing_choice.ts";

/** How long a rotated-out secret keeps signing alongside the new one. */
const ROTATION_OVERLAP_MS = 24 * 60 * 60 * 1000;

const PEM_CERT = /^\s*(-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\s*)+$/;
const PEM_KEY = /^\s*-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]+-----END [A-Z ]*PRIVATE KEY-----\s*$/;

/** Extra CA certificates and an optional client certificate (mTLS) for one receiver. */
const webhookTls = z.strictObject({
  ca_certs: z.array(
    z.string().regex(PEM_CERT, "must be PEM certificates (-----BEGIN CERTIFICATE-----)"),
  )
    .max(10, "at most 10 CA bundles").default([]),
  client_cert: z.string().regex(PEM_CERT, "must be a PEM certificate chain").nullable()
    .default(null),
  client_key: z.string().regex(PEM_KEY, "must be a PEM private key").nullable().default(null),
}).refine((t) => (t.client_cert === null) === (t.client_key === null), {
  message: "client_cert and client_key go together (mTLS needs both)",
});

function toTls(tls: z.output<typeof webhookTls> | null): WebhookTls | null {
  if (tls === null) return null;
  return { caCerts: tls.ca_certs, clientCert: tls.client_cert, clientKey: tls.client_key };
}

function webhookFields(deps: ApiDeps) {
  const policies = Object.keys(deps.config.policies);
  // Literal addresses are judged at creation; names are checked at every send.
  const guard = new TargetGuard({
    allowPrivate: deps.config.security.allowPrivateTargets,
    allowCidrs: deps.config.security.allowCidrs,
    resolver: { resolve: () => Promise.reject(new Error("names are checked at send time")) },
  });
  const profiles = Object.keys(deps.config.profiles);
  const auth = receiverAuthSchemas({ requireHttps: deps.config.security.requireHttps, guard });
  return {
    auth,
    url: z.string({ error: "must be a string URL" }).superRefine((url, ctx) => {
      const problem = targetUrlProblem(url, { requireHttps: deps.config.security.requireHttps }) ??
        guard.literalProblem(new URL(url).hostname);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    }),
    event_types: z.array(
      z.string().superRefine((pattern, ctx) => {
        const problem = eventPatternProblem(pattern);
        if (problem) ctx.addIssue({ code: "custom", message: problem });
      }),
      { error: 'must be an array of event type patterns such as ["order.created", "invoice.*"]' },
    ).min(1, 'must list at least one event type pattern (use ["*"] for every type)').max(
      100,
      "must list at most 100 patterns",
    ),
    description: z.string().max(1000, "must be at most 1000 characters"),
    enabled: z.boolean(),
    state: z.enum(["enabled", "paused", "disabled"], {
      error: 'must be "enabled", "paused" or "disabled"',
    }),
    policy: z.string().refine((name) => policies.includes(name), {
      message: `must name a configured policy: ${
        policies.map((p) => JSON.stringify(p)).join(", ")
      }`,
    }),
    profile: z.string().refine((name) => profiles.includes(name), {
      message: `must name a configured profile: ${
        profiles.map((p) => JSON.stringify(p)).join(", ")
      }`,
    }),
    headers: z.record(z.string(), z.string({ error: "header values must be strings" }))
      .superRefine((headers, ctx) => {
        for (const problem of customHeaderProblems(headers)) {
          ctx.addIssue({ code: "custom", message: problem });
        }
      }),
    rate_limit: z.number().positive("must be a positive number of requests per second")
      .max(100_000, "must be at most 100000 per second").nullable(),
    max_in_flight: z.number().int("must be an integer").min(1, "must be at least 1")
      .max(10_000, "must be at most 10000").nullable(),
    tenant_id: tenantId.nullable(),
    metadata: jsonObject(16 * 1024),
    credential_id: z.string().min(1, "must not be empty").nullable(),
    tls: webhookTls.nullable(),
    ordering: z.enum(["none", "key", "key_strict"], {
      error: 'must be "none", "key" (one at a time per ordering_key; a dead one releases the ' +
        'next) or "key_strict" (a dead one holds the next until it is replayed)',
    }),
    proxy: z.string({ error: 'must be null, "direct" or the name of a configured proxy' })
      .superRefine((name, ctx) => {
        const problem = proxySettingProblem(name, deps.config.delivery);
        if (problem) ctx.addIssue({ code: "custom", message: problem });
      }).nullable().describe(
        'null: the [delivery] proxy, if any; "direct": no proxy; or the name of one of ' +
          '[delivery] proxies. Not with an mTLS client certificate (use "direct")',
      ),
  };
}

/**
 * A client certificate cannot go through a proxy (see `proxy_choice.ts`):
 * refused when a webhook is written, not first noticed at send time.
 */
function checkClientCertProxy(
  deps: ApiDeps,
  proxy: string | null,
  tls: WebhookTls | null,
): void {
  if (tls === null || tls.clientCert === null) return;
  const choice = chooseProxy(proxy, deps.config.delivery);
  if (choice.ok && choice.proxy === undefined) return;
  throw validationError([{ field: "proxy", message: CLIENT_CERT_THROUGH_PROXY }]);
}

function createSchema(deps: ApiDeps) {
  const f = webhookFields(deps);
  return z.strictObject({
    url: f.url,
    event_types: f.event_types.default(["*"]),
    description: f.description.default(""),
    enabled: f.enabled.optional(),
    state: f.state.optional(),
    policy: f.policy.default("default"),
    profile: f.profile.default("standard"),
    headers: f.headers.default({}),
    rate_limit: f.rate_limit.default(null),
    max_in_flight: f.max_in_flight.default(null),
    tenant_id: f.tenant_id.default(null),
    metadata: f.metadata.default({}),
    credential_id: f.credential_id.default(null),
    tls: f.tls.default(null),
    ordering: f.ordering.default("none"),
    ...f.auth.create,
    proxy: f.proxy.default(null),
    signing: signingChoice.default("hmac"),
    // Omitted: generated (of the kind `signing` names). null: requests go unsigned. A string:
    // used as given (HMAC only).
    secret: suppliedSecret.nullable().optional(),
  });
}

function updateSchema(deps: ApiDeps) {
  const f = webhookFields(deps);
  return z.strictObject({
    url: f.url.optional(),
    event_types: f.event_types.optional(),
    description: f.description.optional(),
    enabled: f.enabled.optional(),
    state: f.state.optional(),
    policy: f.policy.optional(),
    profile: f.profile.optional(),
    headers: f.headers.optional(),
    rate_limit: f.rate_limit.optional(),
    max_in_flight: f.max_in_flight.optional(),
    tenant_id: f.tenant_id.optional(),
    metadata: f.metadata.optional(),
    credential_id: f.credential_id.optional(),
    tls: f.tls.optional(),
    ordering: f.ordering.optional(),
    ...f.auth.update,
    proxy: f.proxy.optional(),
  });
}

const listQuery = z.strictObject({
  ...pageQuery,
  state: z.enum(["enabled", "paused", "disabled"], {
    error: 'must be "enabled", "paused" or "disabled"',
  }).optional(),
  tenant_id: tenantId.optional(),
});

/**
 * `enabled` is the simple switch seed 004 uses; `state` also knows `paused`.
 * Both may be sent only if they agree.
 */
function resolveState(enabled: boolean | undefined, state: WebhookState | undefined) {
  if (enabled !== undefined && state !== undefined && enabled !== (state === "enabled")) {
    throw new ApiError(
      400,
      "validation_failed",
      `enabled: ${enabled} contradicts state: "${state}"; send one of them`,
      [{ field: "enabled", message: `contradicts state "${state}"` }],
    );
  }
  if (state !== undefined) return state;
  if (enabled !== undefined) return enabled ? "enabled" : "disabled";
  return undefined;
}

/** What the log says of a state change, and what the operator may do next. */
const STATE_CHANGE: Record<WebhookState, { message: string; effect: string }> = {
  enabled: { message: "webhook enabled", effect: "deliveries resume, held ones included" },
  paused: {
    message: "webhook paused",
    effect: 'deliveries are held; resume with PATCH /api/v1/webhooks/{id} {"state":"enabled"}',
  },
  disabled: {
    message: "webhook disabled",
    effect: "new events are not delivered to it; pending deliveries are held: enable with " +
      'PATCH {"state":"enabled"} to send them, or POST /api/v1/webhooks/{id}/cancel-held to drop them',
  },
};

export function webhookRoutes(deps: ApiDeps) {
  const { store, clock, delivery, log } = deps;

  /** A referenced credential must exist: a 400 naming the field, not a failure at send time. */
  async function checkCredential(id: string | null | undefined) {
    if (id === null || id === undefined) return undefined;
    const credential = await store.read("getCredential", { id });
    if (!credential) {
      throw validationError([{
        field: "credential_id",
        message: `no credential with id ${JSON.stringify(id)}`,
      }]);
    }
    return credential;
  }

  /**
   * A change of profile or credential must leave a profile that can sign with
   * the key that signs (ed25519 signs `v1a` only): checked against the
   * webhook as it would be after the change.
   */
  async function checkSigningAfter(id: string, profile?: string, credentialId?: string | null) {
    if (profile === undefined && credentialId === undefined) return;
    const current = await store.read("getWebhook", { id });
    if (!current) return; // the update answers 404
    const credential = await checkCredential(
      credentialId === undefined ? current.credentialId : credentialId,
    );
    checkSigningProfile(
      deps.config.profiles[profile ?? current.profile],
      credential ? credential.secret : current.secret,
      profile !== undefined ? "profile" : "credential_id",
    );
  }
  const create = createSchema(deps);
  const update = updateSchema(deps);

  const applyUpdate = route({
    method: "PATCH",
    path: "/api/v1/webhooks/:id",
    summary: "Update a webhook; only the fields sent change",
    tag: "webhooks",
    scope: "webhooks:manage",
    params: idParam,
    body: update,
    responses: {
      200: { description: "The updated webhook", schema: Webhook },
      404: "No such webhook",
    },
    handler: async ({ c, params, body, principal }) => {
      const state = resolveState(body.enabled, body.state);
      await checkCredential(body.credential_id);
      const tls = body.tls === undefined ? undefined : toTls(body.tls);
      if (tls !== undefined || body.proxy !== undefined) {
        const current = await store.read("getWebhook", { id: params.id });
        if (!current) throw notFound("webhook", params.id);
        checkClientCertProxy(
          deps,
          body.proxy === undefined ? current.proxy : body.proxy,
          tls === undefined ? current.tls : tls,
        );
      }
      await checkSigningAfter(params.id, body.profile, body.credential_id);
      const patch: WebhookPatch = {
        url: body.url,
        eventTypes: body.event_types,
        description: body.description,
        state,
        disabledReason: state === "disabled" ? "disabled through the API" : undefined,
        policy: body.policy,
        profile: body.profile,
        headers: body.headers,
        rateLimitPerSecond: body.rate_limit,
        maxInFlight: body.max_in_flight,
        tenantId: body.tenant_id,
        metadata: body.metadata,
        credentialId: body.credential_id,
        tls,
        ordering: body.ordering,
        receiverAuth: await updatedReceiverAuth(
          body,
          async () => (await store.read("getWebhook", { id: params.id }))?.receiverAuth,
        ),
        proxy: body.proxy,
      };
      const updated = await store.write("updateWebhook", {
        id: params.id,
        patch,
        now: clock.now(),
      });
      if (!updated) throw notFound("webhook", params.id);
      delivery?.webhookChanged(updated.id);
      // Names of the fields sent, never their values (headers and URLs may carry secrets).
      const fields = { webhook_id: updated.id, key_id: principal.keyId, fields: Object.keys(body) };
      if (state === undefined) log.info("webhook updated", fields);
      else log.info(STATE_CHANGE[state].message, { ...fields, effect: STATE_CHANGE[state].effect });
      return c.json(renderWebhook(updated, delivery?.flowOf(updated.id)));
    },
  });

  return [
    route({
      method: "POST",
      path: "/api/v1/webhooks",
      summary: "Create a webhook; the answer carries its HMAC signing secret, shown only this once",
      tag: "webhooks",
      scope: "webhooks:manage",
      body: create,
      responses: { 201: { description: "The webhook, with `secret`", schema: CreatedWebhook } },
      handler: async ({ c, body, principal }) => {
        const credential = await checkCredential(body.credential_id);
        checkClientCertProxy(deps, body.proxy, toTls(body.tls));
        const secret = initialSecret(body.signing, body.secret);
        checkSigningProfile(
          deps.config.profiles[body.profile],
          credential ? credential.secret : secret,
          "profile",
        );
        const now = clock.now();
        const webhook: WebhookRecord = {
          id: uuidv7(now),
          url: body.url,
          description: body.description,
          eventTypes: body.event_types,
          state: resolveState(body.enabled, body.state) ?? "enabled",
          disabledReason: null,
          disabledAt: null,
          policy: body.policy,
          profile: body.profile,
          secret,
          previousSecret: null,
          previousSecretUntil: null,
          headers: body.headers,
          rateLimitPerSecond: body.rate_limit,
          maxInFlight: body.max_in_flight,
          tenantId: body.tenant_id,
          metadata: body.metadata,
          credentialId: body.credential_id,
          tls: toTls(body.tls),
          ordering: body.ordering,
          receiverAuth: createdReceiverAuth(body),
          proxy: body.proxy,
          createdAt: now,
          updatedAt: now,
        };
        if (webhook.state === "disabled") {
          Object.assign(webhook, { disabledReason: "created disabled", disabledAt: now });
        }
        const created = await store.write("insertWebhook", { webhook });
        delivery?.webhookChanged(created.id);
        const rendered = renderWebhook(created, delivery?.flowOf(created.id));
        log.info("webhook created", {
          webhook_id: created.id,
          key_id: principal.keyId,
          state: created.state,
          signing: rendered.signing,
        });
        // The private half of an ed25519 key is never shown; `public_key` is its public half.
        return c.json(
          { ...rendered, secret: rendered.signing === "hmac" ? created.secret : null },
          201,
        );
      },
    }),
    route({
      method: "GET",
      path: "/api/v1/webhooks",
      summary: "List webhooks, oldest first",
      tag: "webhooks",
      scope: "webhooks:read",
      query: listQuery,
      responses: { 200: { description: "A page of webhooks", schema: WebhookPage } },
      handler: async ({ c, query }) => {
        const page = await store.read("listWebhooks", {
          filter: { state: query.state, tenantId: query.tenant_id },
          page: { limit: query.limit, after: query.cursor },
        });
        return c.json(renderPage(page, (w) => renderWebhook(w, delivery?.flowOf(w.id))));
      },
    }),
    route({
      method: "GET",
      path: "/api/v1/webhooks/:id",
      summary: "Read a webhook",
      tag: "webhooks",
      scope: "webhooks:read",
      params: idParam,
      responses: { 200: { description: "The webhook", schema: Webhook }, 404: "No such webhook" },
      handler: async ({ c, params }) => {
        const webhook = await store.read("getWebhook", { id: params.id });
        if (!webhook) throw notFound("webhook", params.id);
        return c.json(renderWebhook(webhook, delivery?.flowOf(webhook.id)));
      },
    }),
    applyUpdate,
    // PUT takes the same partial update: `PUT {"enabled": false}` works as seed 004 documents.
    { ...applyUpdate, method: "PUT" as const, summary: "Update a webhook (same as PATCH)" },
    route({
      method: "DELETE",
      path: "/api/v1/webhooks/:id",
      summary: "Delete a webhook and cancel its pending deliveries",
      tag: "webhooks",
      scope: "webhooks:manage",
      params: idParam,
      responses: { 204: "Deleted", 404: "No such webhook" },
      handler: async ({ c, params, principal }) => {
        const deleted = await store.write("deleteWebhook", { id: params.id, now: clock.now() });
        if (!deleted) throw notFound("webhook", params.id);
        delivery?.webhookChanged(params.id);
        log.info("webhook deleted", {
          webhook_id: params.id,
          key_id: principal.keyId,
          effect: "its pending deliveries are cancelled",
        });
        return c.body(null, 204);
      },
    }),
    route({
      method: "POST",
      path: "/api/v1/webhooks/:id/cancel-held",
      summary: "Cancel the deliveries a paused or disabled webhook holds; they are never sent",
      tag: "webhooks",
      scope: "webhooks:manage",
      params: idParam,
      responses: {
        200: { description: "How many deliveries were cancelled", schema: HeldCancelled },
        404: "No such webhook",
      },
      handler: async ({ c, params, principal }) => {
        const cancelled = await store.write("cancelHeldDeliveries", {
          webhookId: params.id,
          now: clock.now(),
        });
        if (cancelled === null) throw notFound("webhook", params.id);
        log.info("held deliveries cancelled", {
          webhook_id: params.id,
          key_id: principal.keyId,
          cancelled,
          effect: "they are never sent; a replay of dead letters does not bring them back",
        });
        return c.json({ cancelled });
      },
    }),
    route({
      method: "POST",
      path: "/api/v1/webhooks/:id/rotate-secret",
      summary: "Generate a new signing secret (or ed25519 key, for a webhook signing with one); " +
        "the old one keeps signing for 24 hours",
      tag: "webhooks",
      scope: "webhooks:manage",
      params: idParam,
      responses: {
        200: { description: "The new secret", schema: SecretRotation },
        404: "No such webhook",
      },
      handler: async ({ c, params, principal }) => {
        const current = await store.read("getWebhook", { id: params.id });
        if (!current) throw notFound("webhook", params.id);
        const now = clock.now();
        const secret = rotatedSecret(current.secret);
        const rotated = await store.write("rotateWebhookSecret", {
          id: params.id,
          secret,
          previousUntil: now + ROTATION_OVERLAP_MS,
          now,
        });
        if (!rotated) throw notFound("webhook", params.id);
        delivery?.webhookChanged(rotated.id);
        log.info("webhook secret rotated", {
          webhook_id: rotated.id,
          key_id: principal.keyId,
          previous_secret_expires_at: rfc3339(rotated.previousSecretUntil!),
          effect: "requests carry both signatures until the previous secret expires",
        });
        const { signing, public_key } = renderSigning(secret);
        return c.json({
          id: rotated.id,
          secret: signing === "hmac" ? secret : null,
          public_key,
          previous_secret_expires_at: rfc3339(rotated.previousSecretUntil!),
        });
      },
    }),
  ];
}
