import assert from "node:assert/strict";
import { formatSize, parseSize } from "./size.ts";

Deno.test("parseSize() reads decimal and binary units and plain bytes", () => {
  const table: [string | number, number][] = [
    [0, 0],
    [512, 512],
    ["0", 0],
    ["512", 512],
    ["512B", 512],
    ["1KB", 1_000],
    ["1KiB", 1_024],
    ["4KiB", 4_096],
    ["1MB", 1_000_000],
    ["1MiB", 1_048_576],
    ["2GB", 2_000_000_000],
    ["1GiB", 1_073_741_824],
  ];
  for (const [input, expected] of table) {
    assert.equal(parseSize(input), expected, String(input));
  }
});

Deno.test("parseSize() rejects anything else with a TypeError quoting the input", () => {
  const bad = ["", "1 MiB", "1mib", "1kb", "1.5MiB", "-1", "MiB", "1TiB", "1Mi"];
  for (const input of bad) {
    assert.throws(() => parseSize(input), {
      name: "TypeError",
      message: `Cannot parse size: expected bytes or a number followed by B, KB, KiB, MB, MiB, ` +
        `GB or GiB (e.g. "512B", "4KiB", "1MiB"), got ${JSON.stringify(input)}`,
    }, input);
  }
  assert.throws(() => parseSize(-1), {
    name: "TypeError",
    message: "Cannot parse size: expected a whole number of bytes, got -1",
  });
  assert.throws(() => parseSize(1.5), TypeError);
  assert.throws(() => parseSize("99999999999GiB"), RangeError);
});

Deno.test("formatSize() uses the largest exact binary unit", () => {
  const table: [number, string][] = [
    [0, "0B"],
    [512, "512B"],
    [1_000, "1000B"],
    [1_024, "1KiB"],
    [4_096, "4KiB"],
    [1_048_576, "1MiB"],
    [3_145_728, "3MiB"],
    [1_073_741_824, "1GiB"],
  ];
  for (const [bytes, expected] of table) {
    assert.equal(formatSize(bytes), expected);
    assert.equal(parseSize(expected), bytes);
  }
});
