import assert from "node:assert/strict";
import { DrainSchedule } from "./drain_schedule.ts";

Deno.test("overflow turns follow the webhook's pace: attempt duration over its cap", () => {
  const drain = new DrainSchedule();
  // Unknown pace: 10 ms per attempt; 4 in flight, 80 queued ahead: 200 ms from now.
  assert.equal(drain.slot(0, 80, 4), 200);
  // The next one gets the next turn, 2.5 ms later (rounded up to the next 100 ms).
  assert.equal(drain.slot(0, 80, 4), 300);
  const slow = new DrainSchedule();
  for (let i = 0; i < 20; i++) slow.observe(2_000);
  // 2 s per attempt, 16 in flight: 8 a second; 64 queued ahead: 8 s from now.
  assert.equal(slow.slot(10_000, 64, 16), 18_000);
  const turns = Array.from({ length: 8 }, () => slow.slot(10_000, 64, 16));
  assert.deepEqual(turns, [18_200, 18_300, 18_400, 18_500, 18_700, 18_800, 18_900, 19_000]);
  // A rate limit slower than that sets the pace: 2 a second.
  assert.equal(new DrainSchedule().slot(0, 10, 16, 2), 5_000);
  // A fast receiver is not held to a floor: 3 ms with 16 in flight is 0.1875 ms a job.
  const fast = new DrainSchedule();
  fast.observe(3);
  assert.equal(fast.slot(0, 1_024, 16), 200);
  const later = Array.from({ length: 1_000 }, () => fast.slot(0, 1_024, 16));
  assert.equal(later[later.length - 1], 400, "1,000 more turns in under 200 ms");
  // Much later, with an empty queue, it starts from now again.
  assert.equal(slow.slot(100_000, 0, 16), 100_000);
});
