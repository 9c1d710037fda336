import assert from "node:assert/strict";
import { JobQueue } from "./job_queue.ts";

Deno.test("JobQueue is FIFO across compactions and drains what is left", () => {
  const queue = new JobQueue<number>();
  for (let i = 0; i < 5000; i++) queue.push(i);
  for (let i = 0; i < 3000; i++) assert.equal(queue.shift(), i);
  assert.equal(queue.length, 2000);
  queue.push(5000);
  assert.equal(queue.shift(), 3000);
  const rest = queue.drain();
  assert.equal(rest.length, 2000);
  assert.equal(rest[0], 3001);
  assert.equal(rest[rest.length - 1], 5000);
  assert.equal(queue.length, 0);
  assert.equal(queue.shift(), undefined);
});
