/**
 * Buffered reads of HTTP/1.1 messages from a connection: a head through its
 * blank line, a CRLF-terminated line (chunk sizes, trailers), and the bytes
 * already buffered. The one head reader of both directions hookd speaks: the
 * delivery client reads response heads with it, the API's front door request
 * heads.
 *
 * Everything it returns is a view of its buffer, valid until the next read
 * (`fill`, `ready`, `head`, `line`): the client parses a head in place, and
 * copying it was measurable on the delivery path.
 *
 * @module
 */

const DEFAULT_SIZE = 16 * 1024;

/** Reads from `conn` into one growing buffer; `start`..`end` are the bytes not yet consumed. */
export class Http1Reader {
  buffer: Uint8Array;
  start = 0;
  end = 0;

  constructor(readonly conn: Deno.Conn, size = DEFAULT_SIZE) {
    this.buffer = new Uint8Array(size);
  }

  /** The number of bytes buffered and not yet consumed. */
  get buffered(): number {
    return this.end - this.start;
  }

  /** Reads more bytes after those buffered; false at end of stream. */
  async fill(): Promise<boolean> {
    if (this.start === this.end) {
      this.start = this.end = 0;
    } else if (this.end === this.buffer.length) {
      // Full: move the unread bytes to the front, into a bigger buffer if they fill half.
      const unread = this.buffer.subarray(this.start, this.end);
      if (unread.length > this.buffer.length / 2) {
        const bigger = new Uint8Array(this.buffer.length * 2);
        bigger.set(unread);
        this.buffer = bigger;
      } else {
        this.buffer.copyWithin(0, this.start, this.end);
      }
      this.end -= this.start;
      this.start = 0;
    }
    const read = await this.receive(this.buffer.subarray(this.end));
    if (read === null) return false;
    this.end += read;
    return true;
  }

  /** Ensures at least one unread byte; false at end of stream. */
  async ready(): Promise<boolean> {
    return this.start < this.end || await this.fill();
  }

  /**
   * The next head through its blank line (CRLF CRLF), consumed. `too-large`
   * when no blank line comes within `maxBytes`; null when the stream ends
   * first (with or without part of a head).
   */
  async head(maxBytes: number): Promise<Uint8Array | "too-large" | null> {
    let scanned = 0; // relative to start: fill() may move the buffered bytes
    for (;;) {
      const { buffer, start, end } = this;
      const limit = Math.min(end, start + maxBytes);
      for (let i = start + Math.max(scanned, 3); i < limit; i++) {
        if (
          buffer[i] === 10 && buffer[i - 1] === 13 && buffer[i - 2] === 10 && buffer[i - 3] === 13
        ) {
          this.start = i + 1;
          return buffer.subarray(start, i + 1);
        }
      }
      scanned = end - start;
      if (scanned >= maxBytes) return "too-large";
      if (!(await this.fill())) return null;
    }
  }

  /**
   * The next line through its CRLF, consumed. `too-long` when no CRLF comes
   * within `maxBytes`; null when the stream ends first.
   */
  async line(maxBytes: number): Promise<Uint8Array | "too-long" | null> {
    let scanned = 0;
    for (;;) {
      const { buffer, start, end } = this;
      const limit = Math.min(end, start + maxBytes);
      for (let i = start + Math.max(scanned, 1); i < limit; i++) {
        if (buffer[i] === 10 && buffer[i - 1] === 13) {
          this.start = i + 1;
          return buffer.subarray(start, i + 1);
        }
      }
      scanned = end - start;
      if (scanned >= maxBytes) return "too-long";
      if (!(await this.fill())) return null;
    }
  }

  /** Up to `max` of the bytes already buffered, consumed. */
  take(max: number): Uint8Array {
    const count = Math.min(max, this.end - this.start);
    const bytes = this.buffer.subarray(this.start, this.start + count);
    this.start += count;
    return bytes;
  }

  /** One read from the connection into `into` (the client hands over a read it issued while idle). */
  protected receive(into: Uint8Array): Promise<number | null> {
    return this.conn.read(into);
  }
}
