import assert from "node:assert/strict";
import { ConfigError, type ConfigIssue } from "./config_error.ts";
import { formatKeyPath, loadConfig, type LoadConfigOptions } from "./load_config.ts";
import { POLICY_KEYS } from "./policy.ts";
import { PROFILE_KEYS } from "./profile.ts";
import { SECTIONS, TOP_LEVEL_KEYS } from "./schema.ts";
import type { Config } from "./types.ts";

function problems(options: LoadConfigOptions): readonly ConfigIssue[] {
  try {
    loadConfig(options);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.issues;
  }
  assert.fail("expected a ConfigError");
}

function withTempFile(text: string, fn: (file: string) => void) {
  const file = Deno.makeTempFileSync({ suffix: ".toml" });
  try {
    Deno.writeTextFileSync(file, text);
    fn(file);
  } finally {
    Deno.removeSync(file);
  }
}

const NONE = { statuses: [], any: false, network: false, timeout: false, auth: false };

const DEFAULTS: Config = {
  server: {
    listen: "127.0.0.1:8787",
    hostname: "127.0.0.1",
    port: 8787,
    bodyLimit: 1_048_576,
    shutdownGraceMs: 10_000,
    tlsCert: "",
    tlsKey: "",
    enforceConnectionLimits: "auto",
    headerTimeoutMs: 10_000,
    idleTimeoutMs: 60_000,
    maxHeaderBytes: 16_384,
    maxConnections: 1024,
    metricsKey: "",
  },
  store: { url: "file:data/hookd.db", authToken: "", commitWindowMs: 0, commitMaxBatch: 512 },
  auth: { adminKey: "" },
  security: { requireHttps: false, allowPrivateTargets: false, allowCidrs: [] },
  delivery: {
    concurrency: 256,
    maxInFlightPerWebhook: 16,
    responseBodyLimit: 4_096,
    payloadMemory: 67_108_864,
    leaseMs: 60_000,
    horizonMs: 60_000,
    deadLetterEventWindowMs: 300_000,
    proxy: null,
    proxies: {},
  },
  retention: {
    succeededMs: 30 * 86_400_000,
    deadMs: 90 * 86_400_000,
    eventsMs: 30 * 86_400_000,
    intervalMs: 60_000,
    batch: 500,
  },
  log: { level: "info", format: "json" },
  policies: {
    default: {
      name: "default",
      timeoutMs: 10_000,
      schedule: {
        kind: "list",
        delaysMs: [0, 5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000],
        jitter: 0.1,
      },
      success: { ...NONE, statuses: [[200, 299]] },
      retry: { ...NONE, any: true },
      final: NONE,
      onExhausted: "dead",
      retryAfter: true,
      autoDisable: {
        failingForMs: 5 * 86_400_000,
        exhaustedInRow: null,
        onStatus: { ...NONE, statuses: [[410, 410]] },
      },
      breaker: {
        failures: 10,
        failureRate: null,
        windowMs: 60_000,
        minAttempts: 20,
        cooldownMs: 30_000,
        maxCooldownMs: 600_000,
      },
      adaptiveConcurrency: true,
    },
  },
  profiles: {
    standard: {
      name: "standard",
      headers: {},
      body: { kind: "data" },
      payloadVersion: "1.0",
      signature: { kind: "standard-webhooks", headerPrefix: "webhook" },
    },
  },
};

Deno.test("loadConfig() with nothing given is the embedded defaults", () => {
  assert.deepEqual(loadConfig(), DEFAULTS);
  assert.deepEqual(loadConfig({ text: "", env: {} }), DEFAULTS);
});

Deno.test("loadConfig() returns a deeply frozen config", () => {
  const config = loadConfig({ text: '[policies.x]\nschedule = ["0s", "1s"]' });
  for (
    const value of [
      config,
      config.server,
      config.policies,
      config.policies.default,
      config.policies.x,
      config.policies.default?.success.statuses,
      config.policies.default?.success.statuses[0],
      config.policies.x?.schedule,
    ]
  ) {
    assert.equal(Object.isFrozen(value), true);
  }
  assert.throws(() => {
    (config.server as { port: number }).port = 1;
  }, TypeError);
  const delays = (config.policies.x?.schedule as unknown as { delaysMs: number[] }).delaysMs;
  assert.throws(() => delays.push(1), TypeError);
});

