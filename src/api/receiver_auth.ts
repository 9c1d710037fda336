/**
 * Receiver auth in the API: the `oauth2` and `basic_auth` fields a webhook
 * or a credential takes (at most one of them), how a create or update turns
 * them into the stored `ReceiverAuth`, and how they are shown. Secrets
 * (`client_secret`, `password`) are write-only, shown as `"[set]"` like
 * every other secret the API keeps; an update may leave one out (or send
 * `"[set]"` back) to keep the stored one.
 */
import { z } from "zod";
import { targetUrlProblem } from "../delivery/target_url.ts";
import type { TargetGuard } from "../net/target_guard.ts";
import type { ReceiverAuth } from "../store/receiver_auth.ts";
import { validationError } from "./errors.ts";
import type { BasicAuthSettings, OAuth2Settings } from "./responses.ts";

/** How a stored secret reads back. */
const SET = "[set]";

/** Printable ASCII and spaces only: these values go into headers and forms. */
const PRINTABLE = /^[\x20-\x7e]*$/;
// deno-lint-ignore no-control-regex
const NO_CONTROL = /^[^\x00-\x1f\x7f]*$/;
/** RFC 6749 §3.3: scope-tokens of NQCHAR separated by single spaces. */
const SCOPE = /^[\x21\x23-\x5b\x5d-\x7e]+( [\x21\x23-\x5b\x5d-\x7e]+)*$/;

function text(max: number, what: string) {
  return z.string({ error: `must be a string: ${what}` })
    .min(1, `must not be empty: ${what}`)
    .max(max, `must be at most ${max} characters`)
    .regex(PRINTABLE, "must be printable ASCII (no control or non-ASCII characters)");
}

/** The schemas of `oauth2` and `basic_auth`; `forUpdate`: secrets may be left out. */
export function receiverAuthSchemas(rules: { requireHttps: boolean; guard: TargetGuard }) {
  const tokenUrl = z.string({ error: "must be a string URL" }).superRefine((url, ctx) => {
    const problem = targetUrlProblem(url, rules) ??
      rules.guard.literalProblem(new URL(url).hostname);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  });
  const oauth2Fields = {
    token_url: tokenUrl,
    client_id: text(256, "the client id the token endpoint knows hookd by"),
    scope: z.string({ error: 'must be a string of space-separated scopes, e.g. "hooks:write"' })
      .max(1024, "must be at most 1024 characters")
      .regex(SCOPE, 'must be scopes separated by single spaces, e.g. "hooks:write events"')
      .nullable().default(null),
    audience: text(1024, "the API the token is for").nullable().default(null),
    auth_method: z.enum(["client_secret_basic", "client_secret_post"], {
      error: 'must be "client_secret_basic" (HTTP basic auth at the token endpoint, the ' +
        'default) or "client_secret_post" (client_id and client_secret in the form)',
    }).default("client_secret_basic"),
  };
  const clientSecret = text(1024, "the client secret");
  // Sent base64-encoded as UTF-8 (RFC 7617), so any character but a control one will do.
  const username = z.string({ error: "must be a string: the user name" })
    .min(1, "must not be empty: the user name")
    .max(256, "must be at most 256 characters")
    .regex(NO_CONTROL, "must not contain control characters")
    .refine((u) => !u.includes(":"), {
      message: "must not contain a colon (RFC 7617: the colon ends the user name)",
    });
  const password = z.string({ error: "must be a string" })
    .max(1024, "must be at most 1024 characters")
    .regex(NO_CONTROL, "must not contain control characters");
  return {
    create: {
      oauth2: z.strictObject({ ...oauth2Fields, client_secret: clientSecret }).nullable()
        .default(null),
      basic_auth: z.strictObject({ username, password }).nullable().default(null),
    },
    update: {
      oauth2: z.strictObject({ ...oauth2Fields, client_secret: clientSecret.optional() })
        .nullable().optional(),
      basic_auth: z.strictObject({ username, password: password.optional() }).nullable()
        .optional(),
    },
  };
}

