import assert from "node:assert/strict";
import { parse } from "smol-toml";
import { deepFreeze, describe, isTable } from "./_util.ts";

Deno.test("describe() names TOML values for error messages", () => {
  const doc = parse('s = "x"\ni = 5\nf = 0.5\nb = true\na = [1]\nt = {}\nd = 1979-05-27\n');
  assert.equal(describe(doc.s), '"x"');
  assert.equal(describe(doc.i), "5");
  assert.equal(describe(doc.f), "0.5");
  assert.equal(describe(doc.b), "true");
  assert.equal(describe(doc.a), "an array");
  assert.equal(describe(doc.t), "a table");
  assert.equal(describe(doc.d), "a date");
});

Deno.test("isTable() accepts tables only", () => {
  const doc = parse("t = {}\na = []\nd = 1979-05-27\n");
  assert.equal(isTable(doc.t), true);
  assert.equal(isTable(doc.a), false);
  assert.equal(isTable(doc.d), false);
  assert.equal(isTable(null), false);
  assert.equal(isTable("x"), false);
});

Deno.test("deepFreeze() freezes nested objects and arrays", () => {
  const value = deepFreeze({ a: { b: [1, { c: 2 }] } });
  assert.equal(Object.isFrozen(value), true);
  assert.equal(Object.isFrozen(value.a), true);
  assert.equal(Object.isFrozen(value.a.b), true);
  assert.equal(Object.isFrozen(value.a.b[1]), true);
});
