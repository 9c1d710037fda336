import assert from "node:assert/strict";
import { systemClock } from "./clock.ts";

Deno.test("systemClock reads Date.now and runs and clears real timers", async () => {
  const before = Date.now();
  const now = systemClock.now();
  assert.ok(now >= before && now <= Date.now());

  const cleared = systemClock.setTimeout(() => assert.fail("cleared timer ran"), 0);
  systemClock.clearTimeout(cleared);
  const start = Date.now();
  const firedAt = await new Promise<number>((resolve) => {
    systemClock.setTimeout(() => resolve(Date.now()), 5);
  });
  assert.ok(firedAt >= start);
});
