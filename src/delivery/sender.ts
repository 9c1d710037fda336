/**
 * The HTTP sender: performs one delivery attempt (a POST) and reports what
 * happened as an {@linkcode AttemptResult} — a response of any status, or a
 * classified transport failure. It never follows redirects, never buffers more
 * of a response than the excerpt it keeps, and never throws for anything the
 * network or the receiver does.
 *
 * @module
 */

import { type Clock, MAX_TIMER_DELAY_MS, systemClock } from "../clock.ts";
import { VERSION } from "../version.ts";
import { type Outcome, parseRetryAfter, type TransportError } from "./outcome.ts";

/** One attempt to send. */
export interface SendRequest {
  /** An absolute `http:` or `https:` URL. */
  readonly url: string;
  /**
   * Headers to send (signature, event metadata, custom headers). Names the
   * sender controls — `Host`, `Content-Type`, `User-Agent` and framing or
   * hop-by-hop headers, see {@linkcode SENDER_CONTROLLED_HEADERS} — are dropped.
   */
  readonly headers: Readonly<Record<string, string>>;
  /** The exact body, sent as UTF-8 with `Content-Type: application/json`. */
  readonly body: string;
  /**
   * The whole attempt's deadline in ms: connecting, sending, the response
   * head and reading the body excerpt.
   */
  readonly timeoutMs: number;
  /**
   * A client to send this attempt with instead of the sender's shared pool.
   * The caller owns it (the sender never closes it). This is the seam for
   * SSRF pinning: the guard resolves the host, checks the address, and passes
   * a client created with `Deno.createHttpClient({ proxy: { transport: "tcp",
   * hostname: ip, port } })` so the connection goes to exactly that address.
   * Also the way to use per-webhook TLS settings (extra CA, mTLS cert and key).
   *
   * Caution, seen on Deno 2.9.6: a `transport: "tcp"` client treats the socket
   * as a plain HTTP forward proxy. It writes the request in absolute form
   * (`POST https://host/path HTTP/1.1`) *without TLS*, even for an `https:`
   * URL, so it pins `http:` targets only; `https:` pinning needs another way.
   */
  readonly client?: Deno.HttpClient;
}

/** What one attempt produced. */
export interface AttemptResult {
  /**
   * A `response` once the status and headers arrived and the body excerpt was
   * read (to its end or to the excerpt limit); otherwise the transport error.
   * A response cut off while its excerpt was being read is an error
   * (`timeout` or `reset`), but `status`, `responseHeaders` and
   * `responseBody` still show what arrived.
   */
  readonly outcome: Outcome;
  /** The response status, or null when no response head arrived. */
  readonly status: number | null;
  /** Response headers, names lowercased, capped (see the options); null without a response. */
  readonly responseHeaders: Readonly<Record<string, string>> | null;
  /** At most `responseBodyLimit` bytes of the body decoded as UTF-8; null without a response. */
  readonly responseBody: string | null;
  /** From just before the request to the end of the attempt, by the sender's clock. */
  readonly durationMs: number;
  /** Why the attempt failed, short and free of URLs and headers; null for a response. */
  readonly errorMessage: string | null;
}

/** Options of {@linkcode HttpSender}. */
export interface HttpSenderOptions {
  /** Measures `durationMs` and dates `Retry-After`; default {@linkcode systemClock}. */
  readonly clock?: Clock;
  /** Bytes of the response body kept as the excerpt; default 4096. */
  readonly responseBodyLimit?: number;
  /** Default `hookd/<VERSION>`. */
  readonly userAgent?: string;
  /** Idle keep-alive connections kept per host; default 256. */
  readonly poolMaxIdlePerHost?: number;
  /** How long an idle connection is kept, ms, or false for no limit; default 30000. */
  readonly poolIdleTimeout?: number | false;
  /** Response headers kept; default 64. */
  readonly maxResponseHeaders?: number;
  /** Total bytes (names plus values) of response headers kept; default 8192. */
  readonly maxResponseHeaderBytes?: number;
}

/** Thrown by {@linkcode HttpSender.send} when the sender is, or gets, closed: no attempt was made. */
export class SenderClosedError extends Error {
  constructor() {
    super("Cannot send: the HTTP sender is closed");
    this.name = "SenderClosedError";
  }
}

/** Headers the sender sets (or the HTTP stack manages) and callers cannot override. */
export const SENDER_CONTROLLED_HEADERS: ReadonlySet<string> = new Set([
  "host",
  "content-type",
  "user-agent",
  "content-length",
  "transfer-encoding",
  "connection",
  "keep-alive",
  "upgrade",
  "te",
  "trailer",
  "expect",
]);

