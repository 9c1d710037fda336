/**
 * Pinning `https:` targets with TLS still verified against the URL's name.
 *
 * `Deno.createHttpClient({ proxy: { url: "http://127.0.0.1:PORT" } })`
 * tunnels an `https:` request through an HTTP proxy with `CONNECT host:443`
 * and then runs TLS *inside* the tunnel, end to end with the receiver: SNI,
 * certificate and hostname checks are for the URL's host, exactly as without
 * a proxy. This module is that proxy, in process, on 127.0.0.1: it does not
 * resolve anything; it connects each tunnel to the address the guard already
 * approved for that attempt and copies bytes both ways.
 *
 * Which address belongs to which tunnel: each attempt registers its approval
 * (host, port, address) under a fresh random token and gets a client whose
 * proxy credentials carry the token (`Proxy-Authorization: Basic`). The proxy
 * accepts a CONNECT only with a live token and only for the host and port
 * that token was approved for, so concurrent attempts cannot be confused,
 * and nothing else on the machine can use the proxy to reach arbitrary
 * addresses. The proxy refuses every method but CONNECT: it is never a
 * forward proxy for plain HTTP (see `pin.ts` for `http:` targets).
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
  /** Revokes the token (later tunnels are refused) and closes the client. */
  close(): void;
}

interface Approval {
  /** Lowercase URL hostname, IPv6 without brackets. */
  readonly host: string;
  readonly port: number;
  readonly address: string;
}

const MAX_HEAD_BYTES = 8192;
const USERNAME = "hookd";
const encoder = new TextEncoder();

function tokenHex(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

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
    (status.startsWith("407") ? `proxy-authenticate: Basic realm="hookd"\r\n` : "") + "\r\n";
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
  readonly #listener: Deno.Listener<Deno.TcpConn, Deno.NetAddr>;
  readonly #approvals = new Map<string, Approval>();
  readonly #conns = new Set<Deno.Conn>();
  readonly #headTimeoutMs: number;
  readonly #connectTimeoutMs: number;
  readonly #serving: Promise<void>;
  readonly #handlers = new Set<Promise<void>>();
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
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.#serving = this.#serve();
  }

  /** Listens on 127.0.0.1 on an ephemeral port. */
  static start(options: ConnectProxyOptions = {}): ConnectProxy {
    return new ConnectProxy(options);
  }

  /** The proxy's port on 127.0.0.1. */
  get port(): number {
    return this.#listener.addr.port;
  }

  /** Tunnels opened so far (for tests and metrics). */
  get tunnels(): number {
    return this.#tunnels;
  }

  /** Live approvals (attempts whose client is not closed yet). */
  get pending(): number {
    return this.#approvals.size;
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
    if (this.#closed) throw new Error("Cannot pin: the CONNECT proxy is stopped");
    if (parseIp(address) === undefined) {
      throw new TypeError(`Cannot pin: address must be an IP address, got "${address}"`);
    }
    const token = tokenHex();
    const client = createProxiedClient({
      ...options,
      proxy: {
        url: `http://127.0.0.1:${this.port}`,
        basicAuth: { username: USERNAME, password: token },
      },
    });
    this.#approvals.set(token, { host: normalHost(hostname), port, address });
    let open = true;
    const close = () => {
      if (!open) return;
      open = false;
      this.#approvals.delete(token);
      client.close();
    };
    return { client, close, [Symbol.dispose]: close };
  }

  /** Stops listening and closes every open tunnel. Idempotent. */
  async stop(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#approvals.clear();
    this.#listener.close();
    for (const conn of this.#conns) {
      try {
        conn.close();
      } catch { /* already closed */ }
    }
    await this.#serving;
    await Promise.allSettled([...this.#handlers]);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  async #serve(): Promise<void> {
    try {
      for await (const conn of this.#listener) {
        const handler = this.#handle(conn).finally(() => this.#handlers.delete(handler));
        this.#handlers.add(handler);
      }
    } catch {
      // The listener was closed by stop().
    }
  }

  #track(conn: Deno.Conn): void {
    this.#conns.add(conn);
  }

  #release(...conns: Deno.Conn[]): void {
    for (const conn of conns) {
      this.#conns.delete(conn);
      try {
        conn.close();
      } catch { /* already closed */ }
    }
  }

  async #handle(client: Deno.Conn): Promise<void> {
    this.#track(client);
    let upstream: Deno.Conn | undefined;
    try {
      const head = await this.#readHead(client);
      if (head === undefined) return await reply(client, "400 Bad Request");
      const approval = this.#authorize(head.text);
      if (typeof approval === "string") return await reply(client, approval);
      try {
        upstream = await Deno.connect({
          hostname: approval.address,
          port: approval.port,
          signal: AbortSignal.timeout(this.#connectTimeoutMs),
        });
      } catch {
        return await reply(client, "502 Bad Gateway");
      }
      if (this.#closed) return;
      this.#track(upstream);
      this.#tunnels++;
      await writeAll(client, encoder.encode("HTTP/1.1 200 Connection Established\r\n\r\n"));
      if (head.rest.length > 0) await writeAll(upstream, head.rest);
      await Promise.all([pump(client, upstream), pump(upstream, client)]);
    } catch {
      // The client went away or a write failed: the tunnel is over.
    } finally {
      if (upstream) this.#release(upstream);
      this.#release(client);
    }
  }

  /** Reads the request head; undefined when it is too large, slow or cut off. */
  async #readHead(conn: Deno.Conn): Promise<{ text: string; rest: Uint8Array } | undefined> {
    const buf = new Uint8Array(MAX_HEAD_BYTES);
    let length = 0;
    const timer = setTimeout(() => this.#release(conn), this.#headTimeoutMs);
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

  /** The approval a CONNECT head may use, or the status line refusing it. */
  #authorize(head: string): Approval | string {
    const lines = head.split("\r\n");
    const [method, authority, version] = (lines[0] ?? "").split(" ");
    if (method !== "CONNECT" || authority === undefined || !version?.startsWith("HTTP/1.")) {
      return "405 Method Not Allowed";
    }
    const target = parseAuthority(authority);
    if (target === undefined) return "400 Bad Request";
    let token: string | undefined;
    for (const line of lines.slice(1)) {
      const m = /^proxy-authorization:\s*basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(line);
      if (!m) continue;
      let decoded: string;
      try {
        decoded = atob(m[1]!);
      } catch {
        return "407 Proxy Authentication Required";
      }
      const colon = decoded.indexOf(":");
      if (decoded.slice(0, colon) === USERNAME) token = decoded.slice(colon + 1);
    }
    const approval = token === undefined ? undefined : this.#approvals.get(token);
    if (approval === undefined) return "407 Proxy Authentication Required";
    if (approval.host !== target.host || approval.port !== target.port) {
      return "403 Forbidden";
    }
    return approval;
  }
}
