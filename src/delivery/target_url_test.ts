import assert from "node:assert/strict";
import { targetUrlProblem } from "./target_url.ts";

Deno.test("target URL validation table", () => {
  const lax = { requireHttps: false };
  const strict = { requireHttps: true };
  const table: [string, typeof lax, RegExp | undefined][] = [
    ["https://example.com/hooks", strict, undefined],
    ["http://127.0.0.1:8080/x?a=1", lax, undefined],
    ["http://127.0.0.1:8080/x", strict, /require_https/],
    ["ftp://example.com/", lax, /http or https, got "ftp"/],
    ["/relative/path", lax, /absolute/],
    ["example.com/hooks", lax, /absolute/],
    ["https://user:pass@example.com/", lax, /credentials/],
    ["https://token@example.com/", lax, /credentials/],
    ["https://example.com/#frag", lax, /fragment/],
    ["https://example.com/" + "a".repeat(2100), lax, /at most 2048/],
  ];
  for (const [url, rules, expected] of table) {
    const problem = targetUrlProblem(url, rules);
    if (expected === undefined) assert.equal(problem, undefined, url);
    else assert.match(problem ?? "(accepted)", expected, url);
  }
});
