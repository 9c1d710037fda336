import assert from "node:assert/strict";
import { headerSafe, renderTemplate } from "./template.ts";

Deno.test("headerSafe() percent-encodes control and non-ASCII characters and edge spaces", () => {
  const table: [string, string][] = [
    ["evt_1 a-b.c:d/e%f", "evt_1 a-b.c:d/e%f"],
    ["tab\tok", "tab%09ok"],
    [" edges ", "%20edges%20"],
    ["a\r\nb", "a%0D%0Ab"],
    ["nul\0del\x7f", "nul%00del%7F"],
    ["é✓", "%C3%A9%E2%9C%93"],
    ["\ud800", "%EF%BF%BD"],
  ];
  for (const [value, expected] of table) assert.equal(headerSafe(value), expected);
});

Deno.test("renderTemplate() inserts values, null as empty, {body} only when given", () => {
  const values = { tenant_id: null, event_id: "e" } as never;
  assert.equal(
    renderTemplate(
      [{ text: "[" }, { variable: "tenant_id" }, { text: "|" }, { variable: "event_id" }, {
        text: "]",
      }],
      values,
    ),
    "[|e]",
  );
  assert.equal(renderTemplate([{ variable: "body" }, { text: "." }], values, "B"), "B.");
  assert.throws(() => renderTemplate([{ variable: "body" }], values), RangeError);
});
