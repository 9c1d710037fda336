/** `/api/v1/keys`: scoped API keys. The key itself is shown once, at creation. */
import { z } from "zod";
import { newApiKey } from "./auth.ts";
import type { ApiDeps } from "./deps.ts";
import { notFound } from "./errors.ts";
import { renderApiKey, renderPage } from "./render.ts";
import { ApiKeyPage, CreatedApiKey } from "./responses.ts";
import { route } from "./route.ts";
import { idParam, pageQuery } from "./schemas.ts";
import { SCOPES } from "./scopes.ts";

export const createKeySchema = z.strictObject({
  name: z.string({ error: "is required: a name of 1-100 characters" }).min(1, "must not be empty")
    .max(100, "must be at most 100 characters"),
  scopes: z.array(
    z.enum(SCOPES, { error: `must be one of ${SCOPES.map((s) => JSON.stringify(s)).join(", ")}` }),
    { error: "must be an array of scopes" },
  ).min(1, "must grant at least one scope"),
});

export function keyRoutes({ store, clock, auth, log }: ApiDeps) {
  return [
    route({
      method: "POST",
      path: "/api/v1/keys",
      summary: "Create an API key; the answer carries the key, shown only this once",
      tag: "keys",
      scope: "keys:manage",
      body: createKeySchema,
      responses: { 201: { description: "The key's record and `key`", schema: CreatedApiKey } },
      handler: async ({ c, body, principal }) => {
        const { record, key } = await newApiKey(body.name, [...new Set(body.scopes)], clock.now());
        await store.write("insertApiKey", { key: record });
        // The key itself is shown once, in the answer; the log names it by id.
        log.info("API key created", {
          created_key_id: record.id,
          name: record.name,
          scopes: record.scopes,
          key_id: principal.keyId,
        });
        return c.json({ ...renderApiKey(record), key }, 201);
      },
    }),
    route({
      method: "GET",
      path: "/api/v1/keys",
      summary: "List active API keys (never their secret part)",
      tag: "keys",
      scope: "keys:manage",
      query: z.strictObject(pageQuery),
      responses: { 200: { description: "A page of keys", schema: ApiKeyPage } },
      handler: async ({ c, query }) => {
        const page = await store.read("listApiKeys", {
          page: { limit: query.limit, after: query.cursor },
        });
        return c.json(renderPage(page, renderApiKey));
      },
    }),
    route({
      method: "DELETE",
      path: "/api/v1/keys/:id",
      summary: "Revoke an API key",
      tag: "keys",
      scope: "keys:manage",
      params: idParam,
      responses: { 204: "Revoked", 404: "No such active key" },
      handler: async ({ c, params, principal }) => {
        const revoked = await store.write("revokeApiKey", { id: params.id, now: clock.now() });
        if (!revoked) throw notFound("active API key", params.id);
        auth.forget(params.id);
        log.info("API key revoked", { revoked_key_id: params.id, key_id: principal.keyId });
        return c.body(null, 204);
      },
    }),
  ];
}
