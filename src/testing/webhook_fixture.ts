/** A complete webhook record for tests that write to the store directly. */
import type { WebhookRecord } from "../store/webhooks.ts";

export function webhookFixture(
  id: string,
  eventTypes: string[],
  now: number,
  extra: Partial<WebhookRecord> = {},
): WebhookRecord {
  return {
    id,
    url: `http://127.0.0.1:9/${id}`,
    description: "",
    eventTypes,
    state: "enabled",
    disabledReason: null,
    disabledAt: null,
    policy: "default",
    profile: "standard",
    secret: "whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ=",
    previousSecret: null,
    previousSecretUntil: null,
    headers: {},
    rateLimitPerSecond: null,
    maxInFlight: null,
    tenantId: null,
    metadata: {},
    credentialId: null,
    tls: null,
    ordering: "none",
    receiverAuth: null,
    proxy: null,
    createdAt: now,
    updatedAt: now,
    ...extra,
  };
}
