/**
 * The syntax of an HTTP/1.1 head (RFC 9112), shared by the delivery client
 * (response heads) and the API's front door (request heads): the start line
 * and the header fields, the body length `Content-Length` declares, and a
 * chunk-size line. What each side then decides (a client follows a lenient
 * response's framing, the front door refuses an ambiguous request's) stays
 * with it.
 *
 * @module
 */

const latin1 = new TextDecoder("latin1");

/** A field name: an RFC 9110 token. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** A head split into its start line and header fields. */
export interface SplitHead {
  readonly startLine: string;
  /**
   * `[name, value]` in arrival order, names lowercased, values without
   * surrounding whitespace; undefined when a field line is not
   * `token ":" value`, which includes obs-fold continuation lines and
   * whitespace before the colon (RFC 9112 §5 says to refuse both).
   */
  readonly fields: [string, string][] | undefined;
}

/**
 * Splits a head (through its blank line, as `Http1Reader.head`
 * returns it) into its start line and fields, decoded as Latin-1 (obs-text
 * bytes stay as they are).
 */
export function splitHead(bytes: Uint8Array): SplitHead {
  const lines = latin1.decode(bytes).split("\r\n");
  const startLine = lines[0]!;
  // The head ends with an empty line, so the last two entries are empty.
  const last = lines.length - 2;
  const fields: [string, string][] = [];
  for (let i = 1; i < last; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(":");
    const name = colon > 0 ? line.slice(0, colon) : "";
    if (!TOKEN.test(name)) return { startLine, fields: undefined };
    fields.push([name.toLowerCase(), line.slice(colon + 1).trim()]);
  }
  return { startLine, fields };
}

/**
 * The body length declared by a head's `Content-Length` values (one per
 * field line; undefined when there are none): `invalid` unless every value
 * is 1 to 15 digits, `conflicting` when they differ. Identical repeats, also
 * folded into one line (`5, 5`), are one length (RFC 9110 §8.6).
 */
export function contentLength(
  values: readonly string[],
): number | undefined | "invalid" | "conflicting" {
  let length: number | undefined;
  for (const value of values) {
    for (const part of value.includes(",") ? value.split(",") : [value]) {
      const digits = part.trim();
      if (!/^\d{1,15}$/.test(digits)) return "invalid";
      const n = Number(digits);
      if (length !== undefined && length !== n) return "conflicting";
      length = n;
    }
  }
  return length;
}

/**
 * The size of a chunk from its size line (without CRLF): hex digits, then
 * optional whitespace and extensions, which are ignored (RFC 9112 §7.1.1).
 * Undefined when the line is not one.
 */
export function chunkSize(line: string): number | undefined {
  const match = /^([0-9a-fA-F]{1,12})[ \t]*(?:;.*)?$/.exec(line);
  return match === null ? undefined : parseInt(match[1]!, 16);
}
