/**
 * What one HTTP attempt produced, as the sender reports it and the retry
 * policy consumes it. Kept free of I/O so policy decisions stay pure.
 *
 * @module
 */

/** Why an attempt got no usable HTTP response. */
export type TransportError =
  /** No response within the policy's timeout. */
  | "timeout"
  /** The target's name did not resolve. */
  | "dns"
  /** The TCP connection was refused or could not be made. */
  | "connect"
  /** The TLS handshake or certificate check failed. */
  | "tls"
  /** The connection was reset or closed before a full response arrived. */
  | "reset"
  /** The SSRF guard refused the target address; nothing was sent. */
  | "blocked"
  /**
   * No OAuth2 access token for the receiver: its token endpoint failed
   * (network, non-2xx, a malformed answer); nothing was sent to the receiver.
   */
  | "auth"
  /**
   * The forward proxy failed (no connection to it, an error status to
   * CONNECT such as 407, no tunnel before the deadline) or the webhook's
   * proxy setting cannot be used; the receiver was never reached.
   */
  | "proxy";

/** The result of one attempt: an HTTP response of any status, or a transport failure. */
export type Outcome =
  | {
    readonly kind: "response";
    /** The HTTP status code; redirects are never followed, so 3xx arrive here. */
    readonly status: number;
    /**
     * A parsed `Retry-After` header, ms from when the response arrived
     * (see {@linkcode parseRetryAfter}); absent when the header was missing or unusable.
     */
    readonly retryAfterMs?: number;
  }
  | { readonly kind: "error"; readonly error: TransportError };

/**
 * The `error_kind` stored with an attempt: `status` for a response whose
 * status is not a success, `redirect` for a 3xx that is not a success (and was
 * not followed), otherwise the transport error.
 */
export type ErrorKind = TransportError | "redirect" | "status";

const MONTHS: Readonly<Record<string, number>> = {
  jan: 0,
  feb: 1,
  mar: 2,
  apr: 3,
  may: 4,
  jun: 5,
  jul: 6,
  aug: 7,
  sep: 8,
  oct: 9,
  nov: 10,
  dec: 11,
};

const MON = "(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)";
const TIME = "(\\d{2}):(\\d{2}):(\\d{2})";
// RFC 9110 §5.6.7: the preferred IMF-fixdate and the two obsolete forms a
// recipient must still accept. Matched strictly because `Date.parse` accepts
// almost anything (`Date.parse("1")` is a date in 2001).
const IMF_FIXDATE = new RegExp(
  `^(?:mon|tue|wed|thu|fri|sat|sun), (\\d{2}) ${MON} (\\d{4}) ${TIME} gmt$`,
  "i",
);
const RFC850_DATE = new RegExp(
  `^(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday), (\\d{2})-${MON}-(\\d{2}) ${TIME} gmt$`,
  "i",
);
const ASCTIME_DATE = new RegExp(
  `^(?:mon|tue|wed|thu|fri|sat|sun) ${MON} ( \\d|\\d{2}) ${TIME} (\\d{4})$`,
  "i",
);

/** Builds a UTC timestamp, or undefined when a field is out of range (e.g. 31 Feb). */
function utc(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
): number | undefined {
  // A leap second (":60") is allowed by the grammar; it rolls into the next minute.
  if (hour > 23 || minute > 59 || second > 60 || day < 1) return undefined;
  // setUTCFullYear, unlike Date.UTC, does not map years 0–99 to 1900–1999.
  const date = new Date(0);
  date.setUTCFullYear(year, month, day);
  if (date.getUTCDate() !== day || date.getUTCMonth() !== month) return undefined;
  date.setUTCHours(hour, minute, second, 0);
  return date.getTime();
}

function parseHttpDate(value: string, now: number): number | undefined {
  let m = IMF_FIXDATE.exec(value);
  if (m) {
    const [, d, mon, y, hh, mm, ss] = m;
    return utc(
      Number(y),
      MONTHS[mon!.toLowerCase()]!,
      Number(d),
      Number(hh),
      Number(mm),
      Number(ss),
    );
  }
  m = RFC850_DATE.exec(value);
  if (m) {
    const [, d, mon, yy, hh, mm, ss] = m;
    // RFC 9110: a two-digit year that appears to be more than 50 years in the
    // future is in the past century.
    const thisYear = new Date(now).getUTCFullYear();
    let year = Math.floor(thisYear / 100) * 100 + Number(yy);
    if (year > thisYear + 50) year -= 100;
    return utc(year, MONTHS[mon!.toLowerCase()]!, Number(d), Number(hh), Number(mm), Number(ss));
  }
  m = ASCTIME_DATE.exec(value);
  if (m) {
    const [, mon, d, hh, mm, ss, y] = m;
    return utc(
      Number(y),
      MONTHS[mon!.toLowerCase()]!,
      Number(d!.trim()),
      Number(hh),
      Number(mm),
      Number(ss),
    );
  }
  return undefined;
}

/**
 * Parses a `Retry-After` header value into milliseconds from `now`.
 *
 * Accepts delay-seconds (`"120"`) and an HTTP-date in any of the three forms
 * RFC 9110 requires recipients to parse. A date in the past gives 0. Missing,
 * empty or malformed values (negative or fractional seconds, free text, an
 * impossible date) give `undefined`, so a broken header is simply ignored.
 * Absurdly large delays are returned as they are (clamped to a safe integer);
 * the retry policy caps how long it is willing to wait.
 *
 * @param headerValue the raw header value, or null when absent
 * @param now the time the response arrived, ms since the epoch
 */
export function parseRetryAfter(headerValue: string | null, now: number): number | undefined {
  if (headerValue === null) return undefined;
  const value = headerValue.trim();
  if (value === "") return undefined;
  if (/^\d+$/.test(value)) {
    return Math.min(Number(value) * 1000, Number.MAX_SAFE_INTEGER);
  }
  const at = parseHttpDate(value, now);
  if (at === undefined) return undefined;
  return Math.max(0, at - now);
}
