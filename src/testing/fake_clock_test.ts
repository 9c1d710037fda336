import assert from "node:assert/strict";
import { FakeClock } from "./fake_clock.ts";

Deno.test("FakeClock runs due timers in due order, then creation order, at their due time", () => {
  const clock = new FakeClock(1_000);
  const log: string[] = [];
  const at = (name: string) => () => log.push(`${name}@${clock.now()}`);
  clock.setTimeout(at("c"), 30);
  clock.setTimeout(at("a"), 10);
  clock.setTimeout(at("b1"), 20);
  clock.setTimeout(at("b2"), 20);
  clock.setTimeout(at("late"), 100);
  assert.equal(clock.pending, 5);
  assert.equal(clock.nextAt(), 1_010);

  assert.equal(clock.advance(30), 4);
  assert.deepEqual(log, ["a@1010", "b1@1020", "b2@1020", "c@1030"]);
  assert.equal(clock.now(), 1_030);
  assert.equal(clock.pending, 1);
  assert.equal(clock.advance(69), 0);
  assert.equal(clock.advanceTo(1_100), 1);
  assert.equal(log.at(-1), "late@1100");
  assert.equal(clock.pending, 0);
  assert.equal(clock.nextAt(), undefined);
});

Deno.test("FakeClock runs timers created by callbacks within the same advance if due", () => {
  const clock = new FakeClock();
  const log: number[] = [];
  clock.setTimeout(() => {
    log.push(clock.now());
    clock.setTimeout(() => log.push(clock.now()), 0);
    clock.setTimeout(() => {
      log.push(clock.now());
      clock.setTimeout(() => log.push(clock.now()), 5);
    }, 5);
    clock.setTimeout(() => log.push(-1), 50);
  }, 10);
  clock.advance(20);
  assert.deepEqual(log, [10, 10, 15, 20]);
  assert.equal(clock.pending, 1);
});

Deno.test("FakeClock clearTimeout cancels, and ignores unknown or fired handles", () => {
  const clock = new FakeClock();
  let fired = 0;
  const a = clock.setTimeout(() => fired++, 10);
  const b = clock.setTimeout(() => fired++, 10);
  clock.clearTimeout(a);
  clock.clearTimeout(a);
  clock.clearTimeout("nope");
  clock.clearTimeout(undefined);
  assert.equal(clock.pending, 1);
  clock.advance(10);
  clock.clearTimeout(b);
  assert.equal(fired, 1);
  assert.equal(clock.pending, 0);
});

Deno.test("FakeClock keeps its heap small when timers are re-armed many times", () => {
  const clock = new FakeClock();
  let handle = clock.setTimeout(() => {}, 1_000_000);
  for (let i = 0; i < 10_000; i++) {
    clock.clearTimeout(handle);
    handle = clock.setTimeout(() => {}, 1_000_000 - i);
  }
  assert.equal(clock.pending, 1);
  assert.equal(clock.nextAt(), 1_000_000 - 9_999);
  assert.equal(clock.runAll(), 1);
});

Deno.test("FakeClock treats negative and NaN delays as 0", () => {
  const clock = new FakeClock(5);
  const log: number[] = [];
  clock.setTimeout(() => log.push(1), -10);
  clock.setTimeout(() => log.push(2), NaN);
  clock.advance(0);
  assert.deepEqual(log, [1, 2]);
});

Deno.test("FakeClock jump moves time without running timers; they run late on the next advance", () => {
  const clock = new FakeClock();
  const log: number[] = [];
  clock.setTimeout(() => log.push(clock.now()), 10);
  clock.setTimeout(() => log.push(clock.now()), 20);
  clock.jump(50);
  assert.deepEqual(log, []);
  clock.advance(0);
  assert.deepEqual(log, [50, 50]);
});

Deno.test("FakeClock runAll advances to each timer and stops a runaway loop", () => {
  const clock = new FakeClock();
  const log: number[] = [];
  clock.setTimeout(() => log.push(clock.now()), 500);
  clock.setTimeout(() => clock.setTimeout(() => log.push(clock.now()), 1_000), 100);
  assert.equal(clock.runAll(), 3);
  assert.deepEqual(log, [500, 1_100]);
  assert.equal(clock.now(), 1_100);

  const rearm = () => void clock.setTimeout(rearm, 1);
  rearm();
  assert.throws(() => clock.runAll(100), /still pending after 100 ran/);
});

Deno.test("FakeClock rejects moving backwards or by a non-finite amount", () => {
  const clock = new FakeClock(100);
  assert.throws(() => clock.advance(-1), RangeError);
  assert.throws(() => clock.advance(NaN), RangeError);
  assert.throws(() => clock.advanceTo(99), RangeError);
  assert.throws(() => clock.advanceTo(Infinity), RangeError);
  assert.throws(() => clock.jump(-1), RangeError);
  assert.throws(() => new FakeClock(NaN), RangeError);
  assert.equal(clock.now(), 100);
});
