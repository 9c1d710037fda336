/**
 * A small HTTP/1.1 client for delivery attempts: one POST, its response head
 * and at most an excerpt of its body, over keep-alive connections pooled per
 * route.
 *
 * Why not `fetch`: on Deno 2.9.6 one `fetch` POST costs about 45 µs of CPU on
 * the calling thread (webidl conversion, `Request`/`Response` objects, a
 * `ReadableStream` per body, abort-signal plumbing) and allocates ~20 KB; the
 * same exchange written to a `Deno.Conn` costs about 12 µs. Delivery is the
 * daemon's hot loop, so that difference is most of its CPU. It also means the
 * caller decides where a connection goes (see {@linkcode Http1Route}), which
 * is what SSRF pinning needs and `fetch` cannot be told.
 *
 * What it does not do, because a webhook sender must not or need not:
 * follow redirects, send anything but a sized body, decode content codings
 * (it sends no `Accept-Encoding`), upgrade, or speak HTTP/2.
 *
 * @module
 */

import { closeQuietly, writeAll } from "./conn_io.ts";
import { chunkSize, contentLength, splitHead } from "./http1_head.ts";
import { Http1Reader } from "./http1_reader.ts";

/** Why an exchange failed. */
export type Http1ErrorKind =
  /** The name did not resolve. */
  | "dns"
  /** No connection: refused or unreachable. */
  | "connect"
  /** The TLS handshake failed (certificate, protocol). */
  | "tls"
  /** The connection closed or broke before the response was complete. */
  | "reset"
  /** The peer answered, but not with valid HTTP/1.1. */
  | "protocol"
  /** The exchange's deadline passed. */
  | "timeout"
  /**
   * A forward proxy failed: no connection to it, or it did not open the
   * tunnel (an error status such as 407, or no answer before the deadline).
   */
  | "proxy"
  /** The client was closed. */
  | "closed";

/** A failed exchange, with the stage it failed in. */
export class Http1Error extends Error {
  constructor(
    readonly kind: Http1ErrorKind,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "Http1Error";
  }
}

/** Where connections go: everything with the same key shares idle connections. */
export interface Http1Route {
  /**
   * Identifies the destination and its connection settings (address, TLS
   * trust, client certificate): two routes with the same key must connect
   * to the same place in the same way.
   */
  readonly key: string;
  /** Opens a new connection, TLS handshake done; rejects with an {@linkcode Http1Error}. */
  connect(signal: AbortSignal): Promise<Deno.Conn>;
  /**
   * Whether `connect` ends promptly when `signal` aborts, rejecting with an
   * error of its own that says which stage the deadline cut short (a proxy
   * route: `proxy` before the tunnel is open). Others are raced against the
   * signal, see `connectWithin`.
   */
  readonly abortable?: boolean;
}

/** One POST. */
export interface Http1Request {
  /** The request target, origin form: path and query. */
  readonly target: string;
  /** The `Host` header's value. */
  readonly host: string;
  /** Header lines to send; the caller has checked names and values (no CR, LF or NUL). */
  readonly headers: readonly (readonly [string, string])[];
  readonly body: string;
}

/** A response: the head, and the body excerpt as far as it was read. */
export interface Http1Response {
  readonly status: number;
  /** `[name, value]` in arrival order, names lowercased. */
  readonly headers: [string, string][];
  /** At most the exchange's body limit of the body; when the body was longer, its start. */
  readonly body: Uint8Array;
  /** Set when the body could not be read to its end or to the limit; `body` holds what arrived. */
  readonly bodyError?: Http1Error;
}

/** Options of {@linkcode Http1Client}. */
export interface Http1ClientOptions {
  /** Idle connections kept per route; default 256. */
  readonly maxIdlePerRoute?: number;
  /** An idle connection unused this long is closed, ms, or false to keep it; default 30000. */
  readonly idleTimeoutMs?: number | false;
}

/** A response head larger than this, or with more header lines than that, is refused. */
const MAX_HEAD_BYTES = 64 * 1024;
const MAX_HEADER_LINES = 100;
/** A chunk-size line longer than this is refused. */
const MAX_CHUNK_LINE = 1024;
/** How often deadlines are checked while exchanges are in flight, ms. */
const DEADLINE_SWEEP_MS = 10;
/** Sweeps that find nothing in flight before the sweep stops (100 ms of quiet). */
const IDLE_SWEEPS_BEFORE_STOP = 10;
const EMPTY = new Uint8Array(0);

