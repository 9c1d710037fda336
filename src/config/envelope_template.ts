import { describe, isTable } from "./_util.ts";
import { reason, walked } from "./fields.ts";
import type { KeyPath } from "./locate.ts";
import { parseTemplate, type Template } from "./template.ts";

/**
 * A JSON envelope whose strings are templates. The string `"{data}"` on its
 * own stands for the event data as posted (inserted as JSON, not as a string).
 */
export type EnvelopeTemplate =
  | { readonly kind: "data" }
  | { readonly kind: "template"; readonly template: Template }
  | { readonly kind: "literal"; readonly value: null | boolean | number }
  | { readonly kind: "array"; readonly items: readonly EnvelopeTemplate[] }
  | { readonly kind: "object"; readonly entries: readonly (readonly [string, EnvelopeTemplate])[] };

/**
 * A profile's `body`: `"data"` (the event data as posted) or an envelope, a
 * table or array of any depth whose strings are templates.
 */
export const envelopeTemplate = walked((raw, report): EnvelopeTemplate | undefined => {
  if (raw === "data") return { kind: "data" };
  if (!isTable(raw) && !Array.isArray(raw)) {
    report(
      [],
      `expected "data" (the event data as posted) or an envelope such as ` +
        `{ event_id = "{event_id}", data = "{data}" }, got ${describe(raw)}`,
    );
    return undefined;
  }
  const walk = (value: unknown, path: KeyPath): EnvelopeTemplate | undefined => {
    if (typeof value === "string") {
      if (value === "{data}") return { kind: "data" };
      try {
        return { kind: "template", template: parseTemplate(value, "envelope") };
      } catch (error) {
        report(path, reason(error));
        return undefined;
      }
    }
    if (typeof value === "boolean") return { kind: "literal", value };
    if (typeof value === "number") {
      if (Number.isFinite(value)) return { kind: "literal", value };
      report(path, `JSON has no ${describe(value)}; use a finite number`);
      return undefined;
    }
    if (Array.isArray(value)) {
      const items = value.map((item: unknown, index) => walk(item, [...path, index]));
      return items.every((item) => item !== undefined) ? { kind: "array", items } : undefined;
    }
    if (isTable(value)) {
      const entries: (readonly [string, EnvelopeTemplate])[] = [];
      for (const [key, item] of Object.entries(value)) {
        const rendered = walk(item, [...path, key]);
        if (rendered !== undefined) entries.push([key, rendered]);
      }
      return { kind: "object", entries };
    }
    report(
      path,
      `expected a string, number, boolean, array or table, got ${describe(value)}; ` +
        `for a time use a template such as "{event_timestamp_iso}"`,
    );
    return undefined;
  };
  return walk(raw, []);
});
