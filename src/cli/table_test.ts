import assert from "node:assert/strict";
import { type Column, formatTable } from "./table.ts";

interface Row {
  id: string;
  state: string;
  note: string;
}

const COLUMNS: Column<Row>[] = [
  { header: "id", cell: (r) => r.id },
  { header: "state", cell: (r) => r.state },
  { header: "last note", cell: (r) => r.note },
];

Deno.test("formatTable aligns columns two spaces apart under upper-case headers", () => {
  const text = formatTable(COLUMNS, [
    { id: "a", state: "succeeded", note: "200" },
    { id: "longer-id", state: "dead", note: "" },
  ]);
  assert.equal(
    text,
    [
      "ID         STATE      LAST NOTE",
      "a          succeeded  200",
      "longer-id  dead",
      "",
    ].join("\n"),
  );
});

Deno.test("formatTable prints nothing for no rows", () => {
  assert.equal(formatTable(COLUMNS, []), "");
});

Deno.test("formatTable escapes control characters: a cell cannot forge a row or drive the terminal", () => {
  const text = formatTable(COLUMNS, [{ id: "x", state: "dead\nFAKE  row", note: "\x1b[2Jboom" }]);
  assert.equal(text.split("\n").length, 3, text);
  assert.ok(!text.includes("\x1b"), text);
  assert.match(text, /dead\\u000aFAKE {2}row {2}\\u001b\[2Jboom\n$/);
});
