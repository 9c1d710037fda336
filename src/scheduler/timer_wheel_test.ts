import assert from "node:assert/strict";
import { systemClock } from "../clock.ts";
import { FakeClock } from "../testing/fake_clock.ts";
import { TimerWheel, type TimerWheelOptions } from "./timer_wheel.ts";
import { seededRng } from "../testing/seeded_rng.ts";

/** A realistic epoch, deliberately not on a tick or level boundary. */
const T0 = 1_700_000_000_000 + 123_457;
/** The same, on a tick boundary (for tests that read exact firing times). */
const T1 = 1_700_000_000_000;

interface Item {
  id: string;
  dueAt: number;
}

interface Fired extends Item {
  firedAt: number;
  batch: number;
}

function setup(
  options: Partial<TimerWheelOptions<Item>> & { start?: number } = {},
) {
  const clock = new FakeClock(options.start ?? T0);
  const fired: Fired[] = [];
  let batches = 0;
  const wheel = new TimerWheel<Item>({
    clock,
    onDue: (items) => {
      batches++;
      for (const item of items) fired.push({ ...item, firedAt: clock.now(), batch: batches });
    },
    ...options,
  });
  const add = (id: string, dueAt: number) => wheel.schedule(id, dueAt, { id, dueAt });
  return { clock, wheel, fired, add };
}

const ids = (fired: Fired[]) => fired.map((f) => f.id);

Deno.test("an item fires at the first tick boundary at or after its due time, never before", () => {
  const { clock, wheel, fired, add } = setup({ start: 1_000_000 });
  wheel.start();
  add("a", 1_000_001);
  add("b", 1_000_010);
  add("c", 1_000_015);
  add("d", 1_000_020);
  for (let i = 0; i < 30; i++) clock.advance(1);
  assert.deepEqual(fired.map((f) => [f.id, f.firedAt - 1_000_000]), [
    ["a", 10],
    ["b", 10],
    ["c", 20],
    ["d", 20],
  ]);
  assert.equal(clock.pending, 0);
});

Deno.test("wheel.advance alone fires exactly the items whose tick boundary has passed", () => {
  const { wheel, fired, add } = setup({ start: 1_000_000 });
  add("a", 1_000_001);
  add("b", 1_000_010);
  add("c", 1_000_011);
  assert.equal(wheel.advance(1_000_009), 0);
  assert.equal(wheel.advance(1_000_010), 2);
  assert.deepEqual(ids(fired), ["a", "b"]);
  assert.equal(wheel.advance(1_000_019), 0);
  assert.equal(wheel.advance(1_000_020), 1);
  assert.equal(wheel.size, 0);
});

for (const levels of [1, 2, 4]) {
  Deno.test(`random schedules, cancels and replacements fire in due order (levels=${levels})`, () => {
    interface Entry {
      id: string;
      dueAt: number;
      seq: number;
      scheduledAt: number;
    }
    const rng = seededRng(20_240_601 + levels);
    const clock = new FakeClock(T0);
    const fired: { entry: Entry; firedAt: number; batch: number }[] = [];
    let batch = 0;
    const wheel = new TimerWheel<Entry>({
      clock,
      tickMs: 1,
      levels,
      onDue: (entries) => {
        batch++;
        for (const entry of entries) fired.push({ entry, firedAt: clock.now(), batch });
      },
    });
    // Spread over ~2.5x the 4-level range so every level and the overflow are used.
    const horizons = [50, 4_000, 250_000, 16_000_000, 40_000_000];
    const expected = new Map<string, Entry>();
    const dropped = new Set<Entry>(); // replaced or cancelled before firing
    let seq = 0;
    wheel.start();
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 250; i++) {
        const id = `d${Math.floor(rng() * 6_000)}`;
        const horizon = horizons[Math.floor(rng() * horizons.length)]!;
        const entry = {
          id,
          dueAt: clock.now() + Math.floor(rng() * horizon) - 10,
          seq: seq++,
          scheduledAt: clock.now(),
        };
        const live = expected.get(id);
        if (live !== undefined) dropped.add(live);
        if (rng() < 0.1) {
          assert.equal(wheel.cancel(id), expected.delete(id));
        } else {
          wheel.schedule(id, entry.dueAt, entry);
          expected.set(id, entry);
        }
      }
      assert.equal(wheel.size, expected.size);
      // Let part of the time pass, firing some and leaving the rest.
      clock.advance(Math.floor(rng() * 2_000_000));
      for (const f of fired) {
        if (expected.get(f.entry.id) === f.entry) expected.delete(f.entry.id);
      }
    }
    clock.runAll();
    assert.equal(wheel.size, 0);
    assert.equal(clock.pending, 0);
    for (const f of fired) {
      if (expected.get(f.entry.id) === f.entry) expected.delete(f.entry.id);
    }
    assert.equal(expected.size, 0, "every scheduled item fired");
    assert.ok(fired.length > 3_000);

    const seen = new Set<Entry>();
    for (let i = 0; i < fired.length; i++) {
      const { entry, firedAt, batch } = fired[i]!;
      assert.ok(!seen.has(entry), `${entry.id} fired twice`);
      assert.ok(!dropped.has(entry), `${entry.id} fired after being replaced or cancelled`);
      seen.add(entry);
      // With 1 ms ticks: exactly at its due time, or at once if scheduled overdue.
      assert.equal(firedAt, Math.max(entry.dueAt, entry.scheduledAt), `${entry.id} off time`);
      const prev = fired[i - 1];
      if (prev !== undefined && prev.batch === batch) {
        const p = prev.entry;
        assert.ok(p.dueAt < entry.dueAt || (p.dueAt === entry.dueAt && p.seq < entry.seq));
      }
    }
  });
}

