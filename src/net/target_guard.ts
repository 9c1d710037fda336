/**
 * The SSRF guard: decides, for one delivery attempt, which IP address the
 * sender may connect to, or refuses the attempt.
 *
 * A literal IP host is judged as written (after the URL parser canonicalised
 * it). A name is resolved once per attempt; every address in the answer must
 * be allowed, and the first one is returned for the sender to connect to
 * (pinning, see `http1_route.ts`). Connecting to that exact address closes the
 * DNS-rebinding window between "checked" and "connected": the HTTP stack
 * never resolves the name again.
 *
 * @module
 */

import { HostMemo } from "./host_memo.ts";
import { type Cidr, cidrContains, formatIp, type IpAddress, parseCidr, parseIp } from "./ip.ts";
import {
  type BlockReason,
  type Classification,
  classifyAddress,
  describeReason,
  embeddedIpv4,
} from "./ip_ranges.ts";
import type { Resolver } from "./resolver.ts";

/** Options of {@linkcode TargetGuard}. */
export interface TargetGuardOptions {
  /**
   * `[security] allow_private_targets`: allow loopback, private, link-local,
   * shared, unique-local, documentation and reserved space (tests on
   * loopback, deliveries inside a private network). Default false.
   */
  readonly allowPrivate?: boolean;
  /**
   * Extra CIDR ranges allowed even though they are blocked, e.g.
   * `["10.1.0.0/16"]` for one internal network. An IPv4 range also admits
   * the IPv6 forms that embed its addresses (`::ffff:10.1.2.3`). Default none.
   */
  readonly allowCidrs?: readonly string[];
  /** Resolves names; production passes `systemResolver`, tests a scripted one. */
  readonly resolver: Resolver;
  /** How long one resolution may take before the attempt fails as `dns`, ms; default 5000. */
  readonly resolveTimeoutMs?: number;
}

/** The guard's verdict on one attempt's URL. */
export type GuardResult =
  | {
    readonly ok: true;
    /** The IP address to connect to (IPv6 without brackets). */
    readonly address: string;
    readonly port: number;
    /** The URL's hostname, which stays the `Host` header and the TLS name. */
    readonly hostname: string;
  }
  | { readonly ok: false; readonly kind: "blocked" | "dns"; readonly reason: string };

/**
 * Never allowed, whatever the configuration says. Unspecified addresses
 * (0.0.0.0/8, `::`) are not a destination at all: Linux quietly connects them
 * to the local host, so "0.0.0.0" is a loopback bypass in disguise.
 * Multicast and broadcast cannot carry a TCP connection; allowing them only
 * turns a typo into a confusing error. `allowCidrs` cannot lift these either:
 * an operator writing `0.0.0.0/0` to "allow everything" must not open them.
 */
const NEVER_ALLOWED: ReadonlySet<BlockReason> = new Set(["unspecified", "multicast", "broadcast"]);

const PRIVATE_HINT = "set [security] allow_private_targets to deliver to private networks";

const DEFAULT_RESOLVE_TIMEOUT_MS = 5_000;

/** Checks delivery targets against the blocked ranges and the configured exceptions. */
export class TargetGuard {
  readonly #allowPrivate: boolean;
  readonly #allowCidrs: readonly Cidr[];
  readonly #resolver: Resolver;
  readonly #resolveTimeoutMs: number;

  /**
   * Hostname → its verdict if it is an IP literal, null if it is a name. A
   * literal's verdict depends on the configuration alone, and parsing it on
   * every attempt was a visible share of the sender's time.
   */
  readonly #literals = new HostMemo<{ address: string; refusal?: string } | null>();

  constructor(options: TargetGuardOptions) {
    this.#allowPrivate = options.allowPrivate ?? false;
    this.#allowCidrs = (options.allowCidrs ?? []).map((text) => parseCidr(text));
    this.#resolver = options.resolver;
    const timeout = options.resolveTimeoutMs ?? DEFAULT_RESOLVE_TIMEOUT_MS;
    if (!(timeout > 0) || !Number.isFinite(timeout)) {
      throw new RangeError(
        `Cannot create target guard: 'resolveTimeoutMs' must be a positive number, got ${timeout}`,
      );
    }
    this.#resolveTimeoutMs = timeout;
  }

