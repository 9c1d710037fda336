import assert from "node:assert/strict";
import { formatTemplate, parseTemplate, type TemplateContext } from "./template.ts";
import type { Template } from "./types.ts";

Deno.test("parseTemplate() splits text and variables; {{ and }} are literal braces", () => {
  const table: [string, TemplateContext, Template][] = [
    ["", "header", []],
    ["plain", "header", [{ text: "plain" }]],
    ["{event_id}", "header", [{ variable: "event_id" }]],
    ["{attempt_timestamp}.{body}", "content", [
      { variable: "attempt_timestamp" },
      { text: "." },
      { variable: "body" },
    ]],
    ["t={{x}}-{tenant_id}}}", "envelope", [
      { text: "t={x}-" },
      { variable: "tenant_id" },
      { text: "}" },
    ]],
    ["{{{webhook_id}}}", "header", [{ text: "{" }, { variable: "webhook_id" }, { text: "}" }]],
  ];
  for (const [text, context, expected] of table) {
    const parsed = parseTemplate(text, context);
    assert.deepEqual(parsed, expected, text);
    assert.equal(formatTemplate(parsed), text, text);
  }
});

Deno.test("parseTemplate() names the problem, with a did-you-mean", () => {
  const table: [string, TemplateContext, string][] = [
    ["{evnt_id}", "header", "unknown variable {evnt_id}; did you mean {event_id}?"],
    ["{ event_type }", "header", "unknown variable { event_type }; did you mean {event_type}?"],
    ["{body}", "header", "{body} (the exact body sent) is only allowed in signature.content"],
    ["{body}", "envelope", "{body} (the exact body sent) is only allowed in signature.content"],
    [
      "{data}",
      "header",
      '{data} is only allowed as a whole value of the body envelope, e.g. data = "{data}"',
    ],
    [
      "x{data}",
      "envelope",
      'to insert the event data, "{data}" must be the whole string, not part of a longer one',
    ],
    ["a{b", "header", 'unclosed "{" at character 2; write "{{" for a literal brace'],
    ["{a{event_id}", "header", 'unclosed "{" at character 1; write "{{" for a literal brace'],
    ["a}b", "header", 'lone "}" at character 2; write "}}" for a literal brace'],
  ];
  for (const [text, context, message] of table) {
    assert.throws(
      () => parseTemplate(text, context),
      (error: unknown) =>
        error instanceof TypeError && error.message === `Cannot parse template: ${message}`,
      text,
    );
  }
  assert.throws(
    () => parseTemplate("{zzzzzzzz}", "content"),
    /unknown variable \{zzzzzzzz\}; variables are \{event_id\}, .*, \{payload_version\}, \{body\}$/,
  );
});

Deno.test("formatTemplate() escapes braces in literal text", () => {
  assert.equal(
    formatTemplate([{ text: "{a}" }, { variable: "event_id" }, { text: "}" }]),
    "{{a}}{event_id}}}",
  );
});
