import assert from "node:assert/strict";
import { parseArgs } from "./args.ts";
import { API_OPTIONS, apiTarget, DEFAULT_URL } from "./api_target.ts";
import { UsageError } from "./errors.ts";

const target = (args: string[], env: Record<string, string> = {}) =>
  apiTarget(parseArgs(args, API_OPTIONS), env, "webhooks");

Deno.test("the default URL is serve's default listen address", () => {
  assert.equal(DEFAULT_URL, "http://127.0.0.1:8787");
  assert.equal(target([], { HOOKD_KEY: "k" }).base.href, "http://127.0.0.1:8787/");
});

Deno.test("--url beats HOOKD_URL; a path prefix is kept, a query dropped", () => {
  const env = { HOOKD_URL: "http://env.example:1234", HOOKD_KEY: "k" };
  assert.equal(target([], env).base.href, "http://env.example:1234/");
  assert.equal(
    target(["--url", "https://proxy.example/hookd?x=1"], env).base.href,
    "https://proxy.example/hookd/",
  );
});

Deno.test("the key: --key, else HOOKD_KEY, else HOOKD_ADMIN_KEY, else HOOKD_AUTH_ADMIN_KEY", () => {
  const all = { HOOKD_KEY: "a", HOOKD_ADMIN_KEY: "b", HOOKD_AUTH_ADMIN_KEY: "c" };
  assert.equal(target(["--key", "flag"], all).key, "flag");
  assert.equal(target([], all).key, "a");
  assert.equal(target([], { ...all, HOOKD_KEY: "" }).key, "b");
  assert.equal(target([], { HOOKD_AUTH_ADMIN_KEY: "c" }).key, "c");
});

Deno.test("a bad URL or no key is a usage error naming where it came from", () => {
  const cases: [string[], Record<string, string>, RegExp][] = [
    [
      ["--url", "127.0.0.1:8787"],
      { HOOKD_KEY: "k" },
      /^--url must be an http:\/\/ or https:\/\/ URL/,
    ],
    [["--url", "ftp://x"], { HOOKD_KEY: "k" }, /^--url must be .*, got "ftp:\/\/x"$/],
    [[], { HOOKD_URL: "nope", HOOKD_KEY: "k" }, /^HOOKD_URL must be .*, got "nope"$/],
    [[], {}, /^no API key: pass --key KEY or set HOOKD_KEY/],
  ];
  for (const [args, env, message] of cases) {
    assert.throws(() => target(args, env), (error) => {
      assert.ok(error instanceof UsageError);
      assert.match(error.message, message);
      assert.equal(error.command, "webhooks");
      return true;
    });
  }
});
