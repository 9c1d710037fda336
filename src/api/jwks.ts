/**
 * The public keys of ed25519 signing, as JSON Web Key Sets at stable URLs
 * that need no API key, so receivers can find and refresh them on their own:
 *
 *   GET /api/v1/webhooks/{id}/jwks.json      the keys that sign that webhook's requests
 *                                            (its credential's, when it uses one)
 *   GET /api/v1/credentials/{id}/jwks.json   the credential's keys
 *
 * Each lists the current key and, during a rotation's overlap, the previous
 * one: the same keys `signingMaterial` signs with, so the set and the
 * `webhook-signature` header always agree.
 *
 * Safe to serve openly: the set holds public material only, and it tells
 * nothing else. An unknown or deleted id, and a webhook or credential that
 * signs with HMAC (nothing public to show), get the same 404, byte for byte,
 * after the same store work; ids are UUIDv7 with 74 random bits, so there is
 * nothing to enumerate. Like `/healthz`, these routes sit behind the front
 * door (connection caps, header and idle timeouts) as every request does.
 *
 * @module
 */
import { jwksOf } from "../delivery/jwks.ts";
import { activeSecrets, signingMaterial } from "../delivery/signing_material.ts";
import type { ApiDeps } from "./deps.ts";
import { ApiError } from "./errors.ts";
import { Jwks } from "./responses.ts";
import { route } from "./route.ts";
import { idParam } from "./schemas.ts";

/**
 * Receivers may keep a set for five minutes. A rotation never outruns that:
 * the previous key keeps signing for 24 hours, so a receiver holding the old
 * set still finds a signature it can verify, and one that finds none should
 * fetch the set again.
 */
const CACHE_CONTROL = "public, max-age=300";

function noKeys(what: string, id: string): ApiError {
  return new ApiError(
    404,
    "not_found",
    `No published signing keys for ${what} ${JSON.stringify(id)}`,
    undefined,
    // A 404 is cacheable by default; this one may turn into keys (a webhook created a moment later).
    { "cache-control": "no-store" },
  );
}

const NOT_FOUND = "Unknown, deleted, or signing with HMAC: the same answer for each";

export function jwksRoutes({ store, clock }: ApiDeps) {
  return [
    route({
      method: "GET",
      path: "/api/v1/webhooks/:id/jwks.json",
      summary: "The ed25519 public keys that sign this webhook's requests (no API key needed)",
      tag: "webhooks",
      scope: null,
      params: idParam,
      responses: {
        200: { description: "The key set, current key first", schema: Jwks },
        404: NOT_FOUND,
      },
      handler: async ({ c, params }) => {
        const signer = await store.read("webhookSigner", { id: params.id });
        const material = signer &&
          signingMaterial(signer.webhook, signer.credential ?? undefined, clock.now());
        const set = jwksOf(material ? material.secrets : []);
        if (set.keys.length === 0) throw noKeys("webhook", params.id);
        return c.json(set, 200, { "cache-control": CACHE_CONTROL });
      },
    }),
    route({
      method: "GET",
      path: "/api/v1/credentials/:id/jwks.json",
      summary: "The ed25519 public keys of this credential (no API key needed)",
      tag: "credentials",
      scope: null,
      params: idParam,
      responses: {
        200: { description: "The key set, current key first", schema: Jwks },
        404: NOT_FOUND,
      },
      handler: async ({ c, params }) => {
        const credential = await store.read("getCredential", { id: params.id });
        const set = jwksOf(credential ? activeSecrets(credential, clock.now()) : []);
        if (set.keys.length === 0) throw noKeys("credential", params.id);
        return c.json(set, 200, { "cache-control": CACHE_CONTROL });
      },
    }),
  ];
}
