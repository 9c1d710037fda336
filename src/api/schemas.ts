/** Zod schemas shared by several routes. */
import { z } from "zod";
import { decodeCursor } from "./cursor.ts";

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
export const rfc3339Timestamp = z.string().transform((text, ctx) => {
  const ms = parseRfc3339(text);
  if (ms === undefined) {
    ctx.addIssue({
      code: "custom",
      message: `must be an RFC 3339 timestamp such as "2026-01-22T06:40:00Z", got ${
        JSON.stringify(text)
      }`,
    });
    return z.NEVER;
  }
  return ms;
});

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

/** Milliseconds since the epoch, or undefined unless `text` is a real RFC 3339 date-time. */
export function parseRfc3339(text: string): number | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as number[];
  // Date.parse would roll "February 30" over into March; check the calendar first.
  const daysInMonth = new Date(Date.UTC(year!, month!, 0)).getUTCDate();
  if (month! < 1 || month! > 12 || day! < 1 || day! > daysInMonth) return undefined;
  if (hour! > 23 || minute! > 59 || second! > 59) return undefined;
  const ms = Date.parse(text.replace(" ", "T").replace("t", "T").replace("z", "Z"));
  return Number.isNaN(ms) ? undefined : ms;
}

/** Tenant ids travel in headers (seed 002's X-Agc-Tenant-Id), so no control characters. */
export const tenantId = z.string()
  .min(1, "must not be empty")
  .max(255, "must be at most 255 characters")
  // deno-lint-ignore no-control-regex -- matching control characters is the point
  .regex(/^[^\x00-\x1f\x7f]*$/, "must not contain control characters (CR, LF, tab, ...)");

/** Any JSON object of at most `maxBytes` when serialized. */
export function jsonObject(maxBytes: number) {
  return z.record(z.string(), z.unknown()).refine(
    (value) => JSON.stringify(value).length <= maxBytes,
    `must be at most ${maxBytes} bytes as JSON`,
  );
}

/** The `:id` of a route's path. */
export const idParam = z.strictObject({ id: z.string().describe("The resource's id") });
