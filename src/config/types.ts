/**
 * The fully resolved configuration: every key present, every duration in
 * milliseconds, every size in bytes, frozen. Produced by `loadConfig` after the
 * embedded defaults, the user's TOML file and `HOOKD_*` variables are merged
 * and validated. Code outside `src/config/` only ever sees this shape.
 */
export interface Config {
  readonly server: ServerConfig;
  readonly store: StoreConfig;
  readonly auth: AuthConfig;
  readonly security: SecurityConfig;
  readonly delivery: DeliveryConfig;
  readonly log: LogConfig;
  /** Named retry policies; always contains `default`. */
  readonly policies: Readonly<Record<string, Policy>>;
  /** Named request profiles; always contains `standard`. */
  readonly profiles: Readonly<Record<string, Profile>>;
}

export interface ServerConfig {
  /**
   * Whether hookd itself enforces the four limits below (through its front
   * door, `src/api/front_door.ts`); false leaves them to a reverse proxy;
   * "auto" enforces them unless the API listens on a loopback address.
   */
  readonly enforceConnectionLimits: boolean | "auto";
  /** A request head must arrive complete within this, ms (from its first byte, or from accept). */
  readonly headerTimeoutMs: number;
  /** A connection with no request in progress is closed after this, ms. */
  readonly idleTimeoutMs: number;
  /** Largest request head (request line and headers), bytes. */
  readonly maxHeaderBytes: number;
  /** Most open client connections; more are answered 503 and closed. */
  readonly maxConnections: number;
  /** "host:port"; port 0 picks a free port. */
  readonly listen: string;
  readonly hostname: string;
  readonly port: number;
  /** Largest accepted request body, bytes. Larger bodies get 413. */
  readonly bodyLimit: number;
  /** How long shutdown waits for in-flight work before exiting, ms. */
  readonly shutdownGraceMs: number;
  /** PEM certificate chain and key files for HTTPS; both empty: plain HTTP. */
  readonly tlsCert: string;
  readonly tlsKey: string;
}

export interface StoreConfig {
  /** libSQL URL: `file:path`, `libsql://…`, `http(s)://…`, `ws(s)://…`. */
  readonly url: string;
  /** Auth token for a remote libSQL server (sqld / Turso); empty for files. */
  readonly authToken: string;
  /** How long the writer waits to gather more writes into one commit, ms. */
  readonly commitWindowMs: number;
  /** Most writes one commit may carry. */
  readonly commitMaxBatch: number;
}

export interface AuthConfig {
  /** Root key with every scope; empty means no root key. */
  readonly adminKey: string;
}

export interface SecurityConfig {
  readonly requireHttps: boolean;
  readonly allowPrivateTargets: boolean;
  /** Ranges allowed even though they are private or reserved, normalised CIDR strings. */
  readonly allowCidrs: readonly string[];
}

export interface DeliveryConfig {
  /** Attempts in flight across all webhooks. */
  readonly concurrency: number;
  /** Attempts in flight to one webhook. */
  readonly maxInFlightPerWebhook: number;
  /** Bytes of a response body kept with the attempt. */
  readonly responseBodyLimit: number;
  /** How long a claim on a delivery lasts before another daemon may take it, ms. */
  readonly leaseMs: number;
  /** How far ahead the scheduler loads due deliveries into memory, ms. */
  readonly horizonMs: number;
}

export interface LogConfig {
  readonly level: "debug" | "info" | "warn" | "error";
  readonly format: "json" | "text";
}

/** A set of outcomes, parsed from tokens such as "2xx", "200", "200-399", "network". */
export interface OutcomeSet {
  /** Inclusive status ranges; "404" is [404, 404], "5xx" is [500, 599]. */
  readonly statuses: readonly (readonly [number, number])[];
  /** "any": every status and every transport failure. */
  readonly any: boolean;
  /** "network": dns, connect, tls, reset and blocked failures. */
  readonly network: boolean;
  /** "timeout": no response within the policy's timeout. */
  readonly timeout: boolean;
}

export type Schedule =
  | {
    readonly kind: "list";
    /** Delay before each attempt, ms; the length is the number of attempts. */
    readonly delaysMs: readonly number[];
    /** Fraction (0–1) by which each delay may randomly vary either way. */
    readonly jitter: number;
  }
  | {
    readonly kind: "exponential";
    /** Delay before the second attempt, ms; the first is immediate. */
    readonly firstMs: number;
    readonly factor: number;
    /** Total attempts including the first; undefined means bounded by maxAgeMs only. */
    readonly attempts: number | undefined;
    readonly jitter: number;
    readonly maxDelayMs: number;
    /** No attempt starts later than this after the delivery was created; undefined: no bound. */
    readonly maxAgeMs: number | undefined;
  };

export interface Policy {
  readonly name: string;
  readonly timeoutMs: number;
  readonly schedule: Schedule;
  readonly success: OutcomeSet;
  readonly retry: OutcomeSet;
  readonly final: OutcomeSet;
  readonly onExhausted: "dead" | "failed";
  /** Honour a `Retry-After` response header when it asks for a later retry. */
  readonly retryAfter: boolean;
}

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
 * A JSON envelope whose strings are templates. The string `"{data}"` on its
 * own stands for the event data as posted (inserted as JSON, not as a string).
 */
export type EnvelopeTemplate =
  | { readonly kind: "data" }
  | { readonly kind: "template"; readonly template: Template }
  | { readonly kind: "literal"; readonly value: null | boolean | number }
  | { readonly kind: "array"; readonly items: readonly EnvelopeTemplate[] }
  | { readonly kind: "object"; readonly entries: readonly (readonly [string, EnvelopeTemplate])[] };

export type SignatureScheme =
  /** `{prefix}-id`, `{prefix}-timestamp`, `{prefix}-signature: v1,<base64>` (several, space-separated). */
  | { readonly kind: "standard-webhooks"; readonly headerPrefix: "webhook" | "svix" }
  /** HMAC-SHA256 of a content template (e.g. `{attempt_timestamp}.{body}`) into one header. */
  | {
    readonly kind: "hmac-sha256";
    readonly header: string;
    readonly content: Template;
    readonly encoding: "hex" | "base64";
    readonly prefix: string;
  }
  /** `X-Hub-Signature-256: sha256=<hex HMAC of the body>`. */
  | { readonly kind: "github" }
  /** `Stripe-Signature: t=<unix>,v1=<hex HMAC of "{t}.{body}">` (several v1= while rotating). */
  | { readonly kind: "stripe" }
  | { readonly kind: "none" };

/** What a request looks like: headers, body and signature. Chosen per webhook. */
export interface Profile {
  readonly name: string;
  /** Header name → value template, sent on every attempt. */
  readonly headers: Readonly<Record<string, Template>>;
  /** The event data as posted, or an envelope around it. */
  readonly body: EnvelopeTemplate;
  /** `{payload_version}`. */
  readonly payloadVersion: string;
  readonly signature: SignatureScheme;
}
