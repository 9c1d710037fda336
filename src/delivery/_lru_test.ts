import assert from "node:assert/strict";
import { LruCache } from "./_lru.ts";

Deno.test("LruCache evicts the least recently used entry", () => {
  const c = new LruCache<string, number>(2);
  c.set("a", 1);
  c.set("b", 2);
  assert.equal(c.get("a"), 1); // a is now the most recent
  c.set("c", 3); // evicts b
  assert.equal(c.size, 2);
  assert.equal(c.has("b"), false);
  assert.equal(c.get("a"), 1);
  assert.equal(c.get("c"), 3);
  c.set("a", 10); // overwrite refreshes, does not grow
  c.set("d", 4); // evicts c
  assert.deepEqual([c.get("a"), c.get("c"), c.get("d")], [10, undefined, 4]);
  assert.equal(c.delete("a"), true);
  assert.equal(c.size, 1);
  c.clear();
  assert.equal(c.size, 0);
});

Deno.test("LruCache keeps undefined values and rejects bad capacities", () => {
  const c = new LruCache<string, undefined>(1);
  c.set("x", undefined);
  assert.equal(c.has("x"), true);
  for (const n of [0, -1, 1.5, NaN]) assert.throws(() => new LruCache(n), RangeError);
});
