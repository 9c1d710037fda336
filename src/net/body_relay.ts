/**
 * Forwarding a request body as it arrives, framing included, from one
 * connection to another: the API's front door uses it to pass bodies to the
 * HTTP server while it watches for stalls. A body that is cut off or
 * malformed ends the relay with false, and the front door closes both sides.
 *
 * @module
 */

import { writeAll } from "./conn_io.ts";
import { chunkSize } from "./http1_head.ts";
import type { Http1Reader } from "./http1_reader.ts";

/** A chunk-size or trailer line longer than this ends the relay. */
const MAX_LINE_BYTES = 4096;

const latin1 = new TextDecoder("latin1");

/** Copies `count` bytes from `reader` to `to`; false when the stream ends first. */
export async function relaySized(
  reader: Http1Reader,
  count: number,
  to: Deno.Conn,
  onProgress: () => void = () => {},
): Promise<boolean> {
  let left = count;
  while (left > 0) {
    if (reader.buffered === 0 && !(await reader.fill())) return false;
    const bytes = reader.take(left);
    await writeAll(to, bytes);
    left -= bytes.length;
    onProgress();
  }
  return true;
}

/** Copies one chunked body, through its last chunk and trailers; false when cut off or malformed. */
export async function relayChunked(
  reader: Http1Reader,
  to: Deno.Conn,
  onProgress: () => void,
): Promise<boolean> {
  for (;;) {
    const line = await relayLine(reader, to);
    if (line === null) return false;
    const length = chunkSize(line);
    if (length === undefined) return false;
    if (length === 0) break;
    if (!(await relaySized(reader, length, to, onProgress))) return false;
    if ((await relayLine(reader, to)) !== "") return false;
  }
  // Trailers, then the blank line that ends the message.
  for (;;) {
    const trailer = await relayLine(reader, to);
    if (trailer === null) return false;
    if (trailer === "") return true;
  }
}

/** Forwards one CRLF-terminated line and returns it without CRLF; null when cut off or too long. */
async function relayLine(reader: Http1Reader, to: Deno.Conn): Promise<string | null> {
  const line = await reader.line(MAX_LINE_BYTES);
  if (line === null || line === "too-long") return null;
  await writeAll(to, line);
  return latin1.decode(line.subarray(0, line.length - 2));
}