/** An HTTP field name: an RFC 9110 token. */
const FIELD_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** What a field value may not hold (as `Headers` rules): NUL, CR, LF, or a character past U+00FF. */
const FORBIDDEN_IN_VALUE = /[\0\r\n\u0100-\uffff]/;

/** Default excerpt size, matching the 4 KiB attempts keep. */
export const DEFAULT_RESPONSE_BODY_LIMIT = 4096;

const MAX_ERROR_DETAIL = 200;

/** Abort reasons, so an abort is told apart from any error fetch raises. */
const TIMED_OUT = new DOMException("The attempt timed out", "TimeoutError");
const CLOSED = new DOMException("The HTTP sender was closed", "AbortError");

/** Messages of `error` and its `cause` chain, outermost first. */
function messageChain(error: unknown): string[] {
  const out: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && current !== null && depth < 8; depth++) {
    out.push(current instanceof Error ? current.message : String(current));
    current = current instanceof Error ? current.cause : undefined;
  }
  return out;
}

/**
 * The useful part of a Deno fetch error, without the URL or addresses. Deno
 * reports e.g. `error sending request for url (https://h/p?token=…): client
 * error (Connect): tcp connect error: Connection refused (os error 111)`; the
 * URL may carry credentials, so only the text after `client error (…): ` is
 * kept, and any remaining URL is replaced.
 */
function errorDetail(error: unknown): string {
  const chain = messageChain(error);
  // Deno's TypeError("fetch failed") says nothing; its cause has the detail.
  let text = chain[chain.length - 1] ?? "";
  const marker = /client error \([^)]*\): /g;
  let last = -1;
  for (let m = marker.exec(text); m !== null; m = marker.exec(text)) {
    last = m.index + m[0].length;
  }
  if (last >= 0) text = text.slice(last);
  else text = text.replace(/^error sending request[^:]*: /, "");
  text = text.replace(/\b[a-z][a-z0-9+.-]*:\/\/\S+/gi, "<url>").trim();
  return text.length > MAX_ERROR_DETAIL ? `${text.slice(0, MAX_ERROR_DETAIL - 1)}…` : text;
}

function isDenoError(error: unknown, names: readonly (keyof typeof Deno.errors)[]): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    for (const name of names) if (e instanceof Deno.errors[name]) return true;
  }
  return false;
}

// Matched against Deno 2.9.6 errors provoked on loopback (see sender_test.ts):
//   dns:     "client error (Connect): dns error: failed to lookup address information: Name or service not known"
//   connect: "client error (Connect): tcp connect error: Connection refused (os error 111)"
//   tls:     "client error (Connect): invalid peer certificate: UnknownIssuer"
//            "client error (Connect): received corrupt message of type InvalidContentType" (https to a plain server)
//   reset:   "client error (SendRequest): connection closed before message completed"
//            TypeError "error reading a body from connection" (closed mid-body)
//            "client error (SendRequest): invalid HTTP version parsed" (not an HTTP response)
//            "client error (SendRequest): message head is too large" (e.g. > 100 headers)
const DNS =
  /dns error|failed to lookup address|name or service not known|nodename nor servname|no address associated|temporary failure in name resolution|no such host/;
const TIMEOUT = /timed out|timeout/;
const TLS =
  /invalid peer certificate|certificate|tls|ssl|handshake|received corrupt message|peer sent|alert|invalid dns ?name/;
const RESET =
  /connection reset|connection closed|connection aborted|broken pipe|unexpected eof|end of file|incomplete message|error reading a body/;
// hyper's parse errors: the peer answered, but not with valid HTTP/1.1.
const PROTOCOL =
  /invalid http|invalid status|invalid header|message head is too large|unexpected message|parse error/;

/**
 * Classifies an error thrown by `fetch` or by reading a response body into a
 * transport error kind. Anything unrecognised is `connect`, so it is retried
 * as a network failure and its message is kept for the operator.
 */
export function classifyFetchError(error: unknown): TransportError {
  if (isDenoError(error, ["TimedOut"])) return "timeout";
  if (isDenoError(error, ["ConnectionRefused", "AddrNotAvailable", "NotConnected"])) {
    return "connect";
  }
  if (isDenoError(error, ["ConnectionReset", "ConnectionAborted", "BrokenPipe", "UnexpectedEof"])) {
    return "reset";
  }
  const text = messageChain(error).join(" | ").toLowerCase();
  if (DNS.test(text)) return "dns";
  if (TIMEOUT.test(text)) return "timeout";
  if (TLS.test(text)) return "tls";
  if (RESET.test(text) || PROTOCOL.test(text)) return "reset";
  return "connect";
}

const PHRASES: Readonly<Record<TransportError, string>> = {
  timeout: "timed out",
  dns: "DNS lookup failed",
  connect: "could not connect",
  tls: "TLS failed",
  reset: "connection closed before a complete response",
  blocked: "blocked",
};

