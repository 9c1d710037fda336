import assert from "node:assert/strict";
import { FakeClock } from "../testing/fake_clock.ts";
import { withProgress } from "./progress.ts";

Deno.test("withProgress redraws the elapsed seconds each second, then erases its line", async () => {
  const clock = new FakeClock(0);
  const written: string[] = [];
  const work = Promise.withResolvers<number>();
  const result = withProgress(work.promise, {
    label: "replaying…",
    clock,
    write: (text) => written.push(text),
    enabled: true,
  });
  clock.advance(999);
  assert.deepEqual(written, [], "a short wait draws nothing");
  clock.advance(1);
  clock.advance(1_000);
  clock.advance(1_000);
  assert.deepEqual(written, [
    "\r\x1b[Kreplaying… 1s",
    "\r\x1b[Kreplaying… 2s",
    "\r\x1b[Kreplaying… 3s",
  ]);
  work.resolve(7);
  assert.equal(await result, 7);
  assert.equal(written.at(-1), "\r\x1b[K");
  assert.equal(clock.pending, 0, "no timer left behind");
});

Deno.test("withProgress: a quick result draws nothing; a failure erases the line too", async () => {
  const clock = new FakeClock(0);
  const written: string[] = [];
  const options = { label: "x", clock, write: (t: string) => written.push(t), enabled: true };
  assert.equal(await withProgress(Promise.resolve("done"), options), "done");
  assert.deepEqual(written, []);
  assert.equal(clock.pending, 0);

  const work = Promise.withResolvers<never>();
  const failing = withProgress(work.promise, options);
  clock.advance(1_000);
  work.reject(new Error("store unavailable"));
  await assert.rejects(failing, /store unavailable/);
  assert.deepEqual(written, ["\r\x1b[Kx 1s", "\r\x1b[K"]);
  assert.equal(clock.pending, 0);
});

Deno.test("withProgress draws nothing when disabled (stderr is not a terminal)", async () => {
  const clock = new FakeClock(0);
  const written: string[] = [];
  const work = Promise.withResolvers<void>();
  const result = withProgress(work.promise, {
    label: "x",
    clock,
    write: (t) => written.push(t),
    enabled: false,
  });
  assert.equal(clock.pending, 0);
  work.resolve();
  await result;
  assert.deepEqual(written, []);
});
