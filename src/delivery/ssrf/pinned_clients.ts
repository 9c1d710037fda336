/**
 * The HTTP clients that carry pinned deliveries: one per destination (URL
 * host and port, the address the guard approved for them, and the webhook's
 * TLS settings), each behind its own {@linkcode PinProxy} entrance, kept
 * while in use and recently used so connections are pooled across attempts.
 *
 * Every attempt is checked by the guard first and then asks for the client of
 * exactly the destination that check approved: when DNS moves a name to
 * another address, the next attempt gets another client, and the old one is
 * closed once idle. A pooled connection is only ever reused for the address
 * it was opened to, which the guard approved.
 *
 * A URL whose host is an IP address has nothing to pin (no name is resolved
 * on the way), so {@linkcode PinnedClients.acquire} returns undefined for it
 * and the sender's ordinary client is used.
 *
 * @module
 */

import { HostMemo } from "./host_memo.ts";
import { parseIp } from "./ip.ts";
import { createProxiedClient } from "./pin.ts";
import { type Destination, type Entrance, PinProxy } from "./pin_proxy.ts";

/** TLS settings of a webhook, passed to its pinned clients. */
export interface PinnedTls {
  /** Identifies these settings; a change (e.g. the webhook's `updatedAt`) means a new client. */
  readonly id: string;
  /** Extra PEM root certificates. */
  readonly caCerts?: string[];
  /** PEM client certificate chain and key, for mTLS. */
  readonly cert?: string;
  readonly key?: string;
}

/** Options of {@linkcode PinnedClients}. */
export interface PinnedClientsOptions {
  /** The proxy to open entrances on; default one started (and stopped) by this pool. */
  readonly proxy?: PinProxy;
  /** Destinations kept open while idle, least recently used closed first; default 256. */
  readonly maxIdleDestinations?: number;
  /** A destination unused this long is closed, ms; default 30000. */
  readonly idleMs?: number;
}

/** One attempt's use of a destination's client. Release it when the attempt ends. */
export interface PinnedLease {
  readonly client: Deno.HttpClient;
  /** See `Entrance.failureToken`: a 502 carrying it is a failed connection, not a receiver's answer. */
  readonly failureToken: string;
  release(): void;
}

interface Slot {
  readonly key: string;
  readonly entrance: Entrance;
  readonly client: Deno.HttpClient;
  users: number;
  lastUsed: number;
}

/** A pool of pinned clients, one per destination. */
export class PinnedClients implements AsyncDisposable {
  readonly #proxy: PinProxy;
  readonly #ownsProxy: boolean;
  readonly #maxIdle: number;
  readonly #idleMs: number;
  /** Least recently used first. */
  readonly #slots = new Map<string, Slot>();
  /** Hostname → whether it is an IP address; parsed once, not on every attempt. */
  readonly #literals = new HostMemo<boolean>();
  readonly #sweep: ReturnType<typeof setInterval>;
  #closed = false;

  constructor(options: PinnedClientsOptions = {}) {
    this.#proxy = options.proxy ?? PinProxy.start();
    this.#ownsProxy = options.proxy === undefined;
    this.#maxIdle = options.maxIdleDestinations ?? 256;
    this.#idleMs = options.idleMs ?? 30_000;
    if (!Number.isSafeInteger(this.#maxIdle) || this.#maxIdle < 0) {
      throw new RangeError(
        `Cannot create pinned clients: 'maxIdleDestinations' must be a non-negative integer, got ${this.#maxIdle}`,
      );
    }
    if (!(this.#idleMs > 0) || !Number.isFinite(this.#idleMs)) {
      throw new RangeError(
        `Cannot create pinned clients: 'idleMs' must be a positive number, got ${this.#idleMs}`,
      );
    }
    this.#sweep = setInterval(() => this.#closeIdle(), Math.max(1_000, this.#idleMs / 2));
    Deno.unrefTimer(Number(this.#sweep));
  }

  /** Destinations with an open client now (for tests and metrics). */
  get size(): number {
    return this.#slots.size;
  }

  /**
   * The client for `url` sent to the approved address, or undefined when the
   * URL's host is already an IP address.
   *
   * @throws {PinningError} when `NO_PROXY` is set (the pin would be bypassed)
   */
  acquire(url: URL, approved: Destination, tls?: PinnedTls): PinnedLease | undefined {
    if (this.#closed) throw new Error("Cannot pin: the pinned clients are closed");
    if (this.#literals.get(url.hostname, (host) => parseIp(host) !== undefined)) return undefined;
    const key = [
      url.protocol,
      approved.hostname.toLowerCase(),
      approved.port,
      approved.address,
      tls?.id ?? "",
    ].join("|");
    let slot = this.#slots.get(key);
    if (slot) {
      this.#slots.delete(key); // re-inserted below as the most recently used
    } else {
      slot = this.#open(key, approved, tls);
    }
    this.#slots.set(key, slot);
    slot.users++;
    slot.lastUsed = Date.now();
    let released = false;
    const taken = slot;
    return {
      client: taken.client,
      failureToken: taken.entrance.failureToken,
      release: () => {
        if (released) return;
        released = true;
        taken.users--;
        taken.lastUsed = Date.now();
        this.#trim();
      },
    };
  }

  /** Closes every client and entrance (attempts still running through them fail). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#sweep);
    for (const slot of this.#slots.values()) this.#closeSlot(slot);
    this.#slots.clear();
    if (this.#ownsProxy) await this.#proxy.stop();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #open(key: string, approved: Destination, tls: PinnedTls | undefined): Slot {
    const entrance = this.#proxy.open(approved);
    try {
      const client = createProxiedClient({
        proxy: { url: entrance.proxyUrl },
        poolIdleTimeout: this.#idleMs,
        ...(tls?.caCerts ? { caCerts: tls.caCerts } : {}),
        ...(tls?.cert !== undefined && tls.key !== undefined
          ? { cert: tls.cert, key: tls.key }
          : {}),
      });
      return { key, entrance, client, users: 0, lastUsed: Date.now() };
    } catch (error) {
      entrance.close();
      throw error;
    }
  }

  #closeSlot(slot: Slot): void {
    slot.client.close();
    slot.entrance.close();
  }

  /** Closes the least recently used idle destinations beyond the cap. */
  #trim(): void {
    let idle = 0;
    for (const slot of this.#slots.values()) if (slot.users === 0) idle++;
    for (const slot of this.#slots.values()) {
      if (idle <= this.#maxIdle) break;
      if (slot.users > 0) continue;
      this.#slots.delete(slot.key);
      this.#closeSlot(slot);
      idle--;
    }
  }

  #closeIdle(): void {
    const cutoff = Date.now() - this.#idleMs;
    for (const slot of [...this.#slots.values()]) {
      if (slot.users === 0 && slot.lastUsed <= cutoff) {
        this.#slots.delete(slot.key);
        this.#closeSlot(slot);
      }
    }
  }
}