Deno.test("loadConfig() reads a file; env beats file beats defaults", () => {
  const text = `
[server]
listen = "0.0.0.0:9000"
body_limit = "2MiB"
[store]
url = "libsql://db.example.turso.io"
commit_max_batch = 100
[delivery]
concurrency = 32
response_body_limit = 1024
[log]
format = "text"
`;
  withTempFile(text, (file) => {
    const fromFile = loadConfig({ file });
    assert.equal(fromFile.server.listen, "0.0.0.0:9000");
    assert.equal(fromFile.server.hostname, "0.0.0.0");
    assert.equal(fromFile.server.port, 9000);
    assert.equal(fromFile.server.bodyLimit, 2_097_152);
    assert.equal(fromFile.store.url, "libsql://db.example.turso.io");
    assert.equal(fromFile.store.commitMaxBatch, 100);
    assert.equal(fromFile.delivery.concurrency, 32);
    assert.equal(fromFile.delivery.responseBodyLimit, 1_024);
    assert.equal(fromFile.log.format, "text");
    assert.equal(fromFile.log.level, "info");
    assert.equal(fromFile.delivery.maxInFlightPerWebhook, 16);

    const config = loadConfig({
      file,
      env: {
        HOOKD_SERVER_LISTEN: "[::1]:7000",
        HOOKD_DELIVERY_CONCURRENCY: "8",
        HOOKD_SECURITY_ALLOW_PRIVATE_TARGETS: "true",
        HOOKD_SECURITY_REQUIRE_HTTPS: "1",
        HOOKD_STORE_AUTH_TOKEN: "tok",
        HOOKD_ADMIN_KEY: "root-key",
        HOOKD_LOG_LEVEL: "debug",
        HOOKD_DELIVERY_LEASE: "2m",
        HOOKD_CONFIG: "/ignored.toml",
        PATH: "/usr/bin",
      },
    });
    assert.deepEqual(config.server, {
      listen: "[::1]:7000",
      hostname: "::1",
      port: 7000,
      bodyLimit: 2_097_152,
      shutdownGraceMs: 10_000,
      tlsCert: "",
      tlsKey: "",
      enforceConnectionLimits: "auto",
      headerTimeoutMs: 10_000,
      idleTimeoutMs: 60_000,
      maxHeaderBytes: 16_384,
      maxConnections: 1024,
      metricsKey: "",
    });
    assert.equal(config.delivery.concurrency, 8);
    assert.equal(config.delivery.leaseMs, 120_000);
    assert.equal(config.security.allowPrivateTargets, true);
    assert.equal(config.security.requireHttps, true);
    assert.equal(config.store.authToken, "tok");
    assert.equal(config.store.url, "libsql://db.example.turso.io");
    assert.equal(config.auth.adminKey, "root-key");
    assert.deepEqual(config.log, { level: "debug", format: "text" });
  });
  assert.equal(loadConfig({ env: { HOOKD_AUTH_ADMIN_KEY: "k2" } }).auth.adminKey, "k2");
});

Deno.test("loadConfig() reports a bad value in a file at its line and column", () => {
  withTempFile('# hookd\n[server]\nbody_limit = "1MiB"\n  listen = "nope"\n', (file) => {
    const expected = {
      path: "server.listen",
      message: 'expected "host:port" with port 0-65535 (e.g. "127.0.0.1:8787", "[::1]:8787"), ' +
        'got "nope"',
      file,
      line: 4,
      column: 3,
    };
    assert.deepEqual(problems({ file }), [expected]);
    assert.throws(() => loadConfig({ file }), {
      name: "ConfigError",
      message: "Invalid configuration (1 problem):\n" +
        `${file}:4:3: server.listen: expected "host:port" with port 0-65535 ` +
        '(e.g. "127.0.0.1:8787", "[::1]:8787"), got "nope"',
    });
  });
});

