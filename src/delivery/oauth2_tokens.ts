/**
 * OAuth2 access tokens for receivers, one per owner (a webhook, or a
 * credential shared by several), reused by every attempt until shortly
 * before they expire (`tokenUseMs`).
 *
 * Three layers, cheapest first:
 * - this process's memory: the hot path, no I/O;
 * - the store (`receiver_tokens`): a token another daemon sharing the
 *   database fetched is used rather than fetching a second one. One read per
 *   token lifetime per daemon, and one write per fetch: refreshes are rare
 *   (once an hour for an hour-long token), so a store round trip for each is
 *   nothing next to the token request itself;
 * - the token endpoint, asked by one request at a time per owner: attempts
 *   that need a token while it is being fetched wait for that one request
 *   (single flight) instead of each sending their own.
 *
 * Two daemons missing a token at the same moment may both fetch one; both
 * tokens are valid, and the store keeps the newer. Failures are not kept:
 * the next attempt asks again (the policy's schedule and the circuit breaker
 * pace those attempts).
 */
import { createHash } from "node:crypto";
import type { Clock } from "../clock.ts";
import type { Logger } from "../ops/log.ts";
import { Counter, type MetricFamily } from "../ops/metrics.ts";
import type { OAuth2ClientCredentials } from "../store/receiver_auth.ts";
import type { ReceiverToken } from "../store/receiver_tokens.ts";
import { type TokenAnswer, tokenUseMs } from "./oauth2_token_request.ts";

export type TokenResult =
  | { readonly ok: true; readonly accessToken: string }
  | { readonly ok: false; readonly problem: string };

/** Where tokens are shared between daemons: the store, in production. */
export interface TokenStore {
  read(owner: string): Promise<ReceiverToken | null>;
  write(token: ReceiverToken): Promise<void>;
}

export interface OAuth2TokensOptions {
  /** Asks the token endpoint (`fetchToken` through the guarded sender). */
  readonly fetch: (settings: OAuth2ClientCredentials, timeoutMs: number) => Promise<TokenAnswer>;
  readonly store: TokenStore;
  readonly clock: Clock;
  readonly log: Logger;
}

interface Cached {
  readonly fingerprint: string;
  readonly accessToken: string;
  readonly refreshAt: number;
}

/** Owners kept in memory before the map starts over (webhooks number in thousands). */
const MAX_CACHED = 10_000;

/** Identifies settings: a token fetched with other settings (another secret, scope...) is not used. */
const fingerprints = new WeakMap<OAuth2ClientCredentials, string>();
function fingerprintOf(settings: OAuth2ClientCredentials): string {
  let fingerprint = fingerprints.get(settings);
  if (fingerprint === undefined) {
    const { tokenUrl, clientId, clientSecret, scope, audience, authMethod } = settings;
    fingerprint = createHash("sha256")
      .update(JSON.stringify([tokenUrl, clientId, clientSecret, scope, audience, authMethod]))
      .digest("base64url");
    fingerprints.set(settings, fingerprint);
  }
  return fingerprint;
}

