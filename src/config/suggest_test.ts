import assert from "node:assert/strict";
import { editDistance, suggest } from "./suggest.ts";

Deno.test("editDistance() counts insertions, deletions, substitutions, transpositions", () => {
  const table: [string, string, number][] = [
    ["", "", 0],
    ["listen", "listen", 0],
    ["lisen", "listen", 1],
    ["listenn", "listen", 1],
    ["lusten", "listen", 1],
    ["lsiten", "listen", 1],
    ["", "abc", 3],
    ["kitten", "sitting", 3],
  ];
  for (const [a, b, expected] of table) {
    assert.equal(editDistance(a, b), expected, `${a} → ${b}`);
    assert.equal(editDistance(b, a), expected, `${b} → ${a}`);
  }
});

Deno.test("suggest() picks the closest plausible candidate", () => {
  const keys = ["listen", "body_limit", "shutdown_grace"];
  assert.equal(suggest("lisen", keys), "listen");
  assert.equal(suggest("LISTEN", keys), "listen");
  assert.equal(suggest("body-limit", keys), "body_limit");
  assert.equal(suggest("shutdown", keys), undefined);
  assert.equal(suggest("port", keys), undefined);
  assert.equal(suggest("x", []), undefined);
  assert.equal(
    suggest("HOOKD_SERVER_LISTN", ["HOOKD_SERVER_LISTEN", "HOOKD_STORE_URL"]),
    "HOOKD_SERVER_LISTEN",
  );
});