Deno.test("random items scheduled ahead fire in global due order, each within one tick", () => {
  const rng = seededRng(7);
  const tickMs = 10;
  const { clock, wheel, fired, add } = setup({ tickMs });
  const order: Item[] = [];
  for (let i = 0; i < 20_000; i++) {
    // Coarse values make many ties, which must keep scheduling order.
    const dueAt = T0 + Math.floor(rng() * 400) * Math.floor(rng() * 1_000_000);
    add(`i${i}`, dueAt);
    order.push({ id: `i${i}`, dueAt });
  }
  order.sort((a, b) => a.dueAt - b.dueAt); // stable: ties keep insertion order
  wheel.start();
  clock.runAll();
  assert.deepEqual(ids(fired), order.map((o) => o.id));
  for (const f of fired) {
    assert.ok(f.firedAt >= f.dueAt && f.firedAt < f.dueAt + tickMs, `${f.id} off its tick`);
  }
});

Deno.test("items cascade across every level boundary and fire exactly on time", () => {
  const tickMs = 1;
  // Start just past a top-level (64^4) block boundary.
  const block = 64 ** 4;
  const start = Math.ceil(T0 / block) * block + 5;
  const { wheel, fired, add } = setup({ tickMs, start });
  const dues: number[] = [];
  for (let l = 1; l <= 4; l++) {
    const span = 64 ** l;
    const boundary = Math.ceil(start / span) * span;
    dues.push(boundary - 1, boundary, boundary + 1);
    // The same boundary one slot later, reached only after another cascade.
    dues.push(boundary + span - 1, boundary + span, boundary + span + 1);
  }
  dues.sort((a, b) => a - b);
  for (const due of dues) add(`t${due}`, due);
  assert.equal(wheel.nextDueAt(), dues[0]);
  let n = 0;
  for (const due of dues) {
    if (fired.some((f) => f.dueAt === due)) continue; // same due time as the previous one
    wheel.advance(due - 1);
    assert.equal(fired.length, n, `nothing fires before ${due}`);
    wheel.advance(due);
    n = dues.filter((d) => d <= due).length;
    assert.equal(fired.length, n, `all items due by ${due} fired`);
    assert.equal(fired.at(-1)!.dueAt, due);
  }
  assert.deepEqual(fired.map((f) => f.dueAt), dues);
  assert.equal(wheel.size, 0);
});

Deno.test("items beyond the top level wait in the overflow and come back in order", () => {
  const tickMs = 10;
  const range = 64 ** 4 * tickMs; // ≈ 46.6 h
  const { clock, wheel, fired, add } = setup({ tickMs });
  add("far3", T0 + 3 * range + 7);
  add("far1", T0 + range + 3);
  add("edge", T0 + range - 10);
  add("far2", T0 + 2 * range);
  add("gone", T0 + 2 * range + 50);
  add("near", T0 + 1_000);
  assert.equal(wheel.nextDueAt(), T0 + 1_000);
  wheel.start();
  clock.advance(2_000);
  assert.deepEqual(ids(fired), ["near"]);
  assert.equal(wheel.nextDueAt(), T0 + range - 10);
  clock.advanceTo(T0 + range + 3 - 1);
  assert.deepEqual(ids(fired), ["near", "edge"]);
  assert.ok(wheel.cancel("gone"));
  clock.advanceTo(T0 + range + 10);
  assert.deepEqual(ids(fired), ["near", "edge", "far1"]);
  assert.equal(wheel.nextDueAt(), T0 + 2 * range);
  const wakeups = clock.runAll();
  assert.deepEqual(ids(fired), ["near", "edge", "far1", "far2", "far3"]);
  // Long waits are a handful of wakeups (cascades and block boundaries), not a 10 ms interval.
  assert.ok(wakeups < 20, `${wakeups} wakeups`);
  for (const f of fired) assert.ok(f.firedAt >= f.dueAt && f.firedAt < f.dueAt + tickMs);
});

