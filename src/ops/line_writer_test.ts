import assert from "node:assert/strict";
import { FakeClock } from "../testing/fake_clock.ts";
import { BufferedLineWriter } from "./line_writer.ts";

/** A sink that records each write, taking at most `chunk` bytes per call (as a full pipe may). */
function sink(chunk = Infinity) {
  const chunks: Uint8Array[] = [];
  const decoder = new TextDecoder();
  return {
    get writes() {
      return chunks.map((c) => decoder.decode(c));
    },
    chunks,
    writeSync: (bytes: Uint8Array) => {
      const taken = bytes.slice(0, Math.min(bytes.length, chunk));
      chunks.push(taken);
      return taken.length;
    },
  };
}

Deno.test("lines wait in the buffer and go out in one write once it is full", () => {
  const out = sink();
  const clock = new FakeClock(0);
  const writer = new BufferedLineWriter({ writeSync: out.writeSync, maxBytes: 20, clock });
  writer.write("123456789"); // 10 bytes with its newline
  assert.deepEqual(out.writes, []);
  writer.write("abcdefghi"); // 20: full
  assert.deepEqual(out.writes, ["123456789\nabcdefghi\n"]);
  assert.equal(clock.pending, 0, "a flush cancels the timer");
});

Deno.test("a lone line goes out when the flush delay has passed", () => {
  const out = sink();
  const clock = new FakeClock(0);
  const writer = new BufferedLineWriter({
    writeSync: out.writeSync,
    flushAfterMs: 50,
    clock,
  });
  writer.write("one");
  clock.advance(30);
  writer.write("two"); // the batch's deadline stays the first line's
  clock.advance(19);
  assert.deepEqual(out.writes, []);
  clock.advance(1);
  assert.deepEqual(out.writes, ["one\ntwo\n"]);
  writer.write("three");
  clock.advance(50);
  assert.deepEqual(out.writes, ["one\ntwo\n", "three\n"]);
});

Deno.test("flush and close write what waits; after close lines go straight out", () => {
  const out = sink();
  const clock = new FakeClock(0);
  const writer = new BufferedLineWriter({ writeSync: out.writeSync, clock });
  writer.write("a");
  writer.flush();
  writer.flush(); // nothing waits: no empty write
  writer.write("b");
  writer.close();
  assert.deepEqual(out.writes, ["a\n", "b\n"]);
  writer.write("last words");
  assert.deepEqual(out.writes, ["a\n", "b\n", "last words\n"]);
  assert.equal(clock.pending, 0, "nothing left to fire after close");
});

Deno.test("a partial write is continued until every byte is out, multi-byte text included", () => {
  const out = sink(3);
  const writer = new BufferedLineWriter({ writeSync: out.writeSync, clock: new FakeClock(0) });
  writer.write('{"msg":"grüße"}');
  writer.flush();
  const expected = new TextEncoder().encode('{"msg":"grüße"}\n');
  assert.equal(out.chunks.length, Math.ceil(expected.length / 3));
  assert.deepEqual(new Uint8Array(out.chunks.flatMap((c) => [...c])), expected);
});

Deno.test("maxBytes must be positive", () => {
  assert.throws(
    () => new BufferedLineWriter({ writeSync: () => 0, maxBytes: 0 }),
    RangeError,
  );
});
