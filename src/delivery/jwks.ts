/**
 * The public half of ed25519 signing keys as a JSON Web Key Set (RFC 7517),
 * in the `OKP` form of RFC 8037: what a receiver fetches to verify `v1a`
 * signatures without being given a key by hand.
 *
 * `kid` is the key's RFC 7638 thumbprint, which a receiver can compute from
 * the key itself. The `webhook-signature` header names no key (Standard
 * Webhooks has no key id), so a receiver verifies each `v1a` signature
 * against each listed key until one matches: at most two during a rotation.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { toBase64Url } from "./base64.ts";
import { isPrivateKey, publicKeyOf, rawPublicKey } from "./ed25519_keys.ts";

export interface Jwk {
  readonly kty: "OKP";
  readonly crv: "Ed25519";
  /** The raw public key, base64url. */
  readonly x: string;
  /** RFC 7638 thumbprint of the key, base64url of its SHA-256. */
  readonly kid: string;
  readonly use: "sig";
  readonly alg: "EdDSA";
}

export interface Jwks {
  readonly keys: Jwk[];
}

/** The JWK of a `whpk_` public key. */
export function jwkOf(publicKey: string): Jwk {
  const x = toBase64Url(rawPublicKey(publicKey));
  return { kty: "OKP", crv: "Ed25519", x, kid: thumbprint(x), use: "sig", alg: "EdDSA" };
}

/**
 * RFC 7638: SHA-256 over the required members in lexicographic order, with
 * no whitespace (for OKP keys: `crv`, `kty`, `x`; RFC 8037 §2).
 */
function thumbprint(x: string): string {
  const members = `{"crv":"Ed25519","kty":"OKP","x":"${x}"}`;
  return toBase64Url(createHash("sha256").update(members).digest());
}

/**
 * The key set of the secrets that sign now (current first, see
 * `signingMaterial`): one key per ed25519 private key; HMAC secrets have
 * nothing public and are left out.
 */
export function jwksOf(secrets: readonly string[]): Jwks {
  return { keys: secrets.filter(isPrivateKey).map((secret) => jwkOf(publicKeyOf(secret))) };
}
