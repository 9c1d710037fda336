/**
 * What an attempt's outcome says about its endpoint, for flow control (the
 * pool's breaker and AIMD). Pure.
 *
 * - success: the policy counts it as delivered.
 * - failure: the endpoint is unwell: a transport error, a timeout, 408, 429
 *   or any 5xx; or no token from its OAuth2 token endpoint (`auth`): while
 *   that is down every attempt fails at once, and an open breaker holds the
 *   deliveries without spending their attempts (or hammering the endpoint).
 *   Pushback (429, 502, 503, 504, a timeout) also halves the webhook's
 *   concurrency.
 * - neutral: anything else (another 4xx, a 3xx, a target the SSRF guard
 *   blocked, a forward proxy that failed): about the request or our own
 *   configuration and infrastructure, not the endpoint's health.
 */
import type { Policy } from "../config/types.ts";
import type { Outcome } from "./outcome.ts";
import { classify } from "./policy.ts";
import type { FlowSignal } from "./pool.ts";

const PUSHBACK = new Set([429, 502, 503, 504]);

export function flowSignal(outcome: Outcome, policy: Policy): FlowSignal {
  if (classify(outcome, policy) === "success") return { health: "success", congestion: false };
  if (outcome.kind === "error") {
    if (outcome.error === "blocked" || outcome.error === "proxy") {
      return { health: "neutral", congestion: false };
    }
    return { health: "failure", congestion: outcome.error === "timeout" };
  }
  const { status } = outcome;
  const failure = status === 408 || status === 429 || (status >= 500 && status <= 599);
  return { health: failure ? "failure" : "neutral", congestion: PUSHBACK.has(status) };
}
