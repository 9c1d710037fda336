/**
 * Renders the templates of a profile (parsed by `src/config/template.ts`)
 * with the values of one attempt.
 *
 * @module
 */
import type { Template, TemplateVariable } from "../config/types.ts";

/** The value of each variable for one attempt; only `tenant_id` may be null. */
export type TemplateValues = Readonly<Record<TemplateVariable, string | null>>;

// Anything but visible ASCII, space and tab: what a header value may not carry as is.
// Tabs and spaces at either end are legal in a header but trimmed in transit,
// which would change a signed value; they are encoded like control characters.
const UNSAFE = /[^\x20-\x7e]|^ | $/u;
const UNSAFE_ALL = /[^\x20-\x7e]|^ | $/gu;

function percentEncode(char: string): string {
  try {
    return encodeURIComponent(char);
  } catch {
    return "%EF%BF%BD"; // a lone surrogate: U+FFFD
  }
}

/**
 * `value` made safe for a header: control and non-ASCII characters are
 * percent-encoded as UTF-8, so an event id or tenant id can never split a
 * header (CR/LF) or be mangled by the client (non-Latin-1 text). Plain ASCII
 * values, which the API's ids and types are in practice, pass unchanged.
 */
export function headerSafe(value: string): string {
  return UNSAFE.test(value) ? value.replace(UNSAFE_ALL, percentEncode) : value;
}

/** `values` with every value made {@linkcode headerSafe} (null stays null). */
export function headerSafeValues(values: TemplateValues): TemplateValues {
  const out = {} as Record<TemplateVariable, string | null>;
  for (const [name, value] of Object.entries(values) as [TemplateVariable, string | null][]) {
    out[name] = value === null ? null : headerSafe(value);
  }
  return out;
}

/**
 * The text of `template`: literal parts as written, variables replaced by
 * their values (null as ""), `{body}` by `body`.
 *
 * Throws a `RangeError` when the template uses `{body}` and no body is given
 * (configuration allows `{body}` only where one is).
 */
export function renderTemplate(template: Template, values: TemplateValues, body?: string): string {
  let out = "";
  for (const part of template) {
    if ("text" in part) out += part.text;
    else if (part.variable === "body") {
      if (body === undefined) {
        throw new RangeError("Cannot render template: {body} is not available here");
      }
      out += body;
    } else out += values[part.variable] ?? "";
  }
  return out;
}
