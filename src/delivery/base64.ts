/**
 * Base64 as RFC 4648 spells it: standard (§4) for secrets, keys and
 * signatures, URL-safe without padding (§5) for JWK members (RFC 7515 §2).
 *
 * @module
 */

/** Standard (RFC 4648 §4, padded) base64 of `bytes`. */
export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  // Chunked so large inputs do not overflow the argument list.
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/**
 * Decodes standard base64 (padding optional, ASCII whitespace ignored, as
 * `atob` does). Throws a `TypeError` quoting the input when it is not base64.
 */
export function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  let binary: string;
  try {
    binary = atob(text);
  } catch {
    throw new TypeError(`Cannot decode base64: invalid input "${text}"`);
  }
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** URL-safe base64 without padding (RFC 4648 §5), as JWKs carry key bytes (RFC 8037 §2). */
export function toBase64Url(bytes: Uint8Array): string {
  return toBase64(bytes).replace(/=+$/, "").replaceAll("+", "-").replaceAll("/", "_");
}
