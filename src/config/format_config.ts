import { formatDuration } from "./duration.ts";
import { formatOutcomeSet } from "./outcome_set.ts";
import { formatSize } from "./size.ts";
import { formatTemplate } from "./template.ts";
import type { Config, EnvelopeTemplate, Policy, Profile } from "./types.ts";
import type { ProxyEndpoint } from "../net/proxy_endpoint.ts";

const SET = "(set)";
const EMPTY = "(empty)";

function secret(value: string): string {
  return value === "" ? EMPTY : SET;
}

/** Hides credentials a libSQL URL may carry: `?authToken=…` and `user:password@`. */
export function redactUrl(url: string): string {
  return url
    .replace(/([?&](?:authToken|auth_token|token|jwt)=)[^&#]*/gi, `$1${SET}`)
    .replace(/^([a-z]+:\/\/[^:@/?#]*):[^@/?#]*@/i, `$1:${SET}@`);
}

const str = (value: string) => JSON.stringify(value);
const dur = (ms: number) => str(formatDuration(ms));
const durOrNever = (ms: number | null) => ms === null ? str("never") : dur(ms);
const size = (bytes: number) => str(formatSize(bytes));
const list = (items: readonly string[]) => `[${items.map(str).join(", ")}]`;

/** A proxy URL with its credentials shown as `(set)`, never their value. */
function proxyUrl(proxy: ProxyEndpoint): string {
  return `http://${proxy.authorization === null ? "" : `${SET}@`}${proxy.display}`;
}

function proxiesTable(proxies: Readonly<Record<string, ProxyEndpoint>>): string {
  const entries = Object.entries(proxies).map(([name, p]) => `${name} = ${str(proxyUrl(p))}`);
  return entries.length === 0 ? "{}" : `{ ${entries.join(", ")} }`;
}

function policyLines(policy: Policy): string[] {
  const lines = [`[policies.${policy.name}]`, `timeout = ${dur(policy.timeoutMs)}`];
  const s = policy.schedule;
  if (s.kind === "list") {
    lines.push(`schedule = ${list(s.delaysMs.map(formatDuration))}`, `jitter = ${s.jitter}`);
  } else {
    const parts = [`first = ${dur(s.firstMs)}`, `factor = ${s.factor}`];
    if (s.attempts !== undefined) parts.push(`attempts = ${s.attempts}`);
    parts.push(`max_delay = ${dur(s.maxDelayMs)}`);
    if (s.maxAgeMs !== undefined) parts.push(`max_age = ${dur(s.maxAgeMs)}`);
    parts.push(`jitter = ${s.jitter}`);
    lines.push(`schedule = { ${parts.join(", ")} }`);
  }
  lines.push(
    `success = ${list(formatOutcomeSet(policy.success))}`,
    `retry = ${list(formatOutcomeSet(policy.retry))}`,
    `final = ${list(formatOutcomeSet(policy.final))}`,
    `on_exhausted = ${str(policy.onExhausted)}`,
    `retry_after = ${policy.retryAfter}`,
    `disable_after_failing_for = ${durOrNever(policy.autoDisable.failingForMs)}`,
    `disable_after_exhausted = ${policy.autoDisable.exhaustedInRow ?? 0}`,
    `disable_on_status = ${list(formatOutcomeSet(policy.autoDisable.onStatus))}`,
    `breaker_failures = ${policy.breaker.failures ?? 0}`,
    `breaker_failure_rate = ${policy.breaker.failureRate ?? 0}`,
    `breaker_window = ${dur(policy.breaker.windowMs)}`,
    `breaker_min_attempts = ${policy.breaker.minAttempts}`,
    `breaker_cooldown = ${dur(policy.breaker.cooldownMs)}`,
    `breaker_max_cooldown = ${dur(policy.breaker.maxCooldownMs)}`,
    `adaptive_concurrency = ${policy.adaptiveConcurrency}`,
  );
  return lines;
}

/** A TOML basic string: JSON's escapes, plus DEL, which TOML also forbids raw. */
function tomlString(value: string): string {
  return JSON.stringify(value).replaceAll("\x7f", "\\u007f");
}

function tomlKey(key: string): string {
  return /^[A-Za-z0-9_-]+$/.test(key) ? key : tomlString(key);
}

function envelopeToml(envelope: EnvelopeTemplate): string {
  switch (envelope.kind) {
    case "data":
      return tomlString("{data}");
    case "template":
      return tomlString(formatTemplate(envelope.template));
    case "literal":
      return String(envelope.value);
    case "array":
      return `[${envelope.items.map(envelopeToml).join(", ")}]`;
    case "object":
      return envelope.entries.length === 0
        ? "{}"
        : `{ ${
          envelope.entries.map(([k, v]) => `${tomlKey(k)} = ${envelopeToml(v)}`).join(", ")
        } }`;
  }
}

function profileLines(profile: Profile): string[] {
  const headers = Object.entries(profile.headers).map(([name, template]) =>
    `${tomlString(name)} = ${tomlString(formatTemplate(template))}`
  );
  const s = profile.signature;
  const scheme = s.kind === "standard-webhooks" && s.headerPrefix === "svix" ? "svix" : s.kind;
  const signature = [`scheme = ${str(scheme)}`];
  if (s.kind === "hmac-sha256") {
    signature.push(
      `header = ${tomlString(s.header)}`,
      `content = ${tomlString(formatTemplate(s.content))}`,
      `encoding = ${str(s.encoding)}`,
      `prefix = ${tomlString(s.prefix)}`,
    );
  }
  return [
    `[profiles.${profile.name}]`,
    `headers = ${headers.length === 0 ? "{}" : `{ ${headers.join(", ")} }`}`,
    `body = ${profile.body.kind === "data" ? str("data") : envelopeToml(profile.body)}`,
    `payload_version = ${tomlString(profile.payloadVersion)}`,
    `signature = { ${signature.join(", ")} }`,
  ];
}

/**
 * Renders a resolved config as TOML for `hookd check-config`, every key
 * present. Secrets (`auth.admin_key`, `server.metrics_key`, `store.auth_token`, credentials inside
 * `store.url` and proxy URLs) are shown as `(set)` or `(empty)`, never their value; with
 * those lines aside, the output loads back to the same config.
 */
export function formatConfig(config: Config): string {
  const { server, store, auth, security, delivery, retention, log } = config;
  const names = Object.keys(config.policies).sort((a, b) =>
    a === "default" ? -1 : b === "default" ? 1 : a.localeCompare(b)
  );
  const profileNames = Object.keys(config.profiles).sort((a, b) =>
    a === "standard" ? -1 : b === "standard" ? 1 : a.localeCompare(b)
  );
  const sections = [
    [
      "[server]",
      `listen = ${str(server.listen)}`,
      `body_limit = ${size(server.bodyLimit)}`,
      `shutdown_grace = ${dur(server.shutdownGraceMs)}`,
      `tls_cert = ${str(server.tlsCert)}`,
      `tls_key = ${str(server.tlsKey)}`,
      `enforce_connection_limits = ${JSON.stringify(server.enforceConnectionLimits)}`,
      `header_timeout = ${dur(server.headerTimeoutMs)}`,
      `idle_timeout = ${dur(server.idleTimeoutMs)}`,
      `max_header_size = ${size(server.maxHeaderBytes)}`,
      `max_connections = ${server.maxConnections}`,
      `metrics_key = ${secret(server.metricsKey)}`,
    ],
    [
      "[store]",
      `url = ${str(redactUrl(store.url))}`,
      `auth_token = ${secret(store.authToken)}`,
      `commit_window = ${dur(store.commitWindowMs)}`,
      `commit_max_batch = ${store.commitMaxBatch}`,
    ],
    ["[auth]", `admin_key = ${secret(auth.adminKey)}`],
    [
      "[security]",
      `require_https = ${security.requireHttps}`,
      `allow_private_targets = ${security.allowPrivateTargets}`,
      `allow_cidrs = ${JSON.stringify(security.allowCidrs)}`,
    ],
    [
      "[delivery]",
      `concurrency = ${delivery.concurrency}`,
      `max_in_flight_per_webhook = ${delivery.maxInFlightPerWebhook}`,
      `response_body_limit = ${size(delivery.responseBodyLimit)}`,
      `payload_memory = ${size(delivery.payloadMemory)}`,
      `lease = ${dur(delivery.leaseMs)}`,
      `horizon = ${dur(delivery.horizonMs)}`,
      `dead_letter_event_window = ${dur(delivery.deadLetterEventWindowMs)}`,
      `proxy = ${str(delivery.proxy === null ? "" : proxyUrl(delivery.proxy))}`,
      `proxies = ${proxiesTable(delivery.proxies)}`,
    ],
    [
      "[retention]",
      `succeeded = ${durOrNever(retention.succeededMs)}`,
      `dead = ${durOrNever(retention.deadMs)}`,
      `events = ${durOrNever(retention.eventsMs)}`,
      `interval = ${dur(retention.intervalMs)}`,
      `batch = ${retention.batch}`,
    ],
    ["[log]", `level = ${str(log.level)}`, `format = ${str(log.format)}`],
    ...names.flatMap((name) => {
      const policy = config.policies[name];
      return policy === undefined ? [] : [policyLines(policy)];
    }),
    ...profileNames.flatMap((name) => {
      const profile = config.profiles[name];
      return profile === undefined ? [] : [profileLines(profile)];
    }),
  ];
  return sections.map((lines) => lines.join("\n")).join("\n\n") + "\n";
}