export class OAuth2Tokens {
  readonly #o: OAuth2TokensOptions;
  readonly #cache = new Map<string, Cached>();
  /** Token loads under way, by owner and fingerprint. */
  readonly #loading = new Map<string, Promise<TokenResult>>();
  readonly #requests = new Counter({
    name: "hookd_oauth2_token_requests_total",
    help:
      "Requests this process sent to receivers' OAuth2 token endpoints, by result (failed: no usable token).",
    labels: [{ name: "result", values: ["ok", "failed"] }],
  });

  constructor(options: OAuth2TokensOptions) {
    this.#o = options;
  }

  /** Requests this process sent to token endpoints. */
  get requests(): number {
    return this.#requests.get("ok") + this.#requests.get("failed");
  }

  /** For `/metrics`: the token requests, by result. */
  families(): MetricFamily[] {
    return [this.#requests];
  }

  /** A token for `owner`'s receivers: the one in use, or a new one. */
  token(
    owner: string,
    settings: OAuth2ClientCredentials,
    timeoutMs: number,
  ): Promise<TokenResult> {
    const fingerprint = fingerprintOf(settings);
    const cached = this.#usable(owner, fingerprint);
    if (cached !== undefined) return Promise.resolve({ ok: true, accessToken: cached });
    return this.#load(owner, fingerprint, settings, timeoutMs, undefined);
  }

  /**
   * A token other than `stale`, which the receiver refused (401). Attempts
   * refused with the same token share one refresh; one that finds the token
   * already replaced takes the replacement.
   */
  async refresh(
    owner: string,
    settings: OAuth2ClientCredentials,
    stale: string,
    timeoutMs: number,
  ): Promise<TokenResult> {
    const fingerprint = fingerprintOf(settings);
    const cached = this.#usable(owner, fingerprint);
    if (cached !== undefined && cached !== stale) return { ok: true, accessToken: cached };
    if (cached === stale) this.#cache.delete(owner);
    const joined = this.#loading.get(`${owner}|${fingerprint}`);
    if (joined !== undefined) {
      // A load that began before the 401 may bring back the refused token itself.
      const result = await joined;
      if (!result.ok || result.accessToken !== stale) return result;
    }
    return await this.#load(owner, fingerprint, settings, timeoutMs, stale);
  }

  #usable(owner: string, fingerprint: string): string | undefined {
    const cached = this.#cache.get(owner);
    if (cached === undefined || cached.fingerprint !== fingerprint) return undefined;
    return this.#o.clock.now() < cached.refreshAt ? cached.accessToken : undefined;
  }

  #load(
    owner: string,
    fingerprint: string,
    settings: OAuth2ClientCredentials,
    timeoutMs: number,
    stale: string | undefined,
  ): Promise<TokenResult> {
    const key = `${owner}|${fingerprint}`;
    let loading = this.#loading.get(key);
    if (loading === undefined) {
      loading = this.#loadOnce(owner, fingerprint, settings, timeoutMs, stale)
        .finally(() => this.#loading.delete(key));
      this.#loading.set(key, loading);
    }
    return loading;
  }

  async #loadOnce(
    owner: string,
    fingerprint: string,
    settings: OAuth2ClientCredentials,
    timeoutMs: number,
    stale: string | undefined,
  ): Promise<TokenResult> {
    const { clock, log, store } = this.#o;
    const shared = await store.read(owner).catch((error) => {
      log.warn("could not read the shared OAuth2 token; fetching one", { owner, error });
      return null;
    });
    if (
      shared !== null && shared.fingerprint === fingerprint && shared.accessToken !== stale &&
      clock.now() < shared.refreshAt
    ) {
      this.#keep(owner, {
        fingerprint,
        accessToken: shared.accessToken,
        refreshAt: shared.refreshAt,
      });
      return { ok: true, accessToken: shared.accessToken };
    }
    const answer = await this.#o.fetch(settings, timeoutMs).catch((error) => {
      this.#requests.inc("failed");
      throw error;
    });
    this.#requests.inc(answer.ok ? "ok" : "failed");
    if (!answer.ok) return answer;
    const fetchedAt = clock.now();
    const refreshAt = fetchedAt + tokenUseMs(answer.expiresInMs);
    this.#keep(owner, { fingerprint, accessToken: answer.accessToken, refreshAt });
    log.info("OAuth2 token fetched", {
      owner,
      refresh_at: new Date(refreshAt).toISOString(),
      ...(stale === undefined ? {} : { reason: "the receiver refused the previous one (401)" }),
    });
    await store.write({
      owner,
      fingerprint,
      accessToken: answer.accessToken,
      fetchedAt,
      refreshAt,
    }).catch((error) =>
      log.warn("could not share the OAuth2 token with other daemons", { owner, error })
    );
    return { ok: true, accessToken: answer.accessToken };
  }

  #keep(owner: string, cached: Cached): void {
    if (this.#cache.size >= MAX_CACHED && !this.#cache.has(owner)) this.#cache.clear();
    this.#cache.set(owner, cached);
  }
}
