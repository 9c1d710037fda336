/**
 * The API's front door: the socket clients connect to, enforcing what
 * `Deno.serve` cannot (denoland/deno#3515) — a deadline for request heads, an
 * idle timeout for kept-alive connections, a cap on head size and on open
 * connections — before any byte reaches the HTTP server.
 *
 * The HTTP server itself (`Deno.serve` running the Hono app) listens on a Unix
 * socket in a private directory; the front door accepts TCP (or TLS)
 * connections and opens one backend connection for each. Request bytes are
 * read here just enough to find where each request head and body ends:
 *
 * - a head must be complete within `headerTimeoutMs` of its first byte (and a
 *   new connection must send one within that time), else `408` and close;
 * - a head larger than `maxHeaderBytes` gets `431` and the connection closes;
 * - bodies are framed by `Content-Length` or `chunked`; anything ambiguous
 *   (both, several lengths, another transfer coding) gets `400` and closes,
 *   so the front door and the server never disagree on where a request ends;
 * - a connection with no request in progress and no bytes moving for
 *   `idleTimeoutMs` is closed; so is a body that stops arriving for that long;
 * - beyond `maxConnections` open connections, new ones get `503` and close.
 *
 * Responses flow back as raw bytes. Whether a request is still being answered
 * is learnt from the server side: each forwarded head carries a connection
 * number in {@linkcode FRONT_CONNECTION_HEADER} (a client's own copy is
 * removed), and the server wrapper reports start and end of every response
 * with {@linkcode FrontDoor.responseStarted}/`responseEnded`; a connection
 * waiting for a slow answer (a large dead-letter replay) is never idle.
 *
 * @module
 */

import { relayChunked, relaySized } from "../net/body_relay.ts";
import { closeQuietly, writeAll } from "../net/conn_io.ts";
import { contentLength, splitHead } from "../net/http1_head.ts";
import { Http1Reader } from "../net/http1_reader.ts";
import type { Logger } from "../ops/log.ts";
import { errorBody } from "./errors.ts";
import { FrontDoorMetrics } from "./front_door_metrics.ts";

/** Added to every forwarded request head: which front-door connection carried it. */
export const FRONT_CONNECTION_HEADER = "hookd-front-connection";

export interface FrontDoorOptions {
  /** Where clients connect (TCP or TLS); the front door closes it on {@linkcode FrontDoor.close}. */
  readonly listener: Deno.Listener;
  /** The HTTP server's Unix socket. */
  readonly backendPath: string;
  readonly headerTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly maxHeaderBytes: number;
  readonly maxConnections: number;
  readonly log: Logger;
  /** How often deadlines are checked, ms; default 250. */
  readonly sweepIntervalMs?: number;
  /** Where to count connections and refusals; a fresh set by default. */
  readonly metrics?: FrontDoorMetrics;
}

/** What a connection is doing, which decides its deadline. */
type Phase =
  /** Accepted, nothing received yet: the first head is due within the header timeout. */
  | "fresh"
  /** Between requests: idle once no response is being written. */
  | "waiting"
  /** Part of a request head has arrived: the rest is due within the header timeout. */
  | "head"
  /** A body is being forwarded: each part is due within the idle timeout. */
  | "body";

interface Connection {
  readonly id: number;
  readonly client: Deno.Conn;
  backend: Deno.Conn | undefined;
  phase: Phase;
  /** When the deadline's clock started: accept, a head's first byte, or the last activity. */
  since: number;
  /** Responses the server has started and not finished on this connection. */
  answering: number;
  /** Set by close(): end after the response in progress. */
  draining: boolean;
  closed: boolean;
}

const encoder = new TextEncoder();
const latin1 = new TextDecoder("latin1");

/** A request head's framing, or why it cannot be carried. */
type Framing =
  | {
    readonly ok: true;
    readonly body: { length: number } | "chunked";
    /** The client sent its own {@linkcode FRONT_CONNECTION_HEADER}. */
    readonly spoofed: boolean;
  }
  | { readonly ok: false; readonly reason: string };

