import { z } from "zod";
import { isSenderControlled } from "../net/controlled_headers.ts";
import { deepFreeze, type DeepReadonly, describe, isTable, type Table } from "./_util.ts";
import { DEFAULTS } from "./default_toml.ts";
import { envelopeTemplate } from "./envelope_template.ts";
import { converted, oneOfField, reason, walked } from "./fields.ts";
import { namedTables, table, withRules } from "./table.ts";
import { parseTemplate, type Template } from "./template.ts";

/** Most headers one profile may add. */
const MAX_PROFILE_HEADERS = 50;

/** Values of `signature.scheme`. */
const SIGNATURE_SCHEMES = [
  "standard-webhooks",
  "svix",
  "hmac-sha256",
  "github",
  "stripe",
  "none",
] as const;

/** Keys of a `signature` table that only the `hmac-sha256` scheme reads. */
const HMAC_KEYS = ["header", "content", "encoding", "prefix"] as const;

/** An HTTP field name (RFC 9110 token). */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$/;
/** What literal text of a header value may hold: visible ASCII, space and tab. */
const HEADER_TEXT = /^[\t\x20-\x7e]*$/;
const MAX_VERSION_LENGTH = 64;

/** Why `name` cannot be a header a profile sets, or undefined when it can. */
function headerNameProblem(name: string): string | undefined {
  if (!TOKEN.test(name)) {
    return `header name ${JSON.stringify(name)} is not a valid HTTP token ` +
      `(letters, digits and !#$%&'*+.^_\`|~-)`;
  }
  if (isSenderControlled(name)) {
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

/** Returns `value`, or throws a `TypeError` with `problem` when there is one. */
function unless<T>(problem: string | undefined, value: T): T {
  if (problem !== undefined) throw new TypeError(problem);
  return value;
}

/** A profile's `signature` table: how requests are signed. */
const signature = withRules(
  table({
    scheme: oneOfField(SIGNATURE_SCHEMES),
    header: converted(
      z.string({ error: (issue) => `expected a header name, got ${describe(issue.input)}` }),
      (name) => unless(headerNameProblem(name), name),
    ).optional(),
    content: converted(
      z.string({ error: (issue) => `expected a template string, got ${describe(issue.input)}` }),
      (text) => parseTemplate(text, "content"),
    ).optional(),
    encoding: oneOfField(["hex", "base64"]).optional(),
    prefix: converted(
      z.string({
        error: (issue) => `expected a string such as "sha256=", got ${describe(issue.input)}`,
      }),
      (text) => unless(headerTextProblem(text), text),
    ).optional(),
  }, {
    expected: 'a table such as { scheme = "standard-webhooks" }',
    required: {
      scheme: `missing "scheme", one of ${
        SIGNATURE_SCHEMES.map((s) => JSON.stringify(s)).join(", ")
      }`,
    },
  }),
  ({ scheme }, { given, report }) => {
    if (scheme === undefined) return;
    if (scheme !== "hmac-sha256") {
      for (const key of HMAC_KEYS) {
        if (given(key)) {
          report([key], `applies to scheme "hmac-sha256" only, not ${JSON.stringify(scheme)}`);
        }
      }
    } else if (!given("header")) {
      report([], 'scheme "hmac-sha256" needs "header", the header that carries it');
    }
  },
).transform(({ scheme, header, content, encoding, prefix }) => {
  switch (scheme) {
    case "standard-webhooks":
    case "svix":
      // `{prefix}-id`, `{prefix}-timestamp`, `{prefix}-signature: v1,<base64>`
      // (several, space-separated).
      return {
        kind: "standard-webhooks" as const,
        headerPrefix: scheme === "svix" ? "svix" as const : "webhook" as const,
      };
    case "hmac-sha256":
      // HMAC-SHA256 of a content template (e.g. `{attempt_timestamp}.{body}`) into one header.
      return {
        kind: scheme,
        header: header ?? "", // present: the rule above requires it
        content: content ?? [{ variable: "body" as const }],
        encoding: encoding ?? "hex",
        prefix: prefix ?? "",
      };
    default:
      // github: `X-Hub-Signature-256: sha256=<hex HMAC of the body>`; stripe:
      // `Stripe-Signature: t=<unix>,v1=<hex HMAC of "{t}.{body}">` (several
      // v1= while rotating); none: no signature.
      return { kind: scheme };
  }
});

/** How a request is signed; derived from the `signature` table's schema. */
export type SignatureScheme = z.output<typeof signature>;

/**
 * The headers a signature scheme sets, so that profile headers cannot clash
 * with them. Names are as sent.
 */
export function signatureHeaderNames(scheme: DeepReadonly<SignatureScheme>): string[] {
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

/** A profile's `headers`: header name → value template, sent on every attempt. */
const headers = walked((raw, report): Record<string, Template> | undefined => {
  if (!isTable(raw)) {
    report(
      [],
      `expected an inline table of header templates such as { "X-Event" = "{event_type}" }, ` +
        `got ${describe(raw)}`,
    );
    return undefined;
  }
  const names = Object.keys(raw);
  if (names.length > MAX_PROFILE_HEADERS) {
    report([], `at most ${MAX_PROFILE_HEADERS} headers are allowed, got ${names.length}`);
  }
  const out: Record<string, Template> = {};
  const seen = new Map<string, string>();
  for (const header of names) {
    const value = raw[header];
    const lower = header.toLowerCase();
    const nameProblem = headerNameProblem(header);
    if (nameProblem !== undefined) {
      report([header], nameProblem);
      continue;
    }
    if (seen.has(lower)) {
      report(
        [header],
        `header ${JSON.stringify(header)} is given twice (as ${
          JSON.stringify(seen.get(lower))
        }); names are case-insensitive`,
      );
      continue;
    }
    seen.set(lower, header);
    if (typeof value !== "string") {
      report([header], `expected a template string, got ${describe(value)}`);
      continue;
    }
    let parsed: Template;
    try {
      parsed = parseTemplate(value, "header");
    } catch (error) {
      report([header], reason(error));
      continue;
    }
    const problem = parsed.map((part) => "text" in part ? headerTextProblem(part.text) : undefined)
      .find((p) => p !== undefined);
    if (problem !== undefined) report([header], problem);
    else out[header] = parsed;
  }
  return out;
});

/** `{payload_version}`: sent in headers and bodies, so header-safe text. */
const payloadVersion = converted(
  z.string({
    error: (issue) =>
      `expected a string of 1-${MAX_VERSION_LENGTH} characters such as "1.0", got ${
        describe(issue.input)
      }`,
  }),
  (version) => {
    if (version === "" || version.length > MAX_VERSION_LENGTH) {
      throw new TypeError(
        `expected a string of 1-${MAX_VERSION_LENGTH} characters such as "1.0", got ${
          describe(version)
        }`,
      );
    }
    const problem = headerTextProblem(version);
    return unless(problem && `${problem} (it may be sent in headers)`, version);
  },
);

const PROFILE_SHAPE = {
  headers,
  body: envelopeTemplate,
  payload_version: payloadVersion,
  signature,
};

/** Keys of one `[profiles.NAME]` table, in default.toml's order. */
export const PROFILE_KEYS: readonly string[] = Object.keys(PROFILE_SHAPE);

/**
 * One `[profiles.NAME]` table: what a request looks like. Keys it omits come
 * from the built-in `[profiles.standard]`; a `signature` table replaces the
 * built-in one whole.
 */
const profile = withRules(
  table(PROFILE_SHAPE, {
    expected: "a table of profile keys",
    defaults: (DEFAULTS.profiles as Table).standard as Table,
  }),
  (p, { report }) => {
    if (p.headers === undefined || p.signature === undefined) return;
    const bySignature = new Map(signatureHeaderNames(p.signature).map((h) => [h.toLowerCase(), h]));
    for (const header of Object.keys(p.headers)) {
      const clash = bySignature.get(header.toLowerCase());
      if (clash !== undefined) {
        report(
          ["headers", header],
          `header ${JSON.stringify(header)} is set by the signature scheme ` +
            `(${JSON.stringify(clash)}); remove it or change the scheme`,
        );
      }
    }
  },
).transform((p) => ({
  headers: p.headers,
  /** The event data as posted, or an envelope around it. */
  body: p.body,
  /** `{payload_version}`. */
  payloadVersion: p.payload_version,
  signature: p.signature,
}));

/** Every `[profiles.NAME]`, resolved; `standard` is always there. */
export const profiles = namedTables({ section: "profiles", builtIn: "standard", schema: profile });

/**
 * The built-in `standard` profile, as default.toml defines it (Standard
 * Webhooks, the body as posted, no extra headers). Used where a webhook names
 * a profile the config lacks.
 */
export const STANDARD_PROFILE = deepFreeze({ name: "standard", ...profile.parse({}) });
