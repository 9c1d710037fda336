import { deepFreeze, describe, isTable, type Table } from "./_util.ts";
import { type Field, oneOfField } from "./fields.ts";
import type { KeyPath } from "./locate.ts";
import { unknownKeyMessage } from "./policy.ts";
import {
  MAX_PROFILE_HEADERS,
  PROFILE_KEYS,
  PROFILE_NAME,
  RESERVED_PROFILE_HEADERS,
  SIGNATURE_KEYS,
  SIGNATURE_SCHEMES,
} from "./schema.ts";
import { parseTemplate, type TemplateContext } from "./template.ts";
import type { EnvelopeTemplate, Profile, SignatureScheme, Template } from "./types.ts";

/** A problem in one profile; `path` starts with `["profiles", NAME]`. */
export interface ProfileIssue {
  readonly path: KeyPath;
  readonly message: string;
}

/**
 * The built-in `standard` profile (Standard Webhooks, the body as posted, no
 * extra headers). `default.toml` spells out the same values; a test keeps
 * them equal. Used where a webhook names a profile the config lacks.
 */
export const STANDARD_PROFILE: Profile = deepFreeze({
  name: "standard",
  headers: {},
  body: { kind: "data" },
  payloadVersion: "1.0",
  signature: { kind: "standard-webhooks", headerPrefix: "webhook" },
});

/** An HTTP field name (RFC 9110 token). */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$/;
/** What literal text of a header value may hold: visible ASCII, space and tab. */
const HEADER_TEXT = /^[\t\x20-\x7e]*$/;
const SCHEME = oneOfField(SIGNATURE_SCHEMES);
const ENCODING = oneOfField(["hex", "base64"]);
const MAX_VERSION_LENGTH = 64;

/**
 * The headers a signature scheme sets, so that profile headers cannot clash
 * with them. Names are as sent.
 */
export function signatureHeaderNames(scheme: SignatureScheme): string[] {
  switch (scheme.kind) {
    case "standard-webhooks": {
      const p = scheme.headerPrefix;
      return [`${p}-id`, `${p}-timestamp`, `${p}-signature`];
    }
    case "hmac-sha256":
      return [scheme.header];
    case "github":
      return ["X-Hub-Signature-256"];
    case "stripe":
      return ["Stripe-Signature"];
    case "none":
      return [];
  }
}

function message(error: unknown): string {
  return (error instanceof Error ? error.message : String(error))
    .replace(/^Cannot parse \w+: /, "");
}

/** Why `name` cannot be a header a profile sets, or undefined when it can. */
function headerNameProblem(name: string): string | undefined {
  if (!TOKEN.test(name)) {
    return `header name ${JSON.stringify(name)} is not a valid HTTP token ` +
      `(letters, digits and !#$%&'*+.^_\`|~-)`;
  }
  const lower = name.toLowerCase();
  if (RESERVED_PROFILE_HEADERS.includes(lower) || lower.startsWith("proxy-")) {
    return `header ${JSON.stringify(name)} is reserved; hookd or the HTTP client sets it`;
  }
  return undefined;
}

/** Why literal text cannot go into a header value, or undefined when it can. */
function headerTextProblem(text: string): string | undefined {
  if (/[\r\n]/.test(text)) return "a header value may not contain CR or LF";
  if (!HEADER_TEXT.test(text)) {
    return "a header value may hold only visible ASCII, spaces and tabs (no control " +
      "or non-ASCII characters)";
  }
  return undefined;
}

/**
 * Resolves one `[profiles.NAME]` table. Keys the user's table omits are taken
 * from `base`, the built-in `[profiles.standard]`; a `signature` table given
 * by the user replaces the base one as a whole. Returns the profile only when
 * there are no issues.
 */
