/**
 * Routes are declared once, as data: method, path, scope, the zod schemas of
 * their path parameters, query and body, and the schema of every answer by
 * status. The same declaration registers the Hono handler (auth, scope and
 * input validation), types the handler's input *and* its answers, and is the
 * OpenAPI document (`openapi.ts`), so validation, types, rendering and
 * documentation cannot drift apart.
 *
 * We keep this small declaration rather than `@hono/zod-openapi`: ours reads
 * bodies through `body.ts` (415, a streamed size cap, strict UTF-8, parse
 * positions) and reports every problem by field, and its answer check is
 * exact (see {@linkcode Exact}); zod 4's own `toJSONSchema` and registries
 * give the document its named components.
 */
import type { Context } from "hono";
import { z } from "zod";
import type { Principal } from "./auth.ts";
import { readJsonBody } from "./body.ts";
import { type FieldProblem, validationError } from "./errors.ts";
import type { Scope } from "./scopes.ts";

type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/**
 * Who may call a route: a key with this scope; any valid key
 * (`"authenticated"`: a key asking about itself); or anyone (null: health,
 * the document).
 */
export type RouteScope = Scope | "authenticated" | null;

/** The scope a route's key must hold, if any. */
export function requiredScope(scope: RouteScope): Scope | null {
  return scope === "authenticated" ? null : scope;
}

/**
 * What a route answers with one status:
 * - `{description, schema}`: a JSON body of that (registered, named) schema;
 * - `{description, text}`: a body of that non-JSON media type (`/metrics`);
 * - a description alone: no body on a 2xx (204), the `Error` shape on an error.
 */
export type ResponseSpec =
  | { readonly description: string; readonly schema: z.ZodType }
  | { readonly description: string; readonly text: string }
  | string;

export type Responses = Readonly<Record<number, ResponseSpec>>;

/** The `:name` segments of a Hono path, e.g. `"id"` for `/api/v1/webhooks/:id`. */
export type ParamNames<Path extends string> = Path extends `${string}:${infer Name}/${infer Rest}`
  ? Name | ParamNames<`/${Rest}`>
  : Path extends `${string}:${infer Name}` ? Name
  : never;

type KeysOf<T> = T extends unknown ? keyof T : never;
type PropertyOf<T, K extends PropertyKey> = T extends unknown ? K extends keyof T ? T[K] : never
  : never;
type ElementOf<T> = T extends readonly (infer E)[] ? E : never;

/**
 * `Actual` with every property that `Declared` lacks, at any depth, made
 * `never`. TypeScript flags unknown properties only in object literals; a
 * handler passing `renderX(record)` or a spread would slip extra fields past
 * the declared schema without this.
 */
export type Exact<Actual, Declared> = unknown extends Declared ? Actual
  : Actual extends readonly (infer E)[] ? Exact<E, ElementOf<Declared>>[]
  : Actual extends object ? {
      [K in keyof Actual]: K extends KeysOf<Declared> ? Exact<Actual[K], PropertyOf<Declared, K>>
        : never;
    }
  : Actual;

type JsonStatus<R> = { [S in keyof R]: R[S] extends { schema: z.ZodType } ? S : never }[keyof R];
type TextStatus<R> = { [S in keyof R]: R[S] extends { text: string } ? S : never }[keyof R];
type JsonBody<R, S> = S extends keyof R
  ? R[S] extends { schema: infer Z extends z.ZodType } ? z.input<Z>
  : never
  : never;

declare const answered: unique symbol;
/** A response made through a route's {@linkcode Reply}, so it was checked against the route's schemas. */
export type RouteResponse = Response & { readonly [answered]: true };

/** How a handler answers: only with the statuses and bodies its route declares. */
export interface Reply<R> {
  /** The request, for what a route reads itself (a header such as Idempotency-Key). */
  readonly req: { readonly raw: Request };
  /** A JSON answer; the status defaults to 200. `headers` adds some (e.g. `Cache-Control`). */
  json<S extends JsonStatus<R> = JsonStatus<R> & 200, B extends JsonBody<R, S> = JsonBody<R, S>>(
    body: B & Exact<B, JsonBody<R, S>>,
    status?: S,
    headers?: Record<string, string>,
  ): RouteResponse;
  /** An answer without a body (204). */
  body(body: null, status: Extract<keyof R, 204>): RouteResponse;
  /** A non-JSON answer, sent with the media type its route declares. */
  text(body: string, status: TextStatus<R>): RouteResponse;
}

