/**
 * The client for one approved attempt: `http:` through a `transport: "tcp"`
 * client aimed at the approved address, `https:` through the in-process
 * CONNECT proxy so TLS stays end to end and is verified for the URL's name.
 * This is what the sender's `SendRequest.client` should carry.
 *
 * ```ts
 * const verdict = await guard.check(url);
 * if (!verdict.ok) return failedAttempt(verdict.kind, verdict.reason, 0);
 * using pinned = pinTarget(url, verdict, { proxy });
 * return await sender.send({ url: url.href, headers, body, timeoutMs, client: pinned.client });
 * ```
 *
 * @module
 */

import type { ConnectProxy } from "./connect_proxy.ts";
import { pinnedClient } from "./pin.ts";

/** Where the guard said to connect (the `ok` side of a guard result). */
export interface Approved {
  readonly address: string;
  readonly port: number;
  readonly hostname: string;
}

/** Options of {@linkcode pinTarget}. */
export interface PinTargetOptions {
  /** Carries `https:` attempts; required for them. */
  readonly proxy?: ConnectProxy;
  /** Extra PEM root certificates for `https:` receivers. */
  readonly caCerts?: string[];
}

/** One attempt's pinned client; close (or `using`) it when the attempt ends. */
export interface PinnedTarget extends Disposable {
  readonly client: Deno.HttpClient;
  close(): void;
}

/**
 * A client that reaches `approved.address` for `url`.
 *
 * @throws {TypeError} for a scheme other than http/https, or `https:` without a proxy
 * @throws {PinningError} when `NO_PROXY` would bypass the pin
 */
export function pinTarget(
  url: URL,
  approved: Approved,
  options: PinTargetOptions = {},
): PinnedTarget {
  if (url.protocol === "https:") {
    if (options.proxy === undefined) {
      throw new TypeError("Cannot pin an https: target without a CONNECT proxy");
    }
    const caCerts = options.caCerts;
    return options.proxy.pin(
      approved.hostname,
      approved.port,
      approved.address,
      caCerts === undefined ? {} : { caCerts },
    );
  }
  if (url.protocol !== "http:") {
    throw new TypeError(`Cannot pin: URL scheme must be http or https, got "${url.protocol}"`);
  }
  const client = pinnedClient(approved.address, approved.port);
  let open = true;
  const close = () => {
    if (!open) return;
    open = false;
    client.close();
  };
  return { client, close, [Symbol.dispose]: close };
}
