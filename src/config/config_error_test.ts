import assert from "node:assert/strict";
import { ConfigError, formatIssue } from "./config_error.ts";

Deno.test("formatIssue() puts the position or variable first", () => {
  const table: [Parameters<typeof formatIssue>[0], string][] = [
    [
      { path: "server.listen", message: "bad", file: "a.toml", line: 3, column: 1 },
      "a.toml:3:1: server.listen: bad",
    ],
    [
      { path: "server.listen", message: "bad", file: "a.toml", line: 3 },
      "a.toml:3: server.listen: bad",
    ],
    [{ path: "server.listen", message: "bad", file: "a.toml" }, "a.toml: server.listen: bad"],
    [
      { path: "server.listen", message: "bad", env: "HOOKD_SERVER_LISTEN" },
      "env HOOKD_SERVER_LISTEN: server.listen: bad",
    ],
    [{ path: "", message: "cannot read", file: "a.toml" }, "a.toml: cannot read"],
    [{ path: "x", message: "bad" }, "x: bad"],
  ];
  for (const [issue, expected] of table) assert.equal(formatIssue(issue), expected);
});

Deno.test("ConfigError lists every issue and keeps them", () => {
  const issues = [
    { path: "a", message: "one", file: "f.toml", line: 1, column: 2 },
    { path: "b", message: "two", env: "HOOKD_B" },
  ];
  const error = new ConfigError(issues);
  assert.ok(error instanceof Error);
  assert.equal(error.name, "ConfigError");
  assert.deepEqual(error.issues, issues);
  assert.equal(
    error.message,
    "Invalid configuration (2 problems):\nf.toml:1:2: a: one\nenv HOOKD_B: b: two",
  );
  assert.equal(
    new ConfigError([issues[1]!]).message,
    "Invalid configuration (1 problem):\nenv HOOKD_B: b: two",
  );
});
