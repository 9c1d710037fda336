/**
 * A local webhook receiver for tests: listens on 127.0.0.1 (an ephemeral
 * port), records every request, and answers each one as the test scripts it —
 * a normal response, a hang, a slow or endless body, a connection closed
 * without an answer, or raw (e.g. partial) bytes then a close.
 *
 * It speaks HTTP/1.1 itself over `Deno.listen` (or `Deno.listenTls`) rather
 * than using `Deno.serve`, because `Deno.serve` cannot close a connection
 * before answering or send a malformed response, and those are exactly the
 * failures a sender must be tested against. Connections are kept alive
 * between requests, as a real server would, so pooled clients are exercised.
 *
 * ```ts
 * await using r = await startReceiver();
 * r.script([{ status: 500 }, { kind: "hang" }]); // then the default responder
 * r.respond((req) => ({ status: 200, body: req.body }));
 * await fetch(r.url + "/hook", { method: "POST", body: "{}" });
 * r.requests[0]?.headers["content-type"];
 * ```
 *
 * @module
 */

import { chunkSize, contentLength, splitHead } from "../net/http1_head.ts";
import { Http1Reader } from "../net/http1_reader.ts";

/** A request as the receiver saw it. */
export interface ReceivedRequest {
  readonly method: string;
  /** The request target as sent: path and query, e.g. `/hook?x=1`. */
  readonly path: string;
  /**
   * Header names lowercased, values read as Latin-1 (one character a byte);
   * repeated headers joined with `", "`.
   */
  readonly headers: Readonly<Record<string, string>>;
  /** The body decoded as UTF-8 (with replacement characters). */
  readonly body: string;
  /** The raw body bytes. */
  readonly bodyBytes: Uint8Array;
  /** When the whole request had arrived, `Date.now()`. */
  readonly receivedAt: number;
  /** Which accepted connection carried it, counting from 1. */
  readonly connection: number;
}

/** Response fields shared by the replies that send a status line. */
export interface ReplyHead {
  /** Default 200. */
  readonly status?: number;
  /** Sent as given; a `content-length` here overrides the computed one. */
  readonly headers?: Readonly<Record<string, string>>;
}

/** A complete response. */
export interface ResponseReply extends ReplyHead {
  readonly kind?: "response";
  readonly body?: string | Uint8Array;
  /** Wait this long before answering (a slow server within the timeout). */
  readonly delayMs?: number;
}

/** Never answer; the connection stays open until the receiver closes. */
export interface HangReply {
  readonly kind: "hang";
}

/**
 * Headers and the first chunk at once, then each further chunk after
 * `delayMs` (chunked transfer encoding), then the end of the body.
 */
export interface SlowReply extends ReplyHead {
  readonly kind: "slow";
  readonly chunks: readonly (string | Uint8Array)[];
  readonly delayMs: number;
}

/** Headers, then `chunk` (default 1 KiB of `x`) forever, every `delayMs` (default 0). */
export interface EndlessReply extends ReplyHead {
  readonly kind: "endless";
  readonly chunk?: string | Uint8Array;
  readonly delayMs?: number;
}

/** Close the connection after reading the request, without answering. */
export interface ResetReply {
  readonly kind: "reset";
}

/** Write these bytes as they are (e.g. half a status line), then close. */
export interface RawReply {
  readonly kind: "raw";
  readonly data: string | Uint8Array;
}

/** How the receiver answers one request. */
export type Reply =
  | ResponseReply
  | HangReply
  | SlowReply
  | EndlessReply
  | ResetReply
  | RawReply;

/** Decides the reply to a request. */
export type Responder = (request: ReceivedRequest) => Reply | Promise<Reply>;

/** Options of {@linkcode startReceiver}. */
export interface ReceiverOptions {
  /** Serve HTTPS with this PEM certificate chain and key. */
  readonly tls?: { readonly cert: string; readonly key: string };
  /** The responder used when no scripted reply is left; default `{ status: 200 }`. */
  readonly respond?: Responder;
  /**
   * A loopback address to listen on, default `127.0.0.1`. Another one (e.g.
   * `127.0.0.2`) tells pinned connections apart from ones a name's own
   * resolution (`localhost` → 127.0.0.1) would make. Only 127.x and ::1 are accepted.
   */
  readonly hostname?: string;
  /** The port to listen on; default 0, an ephemeral one. */
  readonly port?: number;
}

