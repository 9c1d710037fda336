import assert from "node:assert/strict";
import { eventPatternProblem, EventPatternSet } from "./event_pattern.ts";

Deno.test("event pattern matching table", () => {
  const table: [string[], string, boolean][] = [
    [["order.created"], "order.created", true],
    [["order.created"], "order.updated", false],
    [["order.created"], "order.created.v2", false],
    [["order.*"], "order.created", true],
    [["order.*"], "order.item.added", true],
    [["order.*"], "order", false],
    [["order.*"], "orders.created", false],
    [["*"], "anything:at.all", true],
    [["a.b", "c.*"], "c.d", true],
    [["a.b", "c.*"], "a.c", false],
    [[], "order.created", false],
  ];
  for (const [patterns, type, expected] of table) {
    assert.equal(
      new EventPatternSet(patterns).matches(type),
      expected,
      `${JSON.stringify(patterns)} vs ${type}`,
    );
  }
});

Deno.test("event pattern validation", () => {
  for (const ok of ["*", "order.*", "order.created", "a:b-c_d.e", "x".repeat(255)]) {
    assert.equal(eventPatternProblem(ok), undefined, ok);
  }
  for (const bad of ["", ".*", "order.**", "order created", "é", "x".repeat(256), "*.created"]) {
    assert.match(eventPatternProblem(bad) ?? "", /expected an event type/, bad);
  }
});
