/**
 * The OpenAPI 3.1 document, generated from the route declarations and the
 * response schemas themselves. Every JSON answer refers to a named schema in
 * `components.schemas`; every error to `Error`.
 */
import { z } from "zod";
import { VERSION } from "../version.ts";
import { components, ErrorResponse } from "./responses.ts";
import { requiredScope, type ResponseSpec, type Route } from "./route.ts";

const COMPONENTS = "#/components/schemas/";

type JsonSchema = Record<string, unknown>;

/** Request side: what a client may send, before defaults and transforms. */
function inputSchema(schema: z.ZodType): JsonSchema {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" });
  return rest;
}

/** Every registered response schema under its name, referring to each other by `$ref`. */
function componentSchemas(): Record<string, JsonSchema> {
  const { schemas } = z.toJSONSchema(components, {
    io: "output",
    uri: (id) => `${COMPONENTS}${id}`,
    // zod spells `format: date-time` out again as a long pattern; the format says it all.
    override: ({ jsonSchema }) => {
      if (jsonSchema.format === "date-time") delete jsonSchema.pattern;
    },
  });
  // Each comes out as a document of its own; inside ours, neither key belongs.
  return Object.fromEntries(
    Object.entries(schemas).map(([id, { $schema: _, $id: __, ...schema }]) => [id, schema]),
  );
}

function ref(schema: z.ZodType, where: string): JsonSchema {
  const id = components.get(schema)?.id;
  if (id === undefined) {
    throw new Error(`${where}: the response schema is not a named component (see responses.ts)`);
  }
  return { $ref: `${COMPONENTS}${id}` };
}

const errorContent = { "application/json": { schema: ref(ErrorResponse, "Error") } };

function responseObject(status: number, spec: ResponseSpec, where: string): JsonSchema {
  if (typeof spec === "string") {
    return status >= 400 ? { description: spec, content: errorContent } : { description: spec };
  }
  if ("schema" in spec) {
    return {
      description: spec.description,
      content: { "application/json": { schema: ref(spec.schema, `${where} ${status}`) } },
    };
  }
  return {
    description: spec.description,
    content: { [spec.text]: { schema: { type: "string" } } },
  };
}

function parameters(schema: z.ZodType | undefined, location: "path" | "query"): JsonSchema[] {
  if (!schema) return [];
  const { properties = {}, required = [] } = inputSchema(schema) as {
    properties?: Record<string, JsonSchema>;
    required?: string[];
  };
  return Object.entries(properties).map(([name, property]) => ({
    name,
    in: location,
    required: location === "path" || required.includes(name),
    schema: property,
  }));
}

function operation(r: Route): JsonSchema {
  const where = `${r.method} ${r.path}`;
  const responses: Record<string, JsonSchema> = {};
  for (const [status, spec] of Object.entries(r.responses)) {
    responses[status] = responseObject(Number(status), spec, where);
  }
  // What the pipeline in app.ts may answer before the handler runs.
  const shared: Record<number, string | false> = {
    // Unknown query parameters are refused on every route.
    400: "Invalid request: `details` names each problem by field",
    401: r.scope !== null && "Missing or invalid API key",
    403: requiredScope(r.scope) !== null && `The key lacks the "${r.scope}" scope`,
    413: r.body !== undefined && "The body is larger than `server.body_limit`",
    415: r.body !== undefined && "The body is not `application/json` in UTF-8",
  };
  for (const [status, description] of Object.entries(shared)) {
    if (description) responses[status] ??= { description, content: errorContent };
  }
  responses.default = {
    description: "Any other error: 500, or 503 when the store cannot take the request",
    content: errorContent,
  };
  const params = [...parameters(r.params, "path"), ...parameters(r.query, "query")];
  return {
    summary: r.summary,
    tags: [r.tag],
    ...(r.scope === null ? { security: [] } : { security: [{ bearer: [] }] }),
    ...(requiredScope(r.scope) === null ? {} : { "x-required-scope": r.scope }),
    ...(params.length > 0 ? { parameters: params } : {}),
    ...(r.body
      ? {
        requestBody: {
          required: true,
          content: { "application/json": { schema: inputSchema(r.body) } },
        },
      }
      : {}),
    responses,
  };
}

/** The OpenAPI path of a Hono path: `/webhooks/:id` → `/webhooks/{id}`. */
export function openApiPath(path: string): string {
  return path.replace(/:(\w+)/g, "{$1}");
}

export function openApiDocument(routes: readonly Route[]) {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const r of routes) {
    (paths[openApiPath(r.path)] ??= {})[r.method.toLowerCase()] = operation(r);
  }
  return {
    openapi: "3.1.0",
    info: { title: "hookd management API", version: VERSION },
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
      schemas: componentSchemas(),
    },
    paths,
  };
}
