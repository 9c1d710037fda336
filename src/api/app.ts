/**
 * The management API as a Hono app. Every route runs the same pipeline:
 * authenticate, check the scope, validate the query and body, handle. Every
 * failure leaves through `ApiError.toResponse`; anything unexpected is logged
 * and answered with a bare 500 (or 503 when the store is unavailable).
 */
import { Hono } from "hono";
import { Histogram } from "../ops/metrics.ts";
import { StoreUnavailableError } from "../store/errors.ts";
import { requireScope } from "./auth.ts";
import { deadLetterRoutes } from "./dead_letters.ts";
import { deliveryRoutes } from "./deliveries.ts";
import type { ApiDeps } from "./deps.ts";
import { ApiError, internalError } from "./errors.ts";
import { eventRoutes } from "./events.ts";
import { healthRoutes } from "./health.ts";
import { jwksRoutes } from "./jwks.ts";
import { credentialRoutes } from "./credentials.ts";
import { keyRoutes } from "./keys.ts";
import { openApiDocument } from "./openapi.ts";
import { OpenApiDocument } from "./responses.ts";
import {
  readBody,
  replyFor,
  requiredScope,
  type Route,
  route,
  validate,
  validateQuery,
} from "./route.ts";
import { recoverRoutes } from "./recover.ts";
import { statsRoutes } from "./stats.ts";
import { webhookRoutes } from "./webhooks.ts";
import { whoamiRoutes } from "./whoami.ts";

/** Every route of the API, the OpenAPI document's own route included. */
export function apiRoutes(deps: ApiDeps): Route[] {
  const routes: Route[] = [
    ...healthRoutes(deps),
    ...webhookRoutes(deps),
    ...recoverRoutes(deps),
    ...eventRoutes(deps),
    ...deliveryRoutes(deps),
    ...deadLetterRoutes(deps),
    ...keyRoutes(deps),
    ...credentialRoutes(deps),
    ...jwksRoutes(deps),
    ...whoamiRoutes(deps),
    ...statsRoutes(deps),
  ];
  // The document describes itself too: it is built once every route, its own included, is in.
  routes.push(route({
    method: "GET",
    path: "/openapi.json",
    summary: "This API's OpenAPI 3.1 document",
    tag: "health",
    scope: null,
    responses: { 200: { description: "The document", schema: OpenApiDocument } },
    handler: ({ c }) => c.json(document),
  }));
  const document = openApiDocument(routes);
  return routes;
}

/**
 * The ingest routes whose acknowledgement latency `/metrics` shows, by the
 * `endpoint` label they get. Measured from the handler's start (auth, body,
 * validation, the durable commit) to the response it returns.
 */
const ACKNOWLEDGED: Readonly<Record<string, string>> = {
  "POST /api/v1/events": "events",
  "POST /api/v1/events/batch": "events_batch",
};

export function createApp(deps: ApiDeps): Hono {
  const app = new Hono();
  const routes = apiRoutes(deps);
  /** Who made each request, for its debug line; a request refused before that has none. */
  const keyIds = new WeakMap<Request, string>();

  // At debug, one line per request. The path only: query values may be
  // filters an operator would rather not see in logs, and headers carry keys.
  // Registered only at debug: a middleware is one more async step on every
  // request of the ingest hot path.
  if (deps.log.enabled("debug")) {
    app.use(async (c, next) => {
      const started = performance.now();
      await next();
      deps.log.debug("request", {
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        duration_ms: Math.round((performance.now() - started) * 10) / 10,
        key_id: keyIds.get(c.req.raw) ?? null,
      });
    });
  }

  const ackSeconds = new Histogram({
    name: "hookd_ingest_ack_duration_seconds",
    help: "Time to acknowledge events (2xx), from the request reaching the API to its answer.",
    labels: [{ name: "endpoint", values: Object.values(ACKNOWLEDGED) }],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  });
  deps.metrics.add(ackSeconds);

  for (const r of routes) {
    const endpoint = ACKNOWLEDGED[`${r.method} ${r.path}`];
    app.on(r.method, r.path, async (c) => {
      const started = performance.now();
      const principal = r.scope === null
        ? { keyId: "anonymous", scopes: new Set<never>() }
        : await deps.auth.authenticate(c.req.header("authorization") ?? null);
      keyIds.set(c.req.raw, principal.keyId);
      const scope = requiredScope(r.scope);
      if (scope !== null) requireScope(principal, scope);
      const params = r.params ? validate(r.params, c.req.param()) : {};
      const query = validateQuery(r.query, c.req.url);
      const body = r.body
        ? await readBody(c.req.raw, r.body, deps.config.server.bodyLimit)
        : undefined;
      const response = await r.handler({
        c: replyFor(c, r.responses),
        principal,
        params,
        query,
        body,
      });
      if (endpoint !== undefined && response.status < 300) {
        ackSeconds.observe((performance.now() - started) / 1000, endpoint);
      }
      return response;
    });
  }

  app.notFound((c) => {
    const { method, path } = c.req;
    const allowed = methodsOn(routes, path);
    if (allowed.length > 0) {
      return new ApiError(
        405,
        "method_not_allowed",
        `${method} is not allowed on ${path}; use ${allowed.join(", ")}`,
        { allowed },
        { Allow: allowed.join(", ") },
      ).toResponse();
    }
    // Paths are matched exactly; a trailing slash names no route, but say which one was meant.
    const trimmed = path.replace(/\/+$/, "");
    const meant = trimmed !== path && methodsOn(routes, trimmed).includes(method);
    return new ApiError(
      404,
      "not_found",
      `No route for ${method} ${path}` +
        (meant ? `; without the trailing slash: ${method} ${trimmed}` : ""),
    ).toResponse();
  });

  app.onError((error, c) => {
    if (error instanceof ApiError) return error.toResponse();
    if (error instanceof StoreUnavailableError) {
      deps.log.error("store unavailable", { method: c.req.method, path: c.req.path, error });
      return new ApiError(
        503,
        "store_unavailable",
        "The store cannot take this request right now; nothing was stored. Retry later.",
      ).toResponse();
    }
    deps.log.error("unhandled error", { method: c.req.method, path: c.req.path, error });
    return internalError().toResponse();
  });

  return app;
}

/** The methods routes answer on exactly this path. */
function methodsOn(routes: readonly Route[], path: string): string[] {
  return routes
    .filter((r) => new RegExp(`^${r.path.replace(/:\w+/g, "[^/]+")}$`).test(path))
    .map((r) => r.method);
}
