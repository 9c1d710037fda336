/** Liveness and readiness, unauthenticated so orchestrators can probe them. */
import type { ApiDeps } from "./deps.ts";
import { type Metric, renderPrometheus } from "../ops/metrics.ts";
import { Health, NotReady, Ready } from "./responses.ts";
import { route } from "./route.ts";

export function healthRoutes({ store, clock, metrics }: ApiDeps) {
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
      summary: "Counters and gauges in Prometheus text format",
      tag: "health",
      scope: null,
      responses: {
        200: {
          description: "Prometheus text exposition",
          text: "text/plain; version=0.0.4; charset=utf-8",
        },
      },
      handler: ({ c }) => {
        const { transactions, writes } = store.stats();
        const all: Metric[] = [
          {
            name: "hookd_store_transactions_total",
            help: "Store transactions committed (group commit: many writes each).",
            type: "counter",
            value: transactions,
          },
          {
            name: "hookd_store_writes_total",
            help: "Store writes committed.",
            type: "counter",
            value: writes,
          },
          ...(metrics?.() ?? []),
        ];
        return c.text(renderPrometheus(all), 200);
      },
    }),
  ];
}
