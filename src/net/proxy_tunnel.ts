/**
 * A `CONNECT` tunnel through a forward proxy to an address the SSRF guard
 * already approved.
 *
 * The request names that IP address, never the URL's host name, so the proxy
 * has nothing to resolve: neither DNS rebinding nor the proxy's own resolver
 * can send the connection anywhere the guard did not check. Plain-http
 * targets go through a tunnel as well (not the proxy's absolute-form
 * forwarding, which would hand it the name). What runs inside the tunnel
 * (TLS with the URL's name, then HTTP/1.1 with the URL's `Host`) is the
 * caller's business: see `http1_route.ts`.
 *
 * The proxy's own address is not checked by the guard: it comes from the
 * operator's configuration only, and usually sits on a private network.
 *
 * @module
 */

import { closeQuietly, writeAll } from "./conn_io.ts";
import { Http1Error } from "./http1_client.ts";
import { splitHead } from "./http1_head.ts";
import { Http1Reader } from "./http1_reader.ts";
import type { ProxyEndpoint } from "./proxy_endpoint.ts";

/** A CONNECT answer's head larger than this is refused. */
const MAX_HEAD_BYTES = 16 * 1024;

/** `address:port` as a CONNECT request target: IPv6 in brackets (RFC 9110 §9.3.6). */
export function connectAuthority(address: string, port: number): string {
  return address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
}

/** The CONNECT request for `authority`, with the proxy's credentials when it has some. */
export function connectRequest(authority: string, proxy: ProxyEndpoint): string {
  let head = `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n`;
  if (proxy.authorization !== null) head += `Proxy-Authorization: ${proxy.authorization}\r\n`;
  return `${head}\r\n`;
}

/** Why the proxy said no, from its status alone (its reason phrase is not trusted text). */
function refusal(status: number, proxy: ProxyEndpoint): string {
  if (status === 407) {
    return proxy.authorization === null
      ? "407: the proxy requires credentials (user:password@ in the proxy URL)"
      : "407: the proxy did not accept hookd's credentials";
  }
  if (status === 403) return "403: the proxy does not allow this destination";
  if (status === 502 || status === 503 || status === 504) {
    return `${status}: the proxy could not reach the receiver`;
  }
  return String(status);
}

function proxyError(proxy: ProxyEndpoint, what: string, cause?: unknown): Http1Error {
  return new Http1Error("proxy", `proxy ${proxy.display}: ${what}`, { cause });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Connects to `proxy` and asks it for a tunnel to `address:port`. Resolves
 * with the connection once the proxy answered 2xx, nothing read past its
 * answer. Every failure, an abort of `signal` included (the attempt's
 * deadline passed while the proxy was being asked), rejects with an
 * {@linkcode Http1Error} of kind `proxy`: the receiver was never reached.
 */
export async function openTunnel(
  proxy: ProxyEndpoint,
  target: { readonly address: string; readonly port: number },
  signal: AbortSignal,
): Promise<Deno.TcpConn> {
  const authority = connectAuthority(target.address, target.port);
  const late = () => proxyError(proxy, `no tunnel to ${authority} before the attempt's deadline`);
  let conn: Deno.TcpConn;
  try {
    conn = await Deno.connect({ hostname: proxy.hostname, port: proxy.port, signal });
  } catch (error) {
    if (signal.aborted) throw late();
    throw proxyError(proxy, `could not connect: ${messageOf(error)}`, error);
  }
  const onAbort = () => closeQuietly(conn);
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    conn.setNoDelay(true);
    await writeAll(conn, new TextEncoder().encode(connectRequest(authority, proxy)));
    const reader = new Http1Reader(conn, 1024);
    for (;;) {
      const head = await reader.head(MAX_HEAD_BYTES);
      if (head === null) throw proxyError(proxy, `closed the connection before answering CONNECT`);
      if (head === "too-large") throw proxyError(proxy, "answered CONNECT with a head too large");
      const match = /^HTTP\/1\.[01] ([1-9]\d\d)(?: |$)/.exec(splitHead(head).startLine);
      if (match === null) throw proxyError(proxy, "answered CONNECT with something not HTTP/1.1");
      const status = Number(match[1]);
      if (status < 200 && status !== 101) continue; // interim: the answer follows
      if (status < 200 || status > 299) {
        throw proxyError(proxy, `refused CONNECT ${authority} with ${refusal(status, proxy)}`);
      }
      // The receiver speaks only after hookd (TLS ClientHello, or the
      // request): bytes here would be the proxy's, not the receiver's.
      if (reader.buffered > 0) throw proxyError(proxy, "sent data after its CONNECT answer");
      return conn;
    }
  } catch (error) {
    closeQuietly(conn);
    if (signal.aborted) throw late();
    if (error instanceof Http1Error) throw error;
    throw proxyError(proxy, `connection failed during CONNECT: ${messageOf(error)}`, error);
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}