export function resolveProfile(
  name: string,
  user: unknown,
  base: Table,
): { profile: Profile | undefined; issues: ProfileIssue[] } {
  const issues: ProfileIssue[] = [];
  const at = (path: KeyPath, text: string) =>
    issues.push({ path: ["profiles", name, ...path], message: text });

  if (!PROFILE_NAME.test(name)) {
    at([], `profile names are 1-64 of a-z, 0-9, "_" and "-", got ${JSON.stringify(name)}`);
  }
  if (!isTable(user)) {
    at([], `expected a table of profile keys, got ${describe(user)}`);
    return { profile: undefined, issues };
  }
  for (const key of Object.keys(user)) {
    if (!(PROFILE_KEYS as readonly string[]).includes(key)) {
      at([key], unknownKeyMessage(key, PROFILE_KEYS));
    }
  }
  const pick = (key: string) => Object.hasOwn(user, key) ? user[key] : base[key];
  const template = (path: KeyPath, text: string, context: TemplateContext) => {
    try {
      return parseTemplate(text, context);
    } catch (error) {
      at(path, message(error));
      return undefined;
    }
  };

  let payloadVersion: string | undefined;
  const version = pick("payload_version");
  if (typeof version !== "string" || version === "" || version.length > MAX_VERSION_LENGTH) {
    at(
      ["payload_version"],
      `expected a string of 1-${MAX_VERSION_LENGTH} characters such as "1.0", got ${
        describe(version)
      }`,
    );
  } else {
    const problem = headerTextProblem(version);
    if (problem !== undefined) at(["payload_version"], `${problem} (it may be sent in headers)`);
    else payloadVersion = version;
  }

  const signature = resolveSignature(pick("signature"), at, template);
  const reservedBySignature = new Map(
    (signature ? signatureHeaderNames(signature) : []).map((h) => [h.toLowerCase(), h]),
  );

  const headers: Record<string, Template> = {};
  const rawHeaders = pick("headers");
  if (!isTable(rawHeaders)) {
    at(
      ["headers"],
      `expected an inline table of header templates such as { "X-Event" = "{event_type}" }, ` +
        `got ${describe(rawHeaders)}`,
    );
  } else {
    const names = Object.keys(rawHeaders);
    if (names.length > MAX_PROFILE_HEADERS) {
      at(["headers"], `at most ${MAX_PROFILE_HEADERS} headers are allowed, got ${names.length}`);
    }
    const seen = new Map<string, string>();
    for (const header of names) {
      const value = rawHeaders[header];
      const lower = header.toLowerCase();
      const nameProblem = headerNameProblem(header);
      if (nameProblem !== undefined) {
        at(["headers", header], nameProblem);
        continue;
      }
      if (seen.has(lower)) {
        at(
          ["headers", header],
          `header ${JSON.stringify(header)} is given twice (as ${
            JSON.stringify(seen.get(lower))
          }); names are case-insensitive`,
        );
        continue;
      }
      seen.set(lower, header);
      const clash = reservedBySignature.get(lower);
      if (clash !== undefined) {
        at(
          ["headers", header],
          `header ${JSON.stringify(header)} is set by the signature scheme ` +
            `(${JSON.stringify(clash)}); remove it or change the scheme`,
        );
        continue;
      }
      if (typeof value !== "string") {
        at(["headers", header], `expected a template string, got ${describe(value)}`);
        continue;
      }
      const parsed = template(["headers", header], value, "header");
      if (parsed === undefined) continue;
      const problem = parsed.map((part) =>
        "text" in part ? headerTextProblem(part.text) : undefined
      )
        .find((p) => p !== undefined);
      if (problem !== undefined) at(["headers", header], problem);
      else headers[header] = parsed;
    }
  }

  const body = resolveBody(pick("body"), at, template);

  if (
    issues.length > 0 || payloadVersion === undefined || signature === undefined ||
    body === undefined
  ) {
    return { profile: undefined, issues };
  }
  return { profile: { name, headers, body, payloadVersion, signature }, issues };
}

type At = (path: KeyPath, text: string) => void;
type ParseTemplate = (
  path: KeyPath,
  text: string,
  context: TemplateContext,
) => Template | undefined;