  /**
   * The verdict on `address` under this guard's configuration: blocked
   * ranges, minus `allowPrivate`, minus the allowlist, never lifting
   * {@linkcode NEVER_ALLOWED}.
   */
  classify(address: IpAddress): Classification {
    const c = classifyAddress(address);
    if (!c.blocked || NEVER_ALLOWED.has(c.reason)) return c;
    if (this.#allowPrivate) return { blocked: false };
    const inner = embeddedIpv4(address)?.address;
    for (const cidr of this.#allowCidrs) {
      if (cidrContains(cidr, address) || (inner && cidrContains(cidr, inner))) {
        return { blocked: false };
      }
    }
    return c;
  }

  #literal(hostname: string): { address: string; refusal?: string } | null {
    return this.#literals.get(hostname, () => {
      const address = parseIp(hostname);
      if (address === undefined) return null;
      const c = this.classify(address);
      const text = formatIp(address);
      return c.blocked ? { address: text, refusal: this.#explain(text, c) } : { address: text };
    });
  }

  /**
   * Why a webhook URL's host is refused at creation, when it is a literal IP
   * address that is blocked; undefined for allowed addresses and for names
   * (names are checked at send time, when they are resolved).
   *
   * @param host a URL hostname, e.g. `127.0.0.1` or `[::1]`
   */
  literalProblem(host: string): string | undefined {
    const address = parseIp(host);
    if (address === undefined) return undefined;
    const c = this.classify(address);
    return c.blocked ? this.#explain(formatIp(address), c) : undefined;
  }

  /**
   * Checks one attempt's URL and picks the address to connect to. Never
   * throws: an unusable URL or a failed lookup is a refusal.
   */
  async check(url: URL): Promise<GuardResult> {
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      return { ok: false, kind: "blocked", reason: `scheme ${url.protocol} is not http or https` };
    }
    const port = url.port === "" ? (url.protocol === "https:" ? 443 : 80) : Number(url.port);
    const hostname = url.hostname;
    if (hostname === "") return { ok: false, kind: "blocked", reason: "the URL has no host" };

    const literal = this.#literal(hostname);
    if (literal !== null) {
      if (literal.refusal !== undefined) {
        return { ok: false, kind: "blocked", reason: literal.refusal };
      }
      return { ok: true, address: literal.address, port, hostname };
    }

    let answers: string[];
    try {
      answers = await this.#resolve(hostname);
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      return { ok: false, kind: "dns", reason: `cannot resolve ${hostname}: ${detail}` };
    }
    if (answers.length === 0) {
      return { ok: false, kind: "dns", reason: `cannot resolve ${hostname}: no addresses` };
    }
    const addresses: IpAddress[] = [];
    for (const text of answers) {
      const address = parseIp(text);
      if (address === undefined) {
        return {
          ok: false,
          kind: "dns",
          reason: `cannot resolve ${hostname}: the resolver returned ${JSON.stringify(text)}`,
        };
      }
      addresses.push(address);
    }
    // All or nothing: a rebinding attacker answers with a public and a
    // private address and lets the HTTP stack pick; refusing mixed answers
    // leaves nothing to pick.
    for (const address of addresses) {
      const c = this.classify(address);
      if (c.blocked) {
        const what = this.#explain(`${hostname} resolves to ${formatIp(address)}, which`, c);
        return { ok: false, kind: "blocked", reason: what };
      }
    }
    return { ok: true, address: formatIp(addresses[0]!), port, hostname };
  }

  /** `subject` is an address, or "name resolves to address, which". */
  #explain(subject: string, c: Classification & { blocked: true }): string {
    const what = `${subject} is ${describeReason(c.reason, c.note)}`;
    if (NEVER_ALLOWED.has(c.reason)) return `${what} and is never a valid target`;
    return `${what}; ${PRIVATE_HINT}`;
  }

  async #resolve(hostname: string): Promise<string[]> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`timed out after ${this.#resolveTimeoutMs} ms`)),
        this.#resolveTimeoutMs,
      );
    });
    try {
      return await Promise.race([this.#resolver.resolve(hostname), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
