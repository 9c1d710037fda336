/**
 * Pinning `https:` targets with TLS still verified against the URL's name.
 *
 * `Deno.createHttpClient({ proxy: { url: "http://127.0.0.1:PORT" } })`
 * tunnels an `https:` request through an HTTP proxy with `CONNECT host:443`
 * and then runs TLS *inside* the tunnel, end to end with the receiver: SNI,
 * certificate and hostname checks are for the URL's host, exactly as without
 * a proxy. This module is that proxy, in process, on 127.0.0.1: it resolves
 * nothing; it connects each tunnel to the address the guard already approved
 * for that attempt and copies bytes both ways.
 *
 * Which address belongs to which tunnel: each approval gets its own listener
 * (an "entrance") on an ephemeral 127.0.0.1 port, and the attempt's client
 * uses that port as its proxy. A CONNECT arriving at an entrance is tunnelled
 * only if it names the approved host and port, and only to the approved
 * address, so concurrent attempts cannot be confused; closing the attempt's
 * client closes its entrance. Every method but CONNECT is refused: an
 * entrance is never a forward proxy for plain HTTP (`pin.ts` pins `http:`).
 *
 * Why not one listener and per-attempt proxy credentials: seen on Deno
 * 2.9.6, a client with proxy credentials (`basicAuth`, or `user:pass@` in
 * the proxy URL) sends its `Proxy-Authorization` header not only with the
 * CONNECT but also inside the tunnel, to the receiver. A token there would
 * leak to every receiver; a port number leaks nothing.
 *
 * @module
 */

import { formatHost, parseIp } from "./ip.ts";
import { createProxiedClient } from "./pin.ts";

/** Options of {@linkcode ConnectProxy.start}. */
export interface ConnectProxyOptions {
  /** How long a client may take to send its CONNECT head, ms; default 10000. */
  readonly headTimeoutMs?: number;
  /** How long connecting to the approved address may take, ms; default 10000. */
  readonly connectTimeoutMs?: number;
}

/** One attempt's pinned `https:` client; close it when the attempt ends. */
export interface PinnedTunnelClient extends Disposable {
  readonly client: Deno.HttpClient;
  /** Closes the client and its entrance (and any tunnel still open). */
  close(): void;
}

/** One approved destination's entrance; see {@linkcode ConnectProxy.approve}. */
export interface ProxyApproval {
  /** `http://127.0.0.1:PORT`, the proxy URL for this approval's client. */
  readonly proxyUrl: string;
  /** Closes the entrance and its tunnels. Idempotent. */
  revoke(): void;
}

interface Approval {
  /** Lowercase URL hostname, IPv6 without brackets. */
  readonly host: string;
  readonly port: number;
  readonly address: string;
}

interface Entrance {
  readonly listener: Deno.Listener<Deno.TcpConn, Deno.NetAddr>;
  readonly approval: Approval;
  readonly conns: Set<Deno.Conn>;
}

const MAX_HEAD_BYTES = 8192;
const encoder = new TextEncoder();

/** `host` as compared: lowercase, IPv6 canonical without brackets. */
function normalHost(host: string): string {
  const bare = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  if (bare.includes(":")) {
    const ip = parseIp(bare);
    if (ip) return formatHost(ip).slice(1, -1);
  }
  return bare.toLowerCase();
}

/** Splits a CONNECT authority `host:port` / `[v6]:port`. */
function parseAuthority(authority: string): { host: string; port: number } | undefined {
  const m = /^(\[[^\]]+\]|[^:[\]]+):([0-9]{1,5})$/.exec(authority);
  if (!m) return undefined;
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return undefined;
  return { host: normalHost(m[1]!), port };
}

function indexOfHeadEnd(buf: Uint8Array, length: number): number {
  for (let i = 3; i < length; i++) {
    if (buf[i - 3] === 13 && buf[i - 2] === 10 && buf[i - 1] === 13 && buf[i] === 10) return i + 1;
  }
  return -1;
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) offset += await conn.write(bytes.subarray(offset));
}