function resolveSignature(
  raw: unknown,
  at: At,
  template: ParseTemplate,
): SignatureScheme | undefined {
  if (!isTable(raw)) {
    at(
      ["signature"],
      `expected a table such as { scheme = "standard-webhooks" }, got ${describe(raw)}`,
    );
    return undefined;
  }
  let ok = true;
  const fail = (path: KeyPath, text: string) => {
    ok = false;
    at(path, text);
  };
  for (const key of Object.keys(raw)) {
    if (!(SIGNATURE_KEYS as readonly string[]).includes(key)) {
      fail(["signature", key], unknownKeyMessage(key, SIGNATURE_KEYS));
    }
  }
  const field = <T>(key: string, f: Field<T>): T | undefined => {
    try {
      return f.parse(raw[key]);
    } catch (error) {
      fail(["signature", key], message(error));
      return undefined;
    }
  };
  if (!Object.hasOwn(raw, "scheme")) {
    fail(
      ["signature"],
      `missing "scheme", one of ${SIGNATURE_SCHEMES.map((s) => JSON.stringify(s)).join(", ")}`,
    );
    return undefined;
  }
  const scheme = field("scheme", SCHEME);
  if (scheme === undefined) return undefined;

  if (scheme !== "hmac-sha256") {
    for (const key of ["header", "content", "encoding", "prefix"]) {
      if (Object.hasOwn(raw, key)) {
        fail(
          ["signature", key],
          `applies to scheme "hmac-sha256" only, not ${JSON.stringify(scheme)}`,
        );
      }
    }
    if (!ok) return undefined;
    switch (scheme) {
      case "standard-webhooks":
        return { kind: "standard-webhooks", headerPrefix: "webhook" };
      case "svix":
        return { kind: "standard-webhooks", headerPrefix: "svix" };
      default:
        return { kind: scheme };
    }
  }

  let header: string | undefined;
  if (!Object.hasOwn(raw, "header")) {
    fail(["signature"], 'scheme "hmac-sha256" needs "header", the header that carries it');
  } else if (typeof raw.header !== "string") {
    fail(["signature", "header"], `expected a header name, got ${describe(raw.header)}`);
  } else {
    const problem = headerNameProblem(raw.header);
    if (problem !== undefined) fail(["signature", "header"], problem);
    else header = raw.header;
  }

  let content: Template | undefined = [{ variable: "body" }];
  if (Object.hasOwn(raw, "content")) {
    content = undefined;
    if (typeof raw.content !== "string") {
      fail(["signature", "content"], `expected a template string, got ${describe(raw.content)}`);
    } else {
      content = template(["signature", "content"], raw.content, "content");
      if (content === undefined) ok = false;
    }
  }

  const encoding = Object.hasOwn(raw, "encoding") ? field("encoding", ENCODING) : "hex";

  let prefix: string | undefined = "";
  if (Object.hasOwn(raw, "prefix")) {
    prefix = undefined;
    if (typeof raw.prefix !== "string") {
      fail(
        ["signature", "prefix"],
        `expected a string such as "sha256=", got ${describe(raw.prefix)}`,
      );
    } else {
      const problem = headerTextProblem(raw.prefix);
      if (problem !== undefined) fail(["signature", "prefix"], problem);
      else prefix = raw.prefix;
    }
  }

  if (
    !ok || header === undefined || content === undefined || encoding === undefined ||
    prefix === undefined
  ) {
    return undefined;
  }
  return { kind: "hmac-sha256", header, content, encoding, prefix };
}

function resolveBody(raw: unknown, at: At, template: ParseTemplate): EnvelopeTemplate | undefined {
  if (raw === "data") return { kind: "data" };
  if (!isTable(raw) && !Array.isArray(raw)) {
    at(
      ["body"],
      `expected "data" (the event data as posted) or an envelope such as ` +
        `{ event_id = "{event_id}", data = "{data}" }, got ${describe(raw)}`,
    );
    return undefined;
  }
  let ok = true;
  const fail = (path: KeyPath, text: string) => {
    ok = false;
    at(path, text);
  };
  const walk = (value: unknown, path: KeyPath): EnvelopeTemplate | undefined => {
    if (typeof value === "string") {
      if (value === "{data}") return { kind: "data" };
      const parsed = template(path, value, "envelope");
      if (parsed === undefined) ok = false;
      return parsed && { kind: "template", template: parsed };
    }
    if (typeof value === "boolean") return { kind: "literal", value };
    if (typeof value === "number") {
      if (Number.isFinite(value)) return { kind: "literal", value };
      fail(path, `JSON has no ${describe(value)}; use a finite number`);
      return undefined;
    }
    if (Array.isArray(value)) {
      const items = value.map((item: unknown, index) => walk(item, [...path, index]));
      return items.every((item) => item !== undefined) ? { kind: "array", items } : undefined;
    }
    if (isTable(value)) {
      const entries: (readonly [string, EnvelopeTemplate])[] = [];
      for (const [key, item] of Object.entries(value)) {
        const rendered = walk(item, [...path, key]);
        if (rendered !== undefined) entries.push([key, rendered]);
      }
      return { kind: "object", entries };
    }
    fail(
      path,
      `expected a string, number, boolean, array or table, got ${describe(value)}; ` +
        `for a time use a template such as "{event_timestamp_iso}"`,
    );
    return undefined;
  };
  const body = walk(raw, ["body"]);
  return ok ? body : undefined;
}
