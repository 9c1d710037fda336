/**
 * Routes are declared once, as data: method, path, scope, the zod schemas of
 * their input, and a handler. The same declaration registers the Hono handler
 * (auth, scope, body and query validation) and feeds the OpenAPI document, so
 * validation, types and documentation cannot drift apart.
 */
import type { Context } from "hono";
import { z } from "zod";
import type { Principal } from "./auth.ts";
import { readJsonBody } from "./body.ts";
import { type FieldProblem, validationError } from "./errors.ts";
import type { Scope } from "./scopes.ts";

type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export interface RouteInput<Body, Query> {
  readonly c: Context;
  readonly principal: Principal;
  readonly params: Record<string, string>;
  readonly body: Body;
  readonly query: Query;
}

export interface Route<Body = unknown, Query = unknown> {
  readonly method: Method;
  /** Hono path syntax, e.g. `/api/v1/webhooks/:id`. */
  readonly path: string;
  readonly summary: string;
  readonly tag: string;
  /** The scope a key needs; null for unauthenticated routes (health, the document). */
  readonly scope: Scope | null;
  readonly body?: z.ZodType<Body>;
  readonly query?: z.ZodType<Query>;
  /** Status → description, for the document. */
  readonly responses: Readonly<Record<number, string>>;
  readonly handler: (input: RouteInput<Body, Query>) => Promise<Response> | Response;
}

/** Keeps each route's generic types while collecting routes into one list. */
export function route<Body = undefined, Query = undefined>(
  definition: Route<Body, Query>,
): Route<unknown, unknown> {
  return definition as unknown as Route<unknown, unknown>;
}

/** Validates `value` against `schema`, or throws a 400 listing every problem by field. */
export function validate<T>(schema: z.ZodType<T>, value: unknown, prefix = ""): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw validationError(result.error.issues.map((issue) => toProblem(issue, prefix)));
}

const NO_QUERY = z.strictObject({});

/**
 * Validates a request's query parameters (none allowed without a schema). An
 * unknown one is named as a query parameter, with the ones the route takes:
 * a typo in a filter must not pass for a body problem or go unnoticed.
 */
export function validateQuery<T>(schema: z.ZodType<T> | undefined, url: string): T {
  const result = (schema ?? NO_QUERY).safeParse(queryObject(url));
  if (result.success) return result.data as T;
  const allowed = schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
  throw validationError(
    result.error.issues.flatMap((issue) =>
      issue.code === "unrecognized_keys"
        ? issue.keys.map((key) => ({
          field: key,
          message: allowed.length === 0
            ? "is not a query parameter here; this route takes none"
            : `is not a query parameter here; allowed: ${allowed.join(", ")}`,
        }))
        : [toProblem(issue, "")]
    ),
  );
}

function toProblem(issue: z.core.$ZodIssue, prefix: string): FieldProblem {
  const field = [prefix, ...issue.path.map((p) => (typeof p === "number" ? `[${p}]` : String(p)))]
    .filter((p) => p !== "")
    .join(".")
    .replaceAll(".[", "[");
  if (issue.code === "unrecognized_keys") {
    const keys = issue.keys.map((k) => JSON.stringify(k)).join(", ");
    return {
      field: field || "body",
      message: `unknown field${issue.keys.length > 1 ? "s" : ""} ${keys}`,
    };
  }
  return { field: field || "body", message: issue.message };
}

/** Reads and validates the body of a route that declares one. */
export async function readBody<T>(
  request: Request,
  schema: z.ZodType<T>,
  limit: number,
): Promise<T> {
  return validate(schema, await readJsonBody(request, limit));
}

/** Query parameters as a plain object (the last value wins for repeated keys). */
function queryObject(url: string): Record<string, string> {
  return Object.fromEntries(new URL(url).searchParams);
}
