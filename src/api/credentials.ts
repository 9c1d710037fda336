/**
 * `/api/v1/credentials`: signing secrets (and headers, and receiver auth:
 * OAuth2 client credentials or basic auth) as objects of their own that
 * several webhooks reference by `credential_id`. Rotating or editing one
 * applies to every webhook that uses it.
 */
import { z } from "zod";
import { customHeaderProblems } from "../delivery/custom_headers.ts";
import { uuidv7 } from "../ids.ts";
import { TargetGuard } from "../net/target_guard.ts";
import type { ApiDeps } from "./deps.ts";
import { ApiError, notFound } from "./errors.ts";
import { renderCredential, renderPage, renderSigning, rfc3339 } from "./render.ts";
import { CreatedCredential, Credential, CredentialPage, SecretRotation } from "./responses.ts";
import { createdReceiverAuth, receiverAuthSchemas, updatedReceiverAuth } from "./receiver_auth.ts";
import { route } from "./route.ts";
import { idParam, pageQuery } from "./schemas.ts";
import { initialSecret, rotatedSecret, signingChoice } from "./signing_choice.ts";

/** How long a rotated-out secret keeps signing alongside the new one. */
const ROTATION_OVERLAP_MS = 24 * 60 * 60 * 1000;

const name = z.string({ error: "is required: a name of 1-100 characters" })
  .min(1, "must not be empty").max(100, "must be at most 100 characters");

export const customHeaders = z.record(
  z.string(),
  z.string({ error: "header values must be strings" }),
).superRefine((headers, ctx) => {
  for (const problem of customHeaderProblems(headers)) {
    ctx.addIssue({ code: "custom", message: problem });
  }
});

/** A secret supplied by the caller: `whsec_` + base64 of 24-64 bytes, or 16-256 plain characters. */
export const suppliedSecret = z.string().superRefine((secret, ctx) => {
  if (secret.startsWith("whsk_") || secret.startsWith("whpk_")) {
    ctx.addIssue({
      code: "custom",
      message: 'whsk_ and whpk_ are ed25519 keys, which hookd generates itself: send "signing": ' +
        '"ed25519" and no secret',
    });
  } else if (secret.startsWith("whsec_")) {
    let bytes = -1;
    try {
      bytes = atob(secret.slice(6)).length;
    } catch { /* reported below */ }
    if (bytes < 24 || bytes > 64) {
      ctx.addIssue({
        code: "custom",
        message: "a whsec_ secret must be whsec_ followed by base64 of 24 to 64 bytes",
      });
    }
  } else if (secret.length < 16 || secret.length > 256 || /[^\x21-\x7e]/.test(secret)) {
    ctx.addIssue({
      code: "custom",
      message: "must be 16-256 printable ASCII characters without spaces, or a whsec_ secret",
    });
  }
});