const encoder = new TextEncoder();
const latin1 = new TextDecoder("latin1");
const NOT_ASCII = /[^\0-\x7f]/;

/** A pooled connection with its read buffer. */
class Connection extends Http1Reader {
  /** A read issued while the connection sat idle; the next exchange's first read. */
  idleRead: Promise<number | null> | undefined;
  idleSince = 0;
  idle = false;
  closed = false;

  constructor(conn: Deno.Conn, readonly key: string) {
    super(conn);
  }

  protected override receive(into: Uint8Array): Promise<number | null> {
    const pending = this.idleRead;
    if (pending === undefined) return super.receive(into);
    // It was issued into the empty buffer, which is where fill() reads to now.
    this.idleRead = undefined;
    return pending;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeQuietly(this.conn);
  }
}

/** One exchange in flight, as the deadline sweep sees it. */
class Exchange {
  timedOut = false;
  connection: Connection | undefined;
  connecting: AbortController | undefined;

  constructor(readonly deadline: number) {}

  /** Stops the exchange where it is: its next read, write or connect fails. */
  expire(): void {
    if (this.timedOut) return;
    this.timedOut = true;
    this.connecting?.abort();
    this.connection?.close();
  }
}

/** Thrown inside an exchange to stop it; the kind says why. */
function fail(kind: Http1ErrorKind, message: string): never {
  throw new Http1Error(kind, message);
}

function isDenoError(error: unknown, names: readonly (keyof typeof Deno.errors)[]): boolean {
  for (const name of names) if (error instanceof Deno.errors[name]) return true;
  return false;
}

/** An error from reading or writing an open connection, as an exchange failure. */
function ioFailure(error: unknown): Http1Error {
  if (error instanceof Http1Error) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (isDenoError(error, ["InvalidData"]) || /certificate|tls|handshake|alert/i.test(message)) {
    return new Http1Error("tls", message, { cause: error });
  }
  return new Http1Error("reset", message, { cause: error });
}

/** The request as bytes: head in Latin-1 (as `fetch` sends header values), body in UTF-8. */
function encodeRequest(request: Http1Request): Uint8Array {
  const body = request.body === "" ? EMPTY : encoder.encode(request.body);
  let head = `POST ${request.target} HTTP/1.1\r\nhost: ${request.host}\r\n`;
  for (const [name, value] of request.headers) head += `${name}: ${value}\r\n`;
  head += `content-length: ${body.length}\r\n\r\n`;
  const bytes = new Uint8Array(head.length + body.length);
  if (NOT_ASCII.test(head)) {
    for (let i = 0; i < head.length; i++) bytes[i] = head.charCodeAt(i);
  } else {
    encoder.encodeInto(head, bytes);
  }
  bytes.set(body, head.length);
  return bytes;
}

/**
 * `route.connect`, given up when `signal` aborts even if the route cannot
 * cancel its connect (a TLS connect cannot be); a connection that arrives
 * after that is closed.
 */
function connectWithin(route: Http1Route, signal: AbortSignal): Promise<Deno.Conn> {
  if (route.abortable) return route.connect(signal);
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    route.connect(signal).then((conn) => {
      signal.removeEventListener("abort", onAbort);
      if (signal.aborted) {
        closeQuietly(conn);
      } else {
        resolve(conn);
      }
    }, (error) => {
      signal.removeEventListener("abort", onAbort);
      reject(error);
    });
  });
}

/** A parsed response head and how its body is framed. */
interface Head {
  readonly status: number;
  readonly headers: [string, string][];
  readonly framing: "none" | "length" | "chunked" | "close";
  readonly length: number;
  /** Whether the connection may carry another exchange after this one. */
  readonly keepAlive: boolean;
}

