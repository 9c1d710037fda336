/**
 * Custom headers a webhook adds to every request (receiver auth such as API
 * keys or basic auth). Names must be HTTP tokens and may not take over the
 * headers hookd itself controls; values may not smuggle line breaks.
 */

import { isSenderControlled } from "../net/controlled_headers.ts";

export const MAX_CUSTOM_HEADERS = 50;
export const MAX_HEADER_VALUE_LENGTH = 4096;

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$/;

/**
 * The Standard Webhooks headers of hookd's default profile. A custom header
 * of that name would be overwritten by the signature on signed requests and
 * would pass for one on unsigned ones, so it is refused.
 */
const STANDARD_SIGNATURE_HEADERS: ReadonlySet<string> = new Set([
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
    } else if (isSenderControlled(name) || STANDARD_SIGNATURE_HEADERS.has(lower)) {
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