/** A short, URL-free message for a transport error. */
export function describeFetchError(kind: TransportError, error: unknown): string {
  const detail = errorDetail(error);
  const phrase = kind === "reset" && PROTOCOL.test(detail.toLowerCase())
    ? "invalid HTTP response"
    : PHRASES[kind];
  return detail ? `${phrase}: ${detail}` : phrase;
}

/**
 * An attempt that failed before anything was sent or received, e.g. the SSRF
 * guard's `blocked` or a `dns` failure of its own lookup.
 */
export function failedAttempt(
  error: TransportError,
  errorMessage: string,
  durationMs: number,
): AttemptResult {
  return {
    outcome: { kind: "error", error },
    status: null,
    responseHeaders: null,
    responseBody: null,
    durationMs: Math.max(0, durationMs),
    errorMessage,
  };
}

function nonNegativeInteger(what: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(
      `Cannot create HTTP sender: '${what}' must be a non-negative integer, got ${value}`,
    );
  }
  return value;
}

/**
 * Sends delivery attempts over one shared, pooled `Deno.HttpClient`.
 *
 * ```ts
 * using sender = new HttpSender({ responseBodyLimit: 4096 });
 * const result = await sender.send({ url, headers, body, timeoutMs: 5000 });
 * ```
 */
export class HttpSender {
  readonly #clock: Clock;
  readonly #bodyLimit: number;
  readonly #userAgent: string;
  readonly #maxHeaders: number;
  readonly #maxHeaderBytes: number;
  readonly #client: Deno.HttpClient;
  readonly #inFlight = new Set<AbortController>();
  #closed = false;

