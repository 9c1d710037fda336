/**
 * Property-based test of config loading: random TOML-ish text and random
 * values under real keys either load or fail with a ConfigError listing
 * issues — never any other exception. Fixed seed, bounded runs.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { ConfigError } from "./config_error.ts";
import { loadConfig } from "./load_config.ts";

const RUNS = Number(Deno.env.get("HOOKD_FUZZ_RUNS") ?? 300);
const SEED = 20261123;

const keys = [
  "server.listen",
  "server.body_limit",
  "store.url",
  "store.commit_window",
  "delivery.concurrency",
  "delivery.lease",
  "policies.p.schedule",
  "policies.p.success",
  "policies.p.retry",
  "policies.p.timeout",
  "profiles.x.headers",
  "profiles.x.body",
  "profiles.x.signature",
  "log.level",
];

const tomlValue = fc.oneof(
  fc.string({ maxLength: 30 }).map((s) => JSON.stringify(s)),
  fc.integer().map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map(String),
  fc.boolean().map(String),
  fc.array(fc.string({ maxLength: 10 }).map((s) => JSON.stringify(s)), { maxLength: 5 })
    .map((a) => `[${a.join(", ")}]`),
  fc.constantFrom(
    '{ scheme = "hmac-sha256", header = "X-S", content = "{body}" }',
    '{ first = "5m", factor = 2, attempts = 10 }',
    '{ "X-A" = "{event_id}", "X-B" = "{nope}" }',
    '{ data = "{data}", v = "{payload_version}" }',
    '"1h30m"',
    '"-5s"',
    '["0s", "1s"]',
  ),
);

function loads(text: string): void {
  try {
    loadConfig({ text, file: "fuzz.toml" });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    assert.ok(error.issues.length > 0);
    for (const issue of error.issues) assert.equal(typeof issue.message, "string");
  }
}

Deno.test("fuzz: config loading only ever succeeds or raises a ConfigError", () => {
  let tried = 0;
  fc.assert(
    fc.property(fc.string({ unit: "binary", maxLength: 400 }), (text) => {
      tried++;
      loads(text);
    }),
    { seed: SEED, numRuns: RUNS },
  );
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.constantFrom(...keys), tomlValue), { minLength: 1, maxLength: 6 }),
      (entries) => {
        tried++;
        const tables = new Map<string, string[]>();
        for (const [key, value] of entries) {
          const dot = key.lastIndexOf(".");
          const table = key.slice(0, dot);
          if (!tables.has(table)) tables.set(table, []);
          const lines = tables.get(table)!;
          const name = key.slice(dot + 1);
          if (!lines.some((l) => l.startsWith(`${name} =`))) lines.push(`${name} = ${value}`);
        }
        loads([...tables].map(([t, lines]) => `[${t}]\n${lines.join("\n")}`).join("\n\n"));
      },
    ),
    { seed: SEED, numRuns: RUNS },
  );
  console.log(`config fuzz: ${tried} inputs tried, 0 failures (seed ${SEED})`);
});
