/**
 * What a signing secret is: an HMAC secret (`whsec_…` or any other text), or
 * an ed25519 private key (`whsk_…`). The prefix says which, as the Standard
 * Webhooks spec intends ("a unique and consistent secret format allows
 * implementations to use the correct scheme without additional
 * configuration"), so the one `secret` column of a webhook or credential,
 * and the rotation that moves it to `previous_secret`, serve both kinds.
 *
 * @module
 */
import type { SignatureScheme } from "../config/types.ts";
import { generatePrivateKey, isPrivateKey } from "./ed25519_keys.ts";
import { generateSecret } from "./signing.ts";

/** `hmac`: a shared secret signs `v1` (and every other scheme); `ed25519`: a key pair signs `v1a`. */
export type SigningKind = "hmac" | "ed25519";

export const SIGNING_KINDS: readonly SigningKind[] = ["hmac", "ed25519"];

export function signingKindOf(secret: string): SigningKind {
  return isPrivateKey(secret) ? "ed25519" : "hmac";
}

/** A new secret of `kind`, as hookd generates them (a `whsec_` secret or a `whsk_` key). */
export function generateSigningSecret(kind: SigningKind): string {
  return kind === "ed25519" ? generatePrivateKey() : generateSecret();
}

/**
 * Why a profile's signature scheme cannot sign with a secret of `kind`, or
 * undefined when it can. ed25519 signatures exist only in the Standard
 * Webhooks header (`v1a`, also under svix's header names); `none` signs
 * nothing, so any key goes.
 */
export function signingProblem(scheme: SignatureScheme, kind: SigningKind): string | undefined {
  if (kind === "hmac" || scheme.kind === "standard-webhooks" || scheme.kind === "none") {
    return undefined;
  }
  return `signature scheme "${scheme.kind}" signs with HMAC only; an ed25519 key needs a ` +
    `profile with scheme "standard-webhooks" or "svix"`;
}