Deno.test("an item an hour ahead costs a few wakeups, and an empty wheel arms no timer", () => {
  const { clock, wheel, fired, add } = setup();
  wheel.start();
  assert.equal(clock.pending, 0);
  add("x", T0 + 3_600_000);
  assert.equal(clock.pending, 1);
  const wakeups = clock.runAll();
  assert.ok(wakeups <= 4, `${wakeups} wakeups`);
  assert.deepEqual(fired.map((f) => f.firedAt - T0), [3_600_003], "at the next 10 ms boundary");
  assert.equal(clock.pending, 0);
});

Deno.test("cancel removes an item before it is due, after it cascaded, and reports missing ids", () => {
  const { clock, wheel, fired, add } = setup();
  wheel.start();
  add("soon", T0 + 50);
  add("later", T0 + 600_000);
  add("keep", T0 + 600_010);
  assert.equal(wheel.cancel("nope"), false);
  assert.ok(wheel.cancel("soon"));
  assert.equal(wheel.has("soon"), false);
  assert.equal(wheel.cancel("soon"), false);
  clock.advanceTo(T0 + 600_000 - 5); // "later" has cascaded down to level 0 by now
  assert.ok(wheel.has("later"));
  assert.ok(wheel.cancel("later"));
  clock.runAll();
  assert.deepEqual(ids(fired), ["keep"]);
  assert.equal(wheel.cancel("keep"), false, "a fired item can no longer be cancelled");
});

Deno.test("cancelling the last item clears the wheel's timer", () => {
  const { clock, wheel, add } = setup();
  wheel.start();
  add("a", T0 + 5_000);
  add("b", T0 + 90_000_000); // overflow
  assert.equal(clock.pending, 1);
  wheel.cancel("a");
  assert.equal(clock.pending, 1);
  wheel.cancel("b");
  assert.equal(clock.pending, 0);
  assert.equal(wheel.size, 0);
  assert.equal(wheel.nextDueAt(), undefined);
});

Deno.test("scheduling an existing id replaces it, earlier or later", () => {
  const { clock, wheel, fired, add } = setup();
  wheel.start();
  add("x", T0 + 1_000);
  add("y", T0 + 500);
  add("x", T0 + 100_000);
  assert.equal(wheel.size, 2);
  add("y", T0 + 200);
  add("z", T0 + 200);
  add("y", T0 + 200); // re-scheduled last, so it now fires after z
  clock.runAll();
  assert.deepEqual(fired.map((f) => [f.id, f.dueAt - T0]), [
    ["z", 200],
    ["y", 200],
    ["x", 100_000],
  ]);
});

Deno.test("items due in the past fire on the next wakeup, in due order, never inside schedule", () => {
  const { clock, wheel, fired, add } = setup({ start: T1 });
  add("past2", T1 - 5_000);
  add("now", T1);
  add("past1", T1 - 60_000);
  assert.equal(fired.length, 0);
  assert.equal(wheel.size, 3);
  assert.equal(wheel.nextDueAt(), T1 - 60_000);
  wheel.start();
  assert.equal(clock.pending, 1);
  assert.equal(clock.nextAt(), T1, "a 0 ms timer");
  clock.advance(0);
  assert.deepEqual(ids(fired), ["past1", "past2", "now"]);
  assert.equal(fired[0]!.batch, fired[2]!.batch, "one batch");

  // While running, a late-arriving overdue item arms an immediate wakeup.
  clock.advance(1_230);
  add("overdue", T1 + 1_000);
  assert.equal(clock.nextAt(), T1 + 1_230);
  clock.advance(0);
  assert.equal(fired.at(-1)!.id, "overdue");
  assert.equal(fired.at(-1)!.firedAt, T1 + 1_230);

  // Due now, but inside the current (unfinished) tick: it fires at the tick's end.
  clock.advance(4);
  add("this-tick", T1 + 1_234);
  clock.advance(5);
  assert.equal(fired.at(-1)!.id, "overdue");
  clock.advance(1);
  assert.deepEqual([fired.at(-1)!.id, fired.at(-1)!.firedAt], ["this-tick", T1 + 1_240]);
  assert.equal(clock.pending, 0);
});