/** A running receiver. Close it (or `await using` it) before the test ends. */
export interface Receiver {
  /** `http://127.0.0.1:<port>` (or `https://`), without a trailing slash. */
  readonly url: string;
  readonly hostname: string;
  readonly port: number;
  /** Every request received so far, in arrival order. */
  readonly requests: readonly ReceivedRequest[];
  /** Connections accepted so far. */
  readonly connectionCount: number;
  /** Replaces the responder used once the script is exhausted. */
  respond(responder: Responder): void;
  /** Queues replies (or responders) for the next requests, one each, before the responder. */
  script(replies: readonly (Reply | Responder)[]): void;
  /**
   * Resolves with the requests once at least `count` have arrived; rejects
   * after `timeoutMs` (default 5000) so a missing delivery fails the test
   * instead of hanging it.
   */
  waitForRequests(count: number, timeoutMs?: number): Promise<readonly ReceivedRequest[]>;
  /** Stops listening, aborts hanging and streaming replies, closes every connection. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const encoder = new TextEncoder();
const latin1 = new TextDecoder("latin1");
const MAX_HEAD_BYTES = 64 * 1024;
const DEFAULT_ENDLESS_CHUNK = encoder.encode("x".repeat(1024));

const REASONS: Readonly<Record<number, string>> = {
  200: "OK",
  201: "Created",
  202: "Accepted",
  204: "No Content",
  301: "Moved Permanently",
  302: "Found",
  304: "Not Modified",
  307: "Temporary Redirect",
  308: "Permanent Redirect",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  408: "Request Timeout",
  410: "Gone",
  413: "Content Too Large",
  429: "Too Many Requests",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

class ProtocolError extends Error {}

function bytesOf(data: string | Uint8Array): Uint8Array {
  return typeof data === "string" ? encoder.encode(data) : data;
}

/** Resolves after `ms`, or at once when `signal` aborts; never leaves a timer behind. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done);
  });
}

/**
 * The next `n` bytes, copied out of `reader` (they are kept after further
 * reads); a stream that ends first is a protocol error.
 */
async function readExact(reader: Http1Reader, n: number): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  for (let at = 0; at < n;) {
    if (reader.buffered === 0 && !(await reader.fill())) {
      throw new ProtocolError("connection closed mid-body");
    }
    const bytes = reader.take(n - at);
    out.set(bytes, at);
    at += bytes.length;
  }
  return out;
}

/** The next line without its CRLF; a stream that ends first or a line too long is a protocol error. */
async function readLine(reader: Http1Reader): Promise<string> {
  const line = await reader.line(MAX_HEAD_BYTES);
  if (line === null) throw new ProtocolError("connection closed mid-body");
  if (line === "too-long") throw new ProtocolError("line too long");
  return latin1.decode(line.subarray(0, line.length - 2));
}

interface ParsedHead {
  method: string;
  path: string;
  version: string;
  headers: Record<string, string>;
}

function parseHead(bytes: Uint8Array): ParsedHead {
  const { startLine, fields } = splitHead(bytes);
  const [method, path, version] = startLine.split(" ");
  if (!method || !path || !version?.startsWith("HTTP/1.")) {
    throw new ProtocolError(`bad request line ${JSON.stringify(startLine)}`);
  }
  if (fields === undefined) throw new ProtocolError("bad header line");
  const headers: Record<string, string> = {};
  for (const [name, value] of fields) {
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  return { method, path, version, headers };
}

async function readBody(reader: Http1Reader, headers: Record<string, string>): Promise<Uint8Array> {
  if (headers["transfer-encoding"]?.toLowerCase().includes("chunked")) {
    const parts: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const size = chunkSize(await readLine(reader));
      if (size === undefined) throw new ProtocolError("bad chunk size");
      if (size === 0) {
        // Trailers, up to the empty line.
        while ((await readLine(reader)) !== "") { /* trailers are not kept */ }
        break;
      }
      parts.push(await readExact(reader, size));
      total += size;
      await readExact(reader, 2);
    }
    const body = new Uint8Array(total);
    let at = 0;
    for (const p of parts) {
      body.set(p, at);
      at += p.length;
    }
    return body;
  }
  const values = headers["content-length"];
  const length = values === undefined ? 0 : contentLength([values]);
  if (typeof length === "string") throw new ProtocolError(`${length} content-length`);
  return await readExact(reader, length ?? 0);
}

