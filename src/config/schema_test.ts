import assert from "node:assert/strict";
import { parse } from "smol-toml";
import { DEFAULT_TOML } from "./default_toml.ts";
import { POLICY_KEYS } from "./policy.ts";
import { PROFILE_KEYS } from "./profile.ts";
import { loadConfig } from "./load_config.ts";
import { configSchema, envName, SECTIONS, TOP_LEVEL_KEYS } from "./schema.ts";

Deno.test("envName() builds HOOKD_<SECTION>_<KEY>", () => {
  assert.equal(envName("server", "listen"), "HOOKD_SERVER_LISTEN");
  assert.equal(
    envName("security", "allow_private_targets"),
    "HOOKD_SECURITY_ALLOW_PRIVATE_TARGETS",
  );
});

Deno.test("default.toml has exactly the schema's keys, each parsing as its field", () => {
  const doc = parse(DEFAULT_TOML) as Record<string, Record<string, unknown>>;
  assert.deepEqual(Object.keys(doc), TOP_LEVEL_KEYS);
  for (const [section, fields] of Object.entries(SECTIONS)) {
    assert.deepEqual(Object.keys(doc[section] ?? {}), Object.keys(fields), section);
    for (const [key, field] of Object.entries(fields)) {
      field.parse(doc[section]?.[key]);
    }
  }
  assert.deepEqual(Object.keys(doc.policies ?? {}), ["default"]);
  assert.deepEqual(Object.keys((doc.policies?.default ?? {}) as object), [...POLICY_KEYS]);
  assert.deepEqual(Object.keys(doc.profiles ?? {}), ["standard"]);
  assert.deepEqual(Object.keys((doc.profiles?.standard ?? {}) as object), [...PROFILE_KEYS]);
});

Deno.test("default.toml documents every key with a comment right above it", () => {
  const lines = DEFAULT_TOML.split("\n");
  lines.forEach((line, i) => {
    if (/^[a-z_]+ = /.test(line)) {
      assert.match(lines[i - 1] ?? "", /^#/, `line ${i + 1}: ${line}`);
    }
  });
});

Deno.test("default.toml alone parses to the whole built-in config, every key resolved", () => {
  const fromFile = configSchema().parse(parse(DEFAULT_TOML));
  assert.deepEqual(configSchema().parse({}), fromFile, "omitted tables are default.toml's");
  assert.deepEqual(loadConfig(), fromFile);
  const undefinedAt: string[] = [];
  const walk = (value: unknown, path: string) => {
    if (value === undefined) undefinedAt.push(path);
    else if (typeof value === "object" && value !== null) {
      for (const [key, child] of Object.entries(value)) walk(child, `${path}.${key}`);
    }
  };
  walk(fromFile, "config");
  assert.deepEqual(undefinedAt, []);
  // Every section of the derived type is there, and nothing else.
  assert.deepEqual(Object.keys(fromFile), TOP_LEVEL_KEYS);
  assert.deepEqual(Object.keys(fromFile.policies), ["default"]);
  assert.deepEqual(Object.keys(fromFile.profiles), ["standard"]);
});
