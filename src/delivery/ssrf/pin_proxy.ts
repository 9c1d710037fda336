/**
 * Pinning: every connection of a delivery goes to the address the SSRF guard
 * checked, never to whatever the URL's name resolves to a moment later.
 *
 * Deno's `fetch` resolves names itself and cannot be handed an address (a
 * custom `Host` header is overwritten, see `pin_proxy_test.ts`), so the pin is
 * an HTTP proxy in this process: a client made with
 * `Deno.createHttpClient({ proxy: { url: entrance.proxyUrl } })` sends every
 * request to a listener on 127.0.0.1 (an "entrance"), and each entrance
 * belongs to one destination — a URL host and port plus the address the guard
 * approved for them — and connects only there. Nothing in this module
 * resolves a name.
 *
 * - `https:` arrives as `CONNECT host:port`; the entrance opens a tunnel to
 *   the approved address and copies bytes both ways. TLS runs inside the
 *   tunnel, end to end between the client and the receiver, so SNI,
 *   certificate and hostname checks (and client certificates) are for the
 *   URL's name exactly as without a proxy.
 * - `http:` arrives in absolute form, `POST http://host:port/path HTTP/1.1`.
 *   The entrance rewrites each request line to origin form (`POST /path`),
 *   because a receiver that routes on the raw request target would not
 *   recognise the absolute form, and passes head and body on unchanged. It
 *   frames requests by `Content-Length` only (the sender always sends one);
 *   responses are copied back as raw bytes, never parsed.
 *
 * A request or CONNECT for any other host or port than the entrance's is
 * refused, so one client can never reach another destination's address.
 *
 * Why one listener per destination rather than one listener and proxy
 * credentials naming the destination: seen on Deno 2.9.6, a client with
 * proxy credentials sends its `Proxy-Authorization` header also inside the
 * tunnel, to the receiver. A port number leaks nothing.
 *
 * @module
 */

import { closeQuietly, ConnReader, writeAll } from "../../net/conn_reader.ts";
import { formatHost, parseIp } from "./ip.ts";

/** Options of {@linkcode PinProxy.start}. */
export interface PinProxyOptions {
  /** How long a new connection may take to send its first request head, ms; default 10000. */
  readonly headTimeoutMs?: number;
  /** How long connecting to the approved address may take, ms; default 10000. */
  readonly connectTimeoutMs?: number;
}

/** Where one entrance leads: the URL's host and port, and the approved address. */
export interface Destination {
  /** The URL's hostname (IPv6 with or without brackets). */
  readonly hostname: string;
  readonly port: number;
  /** The IP address the guard approved. */
  readonly address: string;
}

/** One destination's listener; see {@linkcode PinProxy.open}. */
export interface Entrance {
  /** `http://127.0.0.1:PORT`, the proxy URL for this destination's client. */
  readonly proxyUrl: string;
  /**
   * Sent as the `hookd-pin-failure` header of the 502 this entrance answers
   * a plain-HTTP request with when it cannot reach the address; only the
   * entrance knows it, so a receiver cannot fake a connection failure.
   */
  readonly failureToken: string;
  /** Closes the listener and every connection through it. Idempotent. */
  close(): void;
}

/** The response header that carries {@linkcode Entrance.failureToken}. */
export const PIN_FAILURE_HEADER = "hookd-pin-failure";

interface OpenEntrance {
  readonly listener: Deno.Listener<Deno.TcpConn, Deno.NetAddr>;
  /** Lowercase hostname, IPv6 canonical without brackets. */
  readonly host: string;
  readonly port: number;
  readonly address: string;
  readonly failureToken: string;
  readonly conns: Set<Deno.Conn>;
}

const MAX_HEAD_BYTES = 64 * 1024;
const encoder = new TextEncoder();
const latin1 = new TextDecoder("latin1");

/** `host` as compared: lowercase, IPv6 canonical without brackets. */
function normalHost(host: string): string {
  const bare = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  if (bare.includes(":")) {
    const ip = parseIp(bare);
    if (ip) return formatHost(ip).slice(1, -1);
  }
  return bare.toLowerCase();
}

/** Splits an authority `host:port` / `[v6]:port` / `host` (then `defaultPort`). */
function parseAuthority(
  authority: string,
  defaultPort?: number,
): { host: string; port: number } | undefined {
  const m = /^(\[[^\]]+\]|[^:[\]]+)(?::([0-9]{1,5}))?$/.exec(authority);
  if (!m) return undefined;
  const port = m[2] === undefined ? defaultPort : Number(m[2]);
  if (port === undefined || port < 1 || port > 65535) return undefined;
  return { host: normalHost(m[1]!), port };
}

