import assert from "node:assert/strict";
import type { EnvelopeTemplate } from "../config/types.ts";
import { renderEnvelope } from "./envelope.ts";
import type { TemplateValues } from "./template.ts";

const VALUES: TemplateValues = {
  event_id: 'e"1',
  event_type: "t",
  tenant_id: null,
  event_timestamp: "1",
  event_timestamp_iso: "1970-01-01T00:00:01.000Z",
  delivery_id: "d",
  attempt_id: "a",
  attempt_number: "2",
  attempt_timestamp: "3",
  attempt_timestamp_iso: "1970-01-01T00:00:03.000Z",
  webhook_id: "w",
  payload_version: "1.0",
};

Deno.test("renderEnvelope(): compact JSON in order; {data} verbatim; a lone null variable is null", () => {
  const table: [EnvelopeTemplate, string][] = [
    [{ kind: "data" }, ' {"x": 1} '],
    [{ kind: "literal", value: 1.5 }, "1.5"],
    [{ kind: "literal", value: false }, "false"],
    [{ kind: "template", template: [{ variable: "event_id" }] }, '"e\\"1"'],
    [{ kind: "template", template: [{ variable: "tenant_id" }] }, "null"],
    [{ kind: "template", template: [{ text: "t:" }, { variable: "tenant_id" }] }, '"t:"'],
    [{ kind: "array", items: [] }, "[]"],
    [{ kind: "object", entries: [] }, "{}"],
    [
      {
        kind: "object",
        entries: [["z", { kind: "data" }], ["a", {
          kind: "array",
          items: [{ kind: "data" }, { kind: "literal", value: true }],
        }]],
      },
      '{"z": {"x": 1} ,"a":[ {"x": 1} ,true]}',
    ],
  ];
  for (const [envelope, expected] of table) {
    assert.equal(renderEnvelope(envelope, VALUES, ' {"x": 1} '), expected);
  }
});
