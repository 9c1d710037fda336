/**
 * One OAuth2 client-credentials token request (RFC 6749 §4.4): the request
 * as bytes to send, and what its answer means. The request goes out through
 * the delivery sender (`fetchToken`), so the token URL passes the same
 * `[security] require_https` rule and SSRF guard as every delivery, and the
 * connection is pinned to the address the guard approved: no `fetch`, which
 * would resolve the name again and honour `HTTP(S)_PROXY`.
 *
 * Messages never carry the client secret or a token: they end up in attempt
 * records, which API readers see.
 */
import type { OAuth2ClientCredentials } from "../store/receiver_auth.ts";
import type { DeliverySender } from "./guarded_sender.ts";
import { basicAuthorization } from "./receiver_auth.ts";
import { type AttemptResult, SenderClosedError } from "./sender.ts";

/** What the token endpoint said, read. */
export type TokenAnswer =
  | {
    readonly ok: true;
    readonly accessToken: string;
    /** `expires_in` in ms; null when the endpoint did not say. */
    readonly expiresInMs: number | null;
  }
  | { readonly ok: false; readonly problem: string };

/** A token response is read up to this size; larger ones are refused as malformed. */
export const TOKEN_RESPONSE_LIMIT = 64 * 1024;

/** A token whose endpoint gives no `expires_in` is used for this long (a 401 renews it sooner). */
export const DEFAULT_TOKEN_LIFETIME_MS = 5 * 60_000;
/** Longest a token is used, whatever `expires_in` says, so a revoked one does not linger. */
export const MAX_TOKEN_LIFETIME_MS = 24 * 60 * 60_000;

/**
 * How long after it was fetched a token is replaced: ahead of its expiry by
 * 10% of its lifetime or by 30 s, whichever is more (a token that expires in
 * an hour is used for 54 minutes, one of 60 s for 30 s), but not before half
 * of a short lifetime (one of 10 s is used for 5 s), so an attempt never goes
 * out with a token about to expire on the way.
 */
export function tokenUseMs(expiresInMs: number | null): number {
  const lifetime = Math.min(expiresInMs ?? DEFAULT_TOKEN_LIFETIME_MS, MAX_TOKEN_LIFETIME_MS);
  return Math.round(Math.max(lifetime / 2, Math.min(lifetime * 0.9, lifetime - 30_000)));
}

/** `application/x-www-form-urlencoded` of one value (RFC 6749 Appendix B). */
function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}

export interface TokenHttpRequest {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly contentType: string;
}

/**
 * The token request: `grant_type=client_credentials` with `scope` and
 * `audience` when set, the client authenticated by HTTP basic auth of the
 * form-encoded id and secret (RFC 6749 §2.3.1, `client_secret_basic`) or by
 * `client_id` and `client_secret` in the body (`client_secret_post`).
 */
export function tokenRequest(settings: OAuth2ClientCredentials): TokenHttpRequest {
  const form = new URLSearchParams({ grant_type: "client_credentials" });
  if (settings.scope !== null) form.set("scope", settings.scope);
  if (settings.audience !== null) form.set("audience", settings.audience);
  const headers: Record<string, string> = { accept: "application/json" };
  if (settings.authMethod === "client_secret_post") {
    form.set("client_id", settings.clientId);
    form.set("client_secret", settings.clientSecret);
  } else {
    headers.authorization = basicAuthorization(
      formEncode(settings.clientId),
      formEncode(settings.clientSecret),
    );
  }
  return {
    url: settings.tokenUrl,
    headers,
    body: form.toString(),
    contentType: "application/x-www-form-urlencoded",
  };
}

/** An OAuth2 error code (RFC 6749 §5.2: printable ASCII without `"` and `\`), short. */
const ERROR_CODE = /^[\x20\x21\x23-\x5b\x5d-\x7e]{1,64}$/;
/** What a bearer token may hold to be sent in a header: visible ASCII. */
const TOKEN_TEXT = /^[\x21-\x7e]+$/;

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `expires_in` in ms: seconds as a number or a numeric string (seen in the wild); else null. */
function expiresIn(value: unknown): number | null {
  const seconds = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof seconds !== "number" || !Number.isFinite(seconds) || seconds <= 0) return null;
  return seconds * 1000;
}

/** Reads the token endpoint's answer (RFC 6749 §5.1 success, §5.2 error). */
export function readTokenResponse(result: AttemptResult): TokenAnswer {
  const { outcome } = result;
  if (outcome.kind === "error") {
    return {
      ok: false,
      problem: `token endpoint: ${result.errorMessage ?? outcome.error}`,
    };
  }
  const parsed = parseJson(result.responseBody ?? "");
  const json = isObject(parsed) ? parsed : undefined;
  if (outcome.status < 200 || outcome.status > 299) {
    const code = typeof json?.error === "string" && ERROR_CODE.test(json.error)
      ? ` (${json.error})`
      : "";
    return { ok: false, problem: `token endpoint answered HTTP ${outcome.status}${code}` };
  }
  if (json === undefined) {
    return {
      ok: false,
      problem: "token endpoint answered with something other than a JSON object",
    };
  }
  const token = json.access_token;
  if (typeof token !== "string" || token === "") {
    return { ok: false, problem: "token endpoint answered without an access_token" };
  }
  if (!TOKEN_TEXT.test(token)) {
    return {
      ok: false,
      problem: "token endpoint answered with an access_token unfit for a header",
    };
  }
  const type = json.token_type;
  // Required by RFC 6749, yet omitted by some endpoints; anything but Bearer cannot be used.
  if (type !== undefined && (typeof type !== "string" || type.toLowerCase() !== "bearer")) {
    return {
      ok: false,
      problem: `token endpoint answered token_type ${
        typeof type === "string" && ERROR_CODE.test(type) ? JSON.stringify(type) : "(invalid)"
      }; only Bearer tokens are supported`,
    };
  }
  return { ok: true, accessToken: token, expiresInMs: expiresIn(json.expires_in) };
}

/** `text` with every occurrence of the secrets replaced. */
function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret !== "") out = out.replaceAll(secret, "[redacted]");
  return out;
}

/**
 * Asks the token endpoint for a token through `sender`. Never throws for
 * what the endpoint or the network does; rethrows {@linkcode SenderClosedError}
 * (the daemon is stopping: no attempt happens).
 */
export async function fetchToken(
  sender: DeliverySender,
  settings: OAuth2ClientCredentials,
  timeoutMs: number,
): Promise<TokenAnswer> {
  let answer: TokenAnswer;
  try {
    const request = tokenRequest(settings);
    answer = readTokenResponse(
      await sender.send({ ...request, timeoutMs, responseBodyLimit: TOKEN_RESPONSE_LIMIT }),
    );
  } catch (error) {
    if (error instanceof SenderClosedError) throw error;
    const detail = error instanceof Error ? error.message : String(error);
    answer = { ok: false, problem: `could not send the token request: ${detail}` };
  }
  if (answer.ok) return answer;
  // The endpoint wrote part of these words; it must not get our secret into a record.
  return { ok: false, problem: redact(answer.problem, [settings.clientSecret]) };
}