async function reply(
  conn: Deno.Conn,
  status: string,
  extra: Record<string, string> = {},
  body = "",
): Promise<void> {
  const bytes = encoder.encode(body);
  let text = `HTTP/1.1 ${status}\r\ncontent-length: ${bytes.length}\r\nconnection: close\r\n`;
  for (const [name, value] of Object.entries(extra)) text += `${name}: ${value}\r\n`;
  await writeAll(conn, encoder.encode(text + "\r\n" + body)).catch(() => {});
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
    // A reset on either side ends the connection; the caller closes both.
  }
}

/** A parsed request head: the request line's parts and the framing headers. */
interface RequestHead {
  readonly method: string;
  readonly target: string;
  readonly version: string;
  /** Byte offset of the first header line (just past the request line's CRLF). */
  readonly headersAt: number;
  readonly contentLength: number | undefined;
  readonly chunked: boolean;
  readonly badFraming: boolean;
}

function parseHead(head: Uint8Array): RequestHead | undefined {
  const text = latin1.decode(head);
  const lineEnd = text.indexOf("\r\n");
  const [method, target, version, ...extra] = text.slice(0, lineEnd).split(" ");
  if (!method || !target || !version?.startsWith("HTTP/1.") || extra.length > 0) return undefined;
  let contentLength: number | undefined;
  let chunked = false;
  let badFraming = false;
  for (const line of text.slice(lineEnd + 2).split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === "content-length") {
      const n = /^[0-9]{1,15}$/.test(value) ? Number(value) : NaN;
      if (Number.isNaN(n) || (contentLength !== undefined && contentLength !== n)) {
        badFraming = true;
      } else contentLength = n;
    } else if (name === "transfer-encoding") {
      chunked = true;
    }
  }
  return { method, target, version, headersAt: lineEnd + 2, contentLength, chunked, badFraming };
}

/**
 * The in-process pinning proxy. Start one per daemon and open one
 * {@linkcode Entrance} per destination (`pinned_clients.ts` does both).
 *
 * ```ts
 * await using proxy = PinProxy.start();
 * const verdict = await guard.check(url); // { ok: true, hostname, port, address }
 * const entrance = proxy.open(verdict);
 * const client = Deno.createHttpClient({ proxy: { url: entrance.proxyUrl } });
 * await fetch(url, { method: "POST", body, client });
 * ```
 */
export class PinProxy implements AsyncDisposable {
  readonly #entrances = new Set<OpenEntrance>();
  readonly #headTimeoutMs: number;
  readonly #connectTimeoutMs: number;
  readonly #tasks = new Set<Promise<void>>();
  #connections = 0;
  #closed = false;

