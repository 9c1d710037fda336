/**
 * The sender the dispatcher talks to: it takes a rendered request and sends
 * it only to an address it may reach. The HTTPS rule (`[security]
 * require_https`, held at send time too: the setting may have changed since
 * the webhook was made) and the SSRF guard are checked on every attempt (DNS
 * may have moved a name into private space), and the connection goes to
 * exactly the address the guard approved, so DNS rebinding cannot redirect
 * it; through the webhook's forward proxy when it has one, whose tunnel goes
 * to that same address. The dispatcher never handles addresses.
 */
import type { Clock } from "../clock.ts";
import type { RouteTls } from "../net/http1_route.ts";
import type { AttemptResult, AttemptTransport } from "./sender.ts";
import { failedAttempt } from "./sender.ts";
import type { GuardResult } from "../net/target_guard.ts";
import { chooseProxy, CLIENT_CERT_THROUGH_PROXY, type ProxySettings } from "./proxy_choice.ts";

/** A rendered attempt, before any address is chosen. */
export interface OutgoingRequest {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly timeoutMs: number;
  /** The webhook's extra trust and client certificate; undefined: system defaults. */
  readonly tls?: RouteTls;
  /** Default `application/json`. */
  readonly contentType?: string;
  /** Default the transport's own limit. */
  readonly responseBodyLimit?: number;
  /** The webhook's `proxy` field (see `proxy_choice.ts`); undefined or null: the default. */
  readonly proxy?: string | null;
}

/** What the dispatcher needs of a sender. */
export interface DeliverySender {
  send(request: OutgoingRequest): Promise<AttemptResult>;
}

export interface GuardedSenderOptions {
  /** Performs the exchange with the approved address (`HttpSender`; a script in tests). */
  readonly transport: AttemptTransport;
  /** Refuses targets in private or reserved address space; undefined: no check (tests only). */
  readonly guard?: { check(url: URL): Promise<GuardResult> };
  /** Refuse plain-http targets. */
  readonly requireHttps: boolean;
  /** `[delivery] proxy` and `proxies`; undefined: never through a proxy. */
  readonly proxies?: ProxySettings;
  readonly clock: Clock;
}

export class GuardedSender implements DeliverySender {
  readonly #o: GuardedSenderOptions;

  constructor(options: GuardedSenderOptions) {
    this.#o = options;
  }

  async send(request: OutgoingRequest): Promise<AttemptResult> {
    const { clock, guard, transport } = this.#o;
    const startedAt = clock.now();
    const target = new URL(request.url);
    if (this.#o.requireHttps && target.protocol !== "https:") {
      return failedAttempt("blocked", "[security] require_https is on", clock.now() - startedAt);
    }
    const choice = this.#o.proxies === undefined
      ? undefined
      : chooseProxy(request.proxy ?? null, this.#o.proxies);
    if (choice && !choice.ok) return failedAttempt("proxy", choice.reason, clock.now() - startedAt);
    const proxy = choice?.proxy;
    if (proxy !== undefined && request.tls?.cert !== undefined) {
      return failedAttempt("proxy", CLIENT_CERT_THROUGH_PROXY, clock.now() - startedAt);
    }
    // Checked before the proxy is asked anything: it only ever sees approved addresses.
    const verdict = guard ? await guard.check(target) : undefined;
    if (verdict && !verdict.ok) {
      return failedAttempt(verdict.kind, verdict.reason, clock.now() - startedAt);
    }
    return await transport.send({
      url: request.url,
      headers: request.headers,
      body: request.body,
      timeoutMs: request.timeoutMs,
      route: proxy === undefined
        ? { address: verdict?.address, tls: request.tls }
        : { address: verdict?.address, tls: request.tls, proxy },
      contentType: request.contentType,
      responseBodyLimit: request.responseBodyLimit,
    });
  }
}
