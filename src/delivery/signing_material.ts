/**
 * What signs a webhook's requests right now, and which extra headers go
 * with them: its own secret, or those of the credential it references
 * (seed 003: authentication as a reusable object). During a rotation's
 * overlap the previous secret signs too.
 */
import type { CredentialRecord } from "../store/credentials.ts";
import type { WebhookRecord } from "../store/webhooks.ts";

export interface SigningMaterial {
  /** Current secret first; empty when nothing signs. */
  readonly secrets: string[];
  /** Credential headers, then the webhook's own (which win on a clash). */
  readonly headers: Record<string, string>;
}

interface Secrets {
  readonly secret: string | null;
  readonly previousSecret: string | null;
  readonly previousSecretUntil: number | null;
}

/**
 * The secrets of a webhook or credential that sign at `now`: the current one,
 * then the previous one while its rotation's overlap lasts. The one rule for
 * both what signs and what `jwks.json` publishes.
 */
export function activeSecrets(owner: Secrets, now: number): string[] {
  const secrets: string[] = [];
  if (owner.secret) secrets.push(owner.secret);
  if (
    owner.previousSecret && owner.previousSecretUntil !== null && now < owner.previousSecretUntil
  ) {
    secrets.push(owner.previousSecret);
  }
  return secrets;
}

/**
 * The material for one attempt. A webhook whose credential is gone (deleted
 * after the webhook pointed at it, which the API prevents, or not yet seen
 * by this daemon) gets undefined: sending it unsigned would be worse than
 * waiting.
 */
export function signingMaterial(
  webhook: WebhookRecord,
  credential: CredentialRecord | undefined,
  now: number,
): SigningMaterial | undefined {
  if (webhook.credentialId === null) {
    return { secrets: activeSecrets(webhook, now), headers: { ...webhook.headers } };
  }
  if (!credential) return undefined;
  return {
    secrets: activeSecrets(credential, now),
    headers: { ...credential.headers, ...webhook.headers },
  };
}