  constructor(options: HttpSenderOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#bodyLimit = nonNegativeInteger(
      "responseBodyLimit",
      options.responseBodyLimit ?? DEFAULT_RESPONSE_BODY_LIMIT,
    );
    this.#userAgent = options.userAgent ?? `hookd/${VERSION}`;
    this.#maxHeaders = nonNegativeInteger("maxResponseHeaders", options.maxResponseHeaders ?? 64);
    this.#maxHeaderBytes = nonNegativeInteger(
      "maxResponseHeaderBytes",
      options.maxResponseHeaderBytes ?? 8192,
    );
    const poolIdleTimeout = options.poolIdleTimeout ?? 30_000;
    if (poolIdleTimeout !== false) nonNegativeInteger("poolIdleTimeout", poolIdleTimeout);
    this.#client = Deno.createHttpClient({
      poolMaxIdlePerHost: nonNegativeInteger(
        "poolMaxIdlePerHost",
        options.poolMaxIdlePerHost ?? 256,
      ),
      poolIdleTimeout,
    });
  }

  /** Whether {@linkcode close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Attempts currently being sent. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /**
   * Performs one attempt. Resolves with the outcome for anything the network
   * or receiver does. Throws a `TypeError` for an invalid URL or header and a
   * `RangeError` for a bad timeout (caller bugs: nothing was sent), and
   * {@linkcode SenderClosedError} when the sender is closed before or during
   * the attempt.
   */
  async send(request: SendRequest): Promise<AttemptResult> {
    if (this.#closed) throw new SenderClosedError();
    const { timeoutMs } = request;
    if (!(timeoutMs > 0) || !Number.isFinite(timeoutMs)) {
      throw new RangeError(`Cannot send: 'timeoutMs' must be a positive number, got ${timeoutMs}`);
    }
    const url = new URL(request.url);
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new TypeError(`Cannot send: URL scheme must be http or https, got "${url.protocol}"`);
    }
    const headers = this.#requestHeaders(request.headers);

    const controller = new AbortController();
    const { signal } = controller;
    this.#inFlight.add(controller);
    const timer = setTimeout(
      () => controller.abort(TIMED_OUT),
      Math.min(timeoutMs, MAX_TIMER_DELAY_MS),
    );
    const started = this.#clock.now();
    let status: number | null = null;
    let responseHeaders: Record<string, string> | null = null;
    let responseBody: string | null = null;

    const failure = (error: unknown, stage: "response" | "body"): AttemptResult => {
      if (signal.reason === CLOSED) throw new SenderClosedError();
      let kind: TransportError;
      let errorMessage: string;
      if (signal.reason === TIMED_OUT) {
        kind = "timeout";
        errorMessage = stage === "response"
          ? `timed out: no response within ${timeoutMs} ms`
          : `timed out: response body not received within ${timeoutMs} ms`;
      } else {
        kind = classifyFetchError(error);
        errorMessage = describeFetchError(kind, error);
      }
      return {
        outcome: { kind: "error", error: kind },
        status,
        responseHeaders,
        responseBody,
        durationMs: Math.max(0, this.#clock.now() - started),
        errorMessage,
      };
    };

    try {
      let response: Response;
      try {
        response = await fetch(url, {
          method: "POST",
          headers,
          body: request.body,
          redirect: "manual",
          signal,
          client: request.client ?? this.#client,
        });
      } catch (error) {
        return failure(error, "response");
      }
      const arrivedAt = this.#clock.now();
      status = response.status;
      responseHeaders = this.#keepHeaders(response.headers);
      const excerpt = response.headers.get("content-length") === "0"
        ? await readEmpty(response)
        : await this.#readExcerpt(response.body);
      responseBody = excerpt.text;
      if ("error" in excerpt) return failure(excerpt.error, "body");
      const retryAfterMs = parseRetryAfter(response.headers.get("retry-after"), arrivedAt);
      return {
        outcome: retryAfterMs === undefined
          ? { kind: "response", status }
          : { kind: "response", status, retryAfterMs },
        status,
        responseHeaders,
        responseBody,
        durationMs: Math.max(0, this.#clock.now() - started),
        errorMessage: null,
      };
    } finally {
      clearTimeout(timer);
      this.#inFlight.delete(controller);
    }
  }

  /**
   * Closes the shared client. Attempts still in flight are aborted and reject
   * with {@linkcode SenderClosedError}; later `send` calls throw it. Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const controller of this.#inFlight) controller.abort(CLOSED);
    this.#client.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /**
   * The request's headers as `[name, value]` pairs for `fetch`. Checked here
   * with the rules `Headers` applies, but without building a `Headers` that
   * `fetch` would only copy into its own: that copy was a visible part of
   * every attempt.
   */
  #requestHeaders(given: Readonly<Record<string, string>>): [string, string][] {
    const headers: [string, string][] = [];
    for (const [name, value] of Object.entries(given)) {
      if (SENDER_CONTROLLED_HEADERS.has(name.toLowerCase())) continue;
      // Not the value in the message: it may be a secret.
      if (!FIELD_NAME.test(name) || FORBIDDEN_IN_VALUE.test(value)) {
        throw new TypeError(`Cannot send: invalid header "${name}"`);
      }
      headers.push([name, value]);
    }
    headers.push(["content-type", "application/json"], ["user-agent", this.#userAgent]);
    return headers;
  }

  /** Response headers up to the count and byte caps; repeated names joined with ", ". */
  #keepHeaders(headers: Headers): Record<string, string> {
    const kept: Record<string, string> = {};
    let count = 0;
    let bytes = 0;
    // Iteration yields lowercased names, and each Set-Cookie separately.
    for (const [name, value] of headers) {
      const existing = Object.hasOwn(kept, name) ? kept[name] : undefined;
      const cost = existing === undefined ? name.length + value.length : value.length + 2;
      if (bytes + cost > this.#maxHeaderBytes) continue;
      if (existing === undefined) {
        if (count >= this.#maxHeaders) continue;
        count++;
        kept[name] = value;
      } else {
        kept[name] = `${existing}, ${value}`;
      }
      bytes += cost;
    }
    return kept;
  }

  /**
   * Reads up to the excerpt limit of `body` and cancels the rest unread.
   * Returns the decoded excerpt, and the error that stopped the read early
   * (the excerpt then holds what arrived before it).
   */
  async #readExcerpt(
    body: ReadableStream<Uint8Array> | null,
  ): Promise<{ text: string; error?: unknown }> {
    if (body === null) return { text: "" };
    const limit = this.#bodyLimit;
    const excerpt = new Uint8Array(limit);
    let length = 0;
    let full = limit === 0;
    // When the limit cuts the body, a trailing partial character is dropped
    // rather than shown as a replacement character.
    const decode = () => new TextDecoder().decode(excerpt.subarray(0, length), { stream: full });
    const reader = body.getReader();
    try {
      while (!full) {
        const { done, value } = await reader.read();
        if (done) return { text: decode() };
        const take = Math.min(value.length, limit - length);
        excerpt.set(value.subarray(0, take), length);
        length += take;
        full = length >= limit;
      }
    } catch (error) {
      await reader.cancel().catch(() => {});
      return { text: decode(), error };
    }
    // The rest is never read: cancelling drops the connection instead.
    await reader.cancel().catch(() => {});
    return { text: decode() };
  }
}

/**
 * An empty body, read whole. Most receivers answer with no body at all, and
 * this costs about half of what a stream reader does per attempt (Deno reads a
 * whole body in one op, but a reader's body chunk by chunk, a promise each);
 * with nothing to keep, there is no partial excerpt to lose if it fails.
 */
async function readEmpty(response: Response): Promise<{ text: string; error?: unknown }> {
  try {
    await response.bytes();
    return { text: "" };
  } catch (error) {
    return { text: "", error };
  }
}
