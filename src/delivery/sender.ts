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
import {
  Http1Client,
  Http1Error,
  type Http1ErrorKind,
  type Http1Response,
  type Http1Route,
} from "../net/http1_client.ts";
import { isSenderControlled } from "../net/controlled_headers.ts";
import { routeFor, routeKey, type RouteOptions } from "../net/http1_route.ts";
import { type Outcome, parseRetryAfter, type TransportError } from "./outcome.ts";

/** One attempt to send. */
export interface SendRequest {
  /** An absolute `http:` or `https:` URL. */
  readonly url: string;
  /**
   * Headers to send (signature, event metadata, custom headers). Names the
   * sender controls — `Host`, `Content-Type`, `User-Agent` and framing or
   * hop-by-hop headers, see `net/controlled_headers.ts` — are dropped.
   */
  readonly headers: Readonly<Record<string, string>>;
  /** The exact body, sent as UTF-8 with `Content-Type: application/json` unless `contentType` says otherwise. */
  readonly body: string;
  /** Default `application/json` (every delivery); an OAuth2 token request sends a form. */
  readonly contentType?: string;
  /** Bytes of the response body to read; default the sender's `responseBodyLimit`. */
  readonly responseBodyLimit?: number;
  /**
   * The whole attempt's deadline in ms: connecting, sending, the response
   * head and reading the body excerpt.
   */
  readonly timeoutMs: number;
  /**
   * Where to connect and with which TLS settings: an address the SSRF guard
   * approved (the URL's name is then never resolved, only sent as `Host`,
   * SNI and the name the certificate must match), and the webhook's extra
   * trust roots and client certificate. Default: the URL's host, system roots.
   */
  readonly route?: RouteOptions;
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

/**
 * Performs one exchange with the address a request's route names;
 * {@linkcode HttpSender} is the real one. Only `GuardedSender` calls it, after
 * the address was checked.
 */
export interface AttemptTransport {
  send(request: SendRequest): Promise<AttemptResult>;
}

/** Options of {@linkcode HttpSender}. */
export interface HttpSenderOptions {
  /** Measures `durationMs` and dates `Retry-After`; default {@linkcode systemClock}. */
  readonly clock?: Clock;
  /** Bytes of the response body kept as the excerpt; default 4096. */
  readonly responseBodyLimit?: number;
  /** Default `hookd/<VERSION>`. */
  readonly userAgent?: string;
  /** Idle keep-alive connections kept per destination; default 256. */
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

/** An HTTP field name: an RFC 9110 token. */
const FIELD_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** What a field value may not hold (as `Headers` rules): NUL, CR, LF, or a character past U+00FF. */
const FORBIDDEN_IN_VALUE = /[\0\r\n\u0100-\uffff]/;
/** Leading and trailing spaces and tabs of a field value. */
const EDGE_WHITESPACE = /^[ \t]+|[ \t]+$/g;

/** Default excerpt size, matching the 4 KiB attempts keep. */
export const DEFAULT_RESPONSE_BODY_LIMIT = 4096;

const MAX_ERROR_DETAIL = 200;

/** The start of an error's own message, without a URL anywhere in it, capped. */
function errorDetail(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const text = message.replace(/\b[a-z][a-z0-9+.-]*:\/\/\S+/gi, "<url>").trim();
  return text.length > MAX_ERROR_DETAIL ? `${text.slice(0, MAX_ERROR_DETAIL - 1)}…` : text;
}

const PHRASES: Readonly<Record<TransportError, string>> = {
  timeout: "timed out",
  dns: "DNS lookup failed",
  connect: "could not connect",
  tls: "TLS failed",
  reset: "connection closed before a complete response",
  blocked: "blocked",
  auth: "no access token",
  proxy: "proxy failed",
};

/** A short, URL-free message for a failed exchange. */
function describe(kind: TransportError, error: Http1Error): string {
  const detail = errorDetail(error);
  // A proxy's failure names the proxy and what it said already.
  if (error.kind === "proxy" && detail) return detail;
  const phrase = error.kind === "protocol" ? "invalid HTTP response" : PHRASES[kind];
  return detail ? `${phrase}: ${detail}` : phrase;
}

/** The transport error kind of a failed exchange (`closed` is not one: nothing happened). */
const KINDS: Readonly<Record<Exclude<Http1ErrorKind, "closed">, TransportError>> = {
  dns: "dns",
  connect: "connect",
  tls: "tls",
  reset: "reset",
  protocol: "reset",
  timeout: "timeout",
  proxy: "proxy",
};

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

/** A webhook URL, parsed. */
interface Target {
  readonly url: URL;
  /** The request target: path and query. */
  readonly path: string;
  readonly origin: string;
}

/** Most parsed URLs and routes kept. */
const MAX_MEMO = 4096;

function nonNegativeInteger(what: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(
      `Cannot create HTTP sender: '${what}' must be a non-negative integer, got ${value}`,
    );
  }
  return value;
}

/**
 * Sends delivery attempts over pooled keep-alive connections.
 *
 * ```ts
 * using sender = new HttpSender({ responseBodyLimit: 4096 });
 * const result = await sender.send({ url, headers, body, timeoutMs: 5000 });
 * ```
 */
export class HttpSender implements AttemptTransport {
  readonly #clock: Clock;
  readonly #bodyLimit: number;
  readonly #userAgent: string;
  readonly #maxHeaders: number;
  readonly #maxHeaderBytes: number;
  readonly #client: Http1Client;
  /** Parsed URLs and routes by origin and route options, so an attempt rebuilds neither. */
  readonly #targets = new Map<string, Target>();
  readonly #routes = new Map<string, Http1Route>();
  #inFlight = 0;
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
    this.#client = new Http1Client({
      maxIdlePerRoute: nonNegativeInteger(
        "poolMaxIdlePerHost",
        options.poolMaxIdlePerHost ?? 256,
      ),
      idleTimeoutMs: poolIdleTimeout,
    });
  }

  /** Whether {@linkcode close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Attempts currently being sent. */
  get inFlight(): number {
    return this.#inFlight;
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
    const target = this.#target(request.url);
    const route = this.#route(target, request.route);
    const headers = this.#requestHeaders(request.headers, request.contentType);
    const bodyLimit = request.responseBodyLimit ?? this.#bodyLimit;

    this.#inFlight++;
    const started = this.#clock.now();
    try {
      let response: Http1Response;
      try {
        response = await this.#client.post(route, {
          target: target.path,
          host: target.url.host,
          headers,
          body: request.body,
        }, { timeoutMs: Math.min(timeoutMs, MAX_TIMER_DELAY_MS), bodyLimit });
      } catch (error) {
        return this.#failure(error, timeoutMs, started, null, bodyLimit);
      }
      const arrivedAt = this.#clock.now();
      if (response.bodyError !== undefined) {
        return this.#failure(response.bodyError, timeoutMs, started, response, bodyLimit);
      }
      const { status } = response;
      const retryAfterMs = parseRetryAfter(headerValue(response.headers, "retry-after"), arrivedAt);
      return {
        outcome: retryAfterMs === undefined
          ? { kind: "response", status }
          : { kind: "response", status, retryAfterMs },
        status,
        responseHeaders: this.#keepHeaders(response.headers),
        responseBody: decodeExcerpt(response.body, bodyLimit),
        durationMs: Math.max(0, this.#clock.now() - started),
        errorMessage: null,
      };
    } finally {
      this.#inFlight--;
    }
  }

  /**
   * Closes every connection. Attempts still in flight are aborted and reject
   * with {@linkcode SenderClosedError}; later `send` calls throw it. Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#client.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** An attempt that failed; `response` is what arrived when the body broke off. */
  #failure(
    error: unknown,
    timeoutMs: number,
    started: number,
    response: Http1Response | null,
    bodyLimit: number,
  ): AttemptResult {
    if (!(error instanceof Http1Error)) throw error; // a bug, not the network
    if (error.kind === "closed") throw new SenderClosedError();
    const kind = KINDS[error.kind];
    const errorMessage = error.kind !== "timeout"
      ? describe(kind, error)
      : response === null
      ? `timed out: no response within ${timeoutMs} ms`
      : `timed out: response body not received within ${timeoutMs} ms`;
    return {
      outcome: { kind: "error", error: kind },
      status: response?.status ?? null,
      responseHeaders: response ? this.#keepHeaders(response.headers) : null,
      responseBody: response ? decodeExcerpt(response.body, bodyLimit) : null,
      durationMs: Math.max(0, this.#clock.now() - started),
      errorMessage,
    };
  }

  /** The parsed URL, checked once per distinct URL rather than per attempt. */
  #target(given: string): Target {
    let target = this.#targets.get(given);
    if (target === undefined) {
      const url = new URL(given);
      if (url.protocol !== "http:" && url.protocol !== "https:") {
        throw new TypeError(`Cannot send: URL scheme must be http or https, got "${url.protocol}"`);
      }
      // Bounded: webhooks number in the thousands, not millions; start over past that.
      if (this.#targets.size >= MAX_MEMO) this.#targets.clear();
      target = { url, path: url.pathname + url.search, origin: url.origin };
      this.#targets.set(given, target);
    }
    return target;
  }

  #route(target: Target, options: RouteOptions | undefined): Http1Route {
    const key = routeKey(target.origin, options);
    let route = this.#routes.get(key);
    if (route === undefined) {
      if (this.#routes.size >= MAX_MEMO) this.#routes.clear();
      route = routeFor(target.url, options);
      this.#routes.set(key, route);
    }
    return route;
  }

  /**
   * The request's headers as `[name, value]` pairs, checked with the rules
   * `Headers` applies: a token name, and a value without NUL, CR, LF or a
   * character past U+00FF (it is sent as Latin-1).
   */
  #requestHeaders(
    given: Readonly<Record<string, string>>,
    contentType = "application/json",
  ): [string, string][] {
    const headers: [string, string][] = [];
    for (const [name, value] of Object.entries(given)) {
      if (isSenderControlled(name)) continue;
      // Not the value in the message: it may be a secret.
      if (!FIELD_NAME.test(name) || FORBIDDEN_IN_VALUE.test(value)) {
        throw new TypeError(`Cannot send: invalid header "${name}"`);
      }
      // As Headers does: surrounding spaces and tabs are not part of the value.
      headers.push([name, value.replace(EDGE_WHITESPACE, "")]);
    }
    headers.push(["content-type", contentType], ["user-agent", this.#userAgent]);
    return headers;
  }

  /** Response headers up to the count and byte caps; repeated names joined with ", ". */
  #keepHeaders(headers: readonly (readonly [string, string])[]): Record<string, string> {
    const kept: Record<string, string> = {};
    let count = 0;
    let bytes = 0;
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
}

/**
 * The excerpt as text. When it filled the limit the body may go on, so a
 * character cut at the end is dropped rather than shown as a replacement.
 */
function decodeExcerpt(bytes: Uint8Array, limit: number): string {
  if (bytes.length === 0) return "";
  const cut = bytes.length >= limit;
  return new TextDecoder().decode(bytes, { stream: cut });
}

/** The first value of header `name` (lowercase), or null. */
function headerValue(headers: readonly (readonly [string, string])[], name: string): string | null {
  for (const [n, value] of headers) if (n === name) return value;
  return null;
}
