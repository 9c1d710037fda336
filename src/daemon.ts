/**
 * The running daemon: store, API server and the delivery engine,
 * started in dependency order and stopped in reverse. `main.ts` owns the
 * process (arguments, signals, exit codes); this owns the parts.
 */
import { Authenticator } from "./api/auth.ts";
import { createApp } from "./api/app.ts";
import { serveApi, type ServedApi } from "./api/serve_api.ts";
import { withUi } from "./api/ui.ts";
import { type Clock, systemClock } from "./clock.ts";
import type { Config } from "./config/types.ts";
import type { Logger } from "./ops/log.ts";
import { MetricsRegistry } from "./ops/metrics_registry.ts";
import { processMetrics } from "./ops/process_metrics.ts";
import { DeliveryEngine } from "./delivery/engine.ts";
import { Intake } from "./ingest/intake.ts";
import { OperationalEvents } from "./ingest/operational_events.ts";
import { Store } from "./store/client.ts";
import { Purger } from "./store/purger.ts";

export interface Daemon {
  /** The address the API listens on; the port is the real one when 0 was configured. */
  readonly address: { hostname: string; port: number; scheme: "http" | "https" };
  readonly store: Store;
  readonly engine: DeliveryEngine;
  /** Stops accepting requests, lets in-flight ones finish, commits what is queued, closes the store. */
  shutdown(): Promise<void>;
}

export async function startDaemon(
  config: Config,
  log: Logger,
  clock: Clock = systemClock,
): Promise<Daemon> {
  const store = await Store.open(config.store, clock.now());
  // The engine reports endpoint events; they are emitted through the intake, which
  // needs the engine as its sink: the intake is bound once both exist.
  const intakeRef: { intake?: Intake } = {};
  const operational = new OperationalEvents({
    accept: (events) =>
      intakeRef.intake?.accept(events) ?? Promise.reject(new Error("the intake is not ready")),
    clock,
    log,
    deadWindowMs: config.delivery.deadLetterEventWindowMs,
  });
  let engine: DeliveryEngine;
  try {
    engine = await DeliveryEngine.start({ config, store, clock, log, events: operational });
  } catch (error) {
    await store.close();
    throw error;
  }
  const auth = new Authenticator(store, clock, config.auth.adminKey);
  const purger = new Purger({ store, clock, log, retention: config.retention });
  const intake = new Intake({ store, clock, sink: engine });
  intakeRef.intake = intake;
  const process = processMetrics();
  const metrics = new MetricsRegistry()
    .add(intake.ingested, purger.purged, ...engine.metricFamilies(), ...store.metricFamilies())
    .add(...process.families)
    .collect(() => engine.collectMetrics())
    .collect(() => store.collectMetrics())
    .collect(process.collect);
  const app = createApp({ config, store, clock, auth, log, intake, delivery: engine, metrics });
  let api: ServedApi;
  try {
    api = await serveApi(config.server, withUi(app.fetch), log);
  } catch (error) {
    await engine.stop(0);
    await store.close();
    const reason = error instanceof Deno.errors.AddrInUse
      ? "address already in use"
      : error instanceof Error
      ? error.message
      : String(error);
    throw new Error(`Cannot listen on ${config.server.listen}: ${reason}`, { cause: error });
  }
  metrics.add(...api.frontDoor.families());
  purger.start();
  const address = {
    hostname: api.address.hostname,
    port: api.address.port,
    scheme: config.server.tlsCert === "" ? "http" as const : "https" as const,
  };
  if (!config.auth.adminKey) {
    log.warn("no admin key set: create one with HOOKD_ADMIN_KEY or `hookd keys create`");
  }

  let stopping: Promise<void> | undefined;
  return {
    address,
    store,
    engine,
    shutdown() {
      stopping ??= (async () => {
        const graceMs = config.server.shutdownGraceMs;
        log.info("shutting down", { grace_ms: graceMs });
        // Requests and attempts in flight get the grace period together; whatever
        // is still running after it is abandoned: unacknowledged requests were never
        // promised, and unrecorded attempts keep their lease and are retried.
        await Promise.all([api.shutdown(graceMs), engine.stop(graceMs), purger.stop()]);
        // Open dead-letter windows are sent now rather than lost with the process.
        await operational.flush();
        await store.close();
        log.info("stopped");
      })();
      return stopping;
    },
  };
}
