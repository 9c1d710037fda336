/**
 * Choosing how a webhook or credential signs, at creation: `"signing":
 * "hmac"` (the default: a `whsec_` secret, generated or supplied, shown once)
 * or `"ed25519"` (a key pair hookd generates; the private key is never shown,
 * the public key is in the representation and the `jwks.json` set). The kind
 * is kept by rotation: a rotated ed25519 key is followed by a new ed25519 key.
 *
 * @module
 */
import { z } from "zod";
import {
  generateSigningSecret,
  SIGNING_KINDS,
  type SigningKind,
  signingKindOf,
  signingProblem,
} from "../delivery/signing_kind.ts";
import type { Profile } from "../config/types.ts";
import { validationError } from "./errors.ts";

export const signingChoice = z.enum(SIGNING_KINDS as [SigningKind, ...SigningKind[]], {
  error: '"hmac" (a shared secret, v1 signatures) or "ed25519" (a key pair, v1a signatures ' +
    "with the public key published)",
});

/**
 * The secret something new starts with. `supplied`: undefined (generate),
 * null (unsigned; webhooks only) or the caller's HMAC secret. hookd alone
 * makes ed25519 keys, so that the private key is never anywhere else.
 */
export function initialSecret(signing: SigningKind, supplied: string | undefined): string;
export function initialSecret(
  signing: SigningKind,
  supplied: string | null | undefined,
): string | null;
export function initialSecret(
  signing: SigningKind,
  supplied: string | null | undefined,
): string | null {
  if (signing === "ed25519" && supplied !== undefined) {
    throw validationError([{
      field: "secret",
      message: 'hookd generates ed25519 keys and never shows the private key: leave "secret" ' +
        'out with "signing": "ed25519"',
    }]);
  }
  return supplied === undefined ? generateSigningSecret(signing) : supplied;
}

/** The secret a rotation brings in: a new one of the current one's kind. */
export function rotatedSecret(current: string | null): string {
  return generateSigningSecret(current === null ? "hmac" : signingKindOf(current));
}

/**
 * Refuses a profile that cannot sign with the secret that would sign: a 400
 * naming `field` (what the request changed), before anything is stored.
 */
export function checkSigningProfile(
  profile: Profile | undefined,
  secret: string | null,
  field: string,
): void {
  if (profile === undefined || secret === null) return;
  const problem = signingProblem(profile.signature, signingKindOf(secret));
  if (problem !== undefined) throw validationError([{ field, message: problem }]);
}
