/**
 * Sends attempts to receivers that want an OAuth2 bearer token: the token
 * (from {@linkcode OAuth2Tokens}) goes in `Authorization: Bearer`, and a 401
 * from the receiver renews it once and sends the attempt again, within the
 * same attempt: a revoked or rotated token costs no attempt of the
 * delivery's schedule, and the attempt record shows the second answer. A
 * second 401 is the receiver's verdict and the policy classifies it as any
 * other status.
 *
 * When no token can be had (the token endpoint failed), the attempt fails
 * with error kind `auth` and nothing is sent to the receiver.
 *
 * The whole attempt, token requests included, keeps to the policy's
 * timeout: each step gets what is left of it, so a claim's lease (which
 * outlives one timeout) still outlives the attempt.
 */
import type { Clock } from "../clock.ts";
import type { OAuth2ClientCredentials } from "../store/receiver_auth.ts";
import type { DeliverySender, OutgoingRequest } from "./guarded_sender.ts";
import type { OAuth2Tokens } from "./oauth2_tokens.ts";
import { type AttemptResult, failedAttempt } from "./sender.ts";

/** A rendered attempt, and the OAuth2 settings of its receiver if it wants a token. */
export interface AuthorizedRequest extends OutgoingRequest {
  readonly oauth2?: {
    /** Whose token: `webhook:<id>` or `credential:<id>`. */
    readonly owner: string;
    readonly settings: OAuth2ClientCredentials;
  };
}

export interface OAuth2SenderOptions {
  /** Sends to the receiver (the guarded sender). */
  readonly inner: DeliverySender;
  readonly tokens: OAuth2Tokens;
  readonly clock: Clock;
}

export class OAuth2Sender {
  readonly #o: OAuth2SenderOptions;

  constructor(options: OAuth2SenderOptions) {
    this.#o = options;
  }

  send(request: AuthorizedRequest): Promise<AttemptResult> {
    if (request.oauth2 === undefined) return this.#o.inner.send(request);
    return this.#sendWithToken(request, request.oauth2);
  }

  async #sendWithToken(
    request: AuthorizedRequest,
    { owner, settings }: NonNullable<AuthorizedRequest["oauth2"]>,
  ): Promise<AttemptResult> {
    const { clock, inner, tokens } = this.#o;
    const startedAt = clock.now();
    const left = () => Math.max(1, startedAt + request.timeoutMs - clock.now());
    const elapsed = () => clock.now() - startedAt;

    const token = await tokens.token(owner, settings, left());
    if (!token.ok) return failedAttempt("auth", token.problem, elapsed());
    const first = await inner.send(withBearer(request, token.accessToken, left()));
    if (first.outcome.kind !== "response" || first.outcome.status !== 401) {
      return { ...first, durationMs: elapsed() };
    }
    const renewed = await tokens.refresh(owner, settings, token.accessToken, left());
    if (!renewed.ok) {
      return failedAttempt(
        "auth",
        `the receiver refused the token (401) and a new one could not be had: ${renewed.problem}`,
        elapsed(),
      );
    }
    const second = await inner.send(withBearer(request, renewed.accessToken, left()));
    return { ...second, durationMs: elapsed() };
  }
}

/** The request with `Authorization: Bearer`, replacing any custom Authorization header. */
function withBearer(
  request: AuthorizedRequest,
  accessToken: string,
  timeoutMs: number,
): OutgoingRequest {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (name.toLowerCase() !== "authorization") headers[name] = value;
  }
  headers.authorization = `Bearer ${accessToken}`;
  return {
    url: request.url,
    headers,
    body: request.body,
    timeoutMs,
    tls: request.tls,
  };
}
