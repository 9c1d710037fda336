/**
 * Pinning `http:` targets: an HTTP client whose every connection goes to the
 * one address the guard approved, whatever the URL's name resolves to.
 *
 * Seen on Deno 2.9.6 (`pin_test.ts` records the raw bytes on loopback):
 *
 * - `Deno.createHttpClient({ proxy: { transport: "tcp", hostname, port } })`
 *   treats that socket as a plain HTTP forward proxy. It writes the request
 *   in absolute form, `POST http://host:port/path HTTP/1.1`, with
 *   `Host: host:port`, and never resolves the URL's name. For `http:` that is
 *   exactly pinning; RFC 9112 §3.2.2 requires servers to accept the absolute
 *   form (`Deno.serve`, Node and nginx do), but a receiver that routes on the
 *   raw request target sees `http://host/path` rather than `/path`.
 * - For an `https:` URL the same client writes `POST https://host/path` *in
 *   cleartext* to the socket: no TLS at all. So this client must never carry
 *   an `https:` URL; {@linkcode pinnedClient} is for `http:` only and
 *   `https:` goes through the CONNECT proxy (`connect_proxy.ts`).
 * - `NO_PROXY` / `no_proxy` defeat both: when the variable (read when the
 *   client is created) names the target host — `*`, the host, or a parent
 *   domain — Deno ignores the explicit proxy, resolves the name itself and
 *   connects directly, silently undoing the pin. {@linkcode noProxyProblem}
 *   detects this; the daemon should clear the variables at startup with
 *   {@linkcode clearNoProxyEnv} before any other thread starts.
 *
 * @module
 */

/** Thrown when a pinned client cannot be made safely; nothing was sent. */
export class PinningError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PinningError";
  }
}

const NO_PROXY_NAMES = ["NO_PROXY", "no_proxy"] as const;

/**
 * Why a pinned client would not be pinned in this process, or undefined.
 * Deno's exact `NO_PROXY` matching is not re-implemented here: any non-empty
 * value is a problem, because guessing wrong means an unpinned connection.
 */
export function noProxyProblem(): string | undefined {
  try {
    for (const name of NO_PROXY_NAMES) {
      const value = Deno.env.get(name);
      if (value !== undefined && value.trim() !== "") {
        return `${name} is set (${JSON.stringify(value)}) and Deno bypasses an explicit proxy ` +
          `for the hosts it names, which would undo address pinning; unset it`;
      }
    }
  } catch {
    return "cannot read NO_PROXY (no env permission), so address pinning cannot be trusted";
  }
  return undefined;
}

/**
 * Removes `NO_PROXY` and `no_proxy` from this process's environment and
 * returns what was removed. Call once at daemon startup, before workers
 * start: changing the environment while other threads read it is unsafe.
 */
export function clearNoProxyEnv(): Record<string, string> {
  const removed: Record<string, string> = {};
  for (const name of NO_PROXY_NAMES) {
    const value = Deno.env.get(name);
    if (value === undefined) continue;
    removed[name] = value;
    Deno.env.delete(name);
  }
  return removed;
}

/** `Deno.createHttpClient`, refused when `NO_PROXY` would bypass the proxy setting. */
export function createProxiedClient(options: Deno.CreateHttpClientOptions): Deno.HttpClient {
  const problem = noProxyProblem();
  if (problem !== undefined) throw new PinningError(`Cannot pin the connection: ${problem}`);
  // One attempt, one connection: nothing to pool, and a pooled idle
  // connection must not outlive the attempt that approved its address.
  return Deno.createHttpClient({ poolMaxIdlePerHost: 0, ...options });
}

/**
 * A client that sends every request to `address:port`, for one `http:`
 * attempt whose URL the guard approved with that address. The caller closes
 * it after the attempt. Never use it for an `https:` URL: Deno would send
 * the request unencrypted (see the module notes).
 *
 * @throws {PinningError} when `NO_PROXY` is set (the pin would be bypassed)
 */
export function pinnedClient(address: string, port: number): Deno.HttpClient {
  return createProxiedClient({ proxy: { transport: "tcp", hostname: address, port } });
}
