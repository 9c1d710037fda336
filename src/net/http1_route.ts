/**
 * Routes for {@linkcode Http1Client}: how a delivery's connections are made.
 * A route connects to the URL's host, or to an address the caller already
 * checked (SSRF pinning: the name is then used only for `Host`, SNI and the
 * certificate check, never resolved), over TCP or TLS with the webhook's own
 * trust roots and client certificate; or through a forward proxy's `CONNECT`
 * tunnel to that checked address, with TLS inside the tunnel verified for
 * the URL's name as without a proxy.
 *
 * @module
 */

import { closeQuietly } from "./conn_io.ts";
import { Http1Error, type Http1Route } from "./http1_client.ts";
import type { ProxyEndpoint } from "./proxy_endpoint.ts";
import { openTunnel } from "./proxy_tunnel.ts";

/** A webhook's TLS settings. */
export interface RouteTls {
  /** Identifies these settings: routes with other settings never share connections. */
  readonly id: string;
  /** Extra PEM root certificates. */
  readonly caCerts?: readonly string[];
  /** PEM client certificate chain and key, for mTLS. */
  readonly cert?: string;
  readonly key?: string;
}

/** Where and how to connect for one URL. */
export interface RouteOptions {
  /** Connect to this IP address instead of resolving the URL's host. */
  readonly address?: string;
  readonly tls?: RouteTls;
  /**
   * Tunnel through this forward proxy to `address` (required with a proxy:
   * the proxy is only ever given a checked address). No client certificate
   * with a proxy: see {@linkcode routeFor}.
   */
  readonly proxy?: ProxyEndpoint;
}

/**
 * Deno 2.9.6's `connectTls` reads the TLS server name (SNI and the name the
 * certificate must match) from this symbol when it differs from the address
 * connected to; `http1_route_test.ts` proves it does on the pinned Deno. The
 * documented `startTls` cannot present a client certificate, so it cannot
 * replace this for mTLS.
 */
const SERVER_NAME = Symbol.for("unstableServerName");

const DNS =
  /failed to lookup address|name or service not known|nodename nor servname|no address associated|temporary failure in name resolution|no such host|dns error/i;

/**
 * A failure to open a TCP connection as `dns` or `connect`, its message
 * followed by `where` (which address was tried, for a pinned route).
 */
export function classifyConnectError(error: unknown, where: string): Http1Error {
  if (error instanceof Http1Error) return error;
  const message = (error instanceof Error ? error.message : String(error)) + where;
  if (DNS.test(message)) return new Http1Error("dns", message, { cause: error });
  return new Http1Error("connect", message, { cause: error });
}

/** The URL's hostname as a socket wants it: IPv6 without brackets. */
function socketHost(hostname: string): string {
  return hostname.startsWith("[") && hostname.endsWith("]") ? hostname.slice(1, -1) : hostname;
}

/** What identifies a route: routes with the same key share idle connections. */
export function routeKey(origin: string, options: RouteOptions = {}): string {
  return `${origin}|${options.address ?? ""}|${options.tls?.id ?? ""}|${options.proxy?.key ?? ""}`;
}

/**
 * The route for `url` (`http:` or `https:`).
 *
 * @throws {TypeError} for another scheme; with a proxy, for a missing
 * `address` or a client certificate (Deno 2.9.6's `startTls`, the only way
 * to run TLS over a tunnel, cannot present one).
 */
export function routeFor(url: URL, options: RouteOptions = {}): Http1Route {
  const https = url.protocol === "https:";
  if (!https && url.protocol !== "http:") {
    throw new TypeError(`Cannot route: URL scheme must be http or https, got "${url.protocol}"`);
  }
  const name = socketHost(url.hostname);
  const port = url.port === "" ? (https ? 443 : 80) : Number(url.port);
  const { address, tls } = options;
  const key = routeKey(url.origin, options);
  const hostname = address ?? name;
  // A pinned address came from DNS: worth showing which one failed. The URL's
  // own host is left out, as the rest of the URL is (it may carry secrets).
  const where = address === undefined ? "" : ` (address ${address}:${port})`;
  if (options.proxy !== undefined) {
    if (address === undefined) {
      throw new TypeError(
        "Cannot route through a proxy: the target's address must be checked first",
      );
    }
    if (tls?.cert !== undefined) {
      throw new TypeError("Cannot route through a proxy: a client certificate cannot be sent");
    }
    return proxiedRoute(options.proxy, { address, port, name: https ? name : undefined, tls, key });
  }
  if (!https) {
    return {
      key,
      async connect(signal) {
        try {
          const conn = await Deno.connect({ hostname, port, signal });
          conn.setNoDelay(true);
          return conn;
        } catch (error) {
          throw classifyConnectError(error, where);
        }
      },
    };
  }
  const tlsOptions: Deno.ConnectTlsOptions & Partial<Deno.TlsCertifiedKeyPem> = {
    hostname,
    port,
    ...(tls?.caCerts ? { caCerts: [...tls.caCerts] } : {}),
    ...(tls?.cert !== undefined && tls.key !== undefined ? { cert: tls.cert, key: tls.key } : {}),
  };
  if (address !== undefined && address !== name) Object.assign(tlsOptions, { [SERVER_NAME]: name });
  return {
    key,
    async connect() {
      let conn: Deno.TlsConn;
      try {
        conn = await Deno.connectTls(tlsOptions);
      } catch (error) {
        throw classifyConnectError(error, where);
      }
      // Whatever stops the handshake is a TLS failure, a peer that hangs up
      // on it too: the usual cause is a protocol, cipher or name it refuses.
      try {
        await conn.handshake();
      } catch (error) {
        try {
          conn.close();
        } catch { /* already closed */ }
        const message = error instanceof Error ? error.message : String(error);
        throw new Http1Error("tls", message, { cause: error });
      }
      return conn;
    },
  };
}

/**
 * Through `proxy`'s tunnel to `address:port`; TLS inside it when `name` (the
 * URL's host, for SNI and the certificate check) is given. Abortable at
 * every stage: a tunnel or handshake the deadline cuts short is closed.
 */
function proxiedRoute(
  proxy: ProxyEndpoint,
  target: {
    readonly address: string;
    readonly port: number;
    readonly name: string | undefined;
    readonly tls: RouteTls | undefined;
    readonly key: string;
  },
): Http1Route {
  const { name, tls } = target;
  return {
    key: target.key,
    abortable: true,
    async connect(signal) {
      const tunnel = await openTunnel(proxy, target, signal);
      if (name === undefined) return tunnel;
      let conn: Deno.TlsConn;
      try {
        conn = await Deno.startTls(tunnel, {
          hostname: name,
          ...(tls?.caCerts ? { caCerts: [...tls.caCerts] } : {}),
        });
      } catch (error) {
        closeQuietly(tunnel);
        const message = error instanceof Error ? error.message : String(error);
        throw new Http1Error("tls", message, { cause: error });
      }
      const onAbort = () => closeQuietly(conn);
      signal.addEventListener("abort", onAbort, { once: true });
      try {
        await conn.handshake();
      } catch (error) {
        closeQuietly(conn);
        // The deadline's abort: the client reports it as the timeout it is.
        if (signal.aborted) throw signal.reason;
        const message = error instanceof Error ? error.message : String(error);
        throw new Http1Error("tls", message, { cause: error });
      } finally {
        signal.removeEventListener("abort", onAbort);
      }
      return conn;
    },
  };
}
