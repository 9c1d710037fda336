/**
 * A hierarchical timer wheel holding the deliveries due within the scheduler's
 * horizon. Scheduling and cancelling are O(1); firing costs O(1) per item plus
 * a sort of each batch; memory is O(items).
 *
 * @module
 */

import type { Clock, TimerHandle } from "../clock.ts";

/** Slots per level; fixed at 64 so each level's occupancy fits two 32-bit words. */
export const WHEEL_SLOTS = 64;

/** Options for {@linkcode TimerWheel}. */
export interface TimerWheelOptions<T> {
  /** Source of time and timers. */
  clock: Clock;
  /** Width of one tick in ms, a positive integer. Default 10. */
  tickMs?: number;
  /**
   * Number of levels, 1–8. Level `l` has 64 slots of 64^l ticks each, so the
   * wheel spans 64^levels ticks (default 4: 16,777,216 ticks, about 46.6 h at
   * 10 ms); later items wait in an overflow list. Default 4.
   */
  levels?: number;
  /**
   * Receives the items that fell due, sorted by due time, then by the order in
   * which they were (last) scheduled. They are already removed from the wheel
   * when it runs, so it may re-schedule their ids. It may also schedule, cancel
   * and call `advance`; items it schedules that are already due fire within the
   * same `advance`, in a further call. An exception propagates out of `advance`
   * (out of the timer callback when the wheel drives itself) after the wheel
   * has re-armed.
   */
  onDue: (items: T[]) => void;
}

/** Where a node currently sits: a slot of some level, the ready list or the overflow list. */
class List<T> {
  head: Node<T> | null = null;
  tail: Node<T> | null = null;
  /** Level of a wheel slot; -1 for the ready list, -2 for the overflow list. */
  readonly level: number;
  readonly slot: number;

  constructor(level: number, slot: number) {
    this.level = level;
    this.slot = slot;
  }

  append(node: Node<T>): void {
    node.list = this;
    node.prev = this.tail;
    node.next = null;
    if (this.tail === null) this.head = node;
    else this.tail.next = node;
    this.tail = node;
  }

  unlink(node: Node<T>): void {
    if (node.prev === null) this.head = node.next;
    else node.prev.next = node.next;
    if (node.next === null) this.tail = node.prev;
    else node.next.prev = node.prev;
    node.prev = node.next = null;
    node.list = null;
  }

  /** Empties the list and returns its first node; the nodes stay chained by `next`. */
  take(): Node<T> | null {
    const head = this.head;
    this.head = this.tail = null;
    return head;
  }
}

class Node<T> {
  prev: Node<T> | null = null;
  next: Node<T> | null = null;
  list: List<T> | null = null;
  constructor(
    readonly id: string,
    readonly dueAt: number,
    /** The tick at which the item fires: the first tick boundary at or after `dueAt`. */
    readonly tick: number,
    readonly item: T,
    readonly seq: number,
  ) {}
}

/**
 * A hierarchical timer wheel (levels × 64 slots) of items keyed by id.
 *
 * Time is cut into ticks of `tickMs`; tick `k` starts at `k * tickMs` ms. An
 * item due at `dueAt` fires at tick `ceil(dueAt / tickMs)`, which the wheel
 * processes once `now >= k * tickMs`: never before `dueAt`, and with a clock
 * that wakes it on time, less than one tick after it.
 *
 * Items far ahead sit in coarse levels and cascade to finer ones as their slot
 * comes up. `advance(now)` processes every tick between the last processed one
 * and `now`, skipping empty stretches via per-level occupancy bitmaps, so a
 * late wakeup fires everything overdue, in due order, in one batch.
 *
 * Driven by itself after `start()`: it keeps at most one clock timer, armed for
 * the next occupied slot (or at once when items are due), and none while empty.
 */