type Schemas = ReturnType<typeof receiverAuthSchemas>;
type CreateFields = z.output<z.ZodObject<Schemas["create"]>>;
type UpdateFields = z.output<z.ZodObject<Schemas["update"]>>;

function bothGiven(): never {
  throw validationError([{
    field: "basic_auth",
    message: "cannot be set together with oauth2: a receiver takes one kind of auth",
  }]);
}

/** The receiver auth a create asks for; null: none. */
export function createdReceiverAuth(body: CreateFields): ReceiverAuth | null {
  const { oauth2, basic_auth } = body;
  if (oauth2 !== null && basic_auth !== null) bothGiven();
  if (oauth2 !== null) return oauth2Of(oauth2, oauth2.client_secret);
  if (basic_auth !== null) return { kind: "basic", ...basic_auth };
  return null;
}

/**
 * What an update does to the receiver auth: undefined leaves it, null
 * removes it, otherwise the new one. An object replaces the stored auth
 * whole, except a secret left out, which keeps the stored one (the API never
 * shows it back). `null` for the kind in place removes it; for the other
 * kind it changes nothing.
 */
export async function updatedReceiverAuth(
  body: UpdateFields,
  current: () => Promise<ReceiverAuth | null | undefined>,
): Promise<ReceiverAuth | null | undefined> {
  const { oauth2, basic_auth } = body;
  if (oauth2 && basic_auth) bothGiven();
  if (oauth2 === undefined && basic_auth === undefined) return undefined;
  const stored = await current();
  if (oauth2) {
    const given = kept(oauth2.client_secret);
    const secret = given ?? (stored?.kind === "oauth2" ? stored.clientSecret : null);
    if (secret === null) missing("oauth2.client_secret", "no OAuth2 client secret is stored yet");
    return oauth2Of(oauth2, secret);
  }
  if (basic_auth) {
    const password = kept(basic_auth.password) ??
      (stored?.kind === "basic" ? stored.password : null);
    if (password === null) missing("basic_auth.password", "no basic auth password is stored yet");
    return { kind: "basic", username: basic_auth.username, password };
  }
  // Only nulls were sent: remove what they name.
  const removed = oauth2 === null ? "oauth2" : "basic";
  if (oauth2 === null && basic_auth === null) return null;
  return stored?.kind === removed ? null : undefined;
}

/**
 * A secret as sent, or undefined to keep the stored one: left out, or sent
 * back as the `"[set]"` a read showed (a client that reads, edits and writes
 * the whole object back must not turn the secret into that text).
 */
function kept(secret: string | undefined): string | undefined {
  return secret === SET ? undefined : secret;
}

function missing(field: string, why: string): never {
  throw validationError([{ field, message: `is required: ${why} to keep` }]);
}

function oauth2Of(
  fields: Omit<CreateFields["oauth2"] & object, "client_secret">,
  clientSecret: string,
): ReceiverAuth {
  return {
    kind: "oauth2",
    tokenUrl: fields.token_url,
    clientId: fields.client_id,
    clientSecret,
    scope: fields.scope,
    audience: fields.audience,
    authMethod: fields.auth_method,
  };
}

/** The `oauth2` and `basic_auth` fields of a webhook or credential as the API shows them. */
export function renderReceiverAuth(auth: ReceiverAuth | null): {
  oauth2: z.input<typeof OAuth2Settings> | null;
  basic_auth: z.input<typeof BasicAuthSettings> | null;
} {
  return {
    oauth2: auth?.kind === "oauth2"
      ? {
        token_url: auth.tokenUrl,
        client_id: auth.clientId,
        client_secret: SET,
        scope: auth.scope,
        audience: auth.audience,
        auth_method: auth.authMethod,
      }
      : null,
    basic_auth: auth?.kind === "basic" ? { username: auth.username, password: SET } : null,
  };
}
