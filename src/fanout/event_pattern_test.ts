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

Deno.test("hookd's operational events match only patterns that name the hookd. namespace", () => {
  const cases: [string[], string, boolean][] = [
    [["*"], "hookd.webhook.disabled", false],
    [["*"], "order.created", true],
    [["hookd.*"], "hookd.webhook.disabled", true],
    [["hookd.*"], "hookd.delivery.dead", true],
    [["hookd.webhook.*"], "hookd.delivery.dead", false],
    [["hookd.webhook.disabled"], "hookd.webhook.disabled", true],
    [["*", "hookd.delivery.dead"], "hookd.delivery.dead", true],
    [["*", "hookd.delivery.dead"], "hookd.webhook.recovered", false],
  ];
  for (const [patterns, type, expected] of cases) {
    assert.equal(new EventPatternSet(patterns).matches(type), expected, `${patterns} ${type}`);
  }
});