export class TimerWheel<T> {
  readonly tickMs: number;
  readonly levels: number;
  readonly #clock: Clock;
  readonly #onDue: (items: T[]) => void;
  /** `#span[l]` = 64^l: ticks per slot at level `l`, and `#span[levels]` the wheel's range. */
  readonly #span: number[];
  readonly #slots: List<T>[][];
  /** Two 32-bit occupancy words per level: bit `s` set iff slot `s` is non-empty. */
  readonly #occupied: Uint32Array;
  /** Items whose tick has been processed, waiting to be handed to `onDue`. */
  readonly #ready = new List<T>(-1, 0);
  /** Items beyond the wheel's range (a later top-level block than the current tick's). */
  readonly #overflow = new List<T>(-2, 0);
  /** A lower bound on the ticks in the overflow list (Infinity when empty). */
  #overflowMinTick = Infinity;
  readonly #index = new Map<string, Node<T>>();
  /** The last processed tick. Every item in the wheel has a later tick. */
  #tick: number;
  #seq = 0;
  #advancing = false;
  /** Largest `now` passed to a nested `advance` call during `onDue`. */
  #requested = -Infinity;
  #started = false;
  #timer: TimerHandle | undefined = undefined;
  #armedAt = Infinity;

  constructor(options: TimerWheelOptions<T>) {
    const { clock, tickMs = 10, levels = 4, onDue } = options;
    if (!Number.isSafeInteger(tickMs) || tickMs < 1) {
      throw new RangeError(
        `Cannot create TimerWheel: 'tickMs' must be a positive integer, got ${tickMs}`,
      );
    }
    if (!Number.isInteger(levels) || levels < 1 || levels > 8) {
      throw new RangeError(
        `Cannot create TimerWheel: 'levels' must be an integer from 1 to 8, got ${levels}`,
      );
    }
    if (typeof onDue !== "function") {
      throw new TypeError("Cannot create TimerWheel: 'onDue' must be a function");
    }
    this.tickMs = tickMs;
    this.levels = levels;
    this.#clock = clock;
    this.#onDue = onDue;
    this.#span = Array.from({ length: levels + 1 }, (_, l) => WHEEL_SLOTS ** l);
    this.#slots = Array.from(
      { length: levels },
      (_, l) => Array.from({ length: WHEEL_SLOTS }, (_, s) => new List<T>(l, s)),
    );
    this.#occupied = new Uint32Array(levels * 2);
    this.#tick = Math.floor(clock.now() / tickMs);
  }

  /** Number of items held, including due ones not yet handed to `onDue`. */
  get size(): number {
    return this.#index.size;
  }

  /** Whether an item with this id is waiting to fire. */
  has(id: string): boolean {
    return this.#index.has(id);
  }

  /** Whether the wheel drives itself with the clock's timers. */
  get started(): boolean {
    return this.#started;
  }

  /**
   * Adds an item due at `dueAt` (ms since the epoch), replacing any item with
   * the same id (it then counts as scheduled now for tie-breaking).
   *
   * An item whose tick the wheel has already processed (due at or before the
   * last tick boundary `advance` reached) goes straight to the ready list: it
   * fires on the wheel's next wakeup, which a started wheel arms at once (a
   * 0 ms clock timer, so after the current task, batched with everything else
   * scheduled in it); a stopped wheel fires it on the next `advance`. Never
   * synchronously inside `schedule`.
   */
  schedule(id: string, dueAt: number, item: T): void {
    if (!Number.isFinite(dueAt)) {
      throw new RangeError(
        `Cannot schedule "${id}": 'dueAt' must be finite ms since the epoch, got ${dueAt}`,
      );
    }
    const old = this.#index.get(id);
    if (old !== undefined) this.#remove(old);
    const node = new Node(id, dueAt, Math.ceil(dueAt / this.tickMs), item, this.#seq++);
    this.#index.set(id, node);
    this.#insert(node);
    if (this.#started && !this.#advancing) this.#armAtMost(this.#wakeAtFor(node));
  }

  /** Removes the item with this id; `false` if none is waiting (never scheduled, fired, cancelled). */
  cancel(id: string): boolean {
    const node = this.#index.get(id);
    if (node === undefined) return false;
    this.#remove(node);
    if (this.#index.size === 0) this.#disarm();
    return true;
  }

  /**
   * The earliest due time held, or `undefined` when empty. Costs O(items in the
   * earliest occupied slot) (O(overflow) when only the overflow holds items).
   */
  nextDueAt(): number | undefined {
    let list: List<T> | null = this.#ready.head !== null ? this.#ready : null;
    for (let l = 0; list === null && l < this.levels; l++) {
      const s = this.#firstOccupied(l);
      if (s >= 0) list = this.#slots[l]![s]!;
    }
    list ??= this.#overflow;
    let min: number | undefined;
    for (let n = list.head; n !== null; n = n.next) {
      if (min === undefined || n.dueAt < min) min = n.dueAt;
    }
    return min;
  }

  /** Starts driving the wheel with the clock's timers; fires anything already due on the next wakeup. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#rearm();
  }

  /** Stops driving the wheel and clears its timer. Items are kept; `advance` still works. */
  stop(): void {
    this.#started = false;
    this.#disarm();
  }

  /**
   * Processes every tick up to `floor(now / tickMs)` and hands the items that
   * fell due to `onDue` (one call per batch; more calls only if `onDue`
   * schedules due items). The wheel never moves backwards: an earlier `now` only
   * fires the ready list. Returns how many items fired.
   */
  advance(now: number = this.#clock.now()): number {
    if (!Number.isFinite(now)) {
      throw new RangeError(`Cannot advance TimerWheel: 'now' must be finite, got ${now}`);
    }
    if (this.#advancing) {
      // Called from onDue: the outer call processes it when onDue returns.
      if (now > this.#requested) this.#requested = now;
      return 0;
    }
    this.#advancing = true;
    let fired = 0;
    try {
      let target = Math.floor(now / this.tickMs);
      for (;;) {
        while (this.#tick < target) {
          const next = this.#nextEventTick();
          if (!(next > this.#tick)) throw new Error(`TimerWheel invariant broken at tick ${next}`);
          if (next > target) {
            this.#tick = target;
            break;
          }
          this.#tick = next;
          this.#process(next);
        }
        if (this.#ready.head === null) break;
        const batch = this.#drainReady();
        fired += batch.length;
        this.#onDue(batch);
        target = Math.max(target, Math.floor(this.#requested / this.tickMs));
        this.#requested = -Infinity;
      }
    } finally {
      this.#advancing = false;
      this.#rearm();
    }
    return fired;
  }

  /** Puts a node (tick not yet in the ready list) where it belongs relative to `#tick`. */
  #insert(node: Node<T>): void {
    const tick = node.tick;
    const now = this.#tick;
    if (tick <= now) {
      this.#ready.append(node);
      return;
    }
    const span = this.#span;
    // The finest level whose slots are coarser than where tick and now differ.
    for (let l = 0; l < this.levels; l++) {
      const above = span[l + 1]!;
      if (Math.floor(tick / above) === Math.floor(now / above)) {
        const s = Math.floor(tick / span[l]!) % WHEEL_SLOTS;
        this.#slots[l]![s]!.append(node);
        this.#occupied[2 * l + (s >> 5)]! |= 1 << (s & 31);
        return;
      }
    }
    this.#overflow.append(node);
    if (tick < this.#overflowMinTick) this.#overflowMinTick = tick;
  }

  #remove(node: Node<T>): void {
    const list = node.list!;
    list.unlink(node);
    this.#index.delete(node.id);
    if (list.head !== null) return;
    if (list.level >= 0) {
      this.#occupied[2 * list.level + (list.slot >> 5)]! &= ~(1 << (list.slot & 31));
    } else if (list === this.#overflow) {
      this.#overflowMinTick = Infinity;
    }
  }

  /** Lowest occupied slot of level `l`, or -1. */
  #firstOccupied(l: number): number {
    const lo = this.#occupied[2 * l]!;
    if (lo !== 0) return 31 - Math.clz32(lo & -lo);
    const hi = this.#occupied[2 * l + 1]!;
    if (hi !== 0) return 63 - Math.clz32(hi & -hi);
    return -1;
  }

  /**
   * The next tick after `#tick` at which something happens: the start of the
   * earliest occupied slot (items in a finer level always come before those in
   * a coarser one, since every occupied slot of level `l` lies after `#tick`'s
   * within the same level-(l+1) slot), else the start of the first overflow
   * item's top-level block. Infinity when empty.
   */
  #nextEventTick(): number {
    const span = this.#span;
    for (let l = 0; l < this.levels; l++) {
      const s = this.#firstOccupied(l);
      if (s >= 0) {
        const above = span[l + 1]!;
        return Math.floor(this.#tick / above) * above + s * span[l]!;
      }
    }
    if (this.#overflow.head === null) return Infinity;
    const top = span[this.levels]!;
    return Math.max(this.#tick + 1, Math.floor(this.#overflowMinTick / top) * top);
  }

  /** Processes tick `t` (= `#tick`): pull in overflow, cascade slots starting here, fire level 0. */
  #process(t: number): void {
    const span = this.#span;
    const top = span[this.levels]!;
    if (this.#overflow.head !== null && t >= Math.floor(this.#overflowMinTick / top) * top) {
      this.#pullOverflow(Math.floor(t / top));
    }
    for (let l = this.levels - 1; l >= 0; l--) {
      if (t % span[l]! !== 0) continue;
      const s = Math.floor(t / span[l]!) % WHEEL_SLOTS;
      const word = 2 * l + (s >> 5);
      const bit = 1 << (s & 31);
      if ((this.#occupied[word]! & bit) === 0) continue;
      this.#occupied[word]! &= ~bit;
      // Cascade: re-insert relative to t. Nothing lands back in a slot starting at
      // t (an item due at t goes to the ready list), so the order of levels is free.
      let node = this.#slots[l]![s]!.take();
      while (node !== null) {
        const next = node.next;
        this.#insert(node);
        node = next;
      }
    }
  }

  /** Moves overflow items whose top-level block has come up into the wheel. */
  #pullOverflow(block: number): void {
    const top = this.#span[this.levels]!;
    const overflow = this.#overflow;
    let min = Infinity;
    let node = overflow.head;
    while (node !== null) {
      const next = node.next;
      if (Math.floor(node.tick / top) <= block) {
        overflow.unlink(node);
        this.#insert(node);
      } else if (node.tick < min) {
        min = node.tick;
      }
      node = next;
    }
    this.#overflowMinTick = min;
  }

  #drainReady(): T[] {
    const nodes: Node<T>[] = [];
    for (let node = this.#ready.take(); node !== null; node = node.next) {
      nodes.push(node);
      node.list = null;
      this.#index.delete(node.id);
    }
    nodes.sort((a, b) => a.dueAt - b.dueAt || a.seq - b.seq);
    return nodes.map((n) => n.item);
  }

  /** When a started wheel must wake up for this freshly inserted node. */
  #wakeAtFor(node: Node<T>): number {
    const list = node.list!;
    if (list === this.#ready) return this.#clock.now();
    if (list === this.#overflow) return this.#nextEventTick() * this.tickMs;
    const above = this.#span[list.level + 1]!;
    const tick = Math.floor(this.#tick / above) * above + list.slot * this.#span[list.level]!;
    return tick * this.tickMs;
  }

  /** Arms the timer for `wakeAt` unless it is already armed for that time or earlier. */
  #armAtMost(wakeAt: number): void {
    if (this.#timer !== undefined && this.#armedAt <= wakeAt) return;
    this.#arm(wakeAt);
  }

  /** Arms the timer for exactly the next event, or clears it when there is none. */
  #rearm(): void {
    if (!this.#started) return;
    const wakeAt = this.#ready.head !== null
      ? this.#clock.now()
      : this.#nextEventTick() * this.tickMs;
    if (wakeAt === Infinity) this.#disarm();
    else if (this.#timer === undefined || this.#armedAt !== wakeAt) this.#arm(wakeAt);
  }

  #arm(wakeAt: number): void {
    this.#disarm();
    this.#armedAt = wakeAt;
    this.#timer = this.#clock.setTimeout(this.#wake, Math.max(0, wakeAt - this.#clock.now()));
  }

  #disarm(): void {
    if (this.#timer === undefined) return;
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedAt = Infinity;
  }

  readonly #wake = (): void => {
    this.#timer = undefined;
    this.#armedAt = Infinity;
    // Woken early (a clamped long delay, a coarse platform timer): advance
    // fires nothing and re-arms.
    this.advance(this.#clock.now());
  };
}
