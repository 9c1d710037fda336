import type { z } from "zod";
import type { Table } from "./_util.ts";
import { DEFAULTS } from "./default_toml.ts";
import { formatDuration } from "./duration.ts";
import {
  autoBooleanField,
  booleanField,
  cidrListField,
  durationField,
  durationOrNeverField,
  integerField,
  listenField,
  oneOfField,
  proxiesField,
  proxyField,
  sizeField,
  storeUrlField,
  stringField,
} from "./fields.ts";
import type { KeyPath } from "./locate.ts";
import { policies } from "./policy.ts";
import { profiles } from "./profile.ts";
import { type RuleContext, table, type Valid, withRules } from "./table.ts";

const SECOND = 1_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const MiB = 1_048_576;
const GiB = 1_073_741_824;

/**
 * The keys of the fixed sections and how each is checked. Keys are documented
 * in `default.toml`; this is the one list of which exist, used for the
 * sections' schemas below and for the names of `HOOKD_*` variables.
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
    metrics_key: stringField(),
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
    payload_memory: sizeField(MiB, 64 * GiB),
    lease: durationField(SECOND, DAY),
    horizon: durationField(SECOND, HOUR),
    dead_letter_event_window: durationField(SECOND, DAY),
    proxy: proxyField(),
    proxies: proxiesField(),
  },
  retention: {
    succeeded: durationOrNeverField(HOUR, 100 * 365 * DAY, "30d"),
    dead: durationOrNeverField(HOUR, 100 * 365 * DAY, "90d"),
    events: durationOrNeverField(HOUR, 100 * 365 * DAY, "30d"),
    interval: durationField(SECOND, DAY),
    batch: integerField(10, 10_000),
  },
  log: {
    level: oneOfField(["debug", "info", "warn", "error"]),
    format: oneOfField(["json", "text"]),
  },
} satisfies Record<string, z.ZodRawShape>;

/** One fixed section: its keys, with default.toml's values for those the user omits. */
function section<const Name extends keyof typeof SECTIONS>(name: Name) {
  return table(SECTIONS[name], { defaults: DEFAULTS[name] as Table });
}

// Each section resolves to the shape the rest of hookd reads: durations in
// ms, sizes in bytes, camelCase names.

const server = withRules(section("server"), (s, { report }) => {
  // HTTPS needs both halves of the key pair; blame the half that was set.
  if (s.tls_cert === undefined || s.tls_key === undefined) return;
  if ((s.tls_cert === "") !== (s.tls_key === "")) {
    const [missing, set] = s.tls_cert === "" ? ["tls_cert", "tls_key"] : ["tls_key", "tls_cert"];
    report(
      [missing],
      "must be set too: tls_cert and tls_key serve HTTPS together (or leave both empty)",
      ["server", set],
    );
  }
}).transform((s) => ({
  /** "host:port"; port 0 picks a free port. */
  listen: s.listen.listen,
  hostname: s.listen.hostname,
  port: s.listen.port,
  /** Largest accepted request body, bytes. Larger bodies get 413. */
  bodyLimit: s.body_limit,
  /** How long shutdown waits for in-flight work before exiting, ms. */
  shutdownGraceMs: s.shutdown_grace,
  /** PEM certificate chain and key files for HTTPS; both empty: plain HTTP. */
  tlsCert: s.tls_cert,
  tlsKey: s.tls_key,
  /**
   * Whether hookd itself enforces the four limits below (through its front
   * door, `src/api/front_door.ts`); false leaves them to a reverse proxy;
   * "auto" enforces them unless the API listens on a loopback address.
   */
  enforceConnectionLimits: s.enforce_connection_limits,
  /** A request head must arrive complete within this, ms (from its first byte, or from accept). */
  headerTimeoutMs: s.header_timeout,
  /** A connection with no request in progress is closed after this, ms. */
  idleTimeoutMs: s.idle_timeout,
  /** Largest request head (request line and headers), bytes. */
  maxHeaderBytes: s.max_header_size,
  /** Most open client connections; more are answered 503 and closed. */
  maxConnections: s.max_connections,
  /** Bearer token `/metrics` requires; empty leaves it open. */
  metricsKey: s.metrics_key,
}));

const store = section("store").transform((s) => ({
  /** libSQL URL: `file:path`, `libsql://…`, `http(s)://…`, `ws(s)://…`. */
  url: s.url,
  /** Auth token for a remote libSQL server (sqld / Turso); empty for files. */
  authToken: s.auth_token,
  /** How long the writer waits to gather more writes into one commit, ms. */
  commitWindowMs: s.commit_window,
  /** Most writes one commit may carry. */
  commitMaxBatch: s.commit_max_batch,
}));

const auth = section("auth").transform((s) => ({
  /** Root key with every scope; empty means no root key. */
  adminKey: s.admin_key,
}));

