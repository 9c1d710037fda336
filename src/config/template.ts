import { suggest } from "./suggest.ts";

/**
 * Variables a template may use, written `{name}`. Timestamps of the event are
 * when it occurred; of the attempt, when this attempt starts. `*_iso` forms
 * are RFC 3339 / ISO-8601 UTC with milliseconds; the others unix seconds.
 */
export const TEMPLATE_VARIABLES = [
  "event_id",
  "event_type",
  "tenant_id",
  "event_timestamp",
  "event_timestamp_iso",
  "delivery_id",
  "attempt_id",
  "attempt_number",
  "attempt_timestamp",
  "attempt_timestamp_iso",
  "webhook_id",
  "payload_version",
] as const;

export type TemplateVariable = typeof TEMPLATE_VARIABLES[number];

/** A parsed template: literal text and variables, in order. */
export type Template = readonly (
  | { readonly text: string }
  | { readonly variable: TemplateVariable | "body" }
)[];

/**
 * Where a template is written, which decides the variables it may use:
 * - `header`: a header value; the variables of `TEMPLATE_VARIABLES`.
 * - `content`: the signed text of an `hmac-sha256` signature; also `{body}`.
 * - `envelope`: a string inside the body envelope; `{data}` is handled by the
 *   caller (it must be the whole string), so here it is an error.
 */
export type TemplateContext = "header" | "content" | "envelope";

const VARIABLES: readonly string[] = TEMPLATE_VARIABLES;

function unknownVariable(name: string, context: TemplateContext): string {
  if (name === "body") {
    return "{body} (the exact body sent) is only allowed in signature.content";
  }
  if (name === "data") {
    return context === "envelope"
      ? 'to insert the event data, "{data}" must be the whole string, not part of a longer one'
      : '{data} is only allowed as a whole value of the body envelope, e.g. data = "{data}"';
  }
  const allowed = context === "content" ? [...VARIABLES, "body"] : VARIABLES;
  const guess = suggest(name, allowed);
  return guess === undefined
    ? `unknown variable {${name}}; variables are ${allowed.map((v) => `{${v}}`).join(", ")}`
    : `unknown variable {${name}}; did you mean {${guess}}?`;
}

/**
 * Parses a template: `{variable}` inserts a variable, `{{` and `}}` are
 * literal braces, everything else is literal text. Adjacent text is merged.
 *
 * Throws a `TypeError` naming the first problem: an unknown variable (with a
 * did-you-mean), a variable not allowed in `context`, an unclosed `{` or a
 * lone `}`.
 */
export function parseTemplate(text: string, context: TemplateContext): Template {
  const parts: ({ text: string } | { variable: TemplateVariable | "body" })[] = [];
  let literal = "";
  const flush = () => {
    if (literal !== "") parts.push({ text: literal });
    literal = "";
  };
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === "{" && text[i + 1] === "{") {
      literal += "{";
      i += 2;
    } else if (c === "}" && text[i + 1] === "}") {
      literal += "}";
      i += 2;
    } else if (c === "}") {
      throw new TypeError(
        `Cannot parse template: lone "}" at character ${i + 1}; write "}}" for a literal brace`,
      );
    } else if (c === "{") {
      const end = text.indexOf("}", i + 1);
      const nested = text.indexOf("{", i + 1);
      if (end === -1 || (nested !== -1 && nested < end)) {
        throw new TypeError(
          `Cannot parse template: unclosed "{" at character ${i + 1}; ` +
            `write "{{" for a literal brace`,
        );
      }
      const name = text.slice(i + 1, end);
      const allowed = VARIABLES.includes(name) || (context === "content" && name === "body");
      if (!allowed) throw new TypeError(`Cannot parse template: ${unknownVariable(name, context)}`);
      flush();
      parts.push({ variable: name as TemplateVariable | "body" });
      i = end + 1;
    } else {
      literal += c;
      i++;
    }
  }
  flush();
  return parts;
}

/** The source text of a template: the inverse of {@linkcode parseTemplate}. */
export function formatTemplate(template: Template): string {
  return template.map((part) =>
    "text" in part ? part.text.replaceAll("{", "{{").replaceAll("}", "}}") : `{${part.variable}}`
  ).join("");
}
