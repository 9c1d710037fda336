import { parse, TomlError } from "smol-toml";
import { deepFreeze, describe, isTable, type Table } from "./_util.ts";
import { ConfigError, type ConfigIssue } from "./config_error.ts";
import { DEFAULT_TOML, DEFAULT_TOML_NAME } from "./default_toml.ts";
import { formatDuration } from "./duration.ts";
import { readEnv } from "./env.ts";
import type { Field } from "./fields.ts";
import { type KeyPath, locate } from "./locate.ts";
import { resolvePolicy, unknownKeyMessage } from "./policy.ts";
import { resolveProfile } from "./profile.ts";
import { SECTIONS, TOP_LEVEL_KEYS } from "./schema.ts";
import type { Config, Policy, Profile } from "./types.ts";

/** Where `loadConfig` reads from; every field is optional. */
export interface LoadConfigOptions {
  /**
   * Path of the user's TOML file. Read unless `text` is given; either way it
   * names the file in error messages. Default: no file, defaults only.
   */
  readonly file?: string;
  /** The user's TOML text, instead of reading `file`. */
  readonly text?: string;
  /**
   * Environment, typically `Deno.env.toObject()`. Only `HOOKD_*` variables are
   * read (`HOOKD_CONFIG` is left to the caller). Default: none, so tests and
   * callers without `--allow-env` get a pure function.
   */
  readonly env?: Readonly<Record<string, string>>;
}

interface Issue {
  readonly path: KeyPath;
  readonly message: string;
  readonly env?: string;
}

const BARE = /^[A-Za-z0-9_-]+$/;

/** `["policies", "fast", "schedule", 2]` → `policies.fast.schedule[2]`. */
export function formatKeyPath(path: KeyPath): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else {
      const name = BARE.test(segment) ? segment : JSON.stringify(segment);
      out += out === "" ? name : `.${name}`;
    }
  }
  return out;
}

function hasPath(tree: Table, path: KeyPath): boolean {
  let node: unknown = tree;
  for (const segment of path) {
    if (!isTable(node) || !Object.hasOwn(node, String(segment))) return false;
    node = node[String(segment)];
  }
  return true;
}

function errorMessage(error: unknown): string {
  return (error instanceof Error ? error.message : String(error))
    .replace(/^Cannot parse \w+: /, "");
}

function table(value: unknown): Table {
  return isTable(value) ? value : {};
}