async function reply(conn: Deno.Conn, status: string): Promise<void> {
  const text = `HTTP/1.1 ${status}\r\ncontent-length: 0\r\nconnection: close\r\n` +
    "\r\n";
  await writeAll(conn, encoder.encode(text)).catch(() => {});
}

/** Copies `from` to `to` until EOF, then half-closes `to` so the peer sees the end. */
async function pump(from: Deno.Conn, to: Deno.Conn): Promise<void> {
  const buf = new Uint8Array(16 * 1024);
  try {
    for (;;) {
      const n = await from.read(buf);
      if (n === null) break;
      await writeAll(to, buf.subarray(0, n));
    }
    await to.closeWrite();
  } catch {
    // A reset on either side ends the tunnel; the caller closes both.
  }
}

/**
 * An in-process HTTP CONNECT proxy on 127.0.0.1 that connects each tunnel to
 * the address approved for it. Start one per daemon; make one
 * {@linkcode pin} client per `https:` attempt.
 *
 * ```ts
 * await using proxy = ConnectProxy.start();
 * const verdict = await guard.check(url); // { ok: true, address, port, hostname }
 * using pinned = proxy.pin(verdict.hostname, verdict.port, verdict.address);
 * await fetch(url, { method: "POST", body, client: pinned.client });
 * ```
 */
export class ConnectProxy implements AsyncDisposable {
  readonly #entrances = new Set<Entrance>();
  readonly #headTimeoutMs: number;
  readonly #connectTimeoutMs: number;
  readonly #tasks = new Set<Promise<void>>();
  #tunnels = 0;
  #closed = false;

