/**
 * Puts the API on the network: `Deno.serve` behind the front door (the
 * default), or `Deno.serve` on the configured address itself when
 * `[server] enforce_connection_limits` is false (a reverse proxy in front
 * enforces the header and idle timeouts and the head and connection caps), or
 * "auto" with the API on a loopback address (only local processes connect).
 *
 * @module
 */
import type { ServerConfig } from "../config/types.ts";
import type { Logger } from "../ops/log.ts";
import { internalError } from "./errors.ts";
import { FRONT_CONNECTION_HEADER, FrontDoor } from "./front_door.ts";
import { FrontDoorMetrics } from "./front_door_metrics.ts";
import { makeSocketDir } from "./socket_dir.ts";

export interface ServedApi {
  readonly address: { hostname: string; port: number };
  /** The front door's counters; they stay at zero when it is not in the way. */
  readonly frontDoor: FrontDoorMetrics;
  /** Stops taking connections and lets requests in progress finish, at most `graceMs`. */
  shutdown(graceMs: number): Promise<void>;
}

type Handler = (request: Request) => Response | Promise<Response>;

/** Serves `handler`; throws (nothing left open) when the address or TLS files cannot be used. */
export async function serveApi(
  config: ServerConfig,
  handler: Handler,
  log: Logger,
): Promise<ServedApi> {
  const tls = config.tlsCert === "" ? undefined : {
    cert: readPem(config.tlsCert, "server.tls_cert"),
    key: readPem(config.tlsKey, "server.tls_key"),
  };
  const onError = (error: unknown) => {
    log.error("request failed outside the API's error handling", { error });
    return internalError().toResponse();
  };
  const { hostname, port } = config;
  const frontDoor = new FrontDoorMetrics();

  if (!enforcesLimits(config)) {
    const server = Deno.serve({ ...tls, hostname, port, onListen: () => {}, onError }, handler);
    return {
      address: { hostname: server.addr.hostname, port: server.addr.port },
      frontDoor,
      shutdown: (graceMs) => withDeadline(server.shutdown(), graceMs),
    };
  }

  // The HTTP server listens on a Unix socket in a private directory (mode
  // 0700); clients reach it only through the front door.
  const listener = tls
    ? Deno.listenTls({ hostname, port, ...tls })
    : Deno.listen({ hostname, port });
  let socketDir: string | undefined;
  let server: Deno.HttpServer<Deno.UnixAddr> | undefined;
  let door: FrontDoor | undefined;
  try {
    socketDir = await makeSocketDir();
    const backendPath = `${socketDir}/api.sock`;
    server = Deno.serve({ path: backendPath, onListen: () => {}, onError }, (request, info) => {
      // Tell the front door this connection is being answered, so it is not idle.
      const connection = Number(request.headers.get(FRONT_CONNECTION_HEADER));
      door?.responseStarted(connection);
      info.completed.finally(() => door?.responseEnded(connection));
      return handler(request);
    });
    door = FrontDoor.start({
      listener,
      backendPath,
      headerTimeoutMs: config.headerTimeoutMs,
      idleTimeoutMs: config.idleTimeoutMs,
      maxHeaderBytes: config.maxHeaderBytes,
      maxConnections: config.maxConnections,
      log,
      metrics: frontDoor,
    });
  } catch (error) {
    try {
      listener.close();
    } catch { /* already closed */ }
    await server?.shutdown().catch(() => {});
    if (socketDir) await Deno.remove(socketDir, { recursive: true }).catch(() => {});
    throw error;
  }
  const started = { door, server, socketDir };
  return {
    address: { hostname: listener.addr.hostname, port: listener.addr.port },
    frontDoor,
    async shutdown(graceMs) {
      await Promise.all([
        started.door.close(graceMs),
        withDeadline(started.server.shutdown(), graceMs),
      ]);
      await Deno.remove(started.socketDir, { recursive: true }).catch(() => {});
    },
  };
}

/** Whether the front door is in the way (see `enforce_connection_limits` in default.toml). */
export function enforcesLimits(config: ServerConfig): boolean {
  if (config.enforceConnectionLimits !== "auto") return config.enforceConnectionLimits;
  const host = config.hostname.toLowerCase();
  return !(host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host));
}

function withDeadline(work: Promise<void>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<void>((resolve) => timer = setTimeout(resolve, ms));
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
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
