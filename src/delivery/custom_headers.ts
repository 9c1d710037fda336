/**
 * Custom headers a webhook adds to every request (receiver auth such as API
 * keys or basic auth). Names must be HTTP tokens and may not take over the
 * headers hookd itself controls; values may not smuggle line breaks.
 */

export const MAX_CUSTOM_HEADERS = 50;
export const MAX_HEADER_VALUE_LENGTH = 4096;

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$/;

/** Framing, hop-by-hop and signing headers: set by hookd, never by configuration. */
export const RESERVED_HEADERS: ReadonlySet<string> = new Set([
  "host",
  "content-length",
  "content-type",
  "transfer-encoding",
  "connection",
  "keep-alive",
  "upgrade",
  "te",
  "trailer",
  "expect",
  "proxy-authorization",
  "proxy-connection",
  "user-agent",
  "webhook-id",
  "webhook-timestamp",
  "webhook-signature",
]);

/** Problems with a header map, each naming the header; empty when all is well. */
export function customHeaderProblems(headers: Record<string, string>): string[] {
  const problems: string[] = [];
  const names = Object.keys(headers);
  if (names.length > MAX_CUSTOM_HEADERS) {
    problems.push(`at most ${MAX_CUSTOM_HEADERS} headers are allowed, got ${names.length}`);
  }
  const seen = new Set<string>();
  for (const name of names) {
    const lower = name.toLowerCase();
    const value = headers[name]!;
    if (!TOKEN.test(name)) {
      problems.push(`header name ${JSON.stringify(name)} is not a valid HTTP token`);
    } else if (RESERVED_HEADERS.has(lower) || lower.startsWith("proxy-")) {
      problems.push(`header ${JSON.stringify(name)} is reserved; hookd sets it itself`);
    } else if (seen.has(lower)) {
      problems.push(`header ${JSON.stringify(name)} is given twice (names are case-insensitive)`);
    }
    seen.add(lower);
    if (/[\r\n\0]/.test(value)) {
      problems.push(`header ${JSON.stringify(name)} has a CR, LF or NUL in its value`);
    } else if (value.length > MAX_HEADER_VALUE_LENGTH) {
      problems.push(
        `header ${
          JSON.stringify(name)
        } value is ${value.length} characters; at most ${MAX_HEADER_VALUE_LENGTH}`,
      );
    }
  }
  return problems;
}
