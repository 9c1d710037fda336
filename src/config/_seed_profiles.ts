import { loadConfig } from "./load_config.ts";
import type { Profile } from "./types.ts";

/**
 * The five seed contracts of DESIGN.md, each as a profile: shared by the
 * config and rendering tests (and the text the examples start from).
 */
export const SEED_PROFILES_TOML = `
[profiles.seed000]
headers = { "X-Webhook-Event" = "{event_type}", "X-Webhook-Timestamp" = "{attempt_timestamp}", "X-Webhook-Delivery-Id" = "{delivery_id}" }
signature = { scheme = "hmac-sha256", header = "X-Webhook-Signature", content = "{attempt_timestamp}.{body}" }

[profiles.seed001]
signature = { scheme = "standard-webhooks" }

[profiles.seed002]
payload_version = "1.0"
headers = { "X-Agc-Version" = "{payload_version}", "X-Agc-Tenant-Id" = "{tenant_id}", "X-Agc-Webhook-Id" = "{webhook_id}", "X-Agc-Attempt-Id" = "{attempt_id}", "X-Agc-Event-Id" = "{event_id}", "X-Agc-Event-Type" = "{event_type}", "X-Agc-Timestamp" = "{attempt_timestamp_iso}" }
body = { version = "{payload_version}", tenant_id = "{tenant_id}", event_id = "{event_id}", event_type = "{event_type}", event_timestamp = "{event_timestamp_iso}", data = "{data}" }
signature = { scheme = "hmac-sha256", header = "X-Agc-Signature", content = "{attempt_timestamp_iso}.{body}" }

[profiles.seed003]
headers = { "X-Timestamp" = "{attempt_timestamp}" }
signature = { scheme = "hmac-sha256", header = "X-Signature", content = "{attempt_timestamp}.{body}", prefix = "sha256=" }

[profiles.seed004]
body = { delivery_id = "{delivery_id}", event_id = "{event_id}", event_type = "{event_type}", occurred_at = "{event_timestamp_iso}", data = "{data}" }
`;

/** The seed profiles, resolved. */
export function seedProfiles(): Readonly<Record<string, Profile>> {
  return loadConfig({ text: SEED_PROFILES_TOML }).profiles;
}
