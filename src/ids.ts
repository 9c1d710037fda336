/**
 * Identifiers. Resource ids are UUIDv7 (RFC 9562): valid UUIDs, as seed 000
 * requires for its delivery id header, that also sort by creation time, which
 * lets list endpoints page by id with a plain index range.
 */

const hex: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

let lastMs = -1;
let sequence = 0;

/**
 * Random bytes drawn from the system CSPRNG a page at a time: one call per
 * 409 ids instead of one per id, which showed in every ingest and attempt.
 */
const pool = new Uint8Array(4096);
let poolUsed = pool.length;
const bytes = new Uint8Array(16);

function fillRandom(target: Uint8Array): void {
  if (poolUsed + target.length > pool.length) {
    crypto.getRandomValues(pool);
    poolUsed = 0;
  }
  target.set(pool.subarray(poolUsed, poolUsed + target.length));
  // Each byte is handed out once.
  poolUsed += target.length;
}

/**
 * A UUIDv7 for the given time (ms since epoch). Within one process ids are
 * strictly increasing even inside one millisecond: the 12 bits after the
 * version hold a counter (RFC 9562 §6.2, method 1) that starts at a random
 * value below 2048 each millisecond; if it runs out, the id borrows the next
 * millisecond.
 */
export function uuidv7(now: number): string {
  fillRandom(bytes.subarray(6));
  let ms = Math.max(0, Math.floor(now));
  if (ms > lastMs) {
    sequence = ((bytes[6]! << 8) | bytes[7]!) & 0x07ff;
  } else {
    ms = lastMs;
    sequence++;
    if (sequence > 0x0fff) (ms++, sequence = 0);
  }
  lastMs = ms;
  bytes[6] = 0x70 | (sequence >> 8); // version 7 + counter high bits
  bytes[7] = sequence & 0xff;
  for (let i = 5; i >= 0; i--) {
    bytes[i] = ms % 256;
    ms = Math.floor(ms / 256);
  }
  bytes[8] = (bytes[8]! & 0x3f) | 0x80; // RFC 9562 variant
  let out = "";
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) out += "-";
    out += hex[bytes[i]!];
  }
  return out;
}

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Whether `text` is an id as {@linkcode uuidv7} writes it (lowercase, version 7, RFC variant). */
export function isUuidv7(text: string): boolean {
  return UUID_V7.test(text);
}

/** The base64url text of `bytes` random bytes, for key material. */
export function randomToken(bytes: number): string {
  const raw = crypto.getRandomValues(new Uint8Array(bytes));
  return btoa(String.fromCharCode(...raw)).replaceAll("+", "-").replaceAll("/", "_")
    .replace(/=+$/, "");
}