function statusLine(status: number): string {
  return `HTTP/1.1 ${status} ${REASONS[status] ?? "Status"}\r\n`;
}

function headerLines(headers: Readonly<Record<string, string>> | undefined): string {
  let out = "";
  for (const [name, value] of Object.entries(headers ?? {})) out += `${name}: ${value}\r\n`;
  return out;
}

function hasHeader(headers: Readonly<Record<string, string>> | undefined, name: string): boolean {
  return Object.keys(headers ?? {}).some((h) => h.toLowerCase() === name);
}

function chunk(data: Uint8Array): Uint8Array {
  const head = encoder.encode(`${data.length.toString(16)}\r\n`);
  const out = new Uint8Array(head.length + data.length + 2);
  out.set(head);
  out.set(data, head.length);
  out.set(encoder.encode("\r\n"), head.length + data.length);
  return out;
}

async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  let at = 0;
  while (at < data.length) at += await conn.write(data.subarray(at));
}

/** Starts a receiver on 127.0.0.1 (or the loopback `hostname` given) with an ephemeral port. */
export function startReceiver(options: ReceiverOptions = {}): Promise<Receiver> {
  const hostname = options.hostname ?? "127.0.0.1";
  if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname) && hostname !== "::1") {
    throw new RangeError(`A test receiver listens on loopback only; got hostname "${hostname}"`);
  }
  const listener: Deno.Listener = options.tls
    ? Deno.listenTls({ hostname, port: options.port ?? 0, ...options.tls })
    : Deno.listen({ hostname, port: options.port ?? 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const host = hostname.includes(":") ? `[${hostname}]` : hostname;
  const url = `${options.tls ? "https" : "http"}://${host}:${port}`;

  const requests: ReceivedRequest[] = [];
  const queue: (Reply | Responder)[] = [];
  let responder: Responder = options.respond ?? (() => ({ status: 200 }));
  let connectionCount = 0;
  const conns = new Set<Deno.Conn>();
  const tasks = new Set<Promise<void>>();
  const closing = new AbortController();
  const waiters = new Map<() => void, (error: Error) => void>();
  let closed: Promise<void> | undefined;

  function track(task: Promise<void>): void {
    tasks.add(task);
    task.finally(() => tasks.delete(task));
  }

  function closeConn(conn: Deno.Conn): void {
    if (!conns.delete(conn)) return;
    try {
      conn.close();
    } catch {
      // Already closed by the peer or by close().
    }
  }

  async function reply(conn: Deno.Conn, r: Reply, keepAlive: boolean): Promise<boolean> {
    const signal = closing.signal;
    switch (r.kind) {
      case "hang":
        await new Promise<void>((resolve) => {
          if (signal.aborted) resolve();
          signal.addEventListener("abort", () => resolve(), { once: true });
        });
        return false;
      case "reset":
        return false;
      case "raw":
        await writeAll(conn, bytesOf(r.data));
        return false;
      case "slow":
      case "endless": {
        let head = statusLine(r.status ?? 200) + headerLines(r.headers);
        if (!hasHeader(r.headers, "content-length")) head += "transfer-encoding: chunked\r\n";
        await writeAll(conn, encoder.encode(head + "\r\n"));
        if (r.kind === "slow") {
          for (const [i, c] of r.chunks.entries()) {
            if (i > 0) await sleep(r.delayMs, signal);
            if (signal.aborted) return false;
            await writeAll(conn, chunk(bytesOf(c)));
          }
          await writeAll(conn, encoder.encode("0\r\n\r\n"));
          return keepAlive;
        }
        const data = chunk(r.chunk === undefined ? DEFAULT_ENDLESS_CHUNK : bytesOf(r.chunk));
        // Ends when the client goes away (the write throws) or the receiver closes.
        while (!signal.aborted) {
          if (r.delayMs) await sleep(r.delayMs, signal);
          await writeAll(conn, data);
        }
        return false;
      }
      default: {
        if (r.delayMs) await sleep(r.delayMs, signal);
        if (signal.aborted) return false;
        const status = r.status ?? 200;
        const body = r.body === undefined ? new Uint8Array(0) : bytesOf(r.body);
        let head = statusLine(status) + headerLines(r.headers);
        const bodyless = status === 204 || status === 304 || (status >= 100 && status < 200);
        if (!bodyless && !hasHeader(r.headers, "content-length")) {
          head += `content-length: ${body.length}\r\n`;
        }
        if (!keepAlive) head += "connection: close\r\n";
        const headBytes = encoder.encode(head + "\r\n");
        const out = new Uint8Array(headBytes.length + (bodyless ? 0 : body.length));
        out.set(headBytes);
        if (!bodyless) out.set(body, headBytes.length);
        await writeAll(conn, out);
        return keepAlive;
      }
    }
  }

  async function serveConn(conn: Deno.Conn, id: number): Promise<void> {
    const reader = new Http1Reader(conn);
    try {
      for (;;) {
        if (!(await reader.ready())) return;
        // Not a request line (e.g. a TLS ClientHello): answer at once, as real
        // servers do, instead of waiting for a head that never comes.
        const first = reader.buffer[reader.start]!;
        if (first < 0x41 || first > 0x5a) throw new ProtocolError("not an HTTP request");
        const headBytes = await reader.head(MAX_HEAD_BYTES);
        if (headBytes === "too-large") throw new ProtocolError("head too large");
        if (headBytes === null) throw new ProtocolError("connection closed mid-head");
        const head = parseHead(headBytes);
        const bodyBytes = await readBody(reader, head.headers);
        const request: ReceivedRequest = {
          method: head.method,
          path: head.path,
          headers: head.headers,
          body: new TextDecoder().decode(bodyBytes),
          bodyBytes,
          receivedAt: Date.now(),
          connection: id,
        };
        requests.push(request);
        for (const wake of [...waiters.keys()]) wake();
        const next = queue.shift() ?? responder;
        let r: Reply;
        try {
          r = typeof next === "function" ? await next(request) : next;
        } catch (error) {
          // A throwing responder is a test bug: answer 500 and show it.
          console.error("receiver: responder threw", error);
          r = { status: 500, body: String(error) };
        }
        const keepAlive = head.version === "HTTP/1.1" &&
          head.headers["connection"]?.toLowerCase() !== "close" && !closing.signal.aborted;
        if (!(await reply(conn, r, keepAlive))) return;
      }
    } catch (error) {
      // The client went away or the receiver is closing: both are expected.
      if (error instanceof ProtocolError) {
        await writeAll(conn, encoder.encode(`${statusLine(400)}connection: close\r\n\r\n`))
          .catch(() => {});
      }
    } finally {
      closeConn(conn);
    }
  }

  track((async () => {
    try {
      for await (const conn of listener) {
        if (closing.signal.aborted) {
          conn.close();
          break;
        }
        conns.add(conn);
        track(serveConn(conn, ++connectionCount));
      }
    } catch {
      // The listener was closed.
    }
  })());

  const receiver: Receiver = {
    url,
    hostname,
    port,
    requests,
    get connectionCount() {
      return connectionCount;
    },
    respond(next) {
      responder = next;
    },
    script(replies) {
      queue.push(...replies);
    },
    waitForRequests(count, timeoutMs = 5000) {
      if (requests.length >= count) return Promise.resolve(requests);
      return new Promise((resolve, reject) => {
        const check = () => {
          if (requests.length < count) return;
          finish();
          resolve(requests);
        };
        const finish = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        const fail = (error: Error) => {
          finish();
          reject(error);
        };
        const timer = setTimeout(
          () =>
            fail(
              new Error(`Receiver got ${requests.length} of ${count} requests in ${timeoutMs} ms`),
            ),
          timeoutMs,
        );
        waiters.set(check, fail);
      });
    },
    close() {
      closed ??= (async () => {
        closing.abort();
        for (const fail of [...waiters.values()]) {
          fail(new Error(`Receiver closed after ${requests.length} requests`));
        }
        try {
          listener.close();
        } catch {
          // Already closed.
        }
        for (const conn of [...conns]) closeConn(conn);
        while (tasks.size > 0) await Promise.allSettled([...tasks]);
      })();
      return closed;
    },
    [Symbol.asyncDispose]() {
      return receiver.close();
    },
  };
  return Promise.resolve(receiver);
}
