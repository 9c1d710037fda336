/**
 * HMAC-SHA256 signing, and the signature formats receivers' libraries verify:
 * Standard Webhooks / Svix (`v1,<base64>` over `id.timestamp.body`, or
 * `v1a,<base64>` for an ed25519 key: `ed25519_keys.ts`), Stripe
 * (`t=…,v1=<hex>` over `t.body`) and GitHub (`sha256=<hex>` over the body).
 * Pure functions.
 *
 * The HMAC is built on `node:crypto`'s SHA-256 (`hmac.ts`), not Web
 * Crypto's: measured on Deno 2.9.6, `crypto.subtle.sign` costs ≈34 µs per
 * webhook-sized message (an async op and a promise per call) against ≈7–15
 * µs for `createHmac` and ≈5 µs for a kept {@linkcode HmacSha256}, and
 * signing runs on every attempt.
 *
 * @module
 */

import { fromBase64, toBase64 } from "./base64.ts";
import { HmacSha256 } from "./hmac.ts";
import { isPrivateKey, PRIVATE_KEY_PREFIX, signEd25519 } from "./ed25519_keys.ts";

/** The prefix of secrets in the Standard Webhooks format. */
export const SECRET_PREFIX = "whsec_";

const encoder = new TextEncoder();

/**
 * A new signing secret: `whsec_` followed by the base64 of 24 random bytes
 * (192 bits), the format Standard Webhooks and Svix use.
 */
export function generateSecret(): string {
  return SECRET_PREFIX + toBase64(crypto.getRandomValues(new Uint8Array(24)));
}

/**
 * An ed25519 private key signs `v1a` signatures and nothing else: used as an
 * HMAC key it would sign with bytes that are not a shared secret, in a
 * format no receiver can check. Only a profile whose scheme carries `v1a`
 * (standard-webhooks, svix) can sign with one; the API refuses the others,
 * and this stops a profile changed in the config afterwards.
 */
function refuseAsHmacKey(secret: string): void {
  if (isPrivateKey(secret)) {
    throw new TypeError(
      `Cannot sign with an ed25519 key (${PRIVATE_KEY_PREFIX}…) in an HMAC signature: only the ` +
        `"standard-webhooks" and "svix" schemes sign with it`,
    );
  }
}

/**
 * The HMAC key bytes of a secret. A `whsec_` secret is base64 after the
 * prefix, as in Standard Webhooks; any other string is used as its UTF-8
 * bytes, as GitHub, Stripe-style and most hand-made secrets expect.
 *
 * Throws a `TypeError` when a `whsec_` secret is not base64 and a
 * `RangeError` when the key would be empty.
 */
export function decodeSecret(secret: string): Uint8Array<ArrayBuffer> {
  refuseAsHmacKey(secret);
  let bytes: Uint8Array<ArrayBuffer>;
  if (secret.startsWith(SECRET_PREFIX)) {
    const body = secret.slice(SECRET_PREFIX.length);
    try {
      bytes = fromBase64(body);
    } catch {
      throw new TypeError(
        `Cannot decode signing secret: the part after "${SECRET_PREFIX}" must be base64`,
      );
    }
  } else {
    bytes = encoder.encode(secret);
  }
  if (bytes.length === 0) {
    throw new RangeError("Cannot decode signing secret: the key is empty");
  }
  return bytes;
}

/**
 * The HMAC key bytes of a secret used as text: its UTF-8 bytes exactly as
 * shown to the user, `whsec_` prefix and all. This is what GitHub's and
 * Stripe's verification code (and most hand-written receivers) do.
 *
 * Throws a `RangeError` when the secret is empty.
 */
export function textSecret(secret: string): Uint8Array<ArrayBuffer> {
  refuseAsHmacKey(secret);
  if (secret === "") throw new RangeError("Cannot use signing secret: the secret is empty");
  return encoder.encode(secret);
}

/**
 * Kept HMACs by secret and by how it is read. A webhook signs with the same
 * one or two secrets attempt after attempt: decoding a secret, and hashing
 * its key blocks, once each. Bounded; starts over when full.
 */