Deno.test("loadConfig() reports TOML syntax errors with smol-toml's position", () => {
  withTempFile('[server]\nlisten = "127.0.0.1:1"\nbody_limit = \n', (file) => {
    assert.deepEqual(problems({ file }), [{
      path: "",
      message: "invalid TOML: invalid value",
      file,
      line: 3,
      column: 14,
    }]);
  });
  assert.deepEqual(problems({ text: "[server\n", file: "x.toml" }).map((i) => i.line), [1]);
});

Deno.test("loadConfig() reports a file it cannot read", () => {
  const issues = problems({ file: "/nonexistent/hookd.toml" });
  assert.equal(issues.length, 1);
  assert.equal(issues[0]?.file, "/nonexistent/hookd.toml");
  assert.equal(issues[0]?.path, "");
  assert.match(issues[0]?.message ?? "", /^cannot read: No such file or directory/);
});

Deno.test("loadConfig() rejects unknown keys at every level with a suggestion", () => {
  const text = `[server]
lisen = "0.0.0.0:1"
[sever]
x = 1
[policies.fast]
timout = "5s"
schedule = { first = "1s", atempts = 3 }
[store]
urll = "file:x"
`;
  assert.deepEqual(problems({ text, file: "h.toml" }), [
    {
      path: "server.lisen",
      message: 'unknown key; did you mean "listen"?',
      file: "h.toml",
      line: 2,
      column: 1,
    },
    {
      path: "sever",
      message: 'unknown key; did you mean "server"?',
      file: "h.toml",
      line: 3,
      column: 1,
    },
    {
      path: "policies.fast.timout",
      message: 'unknown key; did you mean "timeout"?',
      file: "h.toml",
      line: 6,
      column: 1,
    },
    {
      path: "policies.fast.schedule",
      message: 'needs "attempts", "max_age" or both, so that retries end',
      file: "h.toml",
      line: 7,
      column: 1,
    },
    {
      path: "policies.fast.schedule.atempts",
      message: 'unknown key; did you mean "attempts"?',
      file: "h.toml",
      line: 7,
      column: 28,
    },
    {
      path: "store.urll",
      message: 'unknown key; did you mean "url"?',
      file: "h.toml",
      line: 9,
      column: 1,
    },
  ]);
  assert.deepEqual(
    problems({ text: "[server]\nport = 1\n", file: "h.toml" })[0]?.message,
    "unknown key; allowed keys are listen, body_limit, shutdown_grace, tls_cert, tls_key, " +
      "enforce_connection_limits, header_timeout, idle_timeout, max_header_size, max_connections, metrics_key",
  );
});

Deno.test("loadConfig() names expected vs got for wrong types", () => {
  const text = `server = 5
[delivery]
concurrency = "many"
lease = 60
[security]
require_https = "true"
[log]
level = "verbose"
`;
  assert.deepEqual(
    problems({ text, file: "t.toml" }).map((i) => `${i.line}:${i.column} ${i.path}: ${i.message}`),
    [
      "1:1 server: expected a table, got 5",
      '3:1 delivery.concurrency: expected an integer from 1 to 100000, got "many"',
      '4:1 delivery.lease: expected a duration such as "5s" or "1h30m", got 60',
      '6:1 security.require_https: expected true or false, got "true"',
      '8:1 log.level: expected one of "debug", "info", "warn", "error", got "verbose"',
    ],
  );
});

Deno.test("loadConfig() enforces ranges and the store URL scheme", () => {
  const text = `[store]
url = "postgres://db"
commit_max_batch = 0
commit_window = "2s"
[delivery]
concurrency = 100001
response_body_limit = "2MiB"
[server]
listen = "127.0.0.1:65536"
`;
  assert.deepEqual(problems({ text, file: "r.toml" }).map((i) => `${i.path}: ${i.message}`), [
    "store.url: expected a URL starting with file:, libsql://, http://, https://, ws:// or " +
    'wss://, got "postgres://db"',
    "store.commit_max_batch: expected an integer from 1 to 10000, got 0",
    'store.commit_window: expected a duration from "0s" to "1s", got "2s"',
    "delivery.concurrency: expected an integer from 1 to 100000, got 100001",
    'delivery.response_body_limit: expected a size from "0B" to "1MiB", got "2MiB"',
    'server.listen: expected "host:port" with port 0-65535 (e.g. "127.0.0.1:8787", ' +
    '"[::1]:8787"), got "127.0.0.1:65536"',
  ]);
});