  private constructor(options: ConnectProxyOptions) {
    this.#headTimeoutMs = options.headTimeoutMs ?? 10_000;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    const resolved = {
      headTimeoutMs: this.#headTimeoutMs,
      connectTimeoutMs: this.#connectTimeoutMs,
    };
    for (const [name, value] of Object.entries(resolved)) {
      if (!(value > 0 && Number.isFinite(value))) {
        throw new RangeError(
          `Cannot start CONNECT proxy: '${name}' must be a positive number, got ${value}`,
        );
      }
    }
  }

  /** A proxy with no entrances yet; each {@linkcode approve} opens one. */
  static start(options: ConnectProxyOptions = {}): ConnectProxy {
    return new ConnectProxy(options);
  }

  /** Tunnels opened so far (for tests and metrics). */
  get tunnels(): number {
    return this.#tunnels;
  }

  /** Open entrances (attempts whose client is not closed yet). */
  get pending(): number {
    return this.#entrances.size;
  }

  /**
   * Opens an entrance for one approved destination: a CONNECT to the
   * returned proxy URL for exactly `hostname:port` is tunnelled to `address`.
   * {@linkcode pin} builds a client on this.
   */
  approve(hostname: string, port: number, address: string): ProxyApproval {
    if (this.#closed) throw new Error("Cannot pin: the CONNECT proxy is stopped");
    if (parseIp(address) === undefined) {
      throw new TypeError(`Cannot pin: address must be an IP address, got "${address}"`);
    }
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new RangeError(`Cannot pin: port must be 1-65535, got ${port}`);
    }
    const entrance: Entrance = {
      listener: Deno.listen({ hostname: "127.0.0.1", port: 0 }),
      approval: { host: normalHost(hostname), port, address },
      conns: new Set(),
    };
    this.#entrances.add(entrance);
    this.#run(this.#serve(entrance));
    return {
      proxyUrl: `http://127.0.0.1:${entrance.listener.addr.port}`,
      revoke: () => this.#closeEntrance(entrance),
    };
  }

  /**
   * A client for one `https:` attempt to `hostname:port` whose connections
   * go to `address` only. `hostname` is the URL's hostname (IPv6 in brackets
   * or not); `address` the IP the guard approved.
   *
   * @throws {PinningError} when `NO_PROXY` is set (the proxy would be bypassed)
   */
  pin(
    hostname: string,
    port: number,
    address: string,
    options: { readonly caCerts?: string[] } = {},
  ): PinnedTunnelClient {
    const approval = this.approve(hostname, port, address);
    let client: Deno.HttpClient;
    try {
      client = createProxiedClient({ ...options, proxy: { url: approval.proxyUrl } });
    } catch (error) {
      approval.revoke();
      throw error;
    }
    let open = true;
    const close = () => {
      if (!open) return;
      open = false;
      client.close();
      approval.revoke();
    };
    return { client, close, [Symbol.dispose]: close };
  }

  /** Closes every entrance and tunnel; later pins throw. Idempotent. */
  async stop(): Promise<void> {
    this.#closed = true;
    for (const entrance of this.#entrances) this.#closeEntrance(entrance);
    while (this.#tasks.size > 0) await Promise.allSettled([...this.#tasks]);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  #run(task: Promise<void>): void {
    const tracked = task.catch(() => {}).finally(() => this.#tasks.delete(tracked));
    this.#tasks.add(tracked);
  }

  #closeEntrance(entrance: Entrance): void {
    if (!this.#entrances.delete(entrance)) return;
    try {
      entrance.listener.close();
    } catch { /* already closed */ }
    for (const conn of entrance.conns) closeQuietly(conn);
    entrance.conns.clear();
  }

  async #serve(entrance: Entrance): Promise<void> {
    try {
      for await (const conn of entrance.listener) {
        if (!this.#entrances.has(entrance)) {
          closeQuietly(conn);
          break;
        }
        this.#run(this.#handle(entrance, conn));
      }
    } catch {
      // The listener was closed by revoke() or stop().
    }
  }

  async #handle(entrance: Entrance, client: Deno.Conn): Promise<void> {
    const { conns, approval } = entrance;
    conns.add(client);
    let upstream: Deno.Conn | undefined;
    try {
      const head = await this.#readHead(client);
      if (head === undefined) return await reply(client, "400 Bad Request");
      const refusal = refuse(head.text, approval);
      if (refusal !== undefined) return await reply(client, refusal);
      try {
        upstream = await Deno.connect({
          hostname: approval.address,
          port: approval.port,
          signal: AbortSignal.timeout(this.#connectTimeoutMs),
        });
      } catch {
        return await reply(client, "502 Bad Gateway");
      }
      if (!this.#entrances.has(entrance)) return;
      conns.add(upstream);
      this.#tunnels++;
      await writeAll(client, encoder.encode("HTTP/1.1 200 Connection Established\r\n\r\n"));
      if (head.rest.length > 0) await writeAll(upstream, head.rest);
      await Promise.all([pump(client, upstream), pump(upstream, client)]);
    } catch {
      // The client went away or a write failed: the tunnel is over.
    } finally {
      for (const conn of [client, upstream]) {
        if (conn === undefined) continue;
        conns.delete(conn);
        closeQuietly(conn);
      }
    }
  }

  /** Reads the request head; undefined when it is too large, slow or cut off. */
  async #readHead(conn: Deno.Conn): Promise<{ text: string; rest: Uint8Array } | undefined> {
    const buf = new Uint8Array(MAX_HEAD_BYTES);
    let length = 0;
    const timer = setTimeout(() => closeQuietly(conn), this.#headTimeoutMs);
    try {
      while (length < buf.length) {
        const n = await conn.read(buf.subarray(length));
        if (n === null) return undefined;
        length += n;
        const end = indexOfHeadEnd(buf, length);
        if (end >= 0) {
          return {
            text: new TextDecoder().decode(buf.subarray(0, end)),
            rest: buf.slice(end, length),
          };
        }
      }
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch { /* already closed */ }
}

/** The status line refusing a request head, or undefined for a CONNECT to the approved target. */
function refuse(head: string, approval: Approval): string | undefined {
  const [method, authority, version] = (head.split("\r\n")[0] ?? "").split(" ");
  if (method !== "CONNECT" || authority === undefined || !version?.startsWith("HTTP/1.")) {
    return "405 Method Not Allowed";
  }
  const target = parseAuthority(authority);
  if (target === undefined) return "400 Bad Request";
  if (approval.host !== target.host || approval.port !== target.port) return "403 Forbidden";
  return undefined;
}
