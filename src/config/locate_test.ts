import assert from "node:assert/strict";
import { type KeyPath, locate } from "./locate.ts";

const SOURCE = `# a comment with listen = "x"
[server]
listen = "nope"   # trailing comment
  body_limit = "1MiB"

[store]
"url" = "file:x.db"
description = """
not_a_key = 1
"""

[policies.fast]
timeout = "5s"
schedule = [
  "0s",
  "1s", # comment
  "2 s",
]
success = ["2xx", "20x"]

[policies."slow"]
schedule = { first = "5m", factor = 2, max_age = "24h" }

[policies]
other.timeout = "1s"
`;

Deno.test("locate() finds keys under headers, in inline tables and arrays", () => {
  const table: [KeyPath, number, number][] = [
    [["server"], 2, 1],
    [["server", "listen"], 3, 1],
    [["server", "body_limit"], 4, 3],
    [["store", "url"], 7, 1],
    [["store", "description"], 8, 1],
    [["policies", "fast"], 12, 1],
    [["policies", "fast", "timeout"], 13, 1],
    [["policies", "fast", "schedule"], 14, 1],
    [["policies", "fast", "schedule", 0], 15, 3],
    [["policies", "fast", "schedule", 2], 17, 3],
    [["policies", "fast", "success", 1], 19, 19],
    [["policies", "slow", "schedule", "first"], 22, 14],
    [["policies", "slow", "schedule", "max_age"], 22, 40],
    [["policies", "other", "timeout"], 25, 1],
  ];
  for (const [path, line, column] of table) {
    assert.deepEqual(locate(SOURCE, path), { line, column }, JSON.stringify(path));
  }
});

Deno.test("locate() falls back to the closest enclosing key or header", () => {
  assert.deepEqual(locate(SOURCE, ["policies", "fast", "retry"]), { line: 12, column: 1 });
  assert.deepEqual(locate(SOURCE, ["policies", "slow", "schedule", "attempts"]), {
    line: 22,
    column: 1,
  });
  assert.deepEqual(locate(SOURCE, ["store", "not_a_key"]), { line: 6, column: 1 });
  assert.equal(locate(SOURCE, ["log", "level"]), undefined);
  assert.equal(locate("", ["server"]), undefined);
});
