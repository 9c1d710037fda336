import {
  autoBooleanField,
  booleanField,
  cidrListField,
  durationField,
  type Field,
  integerField,
  listenField,
  oneOfField,
  sizeField,
  storeUrlField,
  stringField,
} from "./fields.ts";

const SECOND = 1_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const MiB = 1_048_576;
const GiB = 1_073_741_824;

/**
 * The fixed sections and how each key is checked. Keys are documented in
 * `default.toml`; this table is the single list of which keys exist, used for
 * unknown-key checks, `HOOKD_*` variable names and validation.
 */
export const SECTIONS = {
  server: {
    listen: listenField(),
    body_limit: sizeField(1, GiB),
    shutdown_grace: durationField(0, HOUR),
    tls_cert: stringField(),
    tls_key: stringField(),
    enforce_connection_limits: autoBooleanField(),
    header_timeout: durationField(100, 10 * 60 * SECOND),
    idle_timeout: durationField(100, HOUR),
    max_header_size: sizeField(1024, MiB),
    max_connections: integerField(1, 1_000_000),
  },
  store: {
    url: storeUrlField(),
    auth_token: stringField(),
    commit_window: durationField(0, SECOND),
    commit_max_batch: integerField(1, 10_000),
  },
  auth: {
    admin_key: stringField(),
  },
  security: {
    require_https: booleanField(),
    allow_private_targets: booleanField(),
    allow_cidrs: cidrListField(),
  },
  delivery: {
    concurrency: integerField(1, 100_000),
    max_in_flight_per_webhook: integerField(1, 10_000),
    response_body_limit: sizeField(0, MiB),
    lease: durationField(SECOND, DAY),
    horizon: durationField(SECOND, HOUR),
  },
  log: {
    level: oneOfField(["debug", "info", "warn", "error"]),
    format: oneOfField(["json", "text"]),
  },
} as const satisfies Record<string, Record<string, Field<unknown>>>;

export type SectionName = keyof typeof SECTIONS;

/** Top-level keys of a config file: the fixed sections, `policies` and `profiles`. */
export const TOP_LEVEL_KEYS: readonly string[] = [
  ...Object.keys(SECTIONS),
  "policies",
  "profiles",
];

/** Keys of one `[policies.NAME]` table. */
export const POLICY_KEYS = [
  "timeout",
  "schedule",
  "jitter",
  "success",
  "retry",
  "final",
  "on_exhausted",
  "retry_after",
] as const;

/** Keys of an inline-table (exponential) `schedule`. */
export const SCHEDULE_KEYS = [
  "first",
  "factor",
  "attempts",
  "jitter",
  "max_delay",
  "max_age",
] as const;

/** `[policies.NAME]`: NAME is 1-64 of a-z, 0-9, "_" and "-". */
export const POLICY_NAME = /^[a-z0-9_-]{1,64}$/;

/** Keys of one `[profiles.NAME]` table. */
export const PROFILE_KEYS = ["headers", "body", "payload_version", "signature"] as const;

/** Keys of a profile's `signature` table. */
export const SIGNATURE_KEYS = ["scheme", "header", "content", "encoding", "prefix"] as const;

/** Values of `signature.scheme`. */
export const SIGNATURE_SCHEMES = [
  "standard-webhooks",
  "svix",
  "hmac-sha256",
  "github",
  "stripe",
  "none",
] as const;

/** `[profiles.NAME]`: NAME is 1-64 of a-z, 0-9, "_" and "-", like policy names. */
export const PROFILE_NAME = POLICY_NAME;

/** Most headers one profile may add. */
export const MAX_PROFILE_HEADERS = 50;

/**
 * Header names a profile may not set: framing and hop-by-hop headers that
 * hookd or the HTTP client controls (and any `proxy-*`).
 */
export const RESERVED_PROFILE_HEADERS: readonly string[] = [
  "host",
  "content-type",
  "content-length",
  "transfer-encoding",
  "connection",
  "keep-alive",
  "upgrade",
  "te",
  "trailer",
  "expect",
  "user-agent",
];

/** Durations and limits of policies. */
export const POLICY_LIMITS = {
  timeout: durationField(1, HOUR),
  listDelay: durationField(0, 30 * DAY),
  first: durationField(0, 30 * DAY),
  maxDelay: durationField(0, 365 * DAY),
  maxAge: durationField(1, 365 * DAY),
  maxAttempts: 100,
  maxFactor: 100,
  defaultFactor: 2,
  defaultMaxDelay: "1d",
} as const;

/** The variable that overrides `section.key`, e.g. `HOOKD_SERVER_LISTEN`. */
export function envName(section: string, key: string): string {
  return `HOOKD_${section}_${key}`.toUpperCase();
}

/** Reserved variable naming the config file; read by main.ts, ignored here. */
export const ENV_CONFIG = "HOOKD_CONFIG";
/** Short alias of `HOOKD_AUTH_ADMIN_KEY`. */
export const ENV_ADMIN_KEY = "HOOKD_ADMIN_KEY";
