/**
 * Command-line parsing against a command's declared options: `--name value`,
 * `--name=value`, switches, one-letter aliases and `--` before operands that
 * start with a dash. Anything else is a usage error that names the option.
 *
 * @module
 */
import { suggest } from "../config/suggest.ts";
import type { OptionSpec } from "./command.ts";
import { UsageError } from "./errors.ts";

/** Operands in order, and option values by long name (`true` for a switch; the last one wins). */
export class ParsedArgs {
  constructor(
    readonly positional: readonly string[],
    readonly values: ReadonlyMap<string, string | true>,
  ) {}

  /** A valued option's value, or undefined when it was not given. */
  string(name: string): string | undefined {
    const value = this.values.get(name);
    return typeof value === "string" ? value : undefined;
  }

  /** Whether a switch was given. */
  flag(name: string): boolean {
    return this.values.get(name) === true;
  }
}

/** Parses `args` (what follows the command's name); `command` names the command in errors. */
export function parseArgs(
  args: readonly string[],
  options: readonly OptionSpec[],
  command?: string,
): ParsedArgs {
  const usage = (message: string) => new UsageError(message, command);
  const positional: string[] = [];
  const values = new Map<string, string | true>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") {
      positional.push(...args.slice(i + 1));
      break;
    }
    if (!arg.startsWith("-") || arg === "-") {
      positional.push(arg);
      continue;
    }
    const long = arg.startsWith("--");
    const [name, inline] = long
      ? arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined]
      : [arg.slice(1), undefined];
    const spec = options.find((o) => (long ? o.name : o.short) === name);
    if (!spec) {
      const candidates = options.map((o) => o.name);
      const guess = long ? suggest(name, candidates) : undefined;
      throw usage(`unknown option ${arg}${guess ? `; did you mean --${guess}?` : ""}`);
    }
    if (spec.value === undefined) {
      if (inline !== undefined) throw usage(`--${spec.name} takes no value, got "${arg}"`);
      values.set(spec.name, true);
      continue;
    }
    let value = inline;
    if (value === undefined) {
      const next = args[i + 1];
      // "--since --json" is a forgotten value, not a value "--json"; "--key=-x" still works.
      if (next === undefined || (next.startsWith("-") && next !== "-")) {
        throw usage(`--${spec.name} needs a value (${spec.value})`);
      }
      value = next;
      i++;
    }
    values.set(spec.name, value);
  }
  return new ParsedArgs(positional, values);
}
