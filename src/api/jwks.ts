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

/**
 * One key-set route: `secretsOf` finds the signing secrets for an id (none
 * for an unknown, deleted or HMAC one), and only their public halves go out.
 */
function keySetRoute(options: {
  readonly kind: "webhook" | "credential";
  readonly summary: string;
  readonly secretsOf: (id: string) => Promise<readonly string[]>;
}) {
  return route({
    method: "GET",
    path: `/api/v1/${options.kind}s/:id/jwks.json`,
    summary: options.summary,
    tag: `${options.kind}s`,
    scope: null,
    params: idParam,
    responses: {
      200: { description: "The key set, current key first", schema: Jwks },
      404: NOT_FOUND,
    },
    handler: async ({ c, params }) => {
      const set = jwksOf(await options.secretsOf(params.id));
      if (set.keys.length === 0) throw noKeys(options.kind, params.id);
      return c.json(set, 200, { "cache-control": CACHE_CONTROL });
    },
  });
}

export function jwksRoutes({ store, clock }: ApiDeps) {
  return [
    keySetRoute({
      kind: "webhook",
      summary: "The ed25519 public keys that sign this webhook's requests (no API key needed)",
      secretsOf: async (id) => {
        const signer = await store.read("webhookSigner", { id });
        const material = signer &&
          signingMaterial(signer.webhook, signer.credential ?? undefined, clock.now());
        return material ? material.secrets : [];
      },
    }),
    keySetRoute({
      kind: "credential",
      summary: "The ed25519 public keys of this credential (no API key needed)",
      secretsOf: async (id) => {
        const credential = await store.read("getCredential", { id });
        return credential ? activeSecrets(credential, clock.now()) : [];
      },
    }),
  ];
}
