import assert from "node:assert/strict";
import { customHeaderProblems } from "./custom_headers.ts";

Deno.test("custom headers: valid ones pass", () => {
  assert.deepEqual(
    customHeaderProblems({ "X-Api-Key": "abc", Authorization: "Basic dXNlcjpwYXNz" }),
    [],
  );
});

Deno.test("custom headers: each problem names the header", () => {
  const table: [Record<string, string>, RegExp][] = [
    [{ "X-Bad Name": "v" }, /"X-Bad Name" is not a valid HTTP token/],
    [{ Host: "evil" }, /"Host" is reserved/],
    [{ "Content-Length": "1" }, /reserved/],
    [{ "Proxy-Foo": "1" }, /reserved/],
    [{ "webhook-signature": "v1,x" }, /reserved/],
    [{ "X-Inject": "a\r\nX-Other: b" }, /"X-Inject" has a CR, LF or NUL/],
    [{ "X-Long": "a".repeat(5000) }, /at most 4096/],
    [{ "x-a": "1", "X-A": "2" }, /given twice/],
    [Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`x-${i}`, "v"])), /at most 50/],
  ];
  for (const [headers, expected] of table) {
    const problems = customHeaderProblems(headers);
    assert.equal(problems.length, 1, JSON.stringify(problems));
    assert.match(problems[0]!, expected);
  }
});
