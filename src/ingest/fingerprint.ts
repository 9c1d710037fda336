/**
 * What makes two ingest requests "the same event" for idempotency: type,
 * tenant and data, with object keys in canonical order so a producer that
 * re-serializes its payload differently is not taken for a conflict.
 */
export async function eventFingerprint(
  type: string,
  tenantId: string | null,
  data: unknown,
): Promise<string> {
  const canonical = canonicalJson([type, tenantId, data]);
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(canonical));
  return btoa(String.fromCharCode(...new Uint8Array(digest)));
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
