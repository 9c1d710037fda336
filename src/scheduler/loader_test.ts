/**
 * When the loader reads the store. Every read counts: on Deno 2.9.6 each one
 * leaves native memory behind (see `DeliveryLoader.refillIfBehind`), so a
 * look must not follow every delivery.
 */
import assert from "node:assert/strict";
import { silentLogger } from "../ops/log.ts";
import type { DueCursor, DueDelivery } from "../store/delivery_queue.ts";
import type { Store } from "../store/client.ts";
import { FakeClock } from "../testing/fake_clock.ts";
import { DeliveryLoader } from "./loader.ts";

type DueArgs = { limit: number; after?: DueCursor };

/**
 * A loader over a store that answers `dueDeliveries` from `pages`, one page
 * per read, or from `read` when given; the engine holds `held` already.
 */
function loaderWith(
  pages: DueDelivery[][],
  options: {
    pageSize?: number;
    maxInMemory?: number;
    fail?: () => boolean;
    read?: (args: DueArgs) => DueDelivery[];
    held?: readonly DueDelivery[];
  } = {},
) {
  const clock = new FakeClock(0);
  const held = new Map((options.held ?? []).map((d) => [d.id, d]));
  let reads = 0;
  const store = {
    read(name: string, args: DueArgs) {
      assert.equal(name, "dueDeliveries");
      reads++;
      if (options.fail?.()) return Promise.reject(new Error("store unavailable"));
      return Promise.resolve(options.read?.(args) ?? (pages.shift() ?? []).slice(0, args.limit));
    },
  } as unknown as Store;
  const loader = new DeliveryLoader({
    store,
    clock,
    log: silentLogger,
    horizonMs: 60_000,
    intervalMs: 5_000,
    pageSize: options.pageSize ?? 10,
    maxInMemory: options.maxInMemory ?? 100,
    isKnown: (id) => held.has(id),
    inMemory: () => held.size,
    schedule: (due) => held.set(due.id, due),
  });
  return { loader, clock, held, reads: () => reads };
}

function due(from: number, count: number): DueDelivery[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `d${from + i}`,
    webhookId: "w",
    dueAt: 0,
  }));
}

Deno.test("idle refills read nothing once a look found everything due", async () => {
  const { loader, reads, held } = loaderWith([due(0, 3)]);
  await loader.start();
  assert.equal(reads(), 1);
  assert.equal(held.size, 3);
  // The dispatcher's queue runs empty after every delivery when events come one per request.
  for (let i = 0; i < 1_000; i++) await loader.refillIfBehind();
  assert.equal(reads(), 1, "no store read per idle moment");
  loader.stop();
});

Deno.test("work left in the store unloaded makes the next idle refill look, once", async () => {
  const { loader, reads, held } = loaderWith([[], due(0, 2)]);
  await loader.start();
  loader.markBehind();
  await loader.refillIfBehind();
  assert.equal(reads(), 2);
  assert.equal(held.size, 2);
  await loader.refillIfBehind();
  assert.equal(reads(), 2);
  loader.stop();
});

Deno.test("a look stopped by the memory cap leaves the next idle refill to take more", async () => {
  const { loader, reads, held } = loaderWith([due(0, 10), due(10, 10), due(20, 5)], {
    pageSize: 10,
    maxInMemory: 10,
  });
  await loader.start();
  assert.equal(reads(), 1);
  assert.equal(held.size, 10);
  // The dispatcher took them all: room again, and the store holds more.
  held.clear();
  await loader.refillIfBehind();
  assert.equal(reads(), 2);
  assert.equal(held.size, 10);
  held.clear();
  await loader.refillIfBehind();
  assert.equal(reads(), 3);
  assert.equal(held.size, 5, "a short page: all that is due is loaded");
  await loader.refillIfBehind();
  assert.equal(reads(), 3);
  loader.stop();
});

Deno.test("a failed look leaves the next idle refill to look again", async () => {
  let failing = true;
  const { loader, reads, held } = loaderWith([due(0, 1)], { fail: () => failing });
  await loader.start();
  assert.equal(reads(), 1);
  failing = false;
  await loader.refillIfBehind();
  assert.equal(reads(), 2);
  assert.equal(held.size, 1);
  await loader.refillIfBehind();
  assert.equal(reads(), 2);
  loader.stop();
});

Deno.test("the periodic look still reads when not behind", async () => {
  const { loader, reads, clock } = loaderWith([]);
  await loader.start();
  assert.equal(reads(), 1);
  clock.advance(5_000);
  await loader.refillIfBehind(); // waits for the look the timer started
  assert.equal(reads(), 2);
  loader.stop();
});

Deno.test("a look gets past the deliveries the engine already holds to the ones behind them", async () => {
  // The store as the loader sees it: everything pending, oldest first. The
  // engine holds the first 30 (claimed deliveries leave the pending set, but
  // those waiting for room in their webhook's queue are still pending).
  const pending = due(0, 45);
  const pages: number[] = [];
  const { loader, held } = loaderWith([], {
    pageSize: 10,
    held: pending.slice(0, 30),
    read: ({ limit, after }) => {
      const from = after === undefined ? 0 : pending.findIndex((d) => d.id === after.id) + 1;
      pages.push(from);
      return pending.slice(from, from + limit);
    },
  });
  await loader.start();
  assert.equal(held.size, 45, "the 15 behind the held ones are loaded");
  assert.deepEqual(pages, [0, 10, 20, 30, 40], "each page starts where the last one ended");
  loader.stop();
});
