/** Liveness and readiness, unauthenticated so orchestrators can probe them. */
import { constantTimeEqual } from "./auth.ts";
import type { ApiDeps } from "./deps.ts";
import { ApiError } from "./errors.ts";
import { Health, NotReady, Ready } from "./responses.ts";
import { route } from "./route.ts";

export function healthRoutes({ config, store, clock, metrics }: ApiDeps) {
  const metricsKey = config.server.metricsKey;
  return [
    route({
      method: "GET",
      path: "/healthz",
      summary: "The process is up",
      tag: "health",
      scope: null,
      responses: { 200: { description: "Up", schema: Health } },
      handler: ({ c }) => c.json({ status: "ok" }),
    }),
    route({
      method: "GET",
      path: "/readyz",
      summary: "The store answers, has this build's schema and takes writes",
      tag: "health",
      scope: null,
      responses: {
        200: { description: "Ready", schema: Ready },
        503: { description: "Not ready, with the reason", schema: NotReady },
      },
      handler: async ({ c }) => {
        try {
          const { version, expected } = await store.read("schemaVersion", {});
          if (version < expected) {
            return c.json({
              status: "unavailable",
              reason: `schema version ${version}, need ${expected}`,
            }, 503);
          }
          // After a failed write, only a commit tells whether writes work again.
          if (store.writeTrouble !== undefined) {
            try {
              await store.write("probeWrite", { now: clock.now() });
            } catch (error) {
              return c.json({
                status: "unavailable",
                reason: `the store does not take writes: ${(error as Error).message}`,
              }, 503);
            }
          }
          return c.json({ status: "ready", schema_version: version });
        } catch (error) {
          return c.json({ status: "unavailable", reason: (error as Error).message }, 503);
        }
      },
    }),
    route({
      method: "GET",
      path: "/metrics",
      summary: "Counters, gauges and histograms in Prometheus text format",
      tag: "health",
      // Open like the probes, unless `[server] metrics_key` asks for its own key.
      scope: null,
      responses: {
        200: {
          description: "Prometheus text exposition",
          text: "text/plain; version=0.0.4; charset=utf-8",
        },
        401: "`[server] metrics_key` is set and the request did not carry it as a bearer token",
      },
      handler: async ({ c }) => {
        if (metricsKey !== "") {
          const given = c.req.raw.headers.get("authorization") ?? "";
          if (!constantTimeEqual(given, `Bearer ${metricsKey}`)) {
            throw new ApiError(
              401,
              "unauthorized",
              "/metrics needs the metrics key as a bearer token",
            );
          }
        }
        return c.text(await metrics.render(), 200);
      },
    }),
  ];
}
