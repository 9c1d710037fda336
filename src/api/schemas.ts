/** Zod schemas shared by several routes. */
import { z } from "zod";
import { decodeCursor } from "./render.ts";

export const MAX_PAGE_SIZE = 1000;

/** `limit` (1–1000, default 100) and an opaque `cursor` from a previous page. */
export const pageQuery = {
  limit: z.coerce.number({ error: "must be an integer from 1 to 1000" }).int(
    "must be an integer from 1 to 1000",
  ).min(1, "must be an integer from 1 to 1000").max(
    MAX_PAGE_SIZE,
    "must be an integer from 1 to 1000",
  ).default(100),
  cursor: z.string().transform((cursor, ctx) => {
    const after = decodeCursor(cursor);
    if (after === undefined) {
      ctx.addIssue({ code: "custom", message: "is not a cursor returned by this API" });
      return z.NEVER;
    }
    return after;
  }).optional(),
};

/** An RFC 3339 timestamp with an explicit offset, as milliseconds since the epoch. */
export const rfc3339Timestamp = z.string().regex(
  /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/,
  'must be an RFC 3339 timestamp such as "2026-01-22T06:40:00Z"',
).transform((text, ctx) => {
  const ms = Date.parse(text.replace(" ", "T"));
  if (Number.isNaN(ms)) {
    ctx.addIssue({ code: "custom", message: `is not a real date: ${JSON.stringify(text)}` });
    return z.NEVER;
  }
  return ms;
});

export const tenantId = z.string().min(1, "must not be empty").max(
  255,
  "must be at most 255 characters",
);

/** Any JSON object of at most `maxBytes` when serialized. */
export function jsonObject(maxBytes: number) {
  return z.record(z.string(), z.unknown()).refine(
    (value) => JSON.stringify(value).length <= maxBytes,
    `must be at most ${maxBytes} bytes as JSON`,
  );
}
