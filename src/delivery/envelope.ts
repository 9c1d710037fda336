/**
 * Renders a profile's body envelope to JSON text.
 *
 * @module
 */
import type { EnvelopeTemplate } from "../config/types.ts";
import { renderTemplate, type TemplateValues } from "./template.ts";

/**
 * The JSON text of `envelope`, compact, keys in the order configured. Each
 * `{data}` is replaced by `data`, the event's data as stored (JSON text the
 * API produced), inserted verbatim: no parse and re-serialization, so the
 * data's bytes are the same in every attempt and no number loses precision.
 * A string that is exactly one variable whose value is null (`{tenant_id}`
 * of an event without tenant) becomes JSON null; other templates become
 * JSON strings.
 */
export function renderEnvelope(
  envelope: EnvelopeTemplate,
  values: TemplateValues,
  data: string,
): string {
  switch (envelope.kind) {
    case "data":
      return data;
    case "literal":
      return JSON.stringify(envelope.value);
    case "template": {
      const [only, ...rest] = envelope.template;
      if (
        only !== undefined && rest.length === 0 && "variable" in only &&
        only.variable !== "body" && values[only.variable] === null
      ) {
        return "null";
      }
      return JSON.stringify(renderTemplate(envelope.template, values));
    }
    case "array":
      return `[${envelope.items.map((item) => renderEnvelope(item, values, data)).join(",")}]`;
    case "object":
      return `{${
        envelope.entries.map(([key, value]) =>
          `${JSON.stringify(key)}:${renderEnvelope(value, values, data)}`
        ).join(",")
      }}`;
  }
}
