import { createHash } from "node:crypto";

/**
 * What makes two ingest requests "the same event" for idempotency: type,
 * tenant, data and ordering key, with object keys in canonical order so a
 * producer that re-serializes its payload differently is not taken for a
 * conflict. Without an ordering key the fingerprint is what it always was.
 */
export function eventFingerprint(
  type: string,
  tenantId: string | null,
  data: unknown,
  orderingKey?: string,
): string {
  const parts = orderingKey === undefined
    ? [type, tenantId, data]
    : [type, tenantId, data, orderingKey];
  // node:crypto hashes synchronously: no promise and no copy per request.
  return createHash("sha256").update(canonicalJson(parts)).digest("base64");
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
