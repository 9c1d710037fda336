import { createHash } from "node:crypto";

/**
 * What makes two ingest requests "the same event" for idempotency: type,
 * tenant and data, with object keys in canonical order so a producer that
 * re-serializes its payload differently is not taken for a conflict.
 */
export function eventFingerprint(type: string, tenantId: string | null, data: unknown): string {
  // node:crypto hashes synchronously: no promise and no copy per request.
  return createHash("sha256").update(canonicalJson([type, tenantId, data])).digest("base64");
}

/** JSON with object keys sorted at every depth. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const keys = Object.keys(value).sort();
    return `{${
      keys.map((k) =>
        `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`
      )
        .join(",")
    }}`;
  }
  return JSON.stringify(value);
}
