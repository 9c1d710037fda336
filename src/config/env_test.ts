import assert from "node:assert/strict";
import { readEnv } from "./env.ts";

Deno.test("readEnv() converts values to their key's type", () => {
  const { values, issues } = readEnv({
    PATH: "/usr/bin",
    HOOKD_CONFIG: "/etc/hookd.toml",
    HOOKD_SERVER_LISTEN: "0.0.0.0:9000",
    HOOKD_SECURITY_ALLOW_PRIVATE_TARGETS: "true",
    HOOKD_SECURITY_REQUIRE_HTTPS: "0",
    HOOKD_DELIVERY_CONCURRENCY: "64",
    HOOKD_SERVER_BODY_LIMIT: "2MiB",
    HOOKD_ADMIN_KEY: "k",
  });
  assert.deepEqual(issues, []);
  assert.deepEqual(values, [
    { section: "auth", key: "admin_key", variable: "HOOKD_ADMIN_KEY", value: "k" },
    { section: "delivery", key: "concurrency", variable: "HOOKD_DELIVERY_CONCURRENCY", value: 64 },
    {
      section: "security",
      key: "allow_private_targets",
      variable: "HOOKD_SECURITY_ALLOW_PRIVATE_TARGETS",
      value: true,
    },
    {
      section: "security",
      key: "require_https",
      variable: "HOOKD_SECURITY_REQUIRE_HTTPS",
      value: false,
    },
    { section: "server", key: "body_limit", variable: "HOOKD_SERVER_BODY_LIMIT", value: "2MiB" },
    { section: "server", key: "listen", variable: "HOOKD_SERVER_LISTEN", value: "0.0.0.0:9000" },
  ]);
});

Deno.test("readEnv() reports unknown variables and bad values by name", () => {
  const { values, issues } = readEnv({
    HOOKD_SERVER_LISTN: "x",
    HOOKD_NOPE: "1",
    HOOKD_SECURITY_REQUIRE_HTTPS: "yes",
    HOOKD_DELIVERY_CONCURRENCY: "lots",
    HOOKD_ADMIN_KEY: "a",
    HOOKD_AUTH_ADMIN_KEY: "b",
  });
  assert.equal(values.length, 2);
  assert.deepEqual(issues, [
    {
      variable: "HOOKD_DELIVERY_CONCURRENCY",
      path: "delivery.concurrency",
      message: 'expected an integer, got "lots"',
    },
    {
      variable: "HOOKD_NOPE",
      path: "",
      message: "unknown variable; hookd reads HOOKD_CONFIG, HOOKD_ADMIN_KEY and " +
        "HOOKD_<SECTION>_<KEY> for the keys of [server], [store], [auth], [security], " +
        "[delivery], [retention], [log]",
    },
    {
      variable: "HOOKD_SECURITY_REQUIRE_HTTPS",
      path: "security.require_https",
      message: 'expected true, false, 1 or 0, got "yes"',
    },
    {
      variable: "HOOKD_SERVER_LISTN",
      path: "",
      message: "unknown variable; did you mean HOOKD_SERVER_LISTEN?",
    },
    {
      variable: "HOOKD_ADMIN_KEY",
      path: "auth.admin_key",
      message: "set either HOOKD_ADMIN_KEY or HOOKD_AUTH_ADMIN_KEY, not both",
    },
  ]);
});

Deno.test("readEnv() leaves the variables of main.ts and the operator commands alone", () => {
  const { values, issues } = readEnv({
    HOOKD_CONFIG: "/etc/hookd/hookd.toml",
    HOOKD_URL: "http://127.0.0.1:8787",
    HOOKD_KEY: "hkd_secret",
    HOOKD_SERVER_LISTEN: "127.0.0.1:9000",
  });
  assert.deepEqual(issues, []);
  assert.deepEqual(values.map((v) => v.variable), ["HOOKD_SERVER_LISTEN"]);
});
