/**
 * An in-process API for tests: a real store in a temp directory, a fake
 * clock, the root key, and `request()` that calls the Hono app directly —
 * no sockets. Every answer is checked against the OpenAPI document the app
 * serves (`openapi_conformance.ts`) before a test sees it.
 */
import type { WebhookFlow } from "../delivery/pool.ts";
import type { Hono } from "hono";
import { Authenticator } from "../api/auth.ts";
import { createApp } from "../api/app.ts";
import type { ApiDeps } from "../api/deps.ts";
import type { DeliveryTrigger } from "../delivery/trigger.ts";
import { Intake } from "../ingest/intake.ts";
import { MetricsRegistry } from "../ops/metrics_registry.ts";
import { FakeClock } from "./fake_clock.ts";
import { loadConfig } from "../config/load_config.ts";
import { type Logger, silentLogger } from "../ops/log.ts";
import type { DueDelivery } from "../store/delivery_queue.ts";
import { Store } from "../store/client.ts";
import { ResponseConformance } from "./openapi_conformance.ts";

/** Parsed JSON answers; tests index into them freely and assert on what they find. */
// deno-lint-ignore no-explicit-any
export type Json = any;

export const ADMIN_KEY = "test-admin-key-0123456789";
export const START = Date.UTC(2026, 10, 23, 9, 0, 0);

export interface ApiHarness {
  readonly app: Hono;
  readonly deps: ApiDeps;
  readonly clock: FakeClock;
  readonly store: Store;
  /** Checks every answer against the document; knows which operations and statuses it saw. */
  readonly conformance: ResponseConformance;
  /** Calls the app; `body` objects are sent as JSON with the root key unless `key` is given. */
  request(
    method: string,
    path: string,
    options?: { body?: unknown; key?: string | null; headers?: Record<string, string> },
  ): Promise<Response>;
  /** Like `request`, then parses the JSON answer. */
  json(
    method: string,
    path: string,
    options?: { body?: unknown; key?: string | null; headers?: Record<string, string> },
  ): Promise<{ status: number; body: Json }>;
}

/** A `DeliveryTrigger` that only records the hints the API gives it. */
export class RecordingTrigger implements DeliveryTrigger {
  /** The argument of every `due` call, in order. */
  readonly dueCalls: DueDelivery[][] = [];
  refills = 0;
  readonly webhooksChanged: string[] = [];

  due(deliveries: readonly DueDelivery[]): void {
    this.dueCalls.push([...deliveries]);
  }
  refill(): void {
    this.refills++;
  }
  webhookChanged(id: string): void {
    this.webhooksChanged.push(id);
  }
  /** Every webhook as a fresh engine sees it: breaker closed, the default cap. */
  flowOf(_webhookId: string): WebhookFlow {
    return {
      circuit: { state: "closed", openedAt: null, nextProbeAt: null },
      effectiveConcurrency: 16,
    };
  }
}

export async function withApi(
  fn: (api: ApiHarness) => Promise<void>,
  configToml = "",
  options: { delivery?: DeliveryTrigger; env?: Record<string, string>; log?: Logger } = {},
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "hookd-api-" });
  const config = loadConfig({
    text: configToml,
    env: {
      HOOKD_STORE_URL: `file:${dir}/hookd.db`,
      HOOKD_ADMIN_KEY: ADMIN_KEY,
      HOOKD_STORE_COMMIT_WINDOW: "0ms",
      // Tests deliver to 127.0.0.1; the SSRF tests turn this off again.
      HOOKD_SECURITY_ALLOW_PRIVATE_TARGETS: "true",
      ...options.env,
    },
  });
  const clock = new FakeClock(START);
  const store = await Store.open(config.store, clock.now());
  const intake = new Intake({ store, clock });
  const deps: ApiDeps = {
    config,
    store,
    clock,
    auth: new Authenticator(store, clock, config.auth.adminKey),
    log: options.log ?? silentLogger,
    intake,
    delivery: options.delivery,
    metrics: new MetricsRegistry().add(intake.ingested, ...store.metricFamilies()),
  };
  const app = createApp(deps);
  const conformance = new ResponseConformance(
    await (await app.request("http://hookd.test/openapi.json")).json(),
  );
  const request: ApiHarness["request"] = async (method, path, options = {}) => {
    const headers = new Headers(options.headers);
    const key = options.key === undefined ? ADMIN_KEY : options.key;
    if (key !== null) headers.set("authorization", `Bearer ${key}`);
    let body: BodyInit | undefined;
    if (typeof options.body === "string") body = options.body;
    else if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      if (!headers.has("content-type")) headers.set("content-type", "application/json");
    }
    const response = await app.request(`http://hookd.test${path}`, { method, headers, body });
    await conformance.check(method, new URL(path, "http://hookd.test").pathname, response);
    return response;
  };
  const json: ApiHarness["json"] = async (method, path, options) => {
    const response = await request(method, path, options);
    const text = await response.text();
    return { status: response.status, body: text === "" ? null : JSON.parse(text) };
  };
  try {
    await fn({ app, deps, clock, store, conformance, request, json });
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** What `recordAttempts` writes for each delivery; omitted fields take plain defaults. */
export interface TestAttempt {
  readonly id?: string;
  readonly number?: number;
  readonly durationMs?: number;
  readonly requestHeaders?: Record<string, string>;
  readonly responseStatus?: number | null;
  readonly responseHeaders?: Record<string, string> | null;
  readonly responseBody?: string | null;
  readonly errorKind?: string | null;
  readonly errorMessage?: string | null;
}

/**
 * Plays the delivery engine for API tests, which run none: claims `ids` (they
 * must be due) and records one attempt each, leaving them in `verdict.state`.
 * The claim is one write and the attempts are queued together, so the store
 * group-commits them in a few transactions however many there are.
 */
export async function recordAttempts(
  store: Store,
  clock: FakeClock,
  ids: readonly string[],
  verdict: { state: "succeeded" | "pending" | "failed" | "dead"; nextAttemptAt?: number | null },
  attempt: TestAttempt = {},
): Promise<void> {
  const now = clock.now();
  const claimed = await store.write("claimDeliveries", {
    ids: [...ids],
    owner: "test",
    now,
    leaseUntil: now + 60_000,
  });
  if (claimed.length !== ids.length) {
    throw new Error(`Cannot record attempts: claimed ${claimed.length} of ${ids.length}`);
  }
  const moved = await Promise.all(claimed.map((delivery) => {
    const number = attempt.number ?? delivery.attempts + 1;
    return store.write("recordAttempt", {
      attempt: {
        id: attempt.id ?? `${delivery.id}-attempt-${number}`,
        deliveryId: delivery.id,
        number,
        trigger: delivery.trigger,
        startedAt: now,
        durationMs: attempt.durationMs ?? 10,
        requestHeaders: attempt.requestHeaders ?? {},
        responseStatus: attempt.responseStatus === undefined ? 500 : attempt.responseStatus,
        responseHeaders: attempt.responseHeaders === undefined ? {} : attempt.responseHeaders,
        responseBody: attempt.responseBody === undefined ? "" : attempt.responseBody,
        errorKind: attempt.errorKind === undefined ? "status" : attempt.errorKind,
        errorMessage: attempt.errorMessage === undefined ? "HTTP 500" : attempt.errorMessage,
      },
      owner: "test",
      verdict: {
        state: verdict.state,
        nextAttemptAt: verdict.nextAttemptAt ?? null,
        scheduleAttempts: number,
      },
      now,
    });
  }));
  if (moved.some((m) => !m)) throw new Error("Cannot record attempts: a lease was lost");
}