/**
 * Loads the configuration: the embedded defaults (`default.toml`), then the
 * user's file merged over them key by key, then `HOOKD_<SECTION>_<KEY>`
 * variables (and `HOOKD_ADMIN_KEY`), then one validation pass.
 *
 * @returns the resolved config, deeply frozen.
 * @throws {ConfigError} listing every problem found, each with the file,
 * line and column of the offending key, or the variable it came from.
 */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const defaults = parse(DEFAULT_TOML) as Table;
  const fileName = options.file ?? "<text>";
  const early: ConfigIssue[] = [];
  const issues: Issue[] = [];

  let userText = "";
  let user: Table = {};
  if (options.text !== undefined || options.file !== undefined) {
    try {
      userText = options.text ?? Deno.readTextFileSync(options.file ?? "");
      user = parse(userText, { unsafeKeyBehaviour: "throw" }) as Table;
    } catch (error) {
      userText = "";
      if (error instanceof TomlError) {
        const first = error.message.split("\n")[0] ?? "";
        early.push({
          path: "",
          message: first.replace(/^Invalid TOML document: /, "invalid TOML: "),
          file: fileName,
          line: error.line,
          column: error.column,
        });
      } else {
        early.push({ path: "", message: `cannot read: ${errorMessage(error)}`, file: fileName });
      }
    }
  }

  const env = readEnv(options.env ?? {});
  for (const issue of env.issues) {
    early.push({ path: issue.path, message: issue.message, env: issue.variable });
  }
  const envValues = new Map(env.values.map((v) => [`${v.section}.${v.key}`, v]));

  for (const key of Object.keys(user)) {
    if (!TOP_LEVEL_KEYS.includes(key)) {
      issues.push({ path: [key], message: unknownKeyMessage(key, TOP_LEVEL_KEYS) });
    }
  }
  for (const [section, fields] of Object.entries(SECTIONS)) {
    const value = user[section];
    if (value === undefined) continue;
    if (!isTable(value)) {
      issues.push({ path: [section], message: `expected a table, got ${describe(value)}` });
      continue;
    }
    const allowed = Object.keys(fields);
    for (const key of Object.keys(value)) {
      if (!allowed.includes(key)) {
        issues.push({ path: [section, key], message: unknownKeyMessage(key, allowed) });
      }
    }
  }

  const read = <T>(section: keyof typeof SECTIONS, key: string, field: Field<T>): T => {
    const fromEnv = envValues.get(`${section}.${key}`);
    const fromUser = table(user[section]);
    const fallback = table(defaults[section])[key];
    const raw = fromEnv !== undefined
      ? fromEnv.value
      : Object.hasOwn(fromUser, key)
      ? fromUser[key]
      : fallback;
    try {
      return field.parse(raw);
    } catch (error) {
      issues.push({ path: [section, key], message: errorMessage(error), env: fromEnv?.variable });
      return field.parse(fallback);
    }
  };
  const S = SECTIONS;
  const listen = read("server", "listen", S.server.listen);
  const lease = read("delivery", "lease", S.delivery.lease);
  const config = {
    server: {
      listen: listen.listen,
      hostname: listen.hostname,
      port: listen.port,
      bodyLimit: read("server", "body_limit", S.server.body_limit),
      shutdownGraceMs: read("server", "shutdown_grace", S.server.shutdown_grace),
      tlsCert: read("server", "tls_cert", S.server.tls_cert),
      tlsKey: read("server", "tls_key", S.server.tls_key),
      enforceConnectionLimits: read(
        "server",
        "enforce_connection_limits",
        S.server.enforce_connection_limits,
      ),
      headerTimeoutMs: read("server", "header_timeout", S.server.header_timeout),
      idleTimeoutMs: read("server", "idle_timeout", S.server.idle_timeout),
      maxHeaderBytes: read("server", "max_header_size", S.server.max_header_size),
      maxConnections: read("server", "max_connections", S.server.max_connections),
    },
    store: {
      url: read("store", "url", S.store.url),
      authToken: read("store", "auth_token", S.store.auth_token),
      commitWindowMs: read("store", "commit_window", S.store.commit_window),
      commitMaxBatch: read("store", "commit_max_batch", S.store.commit_max_batch),
    },
    auth: { adminKey: read("auth", "admin_key", S.auth.admin_key) },
    security: {
      requireHttps: read("security", "require_https", S.security.require_https),
      allowPrivateTargets: read(
        "security",
        "allow_private_targets",
        S.security.allow_private_targets,
      ),
      allowCidrs: read("security", "allow_cidrs", S.security.allow_cidrs),
    },
    delivery: {
      concurrency: read("delivery", "concurrency", S.delivery.concurrency),
      maxInFlightPerWebhook: read(
        "delivery",
        "max_in_flight_per_webhook",
        S.delivery.max_in_flight_per_webhook,
      ),
      responseBodyLimit: read("delivery", "response_body_limit", S.delivery.response_body_limit),
      leaseMs: lease,
      horizonMs: read("delivery", "horizon", S.delivery.horizon),
    },
    log: {
      level: read("log", "level", S.log.level),
      format: read("log", "format", S.log.format),
    },
    policies: resolvePolicies(user, defaults, issues),
    profiles: resolveProfiles(user, defaults, issues),
  };

  checkLease(config.policies, lease, user, envValues.get("delivery.lease")?.variable, issues);
  // HTTPS needs both halves of the key pair.
  if ((config.server.tlsCert === "") !== (config.server.tlsKey === "")) {
    const missing = config.server.tlsCert === "" ? "tls_cert" : "tls_key";
    issues.push({
      path: ["server", missing],
      message: `must be set too: tls_cert and tls_key serve HTTPS together (or leave both empty)`,
      env: envValues.get(`server.${missing === "tls_cert" ? "tls_key" : "tls_cert"}`)?.variable,
    });
  }

  const all = [
    ...early,
    ...issues.map((issue): ConfigIssue => {
      const path = formatKeyPath(issue.path);
      if (issue.env !== undefined) return { path, message: issue.message, env: issue.env };
      const fromUser = hasPath(user, issue.path.slice(0, 2));
      const file = fromUser ? fileName : DEFAULT_TOML_NAME;
      const position = locate(fromUser ? userText : DEFAULT_TOML, issue.path);
      return { path, message: issue.message, file, ...position };
    }),
  ];
  if (all.length > 0) throw new ConfigError(all.sort(byPosition));
  return deepFreeze(config);
}

