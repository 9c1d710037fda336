/**
 * One attempt as two pure steps around the network call:
 *
 *   prepareAttempt(webhook, policy, profile, claimed delivery, material, ids, now)
 *     → the request to send (URL, headers, body, deadline, TLS)
 *   concludeAttempt(prepared, delivery, result, policy, now, rng)
 *     → the attempt record and where the delivery goes next (the policy's decision)
 *
 * Everything the dispatcher does between them is I/O (sending, recording);
 * everything here is tested with tables, no sockets and no store.
 */
import type { Policy, Profile } from "../config/types.ts";
import type { RouteTls } from "../net/http1_route.ts";
import type { AttemptRecord } from "../store/attempts.ts";
import type { AttemptVerdict, ClaimedDelivery } from "../store/delivery_queue.ts";
import type { HealthSignal } from "../store/webhook_health.ts";
import type { WebhookRecord } from "../store/webhooks.ts";
import { VERSION } from "../version.ts";
import { decideNext, errorKindOf, matchesOutcome, type Rng } from "./policy.ts";
import { headersForLog, renderRequest } from "./render_request.ts";
import { traceHeaders } from "./trace_headers.ts";
import type { SpanIds } from "../ops/tracing.ts";
import type { AttemptResult } from "./sender.ts";
import type { SigningMaterial } from "./signing_material.ts";
import type { AuthorizedRequest } from "./oauth2_sender.ts";
import { basicAuthorization, type EffectiveAuth } from "./receiver_auth.ts";

/** An attempt ready to send. */
export interface PreparedAttempt {
  readonly attemptId: string;
  /** 1-based over the delivery's life. */
  readonly number: number;
  readonly startedAt: number;
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly timeoutMs: number;
  /** The webhook's extra trust and client certificate; undefined: system defaults. */
  readonly tls: RouteTls | undefined;
  /** Set when the receiver wants an OAuth2 bearer token, which the sender adds (oauth2_sender.ts). */
  readonly oauth2?: AuthorizedRequest["oauth2"];
  /** The webhook's `proxy` field: null (the default proxy, if any), "direct" or a name. */
  readonly proxy: string | null;
}

export interface PrepareInput {
  readonly webhook: WebhookRecord;
  readonly policy: Policy;
  readonly profile: Profile;
  readonly delivery: ClaimedDelivery;
  readonly material: SigningMaterial;
  readonly attemptId: string;
  readonly now: number;
  /** The attempt's recorded span, whose ids the receiver gets in `traceparent`. */
  readonly span?: SpanIds;
  /** OAuth2 or basic auth to the receiver (`receiverAuthOf`); null or absent: none. */
  readonly auth?: EffectiveAuth | null;
}

/** Renders the request; throws when the profile cannot render it (the caller records that). */
export function prepareAttempt(input: PrepareInput): PreparedAttempt {
  const { webhook, policy, delivery, material, attemptId, now } = input;
  const number = delivery.attempts + 1;
  const request = renderRequest({
    profile: input.profile,
    webhook: { id: webhook.id, url: webhook.url, headers: material.headers },
    secrets: material.secrets,
    event: delivery.event,
    deliveryId: delivery.id,
    attemptId,
    attemptNumber: number,
    now,
  });
  // The producer's trace continues at the receiver, this attempt a span of its own.
  const trace = traceHeaders(delivery.event, attemptId, input.span);
  const auth = input.auth?.auth;
  // Receiver auth replaces a custom Authorization header of the same webhook or credential.
  const headers = auth?.kind === "basic"
    ? withHeaders(request.headers, {
      authorization: basicAuthorization(auth.username, auth.password),
    })
    : request.headers;
  return {
    attemptId,
    number,
    startedAt: now,
    url: request.url,
    headers: withHeaders(headers, trace),
    body: request.body,
    timeoutMs: policy.timeoutMs,
    tls: routeTls(webhook),
    ...(auth?.kind === "oauth2" ? { oauth2: { owner: input.auth!.owner, settings: auth } } : {}),
    proxy: webhook.proxy,
  };
}

/** `headers` with `extra` set, replacing any header of the same name in another case. */
function withHeaders(
  headers: Record<string, string>,
  extra: Record<string, string>,
): Record<string, string> {
  const names = Object.keys(extra);
  if (names.length === 0) return headers;
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!names.includes(name.toLowerCase())) out[name] = value;
  }
  return Object.assign(out, extra);
}