export function credentialRoutes({ store, clock, delivery, config }: ApiDeps) {
  const auth = receiverAuthSchemas({
    requireHttps: config.security.requireHttps,
    // Literal addresses are judged at creation; names are checked at every token request.
    guard: new TargetGuard({
      allowPrivate: config.security.allowPrivateTargets,
      allowCidrs: config.security.allowCidrs,
      resolver: { resolve: () => Promise.reject(new Error("names are checked at send time")) },
    }),
  });
  return [
    route({
      method: "POST",
      path: "/api/v1/credentials",
      summary: "Create a credential; the answer carries its HMAC secret, shown only this once",
      tag: "credentials",
      scope: "webhooks:manage",
      body: z.strictObject({
        name,
        signing: signingChoice.default("hmac"),
        secret: suppliedSecret.optional(),
        headers: customHeaders.default({}),
        ...auth.create,
      }),
      responses: {
        201: { description: "The credential, with `secret`", schema: CreatedCredential },
      },
      handler: async ({ c, body }) => {
        const now = clock.now();
        const credential = await store.write("insertCredential", {
          credential: {
            id: uuidv7(now),
            name: body.name,
            secret: initialSecret(body.signing, body.secret),
            previousSecret: null,
            previousSecretUntil: null,
            headers: body.headers,
            receiverAuth: createdReceiverAuth(body),
            createdAt: now,
            updatedAt: now,
          },
        });
        const rendered = renderCredential(credential);
        const secret = rendered.signing === "hmac" ? credential.secret : null;
        return c.json({ ...rendered, secret }, 201);
      },
    }),
    route({
      method: "GET",
      path: "/api/v1/credentials",
      summary: "List credentials (never their secrets or header values)",
      tag: "credentials",
      scope: "webhooks:manage",
      query: z.strictObject(pageQuery),
      responses: { 200: { description: "A page of credentials", schema: CredentialPage } },
      handler: async ({ c, query }) => {
        const page = await store.read("listCredentials", {
          page: { limit: query.limit, after: query.cursor },
        });
        return c.json(renderPage(page, renderCredential));
      },
    }),
    route({
      method: "GET",
      path: "/api/v1/credentials/:id",
      summary: "Read a credential",
      tag: "credentials",
      scope: "webhooks:manage",
      params: idParam,
      responses: {
        200: { description: "The credential", schema: Credential },
        404: "No such credential",
      },
      handler: async ({ c, params }) => {
        const credential = await store.read("getCredential", { id: params.id });
        if (!credential) throw notFound("credential", params.id);
        return c.json(renderCredential(credential));
      },
    }),
    route({
      method: "PATCH",
      path: "/api/v1/credentials/:id",
      summary:
        "Rename a credential or replace its headers or receiver auth; applies to every webhook using it",
      tag: "credentials",
      scope: "webhooks:manage",
      params: idParam,
      body: z.strictObject({
        name: name.optional(),
        headers: customHeaders.optional(),
        ...auth.update,
      }),
      responses: {
        200: { description: "The credential", schema: Credential },
        404: "No such credential",
      },
      handler: async ({ c, params, body }) => {
        const receiverAuth = await updatedReceiverAuth(
          body,
          async () => (await store.read("getCredential", { id: params.id }))?.receiverAuth,
        );
        const updated = await store.write("updateCredential", {
          id: params.id,
          patch: { name: body.name, headers: body.headers, receiverAuth },
          now: clock.now(),
        });
        if (!updated) throw notFound("credential", params.id);
        delivery?.webhookChanged(updated.id);
        return c.json(renderCredential(updated));
      },
    }),
    route({
      method: "POST",
      path: "/api/v1/credentials/:id/rotate-secret",
      summary: "New secret (or ed25519 key) for every webhook using it; the old one keeps " +
        "signing for 24 hours",
      tag: "credentials",
      scope: "webhooks:manage",
      params: idParam,
      responses: {
        200: { description: "The new secret", schema: SecretRotation },
        404: "No such credential",
      },
      handler: async ({ c, params }) => {
        const current = await store.read("getCredential", { id: params.id });
        if (!current) throw notFound("credential", params.id);
        const now = clock.now();
        const rotated = await store.write("rotateCredentialSecret", {
          id: params.id,
          secret: rotatedSecret(current.secret),
          previousUntil: now + ROTATION_OVERLAP_MS,
          now,
        });
        if (!rotated) throw notFound("credential", params.id);
        delivery?.webhookChanged(rotated.id);
        const { signing, public_key } = renderSigning(rotated.secret);
        return c.json({
          id: rotated.id,
          secret: signing === "hmac" ? rotated.secret : null,
          public_key,
          previous_secret_expires_at: rfc3339(rotated.previousSecretUntil!),
        });
      },
    }),
    route({
      method: "DELETE",
      path: "/api/v1/credentials/:id",
      summary: "Delete a credential no webhook uses",
      tag: "credentials",
      scope: "webhooks:manage",
      params: idParam,
      responses: { 204: "Deleted", 404: "No such credential", 409: "Webhooks still use it" },
      handler: async ({ c, params }) => {
        const result = await store.write("deleteCredential", { id: params.id, now: clock.now() });
        if (result === "not_found") throw notFound("credential", params.id);
        if (result !== "deleted") {
          throw new ApiError(
            409,
            "conflict",
            `${result.inUseBy} webhook(s) still use this credential; point them elsewhere first`,
            { webhooks: result.inUseBy },
          );
        }
        return c.body(null, 204);
      },
    }),
  ];
}
