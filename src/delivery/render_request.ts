/**
 * What one attempt sends: headers and body. This is the `standard` profile,
 * Standard Webhooks: `webhook-id` (the event id, the same on every retry and
 * for every endpoint), `webhook-timestamp` (this attempt, unix seconds) and
 * `webhook-signature` (`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`,
 * one per valid secret while a rotation overlaps), plus the webhook's custom
 * headers; the body is the event's data exactly as it was posted.
 */
import type { WebhookRecord } from "../store/webhooks.ts";
import { signStandardWebhooks } from "./signing.ts";

export interface RenderInput {
  readonly webhook: WebhookRecord;
  readonly event: { readonly id: string; readonly payload: string };
  /** This attempt's start, ms since epoch. */
  readonly now: number;
}

export interface RenderedRequest {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** The secrets that sign now: the current one, and the previous one until its overlap ends. */
export function signingSecrets(webhook: WebhookRecord, now: number): string[] {
  const secrets = [webhook.secret];
  if (
    webhook.previousSecret !== null && webhook.previousSecretUntil !== null &&
    now < webhook.previousSecretUntil
  ) {
    secrets.push(webhook.previousSecret);
  }
  return secrets;
}

export async function renderRequest(input: RenderInput): Promise<RenderedRequest> {
  const { webhook, event, now } = input;
  const timestamp = Math.floor(now / 1000);
  const body = event.payload;
  const signature = await signStandardWebhooks({
    id: event.id,
    timestamp,
    body,
    secrets: signingSecrets(webhook, now),
  });
  return {
    url: webhook.url,
    headers: {
      ...webhook.headers,
      "webhook-id": event.id,
      "webhook-timestamp": String(timestamp),
      "webhook-signature": signature,
    },
    body,
  };
}

const SENSITIVE = /authorization|cookie|key|token|secret|password|credential|session/i;

/**
 * Headers as kept in the attempt log, which API readers see: values of custom
 * headers that look like credentials are replaced, so receiver API keys or
 * basic-auth passwords never leave the daemon. Signatures are MACs, not
 * secrets, and stay.
 */
export function headersForLog(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    out[name] = SENSITIVE.test(name) && !/signature/i.test(name) ? "[redacted]" : value;
  }
  return out;
}
