/**
 * `GET /api/v1/whoami`: the calling key's name and scopes, so a client (the
 * dashboard) can offer only what the key may do instead of buttons that fail.
 */
import type { ApiDeps } from "./deps.ts";
import { Whoami } from "./responses.ts";
import { route } from "./route.ts";
import { type Scope, SCOPES } from "./scopes.ts";

export function whoamiRoutes({ store }: ApiDeps) {
  return [
    route({
      method: "GET",
      path: "/api/v1/whoami",
      summary: "The calling key: id, name and scopes",
      tag: "keys",
      scope: "authenticated",
      responses: { 200: { description: "The key", schema: Whoami } },
      handler: async ({ c, principal }) => {
        const scopes = SCOPES.filter((scope: Scope) => principal.scopes.has(scope));
        if (principal.keyId === "admin") {
          return c.json({ key_id: "admin", name: "root key (HOOKD_ADMIN_KEY)", scopes });
        }
        const record = await store.read("getApiKey", { id: principal.keyId });
        return c.json({ key_id: principal.keyId, name: record?.name ?? "", scopes });
      },
    }),
  ];
}
