/**
 * The headers a profile's signature scheme adds to one attempt.
 *
 * @module
 */
import type { SignatureScheme } from "../config/types.ts";
import { secretHmac, signGithub, signStandardWebhooks, signStripe } from "./signing.ts";
import { renderTemplate, type TemplateValues } from "./template.ts";

/** What a signature covers. */
export interface SignatureInput {
  /** Current secret first, then any still valid during a rotation; empty: unsigned. */
  readonly secrets: readonly string[];
  /** The exact body sent. */
  readonly body: string;
  /** The id Standard Webhooks / Svix send (the event id), already header-safe. */
  readonly messageId: string;
  /** This attempt's start, unix seconds. */
  readonly timestamp: number;
  /** Header-safe variable values; only an `hmac-sha256` content template reads them. */
  readonly values: TemplateValues | undefined;
}

/**
 * The signature headers, in order, as `[name, value]` pairs. None when there
 * is no secret (seed 002: "only present if a secret is configured") or the
 * scheme is `none`. Schemes that carry several signatures (standard-webhooks,
 * svix, stripe) sign with every secret; github and hmac-sha256 carry one,
 * made with the current secret.
 */
export function signatureHeaders(
  scheme: SignatureScheme,
  input: SignatureInput,
): [string, string][] {
  const { secrets, body, timestamp } = input;
  const current = secrets[0];
  if (current === undefined) return [];
  switch (scheme.kind) {
    case "none":
      return [];
    case "standard-webhooks": {
      const p = scheme.headerPrefix;
      const signature = signStandardWebhooks({
        id: input.messageId,
        timestamp,
        body,
        secrets,
      });
      return [[`${p}-id`, input.messageId], [`${p}-timestamp`, String(timestamp)], [
        `${p}-signature`,
        signature,
      ]];
    }
    case "hmac-sha256": {
      if (input.values === undefined) {
        throw new TypeError("Cannot sign with hmac-sha256: no template values were given");
      }
      const content = renderTemplate(scheme.content, input.values, body);
      const encoded = secretHmac(current, "text").sign(content, scheme.encoding);
      return [[scheme.header, scheme.prefix + encoded]];
    }
    case "github":
      return [["X-Hub-Signature-256", signGithub({ body, secret: current })]];
    case "stripe":
      return [["Stripe-Signature", signStripe({ timestamp, body, secrets })]];
  }
}
