/**
 * A manually driven {@linkcode Clock} for tests: time moves only when the
 * test says so, so a 42-hour retry schedule runs in milliseconds.
 *
 * @module
 */

import type { Clock, TimerHandle } from "../clock.ts";

interface FakeTimer {
  readonly id: number;
  readonly at: number;
  readonly fn: () => void;
}

/**
 * A manually driven clock for tests. Time only moves when the test calls
 * {@linkcode FakeClock.advance}, {@linkcode FakeClock.advanceTo},
 * {@linkcode FakeClock.runAll} or {@linkcode FakeClock.jump}. Due timers run in
 * order of their due time, then of creation, with `now()` set to their due time
 * while they run; timers created by a callback run within the same advance if
 * they fall due before it ends.
 */
export class FakeClock implements Clock {
  #now: number;
  #nextId = 1;
  /** Binary min-heap on (at, id); cleared timers stay until popped or compacted. */
  #heap: FakeTimer[] = [];
  #active = new Map<number, FakeTimer>();

  constructor(start = 0) {
    if (!Number.isFinite(start)) {
      throw new RangeError(`Cannot create FakeClock: 'start' must be finite, got ${start}`);
    }
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  /** Timers created and neither fired nor cleared. */
  get pending(): number {
    return this.#active.size;
  }

  /** Due time of the earliest pending timer, or `undefined` when none is pending. */
  nextAt(): number | undefined {
    return this.#peek()?.at;
  }

  setTimeout(fn: () => void, ms: number): number {
    const timer = { id: this.#nextId++, at: this.#now + (ms > 0 ? ms : 0), fn };
    this.#active.set(timer.id, timer);
    this.#push(timer);
    return timer.id;
  }

  clearTimeout(handle: TimerHandle): void {
    if (typeof handle !== "number" || !this.#active.delete(handle)) return;
    // Cleared timers linger in the heap; rebuild when they dominate it.
    if (this.#heap.length > 32 && this.#heap.length > 2 * this.#active.size) {
      this.#heap = [...this.#active.values()].sort(compareTimers);
    }
  }

  /** Moves time forward by `ms`, running every timer that falls due. Returns how many ran. */
  advance(ms: number): number {
    if (!(ms >= 0)) {
      throw new RangeError(`Cannot advance FakeClock: 'ms' must be >= 0, got ${ms}`);
    }
    return this.advanceTo(this.#now + ms);
  }

  /** Moves time forward to `t`, running every timer due at or before `t`. Returns how many ran. */
  advanceTo(t: number): number {
    if (!(t >= this.#now) || !Number.isFinite(t)) {
      throw new RangeError(
        `Cannot advance FakeClock to ${t}: must be finite and not before now (${this.#now})`,
      );
    }
    let ran = 0;
    for (let timer = this.#peek(); timer !== undefined && timer.at <= t; timer = this.#peek()) {
      this.#run(timer);
      ran++;
    }
    this.#now = t;
    return ran;
  }

  /**
   * Moves time forward by `ms` without running timers, as if the event loop
   * were blocked; the overdue timers run, late, on the next advance (`advance(0)`).
   */
  jump(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`Cannot jump FakeClock: 'ms' must be >= 0, got ${ms}`);
    this.#now += ms;
  }

  /**
   * Runs timers, moving time to each one's due time, until none is pending.
   * Throws after `limit` timers, which catches a callback that keeps re-arming.
   */
  runAll(limit = 100_000): number {
    let ran = 0;
    for (let timer = this.#peek(); timer !== undefined; timer = this.#peek()) {
      if (ran >= limit) {
        throw new Error(`Cannot run all FakeClock timers: still pending after ${limit} ran`);
      }
      this.#run(timer);
      ran++;
    }
    return ran;
  }

  #run(timer: FakeTimer): void {
    this.#pop();
    this.#active.delete(timer.id);
    // A timer overdue after jump() runs late, at the current time.
    if (timer.at > this.#now) this.#now = timer.at;
    timer.fn();
  }

  /** The earliest timer still active, discarding cleared ones on top of the heap. */
  #peek(): FakeTimer | undefined {
    let top = this.#heap[0];
    while (top !== undefined && !this.#active.has(top.id)) {
      this.#pop();
      top = this.#heap[0];
    }
    return top;
  }

  #push(timer: FakeTimer): void {
    const heap = this.#heap;
    let i = heap.push(timer) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent]!;
      if (compareTimers(p, timer) <= 0) break;
      heap[i] = p;
      i = parent;
    }
    heap[i] = timer;
  }

  #pop(): void {
    const heap = this.#heap;
    const last = heap.pop();
    if (last === undefined || heap.length === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= heap.length) break;
      const r = l + 1;
      const c = r < heap.length && compareTimers(heap[r]!, heap[l]!) < 0 ? r : l;
      if (compareTimers(last, heap[c]!) <= 0) break;
      heap[i] = heap[c]!;
      i = c;
    }
    heap[i] = last;
  }
}

function compareTimers(a: FakeTimer, b: FakeTimer): number {
  return a.at - b.at || a.id - b.id;
}