export interface RouteInput<Params, Query, Body, R> {
  readonly c: Reply<R>;
  readonly principal: Principal;
  readonly params: Params;
  readonly query: Query;
  readonly body: Body;
}

interface Declaration<Path extends string, Query, Body, R extends Responses> {
  readonly method: Method;
  /** Hono path syntax, e.g. `/api/v1/webhooks/:id`. */
  readonly path: Path;
  readonly summary: string;
  readonly tag: string;
  readonly scope: RouteScope;
  /** The query parameters (a strict object: others are refused); none when absent. */
  readonly query?: z.ZodType<Query>;
  readonly body?: z.ZodType<Body>;
  readonly responses: R;
}

/** A path's parameters get a schema exactly when the path has some. */
type ParamsDeclaration<Path extends string, Params> = [ParamNames<Path>] extends [never]
  ? { readonly params?: undefined }
  : { readonly params: z.ZodType<Params, { [K in ParamNames<Path>]: string }> };

/** A declared route with its types erased, as the app and the document see it. */
export interface Route {
  readonly method: Method;
  readonly path: string;
  readonly summary: string;
  readonly tag: string;
  readonly scope: RouteScope;
  readonly params?: z.ZodType;
  readonly query?: z.ZodType;
  readonly body?: z.ZodType;
  readonly responses: Responses;
  readonly handler: (
    input: RouteInput<unknown, unknown, unknown, Responses>,
  ) => Promise<RouteResponse> | RouteResponse;
}

/** Declares a route; the handler's input and answers are typed by its schemas. */
export function route<
  const Path extends string,
  const R extends Responses,
  Params = Record<never, never>,
  Query = undefined,
  Body = undefined,
>(
  definition:
    & Declaration<Path, Query, Body, R>
    & ParamsDeclaration<Path, Params>
    & {
      readonly handler: (
        input: RouteInput<Params, Query, Body, R>,
      ) => Promise<RouteResponse> | RouteResponse;
    },
): Route {
  return definition as unknown as Route;
}

/** The handler's {@linkcode Reply} over a Hono context. */
export function replyFor(c: Context, responses: Responses): Reply<Responses> {
  // The types were checked where the handler called these; here they are plain Hono calls.
  const respond = (response: Response) => response as RouteResponse;
  const json = (body: unknown, status = 200, headers?: Record<string, string>) =>
    respond(c.json(body, status as 200, headers));
  const empty = (_: null, status: number) => respond(c.body(null, status as 204));
  const text = (body: string, status: number) => {
    const spec = responses[status];
    const type = typeof spec === "object" && "text" in spec ? spec.text : "text/plain";
    return respond(c.body(body, status as 200, { "content-type": type }));
  };
  return { req: c.req, json, body: empty, text } as unknown as Reply<Responses>;
}

/** Validates `value` against `schema`, or throws a 400 listing every problem by field. */
export function validate<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw validationError(result.error.issues.map(toProblem));
}

const NO_QUERY = z.strictObject({});

/**
 * Validates a request's query parameters (none allowed without a schema). An
 * unknown one is named as a query parameter, with the ones the route takes:
 * a typo in a filter must not pass for a body problem or go unnoticed.
 */
export function validateQuery<T>(schema: z.ZodType<T> | undefined, url: string): T {
  // Every ingest request comes here without a query: nothing to parse or check.
  if (schema === undefined && !url.includes("?")) return {} as T;
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
        : [toProblem(issue)]
    ),
  );
}

function toProblem(issue: z.core.$ZodIssue): FieldProblem {
  const field = issue.path.map((p) => (typeof p === "number" ? `[${p}]` : String(p)))
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
  if (!url.includes("?")) return {};
  return Object.fromEntries(new URL(url).searchParams);
}
