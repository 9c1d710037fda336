import assert from "node:assert/strict";
import { parseArgs } from "./args.ts";
import type { OptionSpec } from "./command.ts";
import { UsageError } from "./errors.ts";

const OPTIONS: OptionSpec[] = [
  { name: "webhook", value: "ID", help: "" },
  { name: "since", value: "RFC3339", help: "" },
  { name: "key", value: "KEY", help: "" },
  { name: "json", help: "" },
  { name: "help", short: "h", help: "" },
];

function usageMessage(args: string[]): string {
  try {
    parseArgs(args, OPTIONS, "replay");
  } catch (error) {
    assert.ok(error instanceof UsageError, String(error));
    assert.equal(error.command, "replay");
    return error.message;
  }
  assert.fail(`${JSON.stringify(args)} parsed`);
}

Deno.test("parseArgs takes --name value, --name=value, switches, short aliases and --", () => {
  const parsed = parseArgs(
    ["--webhook", "wh_1", "--since=2026-01-22T06:40:00Z", "--json", "-h", "word", "--", "--json"],
    OPTIONS,
  );
  assert.equal(parsed.string("webhook"), "wh_1");
  assert.equal(parsed.string("since"), "2026-01-22T06:40:00Z");
  assert.equal(parsed.flag("json"), true);
  assert.equal(parsed.flag("help"), true);
  assert.equal(parsed.string("json"), undefined);
  assert.equal(parsed.flag("webhook"), false);
  assert.deepEqual(parsed.positional, ["word", "--json"]);
});

Deno.test("parseArgs: the last repeat wins; an inline value may start with a dash or be empty", () => {
  const parsed = parseArgs(["--key", "a", "--key=-b=c", "--webhook="], OPTIONS);
  assert.equal(parsed.string("key"), "-b=c");
  assert.equal(parsed.string("webhook"), "");
  assert.deepEqual(parseArgs(["-"], OPTIONS).positional, ["-"]);
});

Deno.test("parseArgs: every mistake is a usage error naming the option", () => {
  const cases: [string[], string][] = [
    [["--frob"], "unknown option --frob"],
    [["--webhok", "x"], "unknown option --webhok; did you mean --webhook?"],
    [["-x"], "unknown option -x"],
    [["--since"], "--since needs a value (RFC3339)"],
    // A forgotten value, not the value "--json".
    [["--since", "--json"], "--since needs a value (RFC3339)"],
    [["--json=yes"], '--json takes no value, got "--json=yes"'],
  ];
  for (const [args, message] of cases) assert.equal(usageMessage(args), message, args.join(" "));
});