/**
 * An attempt that never got as far as a request (the profile could not
 * render it): recorded like any other so the delivery ends instead of being
 * retaken forever.
 */
export function unpreparedAttempt(
  input: Pick<PrepareInput, "webhook" | "policy" | "delivery" | "attemptId" | "now">,
): PreparedAttempt {
  return {
    attemptId: input.attemptId,
    number: input.delivery.attempts + 1,
    startedAt: input.now,
    url: input.webhook.url,
    headers: {},
    body: "",
    timeoutMs: input.policy.timeoutMs,
    tls: undefined,
    proxy: input.webhook.proxy,
  };
}

export interface Conclusion {
  readonly attempt: AttemptRecord;
  readonly verdict: AttemptVerdict;
  /** What the attempt tells about the webhook's health, with its policy's auto-disable rules. */
  readonly health: HealthSignal;
}

export interface ConcludeInput {
  readonly prepared: PreparedAttempt;
  readonly delivery: ClaimedDelivery;
  readonly result: AttemptResult;
  readonly policy: Policy;
  /** When the result was in, ms since epoch. */
  readonly now: number;
  readonly rng: Rng;
}

/** The attempt's record and the delivery's next state, as the policy decides. */
export function concludeAttempt(input: ConcludeInput): Conclusion {
  const { prepared, delivery, result, policy, now } = input;
  const decision = decideNext({
    outcome: result.outcome,
    policy,
    attemptNumber: delivery.scheduleAttempts + 1,
    createdAt: delivery.scheduleStartedAt,
    now,
    rng: input.rng,
  });
  const errorKind = errorKindOf(result.outcome, policy);
  return {
    attempt: {
      id: prepared.attemptId,
      deliveryId: delivery.id,
      number: prepared.number,
      trigger: delivery.trigger,
      startedAt: prepared.startedAt,
      durationMs: Math.max(0, Math.round(result.durationMs)),
      // Credentials (Authorization among them) are redacted: attempt records are for readers.
      requestHeaders: headersForLog({
        ...prepared.headers,
        ...(prepared.oauth2 === undefined ? {} : { authorization: "Bearer" }),
        "content-type": "application/json",
        "user-agent": `hookd/${VERSION}`,
      }),
      responseStatus: result.status,
      responseHeaders: result.responseHeaders ? { ...result.responseHeaders } : null,
      responseBody: result.responseBody,
      errorKind,
      errorMessage: result.errorMessage ??
        (errorKind === null ? null : describeStatus(result.status, errorKind)),
    },
    verdict: {
      state: decision.state === "retry" ? "pending" : decision.state,
      nextAttemptAt: decision.state === "retry" ? decision.nextAttemptAt : null,
      scheduleAttempts: delivery.scheduleAttempts + 1,
    },
    health: {
      webhookId: delivery.webhookId,
      kind: decision.state === "succeeded"
        ? "success"
        : decision.state === "retry"
        ? "failure"
        : "ended",
      at: prepared.startedAt,
      problem: errorKind === null
        ? null
        : errorKind === "status" || errorKind === "redirect"
        ? `HTTP ${result.status}`
        : errorKind,
      disablingStatus: result.status !== null && errorKind !== null &&
          matchesOutcome(policy.autoDisable.onStatus, result.outcome)
        ? result.status
        : null,
      rules: {
        failingForMs: policy.autoDisable.failingForMs,
        exhaustedInRow: policy.autoDisable.exhaustedInRow,
      },
    },
  };
}

function describeStatus(status: number | null, kind: string): string {
  if (kind === "redirect") return `HTTP ${status}: redirects are not followed`;
  return `HTTP ${status} is not a success for this webhook's policy`;
}

/** The webhook's TLS settings for its connections, identified by its version. */
function routeTls(webhook: WebhookRecord): RouteTls | undefined {
  const tls = webhook.tls;
  if (tls === null) return undefined;
  return {
    id: `${webhook.id}@${webhook.updatedAt}`,
    caCerts: tls.caCerts,
    ...(tls.clientCert !== null && tls.clientKey !== null
      ? { cert: tls.clientCert, key: tls.clientKey }
      : {}),
  };
}