Deno.test("retention: ages are durations of an hour or more, or never", () => {
  const config = loadConfig({
    text: '[retention]\nsucceeded = "never"\ndead = "7d"\n',
    env: { HOOKD_RETENTION_EVENTS: "never", HOOKD_RETENTION_BATCH: "100" },
  });
  assert.deepEqual(config.retention, {
    succeededMs: null,
    deadMs: 7 * 86_400_000,
    eventsMs: null,
    intervalMs: 60_000,
    batch: 100,
  });
  const text = '[retention]\nsucceeded = "10m"\ndead = "forever"\nbatch = 5\n';
  assert.deepEqual(problems({ text, file: "r.toml" }).map((i) => `${i.path}: ${i.message}`), [
    'retention.succeeded: expected a duration from "1h" to "36500d", or "never", got "10m"',
    'retention.dead: expected a duration such as "90d", or "never", got "forever"',
    "retention.batch: expected an integer from 10 to 10000, got 5",
  ]);
});

Deno.test("loadConfig() reports env problems by variable, with a suggestion", () => {
  const issues = problems({
    env: {
      HOOKD_SERVER_LISTN: "0.0.0.0:1",
      HOOKD_DELIVERY_CONCURRENCY: "ten",
      HOOKD_SECURITY_REQUIRE_HTTPS: "yes",
      HOOKD_SERVER_LISTEN: "nope",
    },
  });
  assert.deepEqual(issues, [
    {
      path: "delivery.concurrency",
      message: 'expected an integer, got "ten"',
      env: "HOOKD_DELIVERY_CONCURRENCY",
    },
    {
      path: "security.require_https",
      message: 'expected true, false, 1 or 0, got "yes"',
      env: "HOOKD_SECURITY_REQUIRE_HTTPS",
    },
    {
      path: "",
      message: "unknown variable; did you mean HOOKD_SERVER_LISTEN?",
      env: "HOOKD_SERVER_LISTN",
    },
    {
      path: "server.listen",
      message: 'expected "host:port" with port 0-65535 (e.g. "127.0.0.1:8787", "[::1]:8787"), ' +
        'got "nope"',
      env: "HOOKD_SERVER_LISTEN",
    },
  ]);
  assert.throws(() => loadConfig({ env: { HOOKD_DELIVERY_CONCURRENCY: "0" } }), {
    message: "Invalid configuration (1 problem):\n" +
      "env HOOKD_DELIVERY_CONCURRENCY: delivery.concurrency: expected an integer from 1 to " +
      "100000, got 0",
  });
});

Deno.test("loadConfig() collects file, syntax-free and env problems in one error", () => {
  const issues = problems({
    text: '[server]\nlisten = "x"\n[log]\nlevel = "loud"\n',
    file: "all.toml",
    env: { HOOKD_NOPE: "1" },
  });
  assert.deepEqual(issues.map((i) => [i.file ?? i.env, i.line, i.path]), [
    ["all.toml", 2, "server.listen"],
    ["all.toml", 4, "log.level"],
    ["HOOKD_NOPE", undefined, ""],
  ]);
});

Deno.test("loadConfig() resolves user policies from the built-in default policy", () => {
  const config = loadConfig({
    text: `
[policies.default]
timeout = "3s"
on_exhausted = "failed"

[policies.fast]
schedule = ["0s", "1s", "2s"]
`,
  });
  assert.deepEqual(Object.keys(config.policies), ["default", "fast"]);
  assert.equal(config.policies.default?.timeoutMs, 3_000);
  assert.equal(config.policies.default?.onExhausted, "failed");
  assert.deepEqual(config.policies.default?.schedule, DEFAULTS.policies.default?.schedule);
  // "fast" starts from the built-in default, not from the user's override of it.
  assert.deepEqual(config.policies.fast, {
    ...DEFAULTS.policies.default,
    name: "fast",
    schedule: { kind: "list", delaysMs: [0, 1_000, 2_000], jitter: 0.1 },
  });
});

