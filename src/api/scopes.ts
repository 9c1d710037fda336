/** What an API key may do. The root key (HOOKD_ADMIN_KEY) has every scope. */
export const SCOPES = [
  "webhooks:manage",
  "events:write",
  "deliveries:read",
  "deliveries:replay",
  "keys:manage",
] as const;

export type Scope = typeof SCOPES[number];
