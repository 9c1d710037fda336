/**
 * Which forward proxy a webhook's attempts go through. A webhook's `proxy`
 * field is null (the `[delivery] proxy`, if any), `"direct"` (no proxy), or
 * the name of one of `[delivery] proxies`. Webhooks name proxies and never
 * carry their URLs: where hookd connects to unguarded (the proxy's own
 * address is not the SSRF guard's business) and with which credentials stays
 * the operator's decision, in the config file.
 *
 * @module
 */

import { DIRECT_PROXY } from "../config/fields.ts";
import type { DeliveryConfig } from "../config/types.ts";
import type { ProxyEndpoint } from "../net/proxy_endpoint.ts";

export { DIRECT_PROXY };

/** The configuration a choice is made from. */
export type ProxySettings = Pick<DeliveryConfig, "proxy" | "proxies">;

/** A webhook's proxy, or why its setting cannot be followed. */
export type ProxyChoice =
  | { readonly ok: true; readonly proxy: ProxyEndpoint | undefined }
  | { readonly ok: false; readonly reason: string };

/**
 * Why a webhook with an mTLS client certificate cannot go through a proxy:
 * TLS over the tunnel needs `Deno.startTls`, which on Deno 2.9.6 takes no
 * client certificate (only `Deno.connectTls`, which makes its own TCP
 * connection, does).
 */
export const CLIENT_CERT_THROUGH_PROXY =
  "a webhook with an mTLS client certificate cannot go through a forward proxy " +
  "(TLS inside the proxy's tunnel cannot present a client certificate on this Deno); " +
  `set its proxy to "${DIRECT_PROXY}"`;

/** No proxy: shared, as this is every attempt's answer when no proxy is configured. */
const DIRECT: ProxyChoice = Object.freeze({ ok: true, proxy: undefined });

/** The proxy for a webhook whose `proxy` field is `setting`. Pure. */
export function chooseProxy(setting: string | null, settings: ProxySettings): ProxyChoice {
  if (setting === null) {
    return settings.proxy === null ? DIRECT : { ok: true, proxy: settings.proxy };
  }
  if (setting === DIRECT_PROXY) return DIRECT;
  const named = Object.hasOwn(settings.proxies, setting) ? settings.proxies[setting] : undefined;
  if (named !== undefined) return { ok: true, proxy: named };
  // Configured once, since removed from the config: refuse rather than go direct.
  return {
    ok: false,
    reason: `the webhook's proxy ${JSON.stringify(setting)} is not in [delivery] proxies`,
  };
}

/**
 * What a webhook's `proxy` field may be, as an error message's list: null,
 * "direct" or a configured name.
 */
export function proxySettingProblem(setting: string, settings: ProxySettings): string | undefined {
  if (setting === DIRECT_PROXY || Object.hasOwn(settings.proxies, setting)) return undefined;
  const names = Object.keys(settings.proxies).map((name) => JSON.stringify(name));
  return `must be null (the [delivery] proxy${settings.proxy === null ? ", none set" : ""}), ` +
    `"${DIRECT_PROXY}"` +
    (names.length === 0
      ? " (no proxies are named in [delivery] proxies)"
      : ` or a proxy named in [delivery] proxies: ${names.join(", ")}`);
}