function parseHead(bytes: Uint8Array): Head {
  const { startLine, fields: headers } = splitHead(bytes);
  if (!startLine.startsWith("HTTP/1.")) fail("protocol", "invalid HTTP version parsed");
  const match = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: |$)/.exec(startLine);
  if (match === null) fail("protocol", "invalid status line");
  if (headers === undefined) fail("protocol", "invalid header");
  if (headers.length > MAX_HEADER_LINES) fail("protocol", "message head is too large");
  const status = Number(match[2]);
  let keepAlive = match[1] === "1";
  let lengths: string[] | undefined;
  let transferEncoding: string | undefined;
  for (const [name, value] of headers) {
    if (name === "content-length") {
      (lengths ??= []).push(value);
    } else if (name === "transfer-encoding") {
      transferEncoding = transferEncoding === undefined ? value : `${transferEncoding}, ${value}`;
    } else if (name === "connection") {
      if (/(?:^|,)\s*close\s*(?:,|$)/i.test(value)) keepAlive = false;
    }
  }
  const length = lengths === undefined ? undefined : contentLength(lengths);
  if (typeof length === "string") fail("protocol", `${length} content-length`);
  if (status === 204 || status === 304 || status < 200) {
    return { status, headers, framing: "none", length: 0, keepAlive };
  }
  if (transferEncoding !== undefined) {
    // RFC 9112 §6.3: chunked last means chunked; any other coding runs to the close.
    // With a Content-Length as well, the message is suspect (a smuggling
    // pattern): Transfer-Encoding wins and the connection is not reused.
    return /(?:^|,)\s*chunked\s*$/i.test(transferEncoding)
      ? {
        status,
        headers,
        framing: "chunked",
        length: 0,
        keepAlive: keepAlive && length === undefined,
      }
      : { status, headers, framing: "close", length: 0, keepAlive: false };
  }
  if (length !== undefined) return { status, headers, framing: "length", length, keepAlive };
  return { status, headers, framing: "close", length: 0, keepAlive: false };
}

/**
 * Collects up to `limit` bytes of a body. The buffer is made when something
 * arrives, at the size that arrived, and grows (doubling, up to `limit`)
 * only for a body in several chunks: most receivers answer a few bytes in
 * one, and a buffer of the whole limit (4 KiB by default) per delivery was
 * allocated (and zeroed) for nothing.
 */
class Excerpt {
  #bytes: Uint8Array | undefined;
  length = 0;

  constructor(readonly limit: number) {}

  get full(): boolean {
    return this.length >= this.limit;
  }

