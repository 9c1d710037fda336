import assert from "node:assert/strict";
import { z } from "zod";
import { integerField } from "./fields.ts";
import { namedTables, table, unknownKeyMessage, withRules } from "./table.ts";

function issues(schema: z.ZodType, value: unknown): string[] {
  const result = schema.safeParse(value);
  return (result.error?.issues ?? []).map((i) => `${i.path.join(".")}: ${i.message}`);
}

const pair = table({ low: integerField(0, 9), high: integerField(0, 9) }, {
  defaults: { high: 9 },
});

Deno.test("table() fills omitted keys from its defaults and rejects non-tables", () => {
  assert.deepEqual(pair.parse({ low: 1 }), { low: 1, high: 9 });
  assert.deepEqual(pair.parse({ low: 1, high: 2 }), { low: 1, high: 2 });
  for (const bad of [5, "x", [1], new Date(0)]) {
    assert.equal(issues(pair, bad).length, 1, String(bad));
  }
  assert.deepEqual(issues(table({}, { expected: "a table of keys" }), 5), [
    ": expected a table of keys, got 5",
  ]);
});

Deno.test("table() reports each unknown key at its path, with the known keys still checked", () => {
  assert.deepEqual(issues(pair, { lwo: 1, zzzzzz: 2, low: 10 }), [
    'lwo: unknown key; did you mean "low"?',
    "zzzzzz: unknown key; allowed keys are low, high",
    "low: expected an integer from 0 to 9, got 10",
  ]);
});

Deno.test("table() stops at a missing required key", () => {
  const signed = table({ scheme: z.string(), extra: integerField(0, 1) }, {
    required: { scheme: 'missing "scheme"' },
  });
  assert.deepEqual(issues(signed, { extra: 5 }), [': missing "scheme"']);
});

Deno.test("withRules() runs despite failed keys and sees only the valid ones", () => {
  const seen: unknown[] = [];
  const ordered = withRules(pair, (valid, { given, keys, report }) => {
    seen.push({ valid, given: given("low"), keys });
    if (valid.low !== undefined && valid.high !== undefined && valid.low > valid.high) {
      report(["low"], "must not exceed high", ["pair", "high"]);
    }
  });
  assert.deepEqual(issues(ordered, { low: 5, high: 3 }), ["low: must not exceed high"]);
  assert.deepEqual(ordered.safeParse({ low: 5, high: 3 }).error?.issues[0], {
    code: "custom",
    path: ["low"],
    message: "must not exceed high",
    params: { source: ["pair", "high"] },
  });
  assert.deepEqual(issues(ordered, { low: "x", high: 3 }), [
    'low: expected an integer from 0 to 9, got "x"',
  ]);
  assert.deepEqual(seen.slice(-1), [{ valid: { high: 3 }, given: true, keys: ["low", "high"] }]);
  // Not a table: there is nothing to apply rules to.
  seen.length = 0;
  assert.equal(issues(ordered, 5).length, 1);
  assert.deepEqual(seen, []);
});

Deno.test("namedTables() names each table, always has the built-in one, checks names", () => {
  const schema = table({ low: integerField(0, 9) }, { defaults: { low: 0 } });
  const named = namedTables({ section: "policies", builtIn: "default", schema });
  assert.deepEqual(named.parse({ fast: { low: 2 } }), {
    default: { name: "default", low: 0 },
    fast: { name: "fast", low: 2 },
  });
  assert.deepEqual(Object.keys(named.parse({ b: {}, default: { low: 1 } })), ["default", "b"]);
  assert.deepEqual(issues(named, { "Bad Name": { low: 10 } }), [
    "Bad Name.low: expected an integer from 0 to 9, got 10",
    'Bad Name: policy names are 1-64 of a-z, 0-9, "_" and "-", got "Bad Name"',
  ]);
  assert.deepEqual(issues(named, 1), [": expected [policies.NAME] tables, got 1"]);
});

Deno.test("unknownKeyMessage() suggests the closest key or lists them all", () => {
  assert.equal(
    unknownKeyMessage("lisen", ["listen", "port"]),
    'unknown key; did you mean "listen"?',
  );
  assert.equal(
    unknownKeyMessage("zzz", ["listen", "port"]),
    "unknown key; allowed keys are listen, port",
  );
});