Deno.test("loadConfig() expresses each seed contract as a policy", () => {
  const config = loadConfig({
    file: "seeds.toml",
    text: `
# 000: 10 attempts, 5m then x2 with a small random offset; 5s timeout; then failed.
[policies.seed000]
timeout = "5s"
schedule = { first = "5m", factor = 2, attempts = 10, jitter = 0.1 }
success = ["2xx"]
retry = ["any"]
on_exhausted = "failed"

# 001: 8 attempts at fixed delays, 10s timeout, then dead-letter for replay.
[policies.seed001]
timeout = "10s"
schedule = ["0s", "30s", "2m", "10m", "30m", "1h", "4h", "12h"]
jitter = 0
success = ["2xx"]
retry = ["any"]
on_exhausted = "dead"

# 002: 200-399 succeed; some failures retry, some are final; exponential for 24h.
[policies.seed002]
timeout = "5s"
schedule = { first = "30s", factor = 2, max_delay = "1h", max_age = "24h" }
success = ["200-399"]
retry = ["408", "429", "5xx", "network", "timeout"]
final = ["400", "401", "403", "404", "410"]
on_exhausted = "failed"

# 003: only exactly 200 is a success.
[policies.seed003]
success = ["200"]

# 004: 4 attempts: 0, 5m, 30m, 2h; 10s timeout; then failed.
[policies.seed004]
timeout = "10s"
schedule = ["0s", "5m", "30m", "2h"]
jitter = 0
on_exhausted = "failed"
`,
  });
  const base = DEFAULTS.policies.default;
  assert.ok(base !== undefined);
  assert.deepEqual(config.policies.seed000, {
    name: "seed000",
    timeoutMs: 5_000,
    schedule: {
      kind: "exponential",
      firstMs: 300_000,
      factor: 2,
      attempts: 10,
      jitter: 0.1,
      maxDelayMs: 86_400_000,
      maxAgeMs: undefined,
    },
    success: { ...NONE, statuses: [[200, 299]] },
    retry: { ...NONE, any: true },
    final: NONE,
    onExhausted: "failed",
    retryAfter: true,
    autoDisable: base.autoDisable,
    breaker: base.breaker,
    adaptiveConcurrency: true,
  });
  assert.deepEqual(config.policies.seed001, {
    ...base,
    name: "seed001",
    schedule: {
      kind: "list",
      delaysMs: [0, 30_000, 120_000, 600_000, 1_800_000, 3_600_000, 14_400_000, 43_200_000],
      jitter: 0,
    },
    onExhausted: "dead",
  });
  assert.deepEqual(config.policies.seed002, {
    name: "seed002",
    timeoutMs: 5_000,
    schedule: {
      kind: "exponential",
      firstMs: 30_000,
      factor: 2,
      attempts: undefined,
      jitter: 0.1,
      maxDelayMs: 3_600_000,
      maxAgeMs: 86_400_000,
    },
    success: { ...NONE, statuses: [[200, 399]] },
    retry: {
      statuses: [[408, 408], [429, 429], [500, 599]],
      any: false,
      network: true,
      timeout: true,
      auth: false,
    },
    final: { ...NONE, statuses: [[400, 400], [401, 401], [403, 403], [404, 404], [410, 410]] },
    onExhausted: "failed",
    retryAfter: true,
    autoDisable: base.autoDisable,
    breaker: base.breaker,
    adaptiveConcurrency: true,
  });
  assert.deepEqual(config.policies.seed003, {
    ...base,
    name: "seed003",
    success: { ...NONE, statuses: [[200, 200]] },
  });
  assert.deepEqual(config.policies.seed004, {
    ...base,
    name: "seed004",
    schedule: { kind: "list", delaysMs: [0, 300_000, 1_800_000, 7_200_000], jitter: 0 },
    onExhausted: "failed",
  });
});

