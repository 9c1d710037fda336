/**
 * The one thing that can silently undo pinning: `NO_PROXY`.
 *
 * Pinned clients send everything through an in-process proxy
 * (`pin_proxy.ts`). Seen on Deno 2.9.6: when `NO_PROXY` / `no_proxy` (read
 * when a client is created) names the target host — `*`, the host, or a
 * parent domain — Deno ignores the client's explicit proxy, resolves the name
 * itself and connects directly. {@linkcode noProxyProblem} detects this; the
 * daemon clears the variables at startup with {@linkcode clearNoProxyEnv}
 * before any other thread starts.
 *
 * Also seen on Deno 2.9.6, and why the proxy is an HTTP proxy rather than
 * `proxy: { transport: "tcp" }` aimed at the address: that transport writes
 * `http:` requests in absolute form (`POST http://host/path`) straight to the
 * receiver, and `https:` requests *in cleartext* (`pin_test.ts`).
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
  return Deno.createHttpClient(options);
}