const hmacs = { decoded: new Map<string, HmacSha256>(), text: new Map<string, HmacSha256>() };
const MAX_KEPT_HMACS = 1_024;

/**
 * The HMAC-SHA256 of a secret, read as {@linkcode decodeSecret} does
 * (`decoded`: Standard Webhooks) or as {@linkcode textSecret} does (`text`:
 * GitHub, Stripe, templated schemes). Throws as they do.
 */
export function secretHmac(secret: string, read: "decoded" | "text"): HmacSha256 {
  const kept = hmacs[read];
  let hmac = kept.get(secret);
  if (hmac === undefined) {
    hmac = new HmacSha256(read === "decoded" ? decodeSecret(secret) : textSecret(secret));
    if (kept.size >= MAX_KEPT_HMACS) kept.clear();
    kept.set(secret, hmac);
  }
  return hmac;
}

/** Input of {@linkcode signStandardWebhooks}. */
export interface StandardWebhooksInput {
  /** The `webhook-id` header: stable across retries of one message. */
  readonly id: string;
  /** The `webhook-timestamp` header, unix seconds. */
  readonly timestamp: number;
  /** The exact request body that is sent. */
  readonly body: string;
  /**
   * Secrets to sign with: `whsk_` ed25519 private keys sign `v1a`, any other
   * is decoded by {@linkcode decodeSecret} and signs `v1`. During a rotation
   * pass the new and the old one: receivers accept any match.
   */
  readonly secrets: readonly string[];
}

/**
 * The `webhook-signature` header value of the Standard Webhooks spec:
 * `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` per HMAC secret and
 * `v1a,<base64 ed25519 signature of the same>` per ed25519 key, joined by a
 * space, in the order of `secrets`.
 *
 * Throws a `RangeError` when there is no secret or the timestamp is not a
 * non-negative integer.
 */
export function signStandardWebhooks(input: StandardWebhooksInput): string {
  const { id, timestamp, body, secrets } = input;
  if (secrets.length === 0) {
    throw new RangeError("Cannot sign Standard Webhooks message: no secret given");
  }
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
    throw new RangeError(
      `Cannot sign Standard Webhooks message: timestamp must be unix seconds, got ${timestamp}`,
    );
  }
  const message = `${id}.${timestamp}.${body}`;
  return secrets.map((secret) =>
    isPrivateKey(secret)
      ? `v1a,${signEd25519(secret, message)}`
      : `v1,${secretHmac(secret, "decoded").sign(message, "base64")}`
  ).join(" ");
}

/** Input of {@linkcode signStripe}. */
export interface StripeInput {
  /** The `t=` part, unix seconds. */
  readonly timestamp: number;
  /** The exact request body that is sent. */
  readonly body: string;
  /** Secrets, used as text ({@linkcode textSecret}); one `v1=` part each. */
  readonly secrets: readonly string[];
}

/**
 * The `Stripe-Signature` header value: `t=<timestamp>,v1=<hex HMAC-SHA256 of
 * "t.body">`, with one `v1=` per secret in the order given (Stripe's own
 * format while a secret rolls; its libraries accept any matching `v1`).
 *
 * Throws a `RangeError` when there is no secret or the timestamp is not a
 * non-negative integer.
 */
export function signStripe(input: StripeInput): string {
  const { timestamp, body, secrets } = input;
  if (secrets.length === 0) throw new RangeError("Cannot sign Stripe payload: no secret given");
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
    throw new RangeError(
      `Cannot sign Stripe payload: timestamp must be unix seconds, got ${timestamp}`,
    );
  }
  const message = `${timestamp}.${body}`;
  const parts = secrets.map((secret) => `v1=${secretHmac(secret, "text").sign(message, "hex")}`);
  return `t=${timestamp},${parts.join(",")}`;
}

/**
 * The `X-Hub-Signature-256` header value GitHub sends: `sha256=<hex
 * HMAC-SHA256 of the body>` under the secret used as text. GitHub carries
 * one signature, so only one secret signs.
 */
export function signGithub(input: { body: string; secret: string }): string {
  return `sha256=${secretHmac(input.secret, "text").sign(input.body, "hex")}`;
}
