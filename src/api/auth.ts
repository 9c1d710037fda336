/**
 * Bearer API keys. A key reads `hkd_<id>_<secret>`; the store keeps only the
 * SHA-256 of the whole key, found by id and compared in constant time, so
 * neither a stolen database nor response timing reveals a usable key.
 * Verified keys are cached briefly: ingest must not cost a read per request.
 */
import type { Clock } from "../clock.ts";
import { randomToken, uuidv7 } from "../ids.ts";
import type { ApiKeyRecord } from "../store/api_keys.ts";
import type { Store } from "../store/client.ts";
import { ApiError } from "./errors.ts";
import { type Scope, SCOPES, withImpliedScopes } from "./scopes.ts";

export interface Principal {
  /** The key id, or "admin" for the root key. */
  readonly keyId: string;
  readonly scopes: ReadonlySet<Scope>;
}

const KEY_FORMAT = /^hkd_([0-9a-f]{32})_[A-Za-z0-9_-]{43}$/;
const CACHE_TTL_MS = 10_000;
/** Keys whose verification is remembered; beyond this the oldest are forgotten. */
const VERIFIED_CACHE_MAX = 1_024;
/** last_used_at is written at most this often per key. */
const TOUCH_INTERVAL_MS = 60_000;

export async function sha256Hex(text: string): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)),
  );
  let hex = "";
  for (const byte of digest) hex += byte.toString(16).padStart(2, "0");
  return hex;
}

/** Compares two equal-length strings without an early exit. */
export function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** A new key's record and the one-time plaintext the caller must keep. */
export async function newApiKey(
  name: string,
  scopes: Scope[],
  now: number,
): Promise<{ record: ApiKeyRecord; key: string }> {
  const id = uuidv7(now);
  const key = `hkd_${id.replaceAll("-", "")}_${randomToken(32)}`;
  return {
    key,
    record: {
      id,
      name,
      hash: await sha256Hex(key),
      scopes,
      createdAt: now,
      lastUsedAt: null,
      revokedAt: null,
    },
  };
}

export class Authenticator {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #adminHash: Promise<string | undefined>;
  readonly #cache = new Map<string, { record: ApiKeyRecord | null; fetchedAt: number }>();
  readonly #touched = new Map<string, number>();
  /**
   * Recently verified keys, by the presented string, so a busy producer costs
   * a map lookup per request instead of a SHA-256 and a compare. Entries live
   * at most CACHE_TTL_MS, so a revocation elsewhere takes effect within it.
   */
  readonly #verified = new Map<string, { principal: Principal; until: number }>();

  constructor(store: Store, clock: Clock, adminKey: string) {
    this.#store = store;
    this.#clock = clock;
    this.#adminHash = adminKey ? sha256Hex(adminKey) : Promise.resolve(undefined);
  }

  /** The principal behind an `Authorization` header, or a 401. */
  async authenticate(header: string | null): Promise<Principal> {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
    if (!match) {
      throw new ApiError(
        401,
        "unauthorized",
        header === null
          ? 'Missing Authorization header; expected "Bearer <api key>"'
          : 'Malformed Authorization header; expected "Bearer <api key>"',
      );
    }
    const presented = match[1]!;
    const now = this.#clock.now();
    const remembered = this.#verified.get(presented);
    if (remembered && remembered.until > now) {
      if (remembered.principal.keyId !== "admin") this.#touch(remembered.principal.keyId);
      return remembered.principal;
    }
    const principal = await this.#verify(presented);
    if (this.#verified.size >= VERIFIED_CACHE_MAX) {
      this.#verified.delete(this.#verified.keys().next().value!);
    }
    this.#verified.set(presented, { principal, until: now + CACHE_TTL_MS });
    return principal;
  }

  async #verify(presented: string): Promise<Principal> {
    const hash = await sha256Hex(presented);
    const adminHash = await this.#adminHash;
    if (adminHash !== undefined && constantTimeEqual(hash, adminHash)) {
      return { keyId: "admin", scopes: new Set(SCOPES) };
    }
    const id = KEY_FORMAT.exec(presented)?.[1];
    const record = id === undefined ? null : await this.#lookup(formatUuid(id));
    if (!record || record.revokedAt !== null || !constantTimeEqual(hash, record.hash)) {
      throw new ApiError(401, "unauthorized", "Invalid or revoked API key");
    }
    this.#touch(record.id);
    return { keyId: record.id, scopes: new Set(withImpliedScopes(record.scopes as Scope[])) };
  }

  /** Forgets a key at once, e.g. after it was revoked through this daemon. */
  forget(id: string): void {
    this.#cache.delete(id);
    for (const [presented, { principal }] of this.#verified) {
      if (principal.keyId === id) this.#verified.delete(presented);
    }
  }

  async #lookup(id: string): Promise<ApiKeyRecord | null> {
    const now = this.#clock.now();
    const cached = this.#cache.get(id);
    if (cached && now - cached.fetchedAt < CACHE_TTL_MS) return cached.record;
    const record = await this.#store.read("getApiKey", { id });
    // Only real keys are cached, so guessing ids cannot grow memory.
    if (record) this.#cache.set(id, { record, fetchedAt: now });
    else this.#cache.delete(id);
    return record;
  }

  #touch(id: string): void {
    const now = this.#clock.now();
    if (now - (this.#touched.get(id) ?? -Infinity) < TOUCH_INTERVAL_MS) return;
    this.#touched.set(id, now);
    // Best effort: a failed bookkeeping write must not fail the request.
    this.#store.write("touchApiKeys", { ids: [id], now }).catch(() => {});
  }
}

export function requireScope(principal: Principal, scope: Scope): void {
  if (!principal.scopes.has(scope)) {
    throw new ApiError(403, "forbidden", `This API key lacks the "${scope}" scope`, {
      required: scope,
    });
  }
}

function formatUuid(hex: string): string {
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${
    hex.slice(20)
  }`;
}
