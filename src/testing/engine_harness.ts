/**
 * A store, the delivery engine and the API wired together in-process, for
 * delivery tests. With the system clock and the real HTTP sender it delivers
 * to a local receiver; with a `FakeClock` and a scripted sender it runs a
 * 42-hour retry schedule in milliseconds.
 */
import type { Hono } from "hono";
import { createApp } from "../api/app.ts";
import { Intake } from "../ingest/intake.ts";
import { OperationalEvents } from "../ingest/operational_events.ts";
import { MetricsRegistry } from "../ops/metrics_registry.ts";
import { Authenticator } from "../api/auth.ts";
import type { Clock } from "../clock.ts";
import { loadConfig } from "../config/load_config.ts";
import type { Config } from "../config/types.ts";
import type { AttemptTransport } from "../delivery/sender.ts";
import { DeliveryEngine } from "../delivery/engine.ts";
import type { Rng } from "../delivery/policy.ts";
import { type GuardResult, TargetGuard } from "../net/target_guard.ts";
import { type Logger, silentLogger } from "../ops/log.ts";
import { Store } from "../store/client.ts";
import { ADMIN_KEY, type Json } from "./api_harness.ts";

export interface EngineHarness {
  readonly app: Hono;
  readonly config: Config;
  readonly store: Store;
  readonly engine: DeliveryEngine;
  readonly dir: string;
  /** Calls the API in-process with the root key and parses the JSON answer. */
  api(method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }>;
  /**
   * Resolves once nothing is in flight, nothing is queued (unless `queued` is
   * false: jobs waiting for a rate limit may stay) and the store has caught up.
   */
  settle(options?: { queued?: boolean }): Promise<void>;
  /** Polls `check` (with `settle` between) until it holds; fails after `timeoutMs` of real time. */
  until(check: () => boolean | Promise<boolean>, timeoutMs?: number): Promise<void>;
}

export interface EngineHarnessOptions {
  readonly configToml?: string;
  readonly clock: Clock;
  readonly sender?: AttemptTransport;
  readonly rng?: Rng;
  readonly env?: Record<string, string>;
  /** An SSRF guard with scripted DNS; by default the one `[security]` builds. */
  readonly guard?: { check(url: URL): Promise<GuardResult> };
  /** Where the engine and the API log; silent by default (`testing/log_capture.ts` keeps lines). */
  readonly log?: Logger;
}

export async function withEngine(
  options: EngineHarnessOptions,
  fn: (h: EngineHarness) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "hookd-engine-" });
  const config = loadConfig({
    text: options.configToml ?? "",
    env: {
      HOOKD_STORE_URL: `file:${dir}/hookd.db`,
      HOOKD_ADMIN_KEY: ADMIN_KEY,
      HOOKD_STORE_COMMIT_WINDOW: "0ms",
      HOOKD_SECURITY_ALLOW_PRIVATE_TARGETS: "true",
      ...options.env,
    },
  });
  const { clock } = options;
  const store = await Store.open(config.store, clock.now());
  // Wired as the daemon wires it (src/daemon.ts).
  const intakeRef: { intake?: Intake } = {};
  const operational = new OperationalEvents({
    accept: (events) =>
      intakeRef.intake?.accept(events) ?? Promise.reject(new Error("the intake is not ready")),
    clock,
    log: options.log ?? silentLogger,
    deadWindowMs: config.delivery.deadLetterEventWindowMs,
  });
  const engine = await DeliveryEngine.start({
    config,
    store,
    clock,
    events: operational,
    log: options.log ?? silentLogger,
    rng: options.rng,
    transport: options.sender,
    // Tests never resolve a name for real: a stray hostname fails as `dns`
    // instead of sending a query off this machine.
    guard: options.guard ?? new TargetGuard({
      allowPrivate: config.security.allowPrivateTargets,
      allowCidrs: config.security.allowCidrs,
      resolver: {
        resolve: (name) => Promise.reject(new Error(`tests resolve no names (${name})`)),
      },
    }),
  });
  const auth = new Authenticator(store, clock, config.auth.adminKey);
  const intake = new Intake({ store, clock, sink: engine });
  intakeRef.intake = intake;
  const app = createApp({
    config,
    store,
    clock,
    auth,
    log: options.log ?? silentLogger,
    intake,
    delivery: engine,
    metrics: new MetricsRegistry().add(...store.metricFamilies(), ...engine.metricFamilies())
      .collect(() => engine.collectMetrics()).collect(() => store.collectMetrics()),
  });
  const api: EngineHarness["api"] = async (method, path, body) => {
    const response = await app.request(`http://hookd.test${path}`, {
      method,
      headers: {
        authorization: `Bearer ${ADMIN_KEY}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text === "" ? null : JSON.parse(text) };
  };
  const settle: EngineHarness["settle"] = async ({ queued: waitForQueue = true } = {}) => {
    for (let i = 0; i < 10_000; i++) {
      // A read queues behind every earlier message to the store worker.
      await store.read("schemaVersion", {});
      const { queued, waiting, inFlight, recording } = engine.stats();
      if (
        ((queued === 0 && waiting === 0) || !waitForQueue) && inFlight === 0 && recording === 0 &&
        operational.emitting === 0
      ) {
        await store.read("schemaVersion", {});
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    throw new Error("the engine did not settle");
  };
  const until: EngineHarness["until"] = async (check, timeoutMs = 10_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  };
  try {
    await fn({ app, config, store, engine, dir, api, settle, until });
  } finally {
    await engine.stop(1_000);
    await operational.flush();
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
}
