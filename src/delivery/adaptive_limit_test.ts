import assert from "node:assert/strict";
import { AdaptiveLimit } from "./adaptive_limit.ts";

Deno.test("AIMD halves on pushback down to 1 and adds one back per run of successes", () => {
  const limit = new AdaptiveLimit(16);
  assert.equal(limit.limit(16), 16);
  // Attempt 95 of the 100 started so far pushes back: cut.
  limit.congestion(95, 100, 16);
  assert.equal(limit.limit(16), 8);
  // Pushback from attempts that had started by then is the same burst: no second cut.
  limit.congestion(99, 101, 16);
  limit.congestion(100, 102, 16);
  assert.equal(limit.limit(16), 8);
  // Attempts started after the cut do count.
  for (const [started, expected] of [[101, 4], [150, 2], [200, 1], [250, 1]]) {
    limit.congestion(started!, started!, 16);
    assert.equal(limit.limit(16), expected);
  }
  // At 1: one success adds one; at 2: two successes; and so on up to the cap.
  limit.success(16);
  assert.equal(limit.limit(16), 2);
  limit.success(16);
  assert.equal(limit.limit(16), 2);
  limit.success(16);
  assert.equal(limit.limit(16), 3);
  for (let i = 0; i < 1_000; i++) limit.success(16);
  assert.equal(limit.limit(16), 16, "never above the cap");
  // A lowered cap lowers the limit at once.
  assert.equal(limit.limit(4), 4);
});