const security = section("security").transform((s) => ({
  requireHttps: s.require_https,
  allowPrivateTargets: s.allow_private_targets,
  /** Ranges allowed even though they are private or reserved, normalised CIDR strings. */
  allowCidrs: s.allow_cidrs,
}));

const delivery = section("delivery").transform((s) => ({
  /** Attempts in flight across all webhooks. */
  concurrency: s.concurrency,
  /** Attempts in flight to one webhook. */
  maxInFlightPerWebhook: s.max_in_flight_per_webhook,
  /** Bytes of a response body kept with the attempt. */
  responseBodyLimit: s.response_body_limit,
  /**
   * Payload bytes of claimed deliveries held in memory (queued or being sent);
   * past it, new deliveries wait in the store until sending makes room.
   */
  payloadMemory: s.payload_memory,
  /** How long a claim on a delivery lasts before another daemon may take it, ms. */
  leaseMs: s.lease,
  /** How far ahead the scheduler loads due deliveries into memory, ms. */
  horizonMs: s.horizon,
  /** At most one `hookd.delivery.dead` event per webhook per this many ms. */
  deadLetterEventWindowMs: s.dead_letter_event_window,
  /** The forward proxy every delivery goes through unless its webhook says otherwise; null: none. */
  proxy: s.proxy,
  /** Proxies a webhook may name in its `proxy` field instead. */
  proxies: s.proxies,
}));

const retention = section("retention").transform((s) => ({
  /** Succeeded deliveries and their attempts are deleted this long after success, ms; null: kept. */
  succeededMs: s.succeeded,
  /** Dead, failed and cancelled deliveries (and attempts), this long after they ended, ms; null: kept. */
  deadMs: s.dead,
  /** Events left without deliveries, this long after they were accepted, ms; null: kept. */
  eventsMs: s.events,
  /** How often the purger looks for what is past retention, ms. */
  intervalMs: s.interval,
  /** Rows one purge transaction looks at. */
  batch: s.batch,
}));

const log = section("log");

const CONFIG_SHAPE = {
  server,
  store,
  auth,
  security,
  delivery,
  retention,
  log,
  policies,
  profiles,
};

/** Top-level keys of a config file: the fixed sections, `policies` and `profiles`. */
export const TOP_LEVEL_KEYS: readonly string[] = Object.keys(CONFIG_SHAPE);

/** A whole config file; tables it omits are default.toml's. */
const CONFIG = table(CONFIG_SHAPE, { defaults: DEFAULTS as Table });

/**
 * The whole configuration: every section, policy and profile, and the rules
 * across them. `given` says whether the user wrote a key (in the file or the
 * environment), so that a rule can blame the value the user chose over one
 * inherited from the defaults. Parsing `{}` yields the built-in defaults.
 */
export function configSchema(given: (path: KeyPath) => boolean = () => false) {
  return withRules(CONFIG, (config, ctx) => checkLease(config, given, ctx));
}

/** A claim must outlive its attempt, or a second daemon could send it again. */
function checkLease(
  { delivery, policies }: Valid<z.output<typeof CONFIG>>,
  given: (path: KeyPath) => boolean,
  { report }: RuleContext,
): void {
  if (delivery === undefined || policies === undefined) return;
  const lease = `"${formatDuration(delivery.leaseMs)}"`;
  let inherited: { readonly name: string; readonly timeoutMs: number } | undefined;
  for (const policy of Object.values(policies)) {
    if (policy.timeoutMs < delivery.leaseMs) continue;
    if (given(["policies", policy.name, "timeout"])) {
      report(
        ["policies", policy.name, "timeout"],
        `must be shorter than delivery.lease (${lease}) so that a claim outlives ` +
          `its attempt, got "${formatDuration(policy.timeoutMs)}"`,
      );
    } else if (inherited === undefined || policy.timeoutMs > inherited.timeoutMs) {
      inherited = policy;
    }
  }
  if (inherited !== undefined) {
    report(
      ["delivery", "lease"],
      `must be longer than the timeout of policy "${inherited.name}" ("${
        formatDuration(inherited.timeoutMs)
      }") so that a claim outlives its attempt, got ${lease}`,
    );
  }
}

/** The variable that overrides `section.key`, e.g. `HOOKD_SERVER_LISTEN`. */
export function envName(section: string, key: string): string {
  return `HOOKD_${section}_${key}`.toUpperCase();
}

/** Reserved variable naming the config file; read by main.ts, ignored here. */
export const ENV_CONFIG = "HOOKD_CONFIG";
/** Short alias of `HOOKD_AUTH_ADMIN_KEY`. */
export const ENV_ADMIN_KEY = "HOOKD_ADMIN_KEY";
/**
 * Reserved for the operator commands (`hookd replay`, `deliveries`, ...):
 * the daemon's URL and the key they present. Not config keys, so ignored
 * here: a shell set up for those commands can still start the daemon.
 */
export const ENV_CLI_URL = "HOOKD_URL";
export const ENV_CLI_KEY = "HOOKD_KEY";
