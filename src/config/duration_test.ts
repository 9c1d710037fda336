import assert from "node:assert/strict";
import { formatDuration, parseDuration } from "./duration.ts";

Deno.test("parseDuration() reads units and compound forms", () => {
  const table: [string, number][] = [
    ["0", 0],
    ["0s", 0],
    ["0ms", 0],
    ["500ms", 500],
    ["5s", 5_000],
    ["5m", 300_000],
    ["2h", 7_200_000],
    ["1d", 86_400_000],
    ["1h30m", 5_400_000],
    ["1d2h3m4s5ms", 93_784_005],
    ["90s", 90_000],
  ];
  for (const [input, expected] of table) {
    assert.equal(parseDuration(input), expected, input);
  }
});

Deno.test("parseDuration() rejects anything else with a TypeError quoting the input", () => {
  const bad = ["", "5", "10", "-5s", "5 min", "5 s", "1.5s", "5S", "s", "5sec", "1h 30m", " 5s"];
  for (const input of bad) {
    assert.throws(() => parseDuration(input), {
      name: "TypeError",
      message: `Cannot parse duration: expected a number followed by ms, s, m, h or d ` +
        `(e.g. "5s", "1h30m"), got ${JSON.stringify(input)}`,
    }, input);
  }
});

Deno.test("parseDuration() rejects non-strings and overflow", () => {
  assert.throws(() => parseDuration(5 as unknown as string), TypeError);
  assert.throws(() => parseDuration("99999999999999999d"), RangeError);
});

Deno.test("formatDuration() renders the shortest compound form", () => {
  const table: [number, string][] = [
    [0, "0s"],
    [1, "1ms"],
    [500, "500ms"],
    [5_000, "5s"],
    [300_000, "5m"],
    [5_400_000, "1h30m"],
    [86_400_000, "1d"],
    [93_784_005, "1d2h3m4s5ms"],
  ];
  for (const [ms, expected] of table) {
    assert.equal(formatDuration(ms), expected, String(ms));
    assert.equal(parseDuration(expected), ms);
  }
  assert.throws(() => formatDuration(-1), RangeError);
  assert.throws(() => formatDuration(1.5), RangeError);
});
