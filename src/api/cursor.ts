/**
 * List cursors: a page's `next_cursor` is the base64url text of the id its
 * last item has, and only such text is taken back. Every listed resource has
 * a UUIDv7 id, so a cursor that is not one, or is not written exactly as this
 * module writes it, was not handed out by this API and is refused rather than
 * silently starting somewhere.
 */
import { isUuidv7 } from "../ids.ts";

export function encodeCursor(after: string): string {
  return btoa(after).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** The id a cursor continues after, or undefined when this API could not have written it. */
export function decodeCursor(cursor: string): string | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) return undefined;
  let after: string;
  try {
    after = atob(cursor.replaceAll("-", "+").replaceAll("_", "/"));
  } catch {
    return undefined;
  }
  // Base64 has spare bits in its last character: only the canonical spelling is ours.
  if (!isUuidv7(after) || encodeCursor(after) !== cursor) return undefined;
  return after;
}
