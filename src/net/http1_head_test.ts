import assert from "node:assert/strict";
import { chunkSize, contentLength, splitHead } from "./http1_head.ts";

const bytes = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));

Deno.test("splitHead: start line, lowercased names, trimmed values, obs-text kept as Latin-1", () => {
  const head = splitHead(
    bytes("GET / HTTP/1.1\r\nContent-Type:  a/b \r\nX-Latin: caf\u00e9\xff\r\nx:\r\n\r\n"),
  );
  assert.equal(head.startLine, "GET / HTTP/1.1");
  assert.deepEqual(head.fields, [["content-type", "a/b"], ["x-latin", "caf\u00e9\xff"], ["x", ""]]);
  assert.deepEqual(splitHead(bytes("HTTP/1.1 204 No Content\r\n\r\n")).fields, []);
});

Deno.test('splitHead refuses lines that are not token ":" value', () => {
  for (
    const line of [
      "no colon",
      ": empty name",
      "X-Space : b",
      " X-Lead: b",
      "\tX-Tab: b",
      "X@At: b",
      "X-Caf\u00e9: b",
    ]
  ) {
    const head = splitHead(bytes(`GET / HTTP/1.1\r\nHost: h\r\n${line}\r\n\r\n`));
    assert.equal(head.fields, undefined, JSON.stringify(line));
    assert.equal(head.startLine, "GET / HTTP/1.1");
  }
  // An obs-fold continuation line.
  assert.equal(splitHead(bytes("HTTP/1.1 200 OK\r\nA: b\r\n c\r\n\r\n")).fields, undefined);
});

Deno.test("contentLength: digits, identical repeats and folded repeats; invalid or conflicting otherwise", () => {
  const cases: [string[], ReturnType<typeof contentLength>][] = [
    [[], undefined],
    [["0"], 0],
    [["42"], 42],
    [["5", "5"], 5],
    [["5, 5"], 5],
    [["5,5", "5"], 5],
    [["999999999999999"], 999_999_999_999_999],
    [["1000000000000000"], "invalid"],
    [["-1"], "invalid"],
    [["+1"], "invalid"],
    [["0x10"], "invalid"],
    [["1e3"], "invalid"],
    [[""], "invalid"],
    [["5,"], "invalid"],
    [["5", "abc"], "invalid"],
    [["5", "6"], "conflicting"],
    [["5, 6"], "conflicting"],
  ];
  for (const [values, expected] of cases) {
    assert.equal(contentLength(values), expected, JSON.stringify(values));
  }
});

Deno.test("chunkSize: hex digits, optional whitespace and extensions", () => {
  const cases: [string, number | undefined][] = [
    ["0", 0],
    ["a", 10],
    ["FF", 255],
    ["1f;name=value", 31],
    ["5 ;ext", 5],
    ["5\t", 5],
    ["ffffffffffff", 0xffffffffffff],
    ["1000000000000", undefined],
    ["", undefined],
    [" 5", undefined],
    ["-1", undefined],
    ["0x5", undefined],
    ["zz", undefined],
    ["5 x", undefined],
  ];
  for (const [line, expected] of cases) {
    assert.equal(chunkSize(line), expected, JSON.stringify(line));
  }
});