  add(chunk: Uint8Array): void {
    const take = Math.min(chunk.length, this.limit - this.length);
    if (take <= 0) return;
    if (this.#bytes === undefined) {
      this.#bytes = chunk.slice(0, take);
      this.length = take;
      return;
    }
    if (this.length + take > this.#bytes.length) {
      const grown = new Uint8Array(
        Math.min(this.limit, Math.max(this.#bytes.length * 2, this.length + take)),
      );
      grown.set(this.#bytes.subarray(0, this.length));
      this.#bytes = grown;
    }
    this.#bytes.set(chunk.subarray(0, take), this.length);
    this.length += take;
  }

  get bytes(): Uint8Array {
    return this.#bytes === undefined ? EMPTY : this.#bytes.subarray(0, this.length);
  }
}

/**
 * HTTP/1.1 exchanges over pooled connections.
 *
 * ```ts
 * using client = new Http1Client();
 * const response = await client.post(route, request, { timeoutMs: 5000, bodyLimit: 4096 });
 * ```
 */
export class Http1Client {
  readonly #maxIdle: number;
  readonly #idleTimeoutMs: number | false;
  /** Idle connections per route key, most recently used last. */
  readonly #idle = new Map<string, Connection[]>();
  readonly #busy = new Set<Connection>();
  /** Exchanges in flight, for the deadline sweep. */
  readonly #exchanges = new Set<Exchange>();
  #deadlineSweep: ReturnType<typeof setInterval> | undefined;
  /** Deadline sweeps in a row that found no exchange in flight. */
  #idleSweeps = 0;
  readonly #sweep: ReturnType<typeof setInterval> | undefined;
  #closed = false;

  constructor(options: Http1ClientOptions = {}) {
    this.#maxIdle = options.maxIdlePerRoute ?? 256;
    this.#idleTimeoutMs = options.idleTimeoutMs ?? 30_000;
    if (this.#idleTimeoutMs !== false) {
      const every = Math.max(250, Math.min(this.#idleTimeoutMs / 2, 5_000));
      const sweep = setInterval(() => this.#closeExpired(), every);
      Deno.unrefTimer(Number(sweep));
      this.#sweep = sweep;
    }
  }

  /** Connections carrying an exchange now. */
  get busy(): number {
    return this.#busy.size;
  }

  /** Idle connections kept for reuse, over all routes. */
  get idle(): number {
    let count = 0;
    for (const list of this.#idle.values()) count += list.length;
    return count;
  }

  /**
   * Sends `request` and reads the response head and up to `bodyLimit` bytes
   * of its body, all within `timeoutMs`. Rejects with an {@linkcode Http1Error}
   * when no complete response head arrived; a body that breaks off is
   * reported in the response's `bodyError`.
   */
  async post(
    route: Http1Route,
    request: Http1Request,
    options: { readonly timeoutMs: number; readonly bodyLimit: number },
  ): Promise<Http1Response> {
    if (this.#closed) fail("closed", "the HTTP client is closed");
    const bytes = encodeRequest(request);
    const exchange = new Exchange(performance.now() + options.timeoutMs);
    this.#watch(exchange);
    // Any failure is reported as what really stopped the exchange.
    const stopped = (error: unknown): Http1Error => {
      if (this.#closed) return new Http1Error("closed", "the HTTP client is closed");
      if (exchange.timedOut) return new Http1Error("timeout", "timed out", { cause: error });
      return ioFailure(error);
    };
    let connection: Connection | undefined;
    try {
      connection = this.#takeIdle(route.key);
      if (connection === undefined) {
        exchange.connecting = new AbortController();
        let conn: Deno.Conn;
        try {
          conn = await connectWithin(route, exchange.connecting.signal);
        } catch (error) {
          // A proxy's failure stays one when the deadline cut it short: the
          // receiver was never reached, so it is not the receiver's timeout.
          const own = error instanceof Http1Error && !this.#closed &&
            (!exchange.timedOut || error.kind === "proxy");
          throw own ? error : stopped(error);
        }
        exchange.connecting = undefined;
        connection = new Connection(conn, route.key);
        if (exchange.timedOut || this.#closed) {
          connection.close();
          throw stopped(undefined);
        }
      }
      exchange.connection = connection;
      this.#busy.add(connection);
      let head: Head;
      try {
        await writeAll(connection.conn, bytes);
        head = await this.#readHead(connection);
      } catch (error) {
        connection.close();
        throw stopped(error);
      }
      const excerpt = new Excerpt(options.bodyLimit);
      let complete: boolean;
      try {
        complete = await this.#readBody(connection, head, excerpt);
      } catch (error) {
        connection.close();
        return {
          status: head.status,
          headers: head.headers,
          body: excerpt.bytes,
          bodyError: stopped(error),
        };
      }
      if (
        complete && head.keepAlive && connection.start === connection.end && !exchange.timedOut
      ) {
        this.#release(connection);
      } else {
        connection.close();
      }
      return { status: head.status, headers: head.headers, body: excerpt.bytes };
    } finally {
      this.#unwatch(exchange);
      if (connection !== undefined) this.#busy.delete(connection);
    }
  }

  /**
   * Deadlines are checked by one sweep every {@linkcode DEADLINE_SWEEP_MS}
   * while exchanges are in flight, rather than by a timer per exchange: a
   * timer was two allocations and two ops per delivery, for a deadline that
   * almost never passes. An exchange ends at most that much after it. The
   * sweep outlives the last exchange by a few idle rounds: at a moderate
   * rate the in-flight count touches zero between most deliveries, and
   * stopping and restarting it each time cost the same two timer ops.
   */
  #watch(exchange: Exchange): void {
    this.#exchanges.add(exchange);
    this.#idleSweeps = 0;
    if (this.#deadlineSweep !== undefined) return;
    const sweep = setInterval(() => this.#sweepDeadlines(), DEADLINE_SWEEP_MS);
    // In-flight exchanges keep the process alive by their reads; the sweep need not.
    Deno.unrefTimer(Number(sweep));
    this.#deadlineSweep = sweep;
  }

  #unwatch(exchange: Exchange): void {
    this.#exchanges.delete(exchange);
  }

  #sweepDeadlines(): void {
    if (this.#exchanges.size > 0) {
      const now = performance.now();
      for (const watched of this.#exchanges) if (watched.deadline <= now) watched.expire();
    } else if (++this.#idleSweeps >= IDLE_SWEEPS_BEFORE_STOP) {
      this.#stopDeadlineSweep();
    }
  }

  #stopDeadlineSweep(): void {
    clearInterval(this.#deadlineSweep);
    this.#deadlineSweep = undefined;
  }

  /** Closes every connection; exchanges in flight reject with kind `closed`. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#sweep !== undefined) clearInterval(this.#sweep);
    this.#stopDeadlineSweep();
    for (const list of this.#idle.values()) for (const connection of list) connection.close();
    this.#idle.clear();
    for (const connection of this.#busy) connection.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #takeIdle(key: string): Connection | undefined {
    const list = this.#idle.get(key);
    const connection = list?.pop();
    if (connection === undefined) return undefined;
    if (list!.length === 0) this.#idle.delete(key);
    connection.idle = false;
    return connection;
  }

  /**
   * Keeps `connection` for reuse with a read pending on it, so a peer that
   * closes it (or sends anything unasked) is noticed while it is idle rather
   * than by the next exchange. That read is the next exchange's first read.
   */
  #release(connection: Connection): void {
    if (this.#closed || this.#maxIdle === 0) return connection.close();
    let list = this.#idle.get(connection.key);
    if (list === undefined) this.#idle.set(connection.key, list = []);
    if (list.length >= this.#maxIdle) list.shift()?.close();
    connection.start = connection.end = 0;
    connection.idle = true;
    connection.idleSince = Date.now();
    list.push(connection);
    const pending = connection.conn.read(connection.buffer);
    connection.idleRead = pending;
    const onIdleReadDone = () => {
      if (!connection.idle) return; // taken by an exchange, which reads the result
      connection.idleRead = undefined;
      this.#drop(connection);
    };
    pending.then(onIdleReadDone, onIdleReadDone);
  }

  #drop(connection: Connection): void {
    connection.idle = false;
    connection.close();
    const list = this.#idle.get(connection.key);
    if (list === undefined) return;
    const index = list.indexOf(connection);
    if (index >= 0) list.splice(index, 1);
    if (list.length === 0) this.#idle.delete(connection.key);
  }

  #closeExpired(): void {
    if (this.#idleTimeoutMs === false) return;
    const cutoff = Date.now() - this.#idleTimeoutMs;
    for (const list of [...this.#idle.values()]) {
      // Most recently used last: the expired ones are at the front.
      while (list.length > 0 && list[0]!.idleSince <= cutoff) this.#drop(list[0]!);
    }
  }

  /** The next final response head (1xx heads are skipped). */
  async #readHead(connection: Connection): Promise<Head> {
    for (;;) {
      const bytes = await connection.head(MAX_HEAD_BYTES);
      if (bytes === "too-large") fail("protocol", "message head is too large");
      if (bytes === null) fail("reset", "connection closed before message completed");
      const head = parseHead(bytes);
      if (head.status >= 200) return head;
      if (head.status === 101) fail("protocol", "unexpected protocol switch");
      // An interim response: read the next head.
    }
  }

  /**
   * Reads the body into `excerpt` until it ends or the excerpt is full.
   * True when the body was read to its end (the connection is then at the
   * next message); false when the excerpt filled first.
   */
  async #readBody(connection: Connection, head: Head, excerpt: Excerpt): Promise<boolean> {
    switch (head.framing) {
      case "none":
        return true;
      case "length":
        return await this.#readSized(connection, head.length, excerpt);
      case "close":
        for (;;) {
          excerpt.add(connection.buffer.subarray(connection.start, connection.end));
          connection.start = connection.end;
          if (excerpt.full) return false;
          if (!(await connection.fill())) return true;
        }
      case "chunked":
        for (;;) {
          const size = await this.#chunkSize(connection);
          if (size === 0) {
            // Trailer fields, up to the empty line that ends the message.
            while ((await this.#line(connection)) !== "") { /* trailers are not kept */ }
            return true;
          }
          if (!(await this.#readSized(connection, size, excerpt))) return false;
          if ((await this.#line(connection)) !== "") fail("protocol", "invalid chunk end");
        }
    }
  }

  /** Reads `length` body bytes; false when the excerpt filled before they were all read. */
  async #readSized(connection: Connection, length: number, excerpt: Excerpt): Promise<boolean> {
    let left = length;
    while (left > 0) {
      if (excerpt.full) return false;
      if (connection.start === connection.end && !(await connection.fill())) {
        fail("reset", "connection closed before message completed");
      }
      const take = Math.min(left, connection.end - connection.start);
      excerpt.add(connection.buffer.subarray(connection.start, connection.start + take));
      connection.start += take;
      left -= take;
    }
    return true;
  }

  async #chunkSize(connection: Connection): Promise<number> {
    const size = chunkSize(await this.#line(connection));
    if (size === undefined) fail("protocol", "invalid chunk size");
    return size;
  }

  /** The next line without its CRLF. */
  async #line(connection: Connection): Promise<string> {
    const line = await connection.line(MAX_CHUNK_LINE);
    if (line === "too-long") fail("protocol", "chunk line too long");
    if (line === null) fail("reset", "connection closed before message completed");
    return latin1.decode(line.subarray(0, line.length - 2));
  }
}
