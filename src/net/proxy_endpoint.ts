/**
 * A forward proxy deliveries may go through (`[delivery] proxy`, `[delivery]
 * proxies`): where it listens and the credentials it wants, parsed once from
 * `http://user:password@host:port`.
 *
 * Only `http://` proxies: hookd speaks plain HTTP/1.1 to the proxy and asks it
 * for a `CONNECT` tunnel, through which TLS to the receiver runs end to end
 * (see `proxy_tunnel.ts`). TLS to the proxy itself is not supported.
 *
 * @module
 */

import { createHash } from "node:crypto";

/** A parsed proxy URL. */
export interface ProxyEndpoint {
  /** `host:port` as written, never the credentials: for messages and records. */
  readonly display: string;
  /** The host to connect to, IPv6 without brackets. */
  readonly hostname: string;
  readonly port: number;
  /** The `Proxy-Authorization` value (`Basic …`) when the URL has credentials. A secret. */
  readonly authorization: string | null;
  /**
   * Tells proxies and credentials apart without showing the credentials:
   * tunnels opened with one user's credentials are never reused for another's.
   */
  readonly key: string;
}

const EXAMPLE = '"http://proxy.internal:3128" or "http://user:password@10.0.0.2:3128"';

/** `text` with any `user:password@` replaced, safe to show in an error. */
export function hideProxyCredentials(text: string): string {
  return text.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/?#]*@/i, "$1(credentials)@");
}

/**
 * Parses a proxy URL: `http://`, a host, an explicit port, optional
 * percent-encoded credentials, no path, query or fragment.
 *
 * @throws {TypeError} naming what is wrong, with any credentials hidden.
 */
export function parseProxyUrl(text: string): ProxyEndpoint {
  const shown = JSON.stringify(hideProxyCredentials(text));
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new TypeError(`expected a proxy URL such as ${EXAMPLE}, got ${shown}`);
  }
  if (url.protocol === "https:") {
    throw new TypeError(
      `https:// proxies are not supported: hookd speaks plain HTTP to the proxy and runs TLS to ` +
        `the receiver end to end through a CONNECT tunnel; write http://, got ${shown}`,
    );
  }
  if (url.protocol !== "http:") {
    throw new TypeError(`expected an http:// proxy URL such as ${EXAMPLE}, got ${shown}`);
  }
  // The URL parser drops a default port (":80"): look at what was written.
  const authority = text.slice(text.indexOf("//") + 2).split(/[/?#]/)[0] ?? "";
  const hostPort = authority.slice(authority.lastIndexOf("@") + 1);
  if (!/:\d+$/.test(hostPort)) {
    throw new TypeError(`expected a port in the proxy URL, e.g. ${EXAMPLE}, got ${shown}`);
  }
  if ((url.pathname !== "/" && url.pathname !== "") || url.search !== "" || url.hash !== "") {
    throw new TypeError(`expected no path, query or fragment in the proxy URL, got ${shown}`);
  }
  const port = url.port === "" ? 80 : Number(url.port);
  if (port === 0) throw new TypeError(`expected a port from 1 to 65535, got ${shown}`);
  const hostname = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
  let authorization: string | null = null;
  if (url.username !== "" || url.password !== "") {
    let credentials: string;
    try {
      credentials = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
    } catch {
      throw new TypeError(
        `expected percent-encoded credentials in the proxy URL (e.g. %40 for "@"), got ${shown}`,
      );
    }
    const bytes = new TextEncoder().encode(credentials);
    authorization = `Basic ${btoa(String.fromCharCode(...bytes))}`;
  }
  const display = `${url.hostname}:${port}`;
  const key = authorization === null
    ? display
    : `${display}#${createHash("sha256").update(authorization).digest("hex").slice(0, 16)}`;
  return { display, hostname, port, authorization, key };
}