/** File problems in reading order, then environment problems. */
function byPosition(a: ConfigIssue, b: ConfigIssue): number {
  const rank = (issue: ConfigIssue) => issue.env !== undefined ? 1 : 0;
  return rank(a) - rank(b) ||
    (a.env === undefined && b.env === undefined
      ? (a.file ?? "").localeCompare(b.file ?? "") || (a.line ?? 0) - (b.line ?? 0) ||
        (a.column ?? 0) - (b.column ?? 0)
      : 0);
}

function resolvePolicies(user: Table, defaults: Table, issues: Issue[]): Record<string, Policy> {
  const base = table(table(defaults.policies).default);
  const given = user.policies;
  if (given !== undefined && !isTable(given)) {
    issues.push({
      path: ["policies"],
      message: `expected [policies.NAME] tables, got ${describe(given)}`,
    });
  }
  const userPolicies = table(given);
  const policies: Record<string, Policy> = {};
  for (const name of new Set(["default", ...Object.keys(userPolicies)])) {
    const raw = Object.hasOwn(userPolicies, name) ? userPolicies[name] : {};
    const result = resolvePolicy(name, raw, base);
    issues.push(...result.issues);
    if (result.policy !== undefined) policies[name] = result.policy;
  }
  return policies;
}

function resolveProfiles(user: Table, defaults: Table, issues: Issue[]): Record<string, Profile> {
  const base = table(table(defaults.profiles).standard);
  const given = user.profiles;
  if (given !== undefined && !isTable(given)) {
    issues.push({
      path: ["profiles"],
      message: `expected [profiles.NAME] tables, got ${describe(given)}`,
    });
  }
  const userProfiles = table(given);
  const profiles: Record<string, Profile> = {};
  for (const name of new Set(["standard", ...Object.keys(userProfiles)])) {
    const raw = Object.hasOwn(userProfiles, name) ? userProfiles[name] : {};
    const result = resolveProfile(name, raw, base);
    issues.push(...result.issues);
    if (result.profile !== undefined) profiles[name] = result.profile;
  }
  return profiles;
}

/** A claim must outlive its attempt, or a second daemon could send it again. */
function checkLease(
  policies: Record<string, Policy>,
  leaseMs: number,
  user: Table,
  leaseVariable: string | undefined,
  issues: Issue[],
): void {
  const lease = `"${formatDuration(leaseMs)}"`;
  let inherited: Policy | undefined;
  for (const policy of Object.values(policies)) {
    if (policy.timeoutMs < leaseMs) continue;
    if (hasPath(user, ["policies", policy.name, "timeout"])) {
      issues.push({
        path: ["policies", policy.name, "timeout"],
        message: `must be shorter than delivery.lease (${lease}) so that a claim outlives ` +
          `its attempt, got "${formatDuration(policy.timeoutMs)}"`,
      });
    } else if (inherited === undefined || policy.timeoutMs > inherited.timeoutMs) {
      inherited = policy;
    }
  }
  if (inherited !== undefined) {
    issues.push({
      path: ["delivery", "lease"],
      message: `must be longer than the timeout of policy "${inherited.name}" ("${
        formatDuration(inherited.timeoutMs)
      }") so that a claim outlives its attempt, got ${lease}`,
      env: leaseVariable,
    });
  }
}
