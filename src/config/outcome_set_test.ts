import assert from "node:assert/strict";
import {
  formatOutcomeSet,
  type OutcomeToken,
  parseOutcomeSet,
  parseOutcomeToken,
} from "./outcome_set.ts";

Deno.test("parseOutcomeToken() reads every token form", () => {
  const table: [string, OutcomeToken][] = [
    ["any", { kind: "any" }],
    ["network", { kind: "network" }],
    ["timeout", { kind: "timeout" }],
    ["auth", { kind: "auth" }],
    ["404", { kind: "status", range: [404, 404] }],
    ["100", { kind: "status", range: [100, 100] }],
    ["599", { kind: "status", range: [599, 599] }],
    ["2xx", { kind: "status", range: [200, 299] }],
    ["5xx", { kind: "status", range: [500, 599] }],
    ["200-399", { kind: "status", range: [200, 399] }],
    ["429-429", { kind: "status", range: [429, 429] }],
  ];
  for (const [token, expected] of table) assert.deepEqual(parseOutcomeToken(token), expected);
});

Deno.test("parseOutcomeToken() rejects bad tokens saying what is allowed", () => {
  for (const token of ["", "ANY", "2XX", "6xx", "0xx", "40", "4040", "200 - 399", "dns", " 404"]) {
    assert.throws(() => parseOutcomeToken(token), {
      name: "TypeError",
      message:
        `Cannot parse outcome: expected "any", "network", "timeout", "auth", a status ("404"), ` +
        `a class ("5xx") or a range ("200-399"), got ${JSON.stringify(token)}`,
    }, token);
  }
  for (const token of ["600", "099", "200-600", "000-200"]) {
    assert.throws(() => parseOutcomeToken(token), {
      name: "RangeError",
      message: `Cannot parse outcome: statuses must be from 100 to 599, got ${
        JSON.stringify(token)
      }`,
    }, token);
  }
  assert.throws(() => parseOutcomeToken("399-200"), {
    name: "RangeError",
    message: 'Cannot parse outcome: a range must not end below its start, got "399-200"',
  });
});

Deno.test("parseOutcomeSet() collects statuses and flags; formatOutcomeSet() reverses it", () => {
  const set = parseOutcomeSet(["408", "429", "5xx", "network", "timeout", "auth"]);
  assert.deepEqual(set, {
    statuses: [[408, 408], [429, 429], [500, 599]],
    any: false,
    network: true,
    timeout: true,
    auth: true,
  });
  assert.deepEqual(formatOutcomeSet(set), ["408", "429", "5xx", "network", "timeout", "auth"]);
  assert.deepEqual(parseOutcomeSet([]), {
    statuses: [],
    any: false,
    network: false,
    timeout: false,
    auth: false,
  });
  assert.deepEqual(formatOutcomeSet(parseOutcomeSet(["any", "200-399", "200-299"])), [
    "200-399",
    "2xx",
    "any",
  ]);
});