Deno.test("a late wakeup catches up and fires everything overdue in due order", () => {
  const { clock, wheel, fired, add } = setup();
  wheel.start();
  const dues = [10, 640, 20, 5_000, 41_000, 700_000, 3_000_000];
  dues.forEach((d, i) => add(`i${i}`, T0 + d));
  clock.jump(1_000_000); // the event loop was blocked; no timer ran
  assert.equal(fired.length, 0);
  clock.advance(0);
  assert.deepEqual(fired.map((f) => f.dueAt - T0), [10, 20, 640, 5_000, 41_000, 700_000]);
  assert.ok(fired.every((f) => f.batch === 1 && f.firedAt === T0 + 1_000_000));
  assert.equal(clock.pending, 1, "re-armed for the remaining item");
  clock.runAll();
  assert.equal(fired.at(-1)!.firedAt, T0 + 3_000_003);
});

Deno.test("onDue may schedule items: due ones fire in the same advance, later ones on time", () => {
  const T0 = T1;
  const clock = new FakeClock(T0);
  const log: string[] = [];
  const wheel: TimerWheel<string> = new TimerWheel<string>({
    clock,
    onDue: (items) => {
      log.push(`${clock.now() - T0}:${items.join(",")}`);
      for (const item of items) {
        if (item === "a") {
          wheel.schedule("a", clock.now() + 100, "a-again"); // same id, again
          wheel.schedule("child", clock.now(), "child");
          wheel.schedule("past", T0, "past");
        }
      }
    },
  });
  wheel.start();
  wheel.schedule("a", T0 + 50, "a");
  wheel.schedule("b", T0 + 50, "b");
  clock.advance(50);
  assert.deepEqual(log, ["50:a,b", "50:past,child"]);
  clock.runAll();
  assert.deepEqual(log, ["50:a,b", "50:past,child", "150:a-again"]);
  assert.equal(clock.pending, 0);
});

Deno.test("advance called from onDue is folded into the outer advance", () => {
  const T0 = T1;
  const clock = new FakeClock(T0);
  const log: string[] = [];
  const wheel: TimerWheel<string> = new TimerWheel<string>({
    clock,
    onDue: (items) => {
      log.push(items.join(","));
      if (items.includes("a")) assert.equal(wheel.advance(T0 + 1_000), 0);
    },
  });
  wheel.schedule("a", T0 + 10, "a");
  wheel.schedule("b", T0 + 500, "b");
  wheel.schedule("c", T0 + 2_000, "c");
  assert.equal(wheel.advance(T0 + 10), 2);
  assert.deepEqual(log, ["a", "b"]);
});

Deno.test("an exception from onDue propagates, and the wheel stays consistent and armed", () => {
  const T0 = T1;
  const clock = new FakeClock(T0);
  let calls = 0;
  const wheel = new TimerWheel<string>({
    clock,
    onDue: () => {
      if (++calls === 1) throw new Error("boom");
    },
  });
  wheel.start();
  wheel.schedule("a", T0 + 10, "a");
  wheel.schedule("b", T0 + 20, "b");
  assert.throws(() => clock.advance(10), /boom/);
  assert.equal(wheel.size, 1);
  assert.equal(clock.pending, 1);
  clock.runAll();
  assert.equal(calls, 2);
  assert.equal(wheel.size, 0);
});