Deno.test("loadConfig() reports policy errors at their position in the file", () => {
  const text = `[policies.a]
success = ["2xx"]
final = ["404", "200"]
schedule = ["0s", "1x"]

[policies.b]
schedule = { first = "5m", attempts = 3 }
jitter = 0.5
`;
  assert.deepEqual(
    problems({ text, file: "p.toml" }).map((i) => `${i.line}:${i.column} ${i.path}: ${i.message}`),
    [
      '3:17 policies.a.final[1]: "200" overlaps success "2xx"; a status cannot be both a ' +
      "success and a failure",
      '4:19 policies.a.schedule[1]: expected a number followed by ms, s, m, h or d (e.g. "5s", ' +
      '"1h30m"), got "1x"',
      "8:1 policies.b.jitter: policy-level jitter applies to a list schedule only; put jitter " +
      "inside the schedule table",
    ],
  );
  assert.deepEqual(problems({ text: "policies = 1", file: "p.toml" }), [{
    path: "policies",
    message: "expected [policies.NAME] tables, got 1",
    file: "p.toml",
    line: 1,
    column: 1,
  }]);
});

Deno.test("loadConfig() requires every policy timeout to be shorter than the lease", () => {
  // The user's own timeout is blamed when it is the one that is too long...
  assert.deepEqual(
    problems({
      text: '[delivery]\nlease = "30s"\n[policies.slow]\ntimeout = "45s"\n',
      file: "l.toml",
    }),
    [{
      path: "policies.slow.timeout",
      message: 'must be shorter than delivery.lease ("30s") so that a claim outlives its ' +
        'attempt, got "45s"',
      file: "l.toml",
      line: 4,
      column: 1,
    }],
  );
  // ...and the lease when only inherited timeouts exceed it.
  assert.deepEqual(problems({ text: '[delivery]\nlease = "5s"\n', file: "l.toml" }), [{
    path: "delivery.lease",
    message: 'must be longer than the timeout of policy "default" ("10s") so that a claim ' +
      'outlives its attempt, got "5s"',
    file: "l.toml",
    line: 2,
    column: 1,
  }]);
  assert.deepEqual(problems({ env: { HOOKD_DELIVERY_LEASE: "10s" } }), [{
    path: "delivery.lease",
    message: 'must be longer than the timeout of policy "default" ("10s") so that a claim ' +
      'outlives its attempt, got "10s"',
    env: "HOOKD_DELIVERY_LEASE",
  }]);
});

Deno.test("formatKeyPath() renders keys, quoted keys and indexes", () => {
  assert.equal(formatKeyPath(["policies", "fast", "schedule", 2]), "policies.fast.schedule[2]");
  assert.equal(formatKeyPath(["policies", "Fast Lane"]), 'policies."Fast Lane"');
  assert.equal(formatKeyPath([]), "");
});

Deno.test("server TLS needs both the certificate and the key", () => {
  // Shown where the half that was set came from: the file's line, or its variable.
  assert.deepEqual(problems({ text: '[server]\ntls_cert = "cert.pem"\n', file: "t.toml" }), [{
    path: "server.tls_key",
    message: "must be set too: tls_cert and tls_key serve HTTPS together (or leave both empty)",
    file: "t.toml",
    line: 2,
    column: 1,
  }]);
  assert.deepEqual(problems({ env: { HOOKD_SERVER_TLS_KEY: "k.pem" } }), [{
    path: "server.tls_cert",
    message: "must be set too: tls_cert and tls_key serve HTTPS together (or leave both empty)",
    env: "HOOKD_SERVER_TLS_KEY",
  }]);
  const both = loadConfig({ text: '[server]\ntls_cert = "c.pem"\ntls_key = "k.pem"\n' });
  assert.equal(both.server.tlsCert, "c.pem");
  assert.equal(both.server.tlsKey, "k.pem");
});

