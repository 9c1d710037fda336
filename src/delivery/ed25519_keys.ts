/**
 * ed25519 signing keys in the Standard Webhooks form: the private key is
 * `whsk_` + base64 of its raw 32-byte seed (RFC 8032 §5.1.5), the public key
 * `whpk_` + base64 of its raw 32 bytes, and a signature is `v1a,<base64>`
 * over `id.timestamp.body`. The seed form is the one the Standard Webhooks
 * reference library reads (`ed25519.NewKeyFromSeed` in its Go library), so a
 * key stays portable; hookd only ever generates them.
 *
 * Signing is `node:crypto`'s `sign(null, data, key)` with a `KeyObject` built
 * once per key and cached. Measured on Deno 2.9.6 (2 cores, 1 KiB body): about
 * 20 µs a signature, against about 80 µs for Web Crypto's `subtle.sign` (an
 * async op and a promise per call, and its key import on top) and about 14 µs
 * for the HMAC of the same message; `deno task bench --only signing` measures
 * both in one run.
 *
 * @module
 */
import { createPrivateKey, createPublicKey, type KeyObject, sign } from "node:crypto";
import { fromBase64, toBase64 } from "./base64.ts";

/** The prefix of an ed25519 private key (Standard Webhooks "secret key"). */
export const PRIVATE_KEY_PREFIX = "whsk_";
/** The prefix of an ed25519 public key. */
export const PUBLIC_KEY_PREFIX = "whpk_";

const SEED_BYTES = 32;

/**
 * The DER prefix that makes a raw seed a PKCS #8 `OneAsymmetricKey` for
 * ed25519 (RFC 8410 §7): `node:crypto` imports private keys in that form.
 */
const PKCS8_ED25519_PREFIX = Uint8Array.of(
  0x30,
  0x2e,
  0x02,
  0x01,
  0x00,
  0x30,
  0x05,
  0x06,
  0x03,
  0x2b,
  0x65,
  0x70,
  0x04,
  0x22,
  0x04,
  0x20,
);

/**
 * A private key exactly as hookd writes one: the prefix and 44 characters of
 * padded base64 (32 bytes). Anything else is an HMAC secret, as before keys
 * existed: the API once took any text of 16-256 characters as a secret, and a
 * stored `whsk_something` of that kind must keep signing as the HMAC it was.
 */
const PRIVATE_KEY = /^whsk_[A-Za-z0-9+/]{43}=$/;

/** Whether `secret` is an ed25519 private key rather than an HMAC secret. */
export function isPrivateKey(secret: string): boolean {
  return PRIVATE_KEY.test(secret);
}

/** A new private key: `whsk_` and the base64 of 32 random bytes, an ed25519 seed. */
export function generatePrivateKey(): string {
  return PRIVATE_KEY_PREFIX + toBase64(crypto.getRandomValues(new Uint8Array(SEED_BYTES)));
}

/**
 * The seed of a `whsk_` key. Throws a `TypeError` that does not quote the key
 * (messages end up in attempt records and logs) when it is not base64 of 32
 * bytes.
 */
function seedOf(privateKey: string): Uint8Array {
  const problem = `Cannot use ed25519 signing key: the part after "${PRIVATE_KEY_PREFIX}" ` +
    `must be base64 of a ${SEED_BYTES}-byte seed`;
  if (!isPrivateKey(privateKey)) throw new TypeError(problem);
  let seed: Uint8Array;
  try {
    seed = fromBase64(privateKey.slice(PRIVATE_KEY_PREFIX.length));
  } catch {
    throw new TypeError(problem);
  }
  if (seed.length !== SEED_BYTES) throw new TypeError(problem);
  return seed;
}

interface KeyPair {
  readonly privateKey: KeyObject;
  /** The raw 32 public key bytes. */
  readonly publicKey: Uint8Array;
}

/**
 * Key objects by private key. A webhook signs with the same one or two keys
 * attempt after attempt, and importing a key costs more than a signature.
 * Bounded; starts over when full, like the decoded HMAC secrets.
 */
const keyPairs = new Map<string, KeyPair>();
const MAX_KEY_PAIRS = 1_024;

function keyPair(privateKey: string): KeyPair {
  let pair = keyPairs.get(privateKey);
  if (pair === undefined) {
    const der = new Uint8Array(PKCS8_ED25519_PREFIX.length + SEED_BYTES);
    der.set(PKCS8_ED25519_PREFIX);
    der.set(seedOf(privateKey), PKCS8_ED25519_PREFIX.length);
    const key = createPrivateKey({ key: Buffer.from(der), format: "der", type: "pkcs8" });
    // The SPKI encoding of an ed25519 key is a 12-byte header and the raw key (RFC 8410 §4).
    const spki = createPublicKey(key).export({ format: "der", type: "spki" });
    pair = { privateKey: key, publicKey: new Uint8Array(spki.subarray(spki.length - 32)) };
    if (keyPairs.size >= MAX_KEY_PAIRS) keyPairs.clear();
    keyPairs.set(privateKey, pair);
  }
  return pair;
}

/** The `whpk_` public key of a `whsk_` private key. */
export function publicKeyOf(privateKey: string): string {
  return PUBLIC_KEY_PREFIX + toBase64(keyPair(privateKey).publicKey);
}

/** The raw 32 bytes of a `whpk_` public key; a `TypeError` when it is not one. */
export function rawPublicKey(publicKey: string): Uint8Array {
  const problem = `Cannot read ed25519 public key: expected "${PUBLIC_KEY_PREFIX}" and base64 ` +
    `of 32 bytes, got ${JSON.stringify(publicKey)}`;
  if (!publicKey.startsWith(PUBLIC_KEY_PREFIX)) throw new TypeError(problem);
  let raw: Uint8Array;
  try {
    raw = fromBase64(publicKey.slice(PUBLIC_KEY_PREFIX.length));
  } catch {
    throw new TypeError(problem);
  }
  if (raw.length !== 32) throw new TypeError(problem);
  return raw;
}

/** The base64 ed25519 signature of `message` (UTF-8) under a `whsk_` key. */
export function signEd25519(privateKey: string, message: string): string {
  return sign(null, Buffer.from(message, "utf8"), keyPair(privateKey).privateKey)
    .toString("base64");
}
