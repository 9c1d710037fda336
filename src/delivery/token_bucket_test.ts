import assert from "node:assert/strict";
import { TokenBucket } from "./token_bucket.ts";

Deno.test("a bucket allows its burst, then one token per 1/rate seconds", () => {
  const bucket = new TokenBucket(2, 0);
  assert.equal(bucket.take(0), 0);
  assert.equal(bucket.take(0), 0);
  assert.equal(bucket.take(0), 500);
  assert.equal(bucket.take(250), 250);
  assert.equal(bucket.take(500), 0);
  assert.equal(bucket.take(500), 500);
  // Idle time refills only up to the burst.
  assert.equal(bucket.take(60_000), 0);
  assert.equal(bucket.take(60_000), 0);
  assert.equal(bucket.take(60_000), 500);
});

Deno.test("fractional rates keep a burst of one", () => {
  const bucket = new TokenBucket(0.5, 0);
  assert.equal(bucket.take(0), 0);
  assert.equal(bucket.take(0), 2000);
  assert.equal(bucket.take(2000), 0);
  assert.throws(() => new TokenBucket(0, 0), /rate must be > 0/);
});