/**
 * A valid `Host` value: a reg-name, IPv4 or bracketed IPv6 address, optional
 * port (RFC 9110 §7.2). The server builds the request URL from it, so a value
 * with a path or query in it (`x/api/v1/keys?`) would choose the route.
 */
const VALID_HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]+)(?::[0-9]{0,5})?$/;

function framingOf(head: Uint8Array): Framing {
  const { startLine, fields } = splitHead(head);
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+ \S+ HTTP\/1\.[01]$/.test(startLine)) {
    return { ok: false, reason: "malformed request line" };
  }
  if (fields === undefined) return { ok: false, reason: "malformed header line" };
  const lengths: string[] = [];
  let transferEncoding: string | undefined;
  let hosts = 0;
  let spoofed = false;
  for (const [name, value] of fields) {
    if (name === "content-length") {
      lengths.push(value);
    } else if (name === "host") {
      if (++hosts > 1) return { ok: false, reason: "more than one Host header" };
      if (!VALID_HOST.test(value)) return { ok: false, reason: "invalid Host header" };
    } else if (name === "transfer-encoding") {
      if (transferEncoding !== undefined) {
        return { ok: false, reason: "repeated Transfer-Encoding" };
      }
      transferEncoding = value.toLowerCase();
    } else if (name === FRONT_CONNECTION_HEADER) {
      spoofed = true;
    }
  }
  const length = contentLength(lengths);
  if (typeof length === "string") return { ok: false, reason: `${length} Content-Length` };
  // RFC 9112 §3.2: an HTTP/1.1 request without Host is refused.
  if (hosts === 0 && startLine.endsWith("HTTP/1.1")) {
    return { ok: false, reason: "missing Host header" };
  }
  if (transferEncoding !== undefined) {
    if (length !== undefined) {
      return { ok: false, reason: "both Transfer-Encoding and Content-Length" };
    }
    if (transferEncoding !== "chunked") {
      return { ok: false, reason: `unsupported Transfer-Encoding "${transferEncoding}"` };
    }
    return { ok: true, body: "chunked", spoofed };
  }
  return { ok: true, body: { length: length ?? 0 }, spoofed };
}

/** Removes every line of `head` that sets the front door's connection header. */
function withoutConnectionHeader(head: string): string {
  const own = new RegExp(`^${FRONT_CONNECTION_HEADER}[ \t]*:`, "i");
  return head.split("\r\n").filter((line) => !own.test(line)).join("\r\n");
}

export class FrontDoor {
  readonly #o: FrontDoorOptions;
  readonly #connections = new Map<number, Connection>();
  readonly #tasks = new Set<Promise<void>>();
  readonly #sweep: ReturnType<typeof setInterval>;
  #nextId = 1;
  #closing = false;
  readonly #metrics: FrontDoorMetrics;

  private constructor(options: FrontDoorOptions) {
    this.#o = options;
    this.#metrics = options.metrics ?? new FrontDoorMetrics();
    this.#sweep = setInterval(() => this.#enforceDeadlines(), options.sweepIntervalMs ?? 250);
    this.#track(this.#accept());
  }

  /** Starts accepting on `options.listener`. */
  static start(options: FrontDoorOptions): FrontDoor {
    for (
      const key of ["headerTimeoutMs", "idleTimeoutMs", "maxHeaderBytes", "maxConnections"] as const
    ) {
      const value = options[key];
      if (!(value > 0) || !Number.isFinite(value)) {
        throw new RangeError(
          `Cannot start the front door: '${key}' must be positive, got ${value}`,
        );
      }
    }
    return new FrontDoor(options);
  }

  /** Open client connections now. */
  get connections(): number {
    return this.#connections.size;
  }

  /** Connections refused for being over `maxConnections`, and closed by a deadline. */
  stats(): { open: number; refused: number; timedOut: number } {
    const { refused, timedOut } = this.#metrics;
    return {
      open: this.#connections.size,
      refused: refused.get(),
      timedOut: timedOut.get("header") + timedOut.get("idle"),
    };
  }

