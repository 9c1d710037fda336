/** What an API key may do. The root key (HOOKD_ADMIN_KEY) has every scope. */
export const SCOPES = [
  "webhooks:manage",
  "webhooks:read",
  "events:write",
  "deliveries:read",
  "deliveries:replay",
  // Erasing an event's data (data-protection requests): destructive and
  // rare, so no other scope implies it.
  "events:erase",
  "keys:manage",
] as const;

export type Scope = typeof SCOPES[number];

/**
 * Scopes that come with another: a key that may change webhooks may read
 * them. `webhooks:read` came after `webhooks:manage`; keys made before it
 * keep reading webhooks through this.
 */
const IMPLIED: Readonly<Partial<Record<Scope, readonly Scope[]>>> = {
  "webhooks:manage": ["webhooks:read"],
};

/** `scopes` with the ones they imply, in the order of {@linkcode SCOPES}. */
export function withImpliedScopes(scopes: Iterable<Scope>): Scope[] {
  const all = new Set<Scope>();
  for (const scope of scopes) {
    all.add(scope);
    for (const implied of IMPLIED[scope] ?? []) all.add(implied);
  }
  return SCOPES.filter((scope) => all.has(scope));
}
