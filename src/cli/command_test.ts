import assert from "node:assert/strict";
import { type Command, commandHelp, wrap } from "./command.ts";

Deno.test("wrap breaks at spaces within the width; a longer word stays whole", () => {
  assert.deepEqual(wrap("one two three four", 9), ["one two", "three", "four"]);
  assert.deepEqual(wrap("  spaced \n out  ", 80), ["spaced out"]);
  assert.deepEqual(wrap("http://127.0.0.1:8787/a/long/path x", 10), [
    "http://127.0.0.1:8787/a/long/path",
    "x",
  ]);
  assert.deepEqual(wrap("", 10), []);
});

Deno.test("commandHelp: usage, wrapped description, the declared options and -h, the footer", () => {
  const command: Command = {
    name: "demo",
    summary: "a demo",
    usage: "[options]",
    description: "word ".repeat(30).trim(),
    options: [
      { name: "since", value: "RFC3339", help: "only after then ".repeat(5).trim() },
      { name: "json", help: "print JSON" },
    ],
    footer: "Exit codes: none",
    run: () => 0,
  };
  assert.equal(
    commandHelp(command),
    [
      "Usage: hookd demo [options]",
      "",
      "word ".repeat(16).trim(),
      "word ".repeat(14).trim(),
      "",
      "Options:",
      "      --since RFC3339  only after then only after then only after then only",
      "                       after then only after then",
      "      --json           print JSON",
      "  -h, --help           print this help",
      "",
      "Exit codes: none",
    ].join("\n"),
  );
});