  /** Called by the server wrapper when it starts answering a request from connection `id`. */
  responseStarted(id: number): void {
    const conn = this.#connections.get(id);
    if (conn) conn.answering++;
  }

  /** Called when that response has been written (or abandoned). */
  responseEnded(id: number): void {
    const conn = this.#connections.get(id);
    if (!conn) return;
    conn.answering = Math.max(0, conn.answering - 1);
    conn.since = performance.now();
    if (conn.draining && conn.answering === 0 && isBetweenRequests(conn)) this.#finish(conn);
  }

  /**
   * Stops accepting, closes connections with nothing in progress at once and
   * the others after their current response. Resolves when all are closed
   * or after `graceMs`, when the rest are cut.
   */
  async close(graceMs: number): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    try {
      this.#o.listener.close();
    } catch { /* already closed */ }
    for (const conn of this.#connections.values()) {
      conn.draining = true;
      if (conn.answering === 0 && isBetweenRequests(conn)) this.#finish(conn);
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<void>((resolve) => timer = setTimeout(resolve, graceMs));
    await Promise.race([Promise.allSettled([...this.#tasks]), deadline]);
    clearTimeout(timer);
    clearInterval(this.#sweep);
    for (const conn of this.#connections.values()) this.#end(conn);
    await Promise.allSettled([...this.#tasks]);
  }

  #track(task: Promise<void>): void {
    const tracked = task.catch(() => {}).finally(() => this.#tasks.delete(tracked));
    this.#tasks.add(tracked);
  }

  async #accept(): Promise<void> {
    try {
      for await (const client of this.#o.listener) {
        if (this.#connections.size >= this.#o.maxConnections) {
          this.#metrics.refused.inc();
          this.#track(refuse(client, "503 Service Unavailable", "too many open connections"));
          continue;
        }
        // Responses are relayed in the pieces the server writes them (head,
        // then body): with Nagle's algorithm on, the second piece would wait
        // for the client's delayed ACK (40 ms on Linux) on every response.
        if ("setNoDelay" in client && typeof client.setNoDelay === "function") {
          client.setNoDelay(true);
        }
        this.#metrics.accepted.inc();
        const conn: Connection = {
          id: this.#nextId++,
          client,
          backend: undefined,
          phase: "fresh",
          since: performance.now(),
          answering: 0,
          draining: false,
          closed: false,
        };
        this.#connections.set(conn.id, conn);
        this.#track(this.#serve(conn));
      }
    } catch (error) {
      if (!this.#closing) this.#o.log.error("the API listener failed", { error });
    }
  }

  /** Closes connections past their phase's deadline. */
  #enforceDeadlines(): void {
    const now = performance.now();
    for (const conn of this.#connections.values()) {
      const elapsed = now - conn.since;
      if (conn.phase === "fresh" || conn.phase === "head") {
        if (elapsed <= this.#o.headerTimeoutMs) continue;
        this.#metrics.timedOut.inc("header");
        this.#metrics.rejected.inc("header_timeout");
        this.#end(conn, false);
        this.#track(
          refuse(conn.client, "408 Request Timeout", "request head not received in time"),
        );
      } else if (
        elapsed > this.#o.idleTimeoutMs && (conn.phase === "body" || conn.answering === 0)
      ) {
        this.#metrics.timedOut.inc("idle");
        this.#end(conn);
      }
    }
  }

  /**
   * Ends a connection gracefully: the server is told no more requests come,
   * writes out what it has, and closes its side, which ends the relay and the
   * connection (a response already written is never cut off in transit).
   */
  #finish(conn: Connection): void {
    if (conn.backend === undefined) this.#end(conn);
    else conn.backend.closeWrite().catch(() => this.#end(conn));
  }

  #end(conn: Connection, closeClient = true): void {
    if (conn.closed) return;
    conn.closed = true;
    this.#connections.delete(conn.id);
    if (closeClient) closeQuietly(conn.client);
    closeQuietly(conn.backend);
  }

  async #serve(conn: Connection): Promise<void> {
    const reader = new Http1Reader(conn.client);
    try {
      for (;;) {
        // Between requests: wait for the first byte of the next head.
        if (conn.draining && conn.answering === 0) break;
        if (!(await reader.ready())) break;
        conn.phase = "head";
        conn.since = performance.now();
        const head = await reader.head(this.#o.maxHeaderBytes);
        if (head === "too-large") {
          this.#metrics.rejected.inc("head_too_large");
          return await refuse(
            conn.client,
            "431 Request Header Fields Too Large",
            `request head larger than ${this.#o.maxHeaderBytes} bytes`,
          );
        }
        if (head === null) break;
        const framing = framingOf(head);
        if (!framing.ok) {
          this.#metrics.rejected.inc("bad_request");
          return await refuse(conn.client, "400 Bad Request", framing.reason);
        }
        if (conn.backend === undefined) {
          conn.backend = await Deno.connect({ transport: "unix", path: this.#o.backendPath });
          this.#track(this.#relayResponses(conn));
        }
        // The head without its blank line (and without a client's own copy
        // of the connection header), ours, the blank line, and as much of the
        // body as already arrived: one write, so the server wakes up once.
        const ownHead = framing.spoofed
          ? latin1Encode(withoutConnectionHeader(latin1.decode(head)).slice(0, -2))
          : head.subarray(0, head.length - 2);
        const marker = encoder.encode(`${FRONT_CONNECTION_HEADER}: ${conn.id}\r\n\r\n`);
        const bodyLength = framing.body === "chunked" ? 0 : framing.body.length;
        const early = reader.take(bodyLength);
        const first = new Uint8Array(ownHead.length + marker.length + early.length);
        first.set(ownHead);
        first.set(marker, ownHead.length);
        first.set(early, ownHead.length + marker.length);
        await writeAll(conn.backend, first);
        conn.phase = "body";
        conn.since = performance.now();
        const complete = framing.body === "chunked"
          ? await relayChunked(reader, conn.backend, () => conn.since = performance.now())
          : await relaySized(reader, bodyLength - early.length, conn.backend, () => {
            conn.since = performance.now();
          });
        if (!complete) break;
        conn.phase = "waiting";
        conn.since = performance.now();
      }
    } catch {
      // A reset, a closed backend or a deadline: the connection is over.
    } finally {
      // No more requests. The server sees the end of the stream, finishes
      // what it is answering and closes its side, which ends the connection
      // (see #relayResponses); without a backend there is nothing to wait for.
      if (conn.backend && !conn.closed) await conn.backend.closeWrite().catch(() => {});
      else this.#end(conn);
    }
  }

  /** Server → client, raw; the server closing its side ends the connection. */
  async #relayResponses(conn: Connection): Promise<void> {
    const buf = new Uint8Array(16 * 1024);
    try {
      for (;;) {
        const n = await conn.backend!.read(buf);
        if (n === null) break;
        await writeAll(conn.client, buf.subarray(0, n));
        conn.since = performance.now();
      }
    } catch {
      // Either side went away.
    } finally {
      this.#end(conn);
    }
  }
}

function isBetweenRequests(conn: Connection): boolean {
  return conn.phase === "fresh" || conn.phase === "waiting";
}

function latin1Encode(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

/**
 * Answers with `status` and a JSON error, then closes; within a second in any
 * case (a TLS client that never finished its handshake cannot be written to).
 */
async function refuse(conn: Deno.Conn, status: string, message: string): Promise<void> {
  const bound = setTimeout(() => closeQuietly(conn), 1_000);
  const code = status.slice(4).toLowerCase().replaceAll(" ", "_");
  const body = JSON.stringify(errorBody(code, message));
  const text = `HTTP/1.1 ${status}\r\ncontent-type: application/json\r\n` +
    `content-length: ${encoder.encode(body).length}\r\nconnection: close\r\n\r\n${body}`;
  try {
    await writeAll(conn, encoder.encode(text));
  } catch { /* the client is gone */ }
  clearTimeout(bound);
  closeQuietly(conn);
}