Deno.test("100,000 timers all fire exactly once, in order, none early", () => {
  const rng = seededRng(100_000);
  const tickMs = 10;
  const n = 100_000;
  const clock = new FakeClock(T0);
  let count = 0;
  let last: Item & { seq: number } = { id: "", dueAt: -Infinity, seq: -1 };
  const seen = new Set<string>();
  const wheel = new TimerWheel<Item & { seq: number }>({
    clock,
    tickMs,
    onDue: (items) => {
      const now = clock.now();
      for (const item of items) {
        assert.ok(item.dueAt <= now && now < item.dueAt + tickMs, `${item.id} off its tick`);
        assert.ok(
          item.dueAt > last.dueAt || (item.dueAt === last.dueAt && item.seq > last.seq),
          `${item.id} out of order`,
        );
        assert.ok(!seen.has(item.id), `${item.id} fired twice`);
        seen.add(item.id);
        last = item;
        count++;
      }
    },
  });
  for (let seq = 0; seq < n; seq++) {
    const dueAt = T0 + Math.floor(rng() * 3 * 3_600_000);
    wheel.schedule(`d${seq}`, dueAt, { id: `d${seq}`, dueAt, seq });
  }
  assert.equal(wheel.size, n);
  wheel.start();
  clock.runAll(1_000_000);
  assert.equal(count, n);
  assert.equal(wheel.size, 0);
  assert.equal(clock.pending, 0);
});

Deno.test("stop clears the timer and keeps the items; start re-arms", () => {
  const T0 = T1;
  const { clock, wheel, fired, add } = setup({ start: T0 });
  add("a", T0 + 100);
  assert.equal(clock.pending, 0, "a stopped wheel arms nothing");
  wheel.start();
  wheel.start();
  assert.equal(clock.pending, 1);
  wheel.stop();
  assert.equal(clock.pending, 0);
  assert.equal(wheel.started, false);
  clock.advance(1_000);
  assert.equal(fired.length, 0);
  add("b", T0 + 2_000);
  assert.equal(clock.pending, 0);
  wheel.start();
  clock.advance(0);
  assert.deepEqual(ids(fired), ["a"]);
  wheel.stop();
  assert.equal(wheel.advance(T0 + 2_000), 1, "advance works while stopped");
  assert.equal(clock.pending, 0);
});

Deno.test("nextDueAt reports the exact earliest due time", () => {
  const { wheel, add } = setup();
  assert.equal(wheel.nextDueAt(), undefined);
  add("a", T0 + 90_000);
  add("b", T0 + 70_003);
  add("c", T0 + 70_001);
  assert.equal(wheel.nextDueAt(), T0 + 70_001);
  wheel.cancel("c");
  assert.equal(wheel.nextDueAt(), T0 + 70_003);
  wheel.advance(T0 + 70_000); // cascades b and c's slot
  assert.equal(wheel.nextDueAt(), T0 + 70_003);
});

Deno.test("options and arguments are validated", () => {
  const clock = new FakeClock(T0);
  const onDue = () => {};
  assert.throws(() => new TimerWheel({ clock, onDue, tickMs: 0 }), /'tickMs' must be/);
  assert.throws(() => new TimerWheel({ clock, onDue, tickMs: 2.5 }), /got 2.5/);
  assert.throws(() => new TimerWheel({ clock, onDue, levels: 9 }), /'levels' must be/);
  assert.throws(
    () => new TimerWheel({ clock, onDue: undefined as unknown as () => void }),
    TypeError,
  );
  const wheel = new TimerWheel({ clock, onDue });
  assert.equal(wheel.tickMs, 10);
  assert.equal(wheel.levels, 4);
  assert.throws(() => wheel.schedule("x", NaN, 1), /Cannot schedule "x": 'dueAt'/);
  assert.throws(() => wheel.advance(Infinity), RangeError);
  assert.equal(wheel.size, 0);
});

Deno.test("with the system clock an item 20 ms ahead fires, not before its due time", async () => {
  let resolve!: (firedAt: number) => void;
  const done = new Promise<number>((r) => resolve = r);
  const wheel = new TimerWheel<number>({
    clock: systemClock,
    onDue: (items) => {
      for (const _ of items) resolve(Date.now());
    },
  });
  wheel.start();
  const dueAt = Date.now() + 20;
  wheel.schedule("x", dueAt, dueAt);
  wheel.schedule("cancelled", dueAt + 10_000, 0);
  wheel.cancel("cancelled");
  const firedAt = await done;
  assert.ok(firedAt >= dueAt, `fired ${dueAt - firedAt} ms early`);
  assert.equal(wheel.size, 0);
  // Nothing left armed: the test sanitizer fails on a leaked timer. stop() is a no-op here.
  wheel.stop();
});

Deno.test("with the system clock stop() clears a far-away timer", () => {
  const wheel = new TimerWheel<number>({ clock: systemClock, onDue: () => {} });
  wheel.schedule("far", Date.now() + 365 * 86_400_000, 1);
  wheel.start();
  wheel.stop();
  assert.equal(wheel.size, 1);
});