  private constructor(options: PinProxyOptions) {
    this.#headTimeoutMs = options.headTimeoutMs ?? 10_000;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    const resolved = {
      headTimeoutMs: this.#headTimeoutMs,
      connectTimeoutMs: this.#connectTimeoutMs,
    };
    for (const [name, value] of Object.entries(resolved)) {
      if (!(value > 0 && Number.isFinite(value))) {
        throw new RangeError(
          `Cannot start the pinning proxy: '${name}' must be a positive number, got ${value}`,
        );
      }
    }
  }

  /** A proxy with no entrances yet; each {@linkcode open} adds one. */
  static start(options: PinProxyOptions = {}): PinProxy {
    return new PinProxy(options);
  }

  /** Connections made to approved addresses so far (tunnels and forwarded). */
  get connections(): number {
    return this.#connections;
  }

  /** Entrances open now. */
  get openEntrances(): number {
    return this.#entrances.size;
  }

  /** Opens the entrance for one destination. */
  open(destination: Destination): Entrance {
    if (this.#closed) throw new Error("Cannot pin: the pinning proxy is stopped");
    const { hostname, port, address } = destination;
    if (parseIp(address) === undefined) {
      throw new TypeError(`Cannot pin: address must be an IP address, got "${address}"`);
    }
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new RangeError(`Cannot pin: port must be 1-65535, got ${port}`);
    }
    const entrance: OpenEntrance = {
      listener: Deno.listen({ hostname: "127.0.0.1", port: 0 }),
      host: normalHost(hostname),
      port,
      address,
      failureToken: crypto.randomUUID(),
      conns: new Set(),
    };
    this.#entrances.add(entrance);
    this.#run(this.#serve(entrance));
    return {
      proxyUrl: `http://127.0.0.1:${entrance.listener.addr.port}`,
      failureToken: entrance.failureToken,
      close: () => this.#closeEntrance(entrance),
    };
  }

  /** Closes every entrance and connection; later opens throw. Idempotent. */
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

  #closeEntrance(entrance: OpenEntrance): void {
    if (!this.#entrances.delete(entrance)) return;
    try {
      entrance.listener.close();
    } catch { /* already closed */ }
    for (const conn of entrance.conns) closeQuietly(conn);
    entrance.conns.clear();
  }

  async #serve(entrance: OpenEntrance): Promise<void> {
    try {
      for await (const conn of entrance.listener) {
        if (!this.#entrances.has(entrance)) {
          closeQuietly(conn);
          break;
        }
        this.#run(this.#handle(entrance, conn));
      }
    } catch {
      // The listener was closed by close() or stop().
    }
  }

  async #handle(entrance: OpenEntrance, client: Deno.Conn): Promise<void> {
    const { conns } = entrance;
    conns.add(client);
    let upstream: Deno.Conn | undefined;
    try {
      const reader = new ConnReader(client);
      const timer = setTimeout(() => closeQuietly(client), this.#headTimeoutMs);
      const head = await reader.head(MAX_HEAD_BYTES).finally(() => clearTimeout(timer));
      const parsed = head instanceof Uint8Array ? parseHead(head) : undefined;
      if (!(head instanceof Uint8Array) || !parsed) return await reply(client, "400 Bad Request");
      const problem = this.#refusal(entrance, parsed);
      if (problem !== undefined) return await reply(client, problem);
      try {
        upstream = await Deno.connect({
          hostname: entrance.address,
          port: entrance.port,
          signal: AbortSignal.timeout(this.#connectTimeoutMs),
        });
      } catch (error) {
        if (parsed.method === "CONNECT") return await reply(client, "502 Bad Gateway");
        const reason = `could not connect to ${entrance.address}:${entrance.port} ` +
          `(pinned for ${entrance.host}): ${error instanceof Error ? error.message : error}`;
        return await reply(
          client,
          "502 Bad Gateway",
          { [PIN_FAILURE_HEADER]: entrance.failureToken },
          reason,
        );
      }
      if (!this.#entrances.has(entrance)) return;
      conns.add(upstream);
      this.#connections++;
      if (parsed.method === "CONNECT") {
        await writeAll(client, encoder.encode("HTTP/1.1 200 Connection Established\r\n\r\n"));
        const rest = reader.rest();
        if (rest.length > 0) await writeAll(upstream, rest);
        await Promise.all([pump(client, upstream), pump(upstream, client)]);
      } else {
        await this.#forward(entrance, reader, head, parsed, upstream);
      }
    } catch {
      // The client went away or a write failed: the connection is over.
    } finally {
      for (const conn of [client, upstream]) {
        if (conn === undefined) continue;
        conns.delete(conn);
        closeQuietly(conn);
      }
    }
  }

  /**
   * Plain HTTP: requests go up one by one, each request line rewritten to
   * origin form; responses come back as raw bytes. Either side ending ends both.
   */
  async #forward(
    entrance: OpenEntrance,
    reader: ConnReader,
    firstHead: Uint8Array,
    firstParsed: RequestHead,
    upstream: Deno.Conn,
  ): Promise<void> {
    const client = reader.conn;
    const responses = pump(upstream, client).finally(() => {
      closeQuietly(client);
      closeQuietly(upstream);
    });
    let head: Uint8Array | null | undefined = firstHead;
    let parsed: RequestHead | undefined = firstParsed;
    try {
      while (head && parsed && this.#refusal(entrance, parsed) === undefined) {
        const line = `${parsed.method} ${originForm(parsed.target)} ${parsed.version}\r\n`;
        await writeAll(upstream, encoder.encode(line));
        await writeAll(upstream, head.subarray(parsed.headersAt));
        if (!(await reader.copy(parsed.contentLength ?? 0, upstream))) break;
        const next = await reader.head(MAX_HEAD_BYTES);
        head = next instanceof Uint8Array ? next : undefined;
        parsed = head ? parseHead(head) : undefined;
      }
      // A clean end, or a request this entrance will not carry: the
      // receiver gets the end of the stream, the client a closed connection.
      await upstream.closeWrite().catch(() => {});
    } finally {
      await responses;
    }
  }

  /** Why this entrance will not carry a request, as a status line; undefined when it will. */
  #refusal(entrance: OpenEntrance, head: RequestHead): string | undefined {
    let authority: { host: string; port: number } | undefined;
    if (head.method === "CONNECT") {
      authority = parseAuthority(head.target);
    } else {
      const m = /^http:\/\/([^/?#]+)/i.exec(head.target);
      if (!m) return "405 Method Not Allowed"; // not a proxy request: origin form, or https://
      if (head.chunked || head.badFraming) return "411 Length Required";
      authority = parseAuthority(m[1]!, 80);
    }
    if (authority === undefined) return "400 Bad Request";
    if (authority.host !== entrance.host || authority.port !== entrance.port) {
      return "403 Forbidden";
    }
    return undefined;
  }
}

/** `http://host:port/p?q` → `/p?q`; an empty path becomes `/`. */
function originForm(absolute: string): string {
  const rest = absolute.replace(/^http:\/\/[^/?#]+/i, "");
  if (rest === "") return "/";
  return rest.startsWith("/") ? rest : `/${rest}`;
}
