import assert from "node:assert/strict";
import { formatConfig, redactUrl } from "./format_config.ts";
import { loadConfig } from "./load_config.ts";

const EXPECTED_DEFAULTS = `[server]
listen = "127.0.0.1:8787"
body_limit = "1MiB"
shutdown_grace = "10s"
tls_cert = ""
tls_key = ""
enforce_connection_limits = "auto"
header_timeout = "10s"
idle_timeout = "1m"
max_header_size = "16KiB"
max_connections = 1024
metrics_key = (empty)

[store]
url = "file:data/hookd.db"
auth_token = (empty)
commit_window = "0s"
commit_max_batch = 512

[auth]
admin_key = (empty)

[security]
require_https = false
allow_private_targets = false
allow_cidrs = []

[delivery]
concurrency = 256
max_in_flight_per_webhook = 16
response_body_limit = "4KiB"
payload_memory = "64MiB"
lease = "1m"
horizon = "1m"
dead_letter_event_window = "5m"
proxy = ""
proxies = {}

[retention]
succeeded = "30d"
dead = "90d"
events = "30d"
interval = "1m"
batch = 500

[log]
level = "info"
format = "json"

[policies.default]
timeout = "10s"
schedule = ["0s", "5s", "5m", "30m", "2h", "5h", "10h", "10h"]
jitter = 0.1
success = ["2xx"]
retry = ["any"]
final = []
on_exhausted = "dead"
retry_after = true
disable_after_failing_for = "5d"
disable_after_exhausted = 0
disable_on_status = ["410"]
breaker_failures = 10
breaker_failure_rate = 0
breaker_window = "1m"
breaker_min_attempts = 20
breaker_cooldown = "30s"
breaker_max_cooldown = "10m"
adaptive_concurrency = true

[profiles.standard]
headers = {}
body = "data"
payload_version = "1.0"
signature = { scheme = "standard-webhooks" }
`;

Deno.test("formatConfig() renders every key of the defaults", () => {
  assert.equal(formatConfig(loadConfig()), EXPECTED_DEFAULTS);
});

Deno.test("formatConfig() never shows secrets", () => {
  const text = formatConfig(loadConfig({
    env: {
      HOOKD_ADMIN_KEY: "super-secret-admin",
      HOOKD_STORE_AUTH_TOKEN: "secret-token",
      HOOKD_SERVER_METRICS_KEY: "secret-metrics-key",
      HOOKD_STORE_URL: "libsql://db.turso.io?authToken=secret-in-url",
      HOOKD_DELIVERY_PROXY: "http://secret-user:secret-pw@10.0.0.2:3128",
      HOOKD_DELIVERY_PROXIES: "eu=http://u:secret@10.0.0.3:3128,us=http://10.0.0.4:3128",
    },
  }));
  assert.match(text, /^admin_key = \(set\)$/m);
  assert.match(text, /^auth_token = \(set\)$/m);
  assert.match(text, /^metrics_key = \(set\)$/m);
  assert.match(text, /^url = "libsql:\/\/db\.turso\.io\?authToken=\(set\)"$/m);
  assert.match(text, /^proxy = "http:\/\/\(set\)@10\.0\.0\.2:3128"$/m);
  assert.match(
    text,
    /^proxies = \{ eu = "http:\/\/\(set\)@10\.0\.0\.3:3128", us = "http:\/\/10\.0\.0\.4:3128" \}$/m,
  );
  assert.doesNotMatch(text, /secret/);
});

Deno.test("redactUrl() hides tokens and passwords in URLs", () => {
  const table: [string, string][] = [
    ["file:data/hookd.db", "file:data/hookd.db"],
    ["libsql://db.turso.io", "libsql://db.turso.io"],
    ["libsql://db.turso.io?authToken=abc", "libsql://db.turso.io?authToken=(set)"],
    ["https://db?tls=1&authToken=abc#x", "https://db?tls=1&authToken=(set)#x"],
    ["http://user:pw@127.0.0.1:8080", "http://user:(set)@127.0.0.1:8080"],
  ];
  for (const [url, expected] of table) assert.equal(redactUrl(url), expected);
});

Deno.test("formatConfig() output loads back to the same config", () => {
  const config = loadConfig({
    text: `
[server]
listen = "[::1]:0"
body_limit = 1500
[delivery]
lease = "90s"
proxy = "http://10.0.0.2:3128"
proxies = { eu = "http://[fd00::2]:3128", us = "http://proxy.internal:8080" }
[retention]
succeeded = "never"
dead = "1d12h"
batch = 100
[policies.expo]
timeout = "5s"
schedule = { first = "5m", factor = 1.5, attempts = 10, max_age = "1d12h", jitter = 0 }
success = ["200-399", "2xx"]
retry = ["408", "5xx", "network", "timeout"]
final = ["4xx"]
on_exhausted = "failed"
retry_after = false
[policies.list]
schedule = ["0s", "1500ms", "1h30m"]
jitter = 0.25
[profiles.agc]
payload_version = "2.0"
headers = { "X-Agc-Tenant-Id" = "{tenant_id}", "X-Literal" = "{{not a variable}}" }
body = { version = "{payload_version}", "odd key" = [1, 2.5, true, "{data}"], nested = { data = "{data}", t = "{tenant_id}" } }
[profiles.agc.signature]
scheme = "hmac-sha256"
header = "X-Agc-Signature"
content = "{attempt_timestamp_iso}.{body}"
encoding = "base64"
prefix = "sha256="
[profiles.sv]
signature = { scheme = "svix" }
[profiles.gh]
signature = { scheme = "github" }
`,
  });
  const text = formatConfig(config).replaceAll(/\((set|empty)\)/g, '""');
  assert.match(text, /^body_limit = "1500B"$/m);
  assert.match(
    text,
    /^schedule = \{ first = "5m", factor = 1\.5, attempts = 10, max_delay = "1d", max_age = "1d12h", jitter = 0 \}$/m,
  );
  assert.match(
    text,
    /^body = \{ version = "\{payload_version\}", "odd key" = \[1, 2\.5, true, "\{data\}"\], nested = \{ data = "\{data\}", t = "\{tenant_id\}" \} \}$/m,
  );
  assert.match(
    text,
    /^headers = \{ "X-Agc-Tenant-Id" = "\{tenant_id\}", "X-Literal" = "\{\{not a variable\}\}" \}$/m,
  );
  assert.match(text, /^signature = \{ scheme = "svix" \}$/m);
  assert.match(text, /^succeeded = "never"\ndead = "1d12h"\n/m);
  assert.deepEqual(Object.keys(config.profiles), ["standard", "agc", "sv", "gh"]);
  assert.deepEqual(loadConfig({ text }), config);
});
