import assert from "node:assert/strict";
import { jsonErrorPosition } from "./json_position.ts";

Deno.test("finds the first error in invalid JSON", () => {
  const table: [string, number, number, number, RegExp][] = [
    ['{"type": "a.b", "data": }', 24, 1, 25, /unexpected character "}"/],
    ['{"a": 1,}', 8, 1, 9, /property name/],
    ["[1, 2", 5, 1, 6, /unexpected end|expected ','/],
    ['{\n  "a": tru\n}', 9, 2, 8, /expected true/],
    ['{"a": "x\u0001"}', 8, 1, 9, /control character/],
    ["{'a': 1}", 1, 1, 2, /double quotes/],
    ["01", 1, 1, 2, /after the JSON value/],
    ['{"a": 1} x', 9, 1, 10, /after the JSON value/],
    ["", 0, 1, 1, /end of input/],
  ];
  for (const [text, offset, line, column, reason] of table) {
    const position = jsonErrorPosition(text);
    assert.ok(position, text);
    assert.deepEqual(
      [position.offset, position.line, position.column],
      [offset, line, column],
      text,
    );
    assert.match(position.reason, reason, text);
  }
});

Deno.test("valid JSON has no error position, whatever JSON.parse accepts", () => {
  for (
    const text of ['{"a": [1, -2.5e3, true, false, null, "\\u00e9\\n"]}', " 42 ", '"x"', "[]", "{}"]
  ) {
    JSON.parse(text);
    assert.equal(jsonErrorPosition(text), undefined, text);
  }
});
