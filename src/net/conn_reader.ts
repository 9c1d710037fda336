/**
 * Small pieces of the API's in-process front door: a buffered reader that
 * splits HTTP/1.1 request heads from bodies, and socket helpers.
 *
 * @module
 */

const latin1 = new TextDecoder("latin1");

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

/**
 * Buffered reads from a connection carrying HTTP/1.1 requests: heads split
 * from what follows them, bodies copied on as they arrive.
 */
export class ConnReader {
  #buf = new Uint8Array(16 * 1024);
  #start = 0;
  #end = 0;

  constructor(readonly conn: Deno.Conn) {}

  /** Ensures at least one unread byte; false at end of stream. */
  async fill(): Promise<boolean> {
    if (this.#start < this.#end) return true;
    return (await this.#read()) !== null;
  }

  /** The next head through its blank line; null when the stream ends first. */
  async head(maxBytes: number): Promise<Uint8Array | null | "too-large"> {
    let scanned = 0; // relative to #start: #read may move the buffered bytes
    for (;;) {
      const b = this.#buf;
      const limit = Math.min(this.#end, this.#start + maxBytes);
      for (let i = this.#start + Math.max(scanned, 3); i < limit; i++) {
        if (b[i] === 10 && b[i - 1] === 13 && b[i - 2] === 10 && b[i - 3] === 13) {
          const head = b.slice(this.#start, i + 1);
          this.#start = i + 1;
          return head;
        }
      }
      scanned = this.#end - this.#start;
      if (scanned >= maxBytes) return "too-large";
      if ((await this.#read()) === null) return null;
    }
  }

  /** Up to `max` bytes already buffered, consumed (a view valid until the next read). */
  take(max: number): Uint8Array {
    const count = Math.min(max, this.#end - this.#start);
    const bytes = this.#buf.subarray(this.#start, this.#start + count);
    this.#start += count;
    return bytes;
  }

  /** Copies `count` bytes to `to`; false when the stream ends first. */
  async copy(count: number, to: Deno.Conn, onProgress: () => void = () => {}): Promise<boolean> {
    let left = count;
    while (left > 0) {
      if (this.#start === this.#end && (await this.#read()) === null) return false;
      const take = Math.min(left, this.#end - this.#start);
      await writeAll(to, this.#buf.subarray(this.#start, this.#start + take));
      this.#start += take;
      left -= take;
      onProgress();
    }
    return true;
  }

  /** Copies one chunked body, through its last chunk and trailers; false when cut off or malformed. */
  async copyChunked(to: Deno.Conn, onProgress: () => void): Promise<boolean> {
    for (;;) {
      const line = await this.#line(to);
      if (line === null) return false;
      const size = /^([0-9a-fA-F]{1,12})(?:[ \t]*;.*)?$/.exec(line);
      if (!size) return false;
      const length = parseInt(size[1]!, 16);
      if (length === 0) break;
      if (!(await this.copy(length, to, onProgress))) return false;
      if ((await this.#line(to)) !== "") return false;
    }
    // Trailers, then the blank line that ends the message.
    for (;;) {
      const trailer = await this.#line(to);
      if (trailer === null) return false;
      if (trailer === "") return true;
    }
  }

  /** Reads one CRLF-terminated line (at most 4 KiB), forwards it, returns it without CRLF. */
  async #line(to: Deno.Conn): Promise<string | null> {
    let scanned = 0;
    for (;;) {
      const b = this.#buf;
      for (let i = this.#start + Math.max(scanned, 1); i < this.#end; i++) {
        if (b[i] === 10 && b[i - 1] === 13) {
          const bytes = b.subarray(this.#start, i + 1);
          await writeAll(to, bytes);
          this.#start = i + 1;
          return latin1.decode(bytes.subarray(0, bytes.length - 2));
        }
      }
      scanned = this.#end - this.#start;
      if (scanned > 4096) return null;
      if ((await this.#read()) === null) return null;
    }
  }

  async #read(): Promise<number | null> {
    if (this.#start === this.#end) this.#start = this.#end = 0;
    if (this.#end === this.#buf.length) {
      const live = this.#end - this.#start;
      const size = live > this.#buf.length / 2 ? this.#buf.length * 2 : this.#buf.length;
      const next = new Uint8Array(size);
      next.set(this.#buf.subarray(this.#start, this.#end));
      this.#buf = next;
      this.#start = 0;
      this.#end = live;
    }
    const n = await this.conn.read(this.#buf.subarray(this.#end));
    if (n !== null) this.#end += n;
    return n;
  }
}
