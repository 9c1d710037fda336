/**
 * Writing to and closing a `Deno.Conn`, as every raw HTTP/1.1 path here
 * needs it (the delivery client, the API's front door).
 *
 * @module
 */

/** Writes every byte of `bytes` (a socket write may take only part). */
export async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) offset += await conn.write(bytes.subarray(offset));
}

/** Closes `conn`, ignoring that it may be closed already. */
export function closeQuietly(conn: Deno.Conn | undefined): void {
  try {
    conn?.close();
  } catch { /* already closed */ }
}