Deno.test("a misspelt key of every table is reported at its line with a suggestion", () => {
  // Drops the last letter, which every key survives as a recognisable typo.
  const typo = (key: string) => key.slice(0, -1);
  const lines: string[] = [];
  const expected: { path: string; line: number; suggestion: string }[] = [];
  const misspell = (table: string, keys: readonly string[]) => {
    for (const key of keys) {
      lines.push(`${typo(key)} = 1`);
      expected.push({
        path: [table, typo(key)].filter((p) => p !== "").join("."),
        line: lines.length,
        suggestion: key,
      });
    }
  };
  misspell("", TOP_LEVEL_KEYS);
  for (const [section, fields] of Object.entries(SECTIONS)) {
    lines.push(`[${section}]`);
    misspell(section, Object.keys(fields));
  }
  lines.push("[policies.p]");
  misspell("policies.p", POLICY_KEYS);
  lines.push("[policies.e.schedule]", 'first = "1s"', "attempts = 2");
  misspell("policies.e.schedule", [
    "first",
    "factor",
    "attempts",
    "jitter",
    "max_delay",
    "max_age",
  ]);
  lines.push("[profiles.p]");
  misspell("profiles.p", PROFILE_KEYS);
  lines.push("[profiles.s.signature]", 'scheme = "none"');
  misspell("profiles.s.signature", ["scheme", "header", "content", "encoding", "prefix"]);

  const issues = problems({ text: lines.join("\n"), file: "typo.toml" });
  assert.deepEqual(
    issues.map((i) => `${i.file}:${i.line}:${i.column}: ${i.path}: ${i.message}`),
    expected.map((e) =>
      `typo.toml:${e.line}:1: ${e.path}: unknown key; did you mean "${e.suggestion}"?`
    ),
  );
});

Deno.test("security.allow_cidrs: a list of CIDR ranges from the file or a comma-separated variable", () => {
  const fromFile = loadConfig({
    text: '[security]\nallow_cidrs = ["10.1.0.0/16", "FD00:0::/8", "192.168.7.7"]\n',
  });
  assert.deepEqual(fromFile.security.allowCidrs, ["10.1.0.0/16", "fd00::/8", "192.168.7.7/32"]);
  const fromEnv = loadConfig({ env: { HOOKD_SECURITY_ALLOW_CIDRS: " 10.2.0.0/16, ::1/128 " } });
  assert.deepEqual(fromEnv.security.allowCidrs, ["10.2.0.0/16", "::1/128"]);
  assert.deepEqual(loadConfig({}).security.allowCidrs, [], "none by default");

  const issues = (text: string) =>
    problems({ text, file: "c.toml" }).map((i) => `${i.path}: ${i.message}`);
  assert.deepEqual(issues('[security]\nallow_cidrs = ["10.1.0.0/16", "10.1.2.3/16"]\n'), [
    'security.allow_cidrs: entry 2: host bits must be zero, got "10.1.2.3/16" ' +
    '(write e.g. "10.1.0.0/16" or "fd00::/8")',
  ]);
  assert.deepEqual(issues('[security]\nallow_cidrs = ["intranet"]\n'), [
    'security.allow_cidrs: entry 1: expected an IP address, got "intranet" ' +
    '(write e.g. "10.1.0.0/16" or "fd00::/8")',
  ]);
  assert.deepEqual(issues("[security]\nallow_cidrs = 10\n"), [
    'security.allow_cidrs: expected a list of CIDR ranges such as ["10.1.0.0/16"], got 10',
  ]);
  assert.deepEqual(issues("[security]\nallow_cidrs = [10]\n"), [
    "security.allow_cidrs: entry 1: expected a CIDR string, got 10",
  ]);
});

