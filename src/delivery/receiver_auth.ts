/**
 * Which receiver auth applies to a webhook's requests, and whose it is: the
 * webhook's own, else that of the credential it references (seed 003:
 * authentication as a reusable object). Whose matters for OAuth2: every
 * webhook using one credential shares that credential's token.
 */
import type { CredentialRecord } from "../store/credentials.ts";
import type { ReceiverAuth } from "../store/receiver_auth.ts";
import { tokenOwner } from "../store/receiver_tokens.ts";
import type { WebhookRecord } from "../store/webhooks.ts";
import { toBase64 } from "./base64.ts";

export interface EffectiveAuth {
  /** `webhook:<id>` or `credential:<id>`: the key of its OAuth2 token. */
  readonly owner: string;
  readonly auth: ReceiverAuth;
}

export function receiverAuthOf(
  webhook: WebhookRecord,
  credential: CredentialRecord | undefined,
): EffectiveAuth | null {
  if (webhook.receiverAuth !== null) {
    return { owner: tokenOwner("webhook", webhook.id), auth: webhook.receiverAuth };
  }
  if (credential?.receiverAuth) {
    return { owner: tokenOwner("credential", credential.id), auth: credential.receiverAuth };
  }
  return null;
}

/**
 * `Basic base64(user-id ":" password)`, UTF-8 encoded (RFC 7617 §2.1, the
 * charset every current client uses).
 */
export function basicAuthorization(username: string, password: string): string {
  return `Basic ${toBase64(new TextEncoder().encode(`${username}:${password}`))}`;
}
