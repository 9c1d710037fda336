/**
 * The running daemon: store, API server and the delivery engine,
 * started in dependency order and stopped in reverse. `main.ts` owns the
 * process (arguments, signals, exit codes); this owns the parts.
 */
import { Authenticator } from "./api/auth.ts";
import { createApp } from "./api/app.ts";
import { FRONT_CONNECTION_HEADER, FrontDoor } from "./api/front_door.ts";
import { type Clock, systemClock } from "./clock.ts";
import type { Config } from "./config/types.ts";
import type { Logger } from "./ops/log.ts";
import { DeliveryEngine } from "./delivery/engine.ts";
import { clearNoProxyEnv } from "./delivery/ssrf/pin.ts";
import { Store } from "./store/store.ts";
import { VERSION } from "./version.ts";

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
  // Before any worker thread exists: NO_PROXY would make Deno bypass the
  // pinning proxy and resolve webhook hosts itself (see ssrf/pin.ts).
  const ignored = clearNoProxyEnv();
  if (Object.keys(ignored).length > 0) {
    log.warn("NO_PROXY is ignored: deliveries connect only to addresses the SSRF guard checked", {
      ignored,
    });
  }
  const store = await Store.open(config.store, clock.now());
  let engine: DeliveryEngine;
  try {
    engine = await DeliveryEngine.start({ config, store, clock, log });
  } catch (error) {
    await store.close();
    throw error;
  }
  const auth = new Authenticator(store, clock, config.auth.adminKey);
  const app = createApp({
    config,
    store,
    clock,
    auth,
    log,
    delivery: engine,
    metrics: () => engine.metrics(),
  });
  // The HTTP server listens on a Unix socket in a private directory; clients
  // reach it only through the front door, which enforces the header and idle
  // timeouts and the head and connection limits Deno.serve does not have.
  let server: Deno.HttpServer<Deno.UnixAddr> | undefined;
  let listener: Deno.Listener<Deno.Conn, Deno.NetAddr> | undefined;
  let socketDir: string | undefined;
  let door: FrontDoor | undefined;
  try {
    const tls = config.server.tlsCert === "" ? undefined : {
      cert: readPem(config.server.tlsCert, "server.tls_cert"),
      key: readPem(config.server.tlsKey, "server.tls_key"),
    };
    const { hostname, port } = config.server;
    listener = tls ? Deno.listenTls({ hostname, port, ...tls }) : Deno.listen({ hostname, port });
    socketDir = await Deno.makeTempDir({ prefix: "hookd-api-" }); // mode 0700
    const backendPath = `${socketDir}/api.sock`;
    server = Deno.serve({
      path: backendPath,
      onListen: () => {},
      onError: (error) => {
        log.error("request failed outside the API's error handling", { error });
        return Response.json(
          { error: { code: "internal_error", message: "Internal error; see the daemon's log" } },
          { status: 500 },
        );
      },
    }, (request, info) => {
      // Tell the front door this connection is being answered, so it is not idle.
      const connection = Number(request.headers.get(FRONT_CONNECTION_HEADER));
      door?.responseStarted(connection);
      info.completed.finally(() => door?.responseEnded(connection));
      return app.fetch(request);
    });
    door = FrontDoor.start({
      listener,
      backendPath,
      headerTimeoutMs: config.server.headerTimeoutMs,
      idleTimeoutMs: config.server.idleTimeoutMs,
      maxHeaderBytes: config.server.maxHeaderBytes,
      maxConnections: config.server.maxConnections,
      log,
    });
  } catch (error) {
    try {
      listener?.close();
    } catch { /* not open */ }
    await server?.shutdown().catch(() => {});
    if (socketDir) await Deno.remove(socketDir, { recursive: true }).catch(() => {});
    await engine.stop(0);
    await store.close();
    const reason = error instanceof Deno.errors.AddrInUse
      ? "address already in use"
      : error instanceof Error
      ? error.message
      : String(error);
    throw new Error(`Cannot listen on ${config.server.listen}: ${reason}`, { cause: error });
  }
  const address = {
    hostname: listener.addr.hostname,
    port: listener.addr.port,
    scheme: config.server.tlsCert === "" ? "http" as const : "https" as const,
  };
  log.info("hookd started", { version: VERSION, listen: `${address.hostname}:${address.port}` });
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
        await Promise.all([
          door.close(graceMs),
          withDeadline(server.shutdown(), graceMs, clock),
          engine.stop(graceMs),
        ]);
        await Deno.remove(socketDir!, { recursive: true }).catch(() => {});
        await store.close();
        log.info("stopped");
      })();
      return stopping;
    },
  };
}

function withDeadline(work: Promise<void>, ms: number, clock: Clock): Promise<void> {
  let timer: unknown;
  const deadline = new Promise<void>((resolve) => timer = clock.setTimeout(resolve, ms));
  return Promise.race([work, deadline]).finally(() => clock.clearTimeout(timer));
}

function readPem(path: string, key: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch (error) {
    throw new Error(
      `Cannot read ${key} "${path}": ${error instanceof Error ? error.message : error}`,
    );
  }
}
