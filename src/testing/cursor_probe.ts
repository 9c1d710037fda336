/**
 * Counts the `libsql` binding's row cursors as they open: every `all` goes
 * through `iterate`, and on Deno 2.9.6 each cursor leaks its native memory
 * (store/file_connection.ts, queryOne). Every Statement shares one prototype, so
 * counting there sees every statement of every connection.
 */
import Database from "libsql";

export interface CursorProbe {
  /** Cursors opened since the probe was set. */
  count(): number;
  /** Puts the binding back as it was. */
  restore(): void;
}

export function probeRowCursors(): CursorProbe {
  const probe = new Database(":memory:");
  const proto = Object.getPrototypeOf(probe.prepare("SELECT 1")) as {
    iterate: (...args: unknown[]) => unknown;
  };
  probe.close();
  const iterate = proto.iterate;
  let cursors = 0;
  proto.iterate = function (this: unknown, ...args: unknown[]) {
    cursors++;
    return iterate.apply(this, args);
  };
  return {
    count: () => cursors,
    restore: () => void (proto.iterate = iterate),
  };
}