Deno.test("delivery.proxy and delivery.proxies: http:// URLs with a port, credentials kept secret", () => {
  const config = loadConfig({
    text: `[delivery]
proxy = "http://hookd:p%40ss@10.0.0.2:3128"
proxies = { eu = "http://[fd00::2]:8080", us-1 = "http://proxy.internal:3128" }
`,
  });
  const proxy = config.delivery.proxy!;
  assert.equal(proxy.display, "10.0.0.2:3128");
  assert.equal(proxy.hostname, "10.0.0.2");
  assert.equal(proxy.port, 3128);
  assert.equal(proxy.authorization, `Basic ${btoa("hookd:p@ss")}`);
  assert.doesNotMatch(proxy.key, /hookd|p@ss|p%40ss/, "the pool key never holds the credentials");
  assert.deepEqual(
    Object.entries(config.delivery.proxies).map(([name, p]) => [name, p.hostname, p.port]),
    [["eu", "fd00::2", 8080], ["us-1", "proxy.internal", 3128]],
  );
  assert.equal(config.delivery.proxies.eu!.authorization, null);
  assert.equal(loadConfig({}).delivery.proxy, null, "none by default");
  const fromEnv = loadConfig({
    env: {
      HOOKD_DELIVERY_PROXY: "http://10.0.0.9:3128",
      HOOKD_DELIVERY_PROXIES: " eu=http://10.0.0.3:3128 , us=http://u:pw@10.0.0.4:3128 ",
    },
  });
  assert.equal(fromEnv.delivery.proxy?.display, "10.0.0.9:3128");
  assert.deepEqual(Object.keys(fromEnv.delivery.proxies), ["eu", "us"]);
  assert.equal(fromEnv.delivery.proxies.us!.authorization, `Basic ${btoa("u:pw")}`);

  const issues = (text: string) =>
    problems({ text: `[delivery]\n${text}\n`, file: "c.toml" }).map((i) =>
      `${i.path}: ${i.message}`
    );
  assert.deepEqual(issues('proxy = "https://u:secret@10.0.0.2:3128"'), [
    "delivery.proxy: https:// proxies are not supported: hookd speaks plain HTTP to the proxy " +
    "and runs TLS to the receiver end to end through a CONNECT tunnel; write http://, " +
    'got "https://(credentials)@10.0.0.2:3128"',
  ]);
  assert.deepEqual(issues('proxy = "socks5://10.0.0.2:1080"'), [
    'delivery.proxy: expected an http:// proxy URL such as "http://proxy.internal:3128" or ' +
    '"http://user:password@10.0.0.2:3128", got "socks5://10.0.0.2:1080"',
  ]);
  assert.deepEqual(issues('proxy = "http://u:secret@10.0.0.2"'), [
    'delivery.proxy: expected a port in the proxy URL, e.g. "http://proxy.internal:3128" or ' +
    '"http://user:password@10.0.0.2:3128", got "http://(credentials)@10.0.0.2"',
  ]);
  assert.deepEqual(issues('proxy = "http://10.0.0.2:3128/path"'), [
    'delivery.proxy: expected no path, query or fragment in the proxy URL, got "http://10.0.0.2:3128/path"',
  ]);
  assert.deepEqual(issues('proxy = "10.0.0.2:3128"'), [
    'delivery.proxy: expected a proxy URL such as "http://proxy.internal:3128" or ' +
    '"http://user:password@10.0.0.2:3128", got "10.0.0.2:3128"',
  ]);
  assert.deepEqual(issues("proxy = 3128"), [
    'delivery.proxy: expected a proxy URL such as "http://proxy.internal:3128", or "", got 3128',
  ]);
  assert.deepEqual(issues('proxies = { direct = "http://10.0.0.2:3128" }'), [
    'delivery.proxies: proxy names are 1-64 of a-z, 0-9, "_" and "-", and not "direct", got "direct"',
  ]);
  assert.deepEqual(issues('proxies = { eu = "http://u:secret@10.0.0.2" }'), [
    'delivery.proxies: proxy "eu": expected a port in the proxy URL, e.g. ' +
    '"http://proxy.internal:3128" or "http://user:password@10.0.0.2:3128", ' +
    'got "http://(credentials)@10.0.0.2"',
  ]);
  assert.deepEqual(issues('proxies = ["http://10.0.0.2:3128"]'), [
    'delivery.proxies: expected a table of proxy URLs such as { eu = "http://10.0.0.2:3128" }, ' +
    "got an array",
  ]);
});
