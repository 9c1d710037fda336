/**
 * What a CLI command declares (name, options, help) and what it is given to
 * run. `main.ts` keeps the table of commands and dispatches; the help of a
 * command is generated from its declaration, so the options it parses and the
 * options it documents are one list.
 *
 * @module
 */
import type { Clock } from "../clock.ts";
import type { ParsedArgs } from "./args.ts";

/** One `--name` option. */
export interface OptionSpec {
  /** The long name, without dashes: `since` for `--since`. */
  readonly name: string;
  /** A one-letter alias: `h` for `-h`. */
  readonly short?: string;
  /** The value's placeholder in the help (`RFC3339`); absent, the option is a switch. */
  readonly value?: string;
  /** What it does; wrapped to fit beside the option's name. */
  readonly help: string;
}

/** The process around a command, behind an interface so tests can supply their own. */
export interface CliIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Writes `text` to stdout as given; callers end their lines. */
  stdout(text: string): void;
  /** Writes `text` to stderr as given; callers end their lines. */
  stderr(text: string): void;
  /** Progress lines are drawn (and redrawn in place) only on a terminal. */
  readonly stderrIsTerminal: boolean;
  readonly fetch: typeof fetch;
  readonly clock: Clock;
}

export interface CommandInput {
  readonly args: ParsedArgs;
  readonly io: CliIo;
}

export interface Command {
  /** What follows `hookd` on the command line. */
  readonly name: string;
  /** One line for the top-level list of commands. */
  readonly summary: string;
  /** The arguments after the name in the usage line, e.g. `FILE` or `[options]`. */
  readonly usage: string;
  /** A paragraph under the usage line: what the command does and what it needs; wrapped. */
  readonly description: string;
  readonly options: readonly OptionSpec[];
  /** Text after the options: environment variables, exit codes. */
  readonly footer?: string;
  /** Runs the command; resolves with the exit code, throws to fail. */
  run(input: CommandInput): Promise<number> | number;
}

/** `-h`/`--help`: every command takes it, so the parser adds it to each. */
export const HELP_OPTION: OptionSpec = { name: "help", short: "h", help: "print this help" };

/** Help text is wrapped to fit a classic terminal. */
export const HELP_WIDTH = 80;

/** `text` broken into lines of at most `width` characters at spaces (a longer word stays whole). */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter((w) => w !== "")) {
    if (line !== "" && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === "" ? word : `${line} ${word}`;
    }
  }
  if (line !== "") lines.push(line);
  return lines;
}

/** A command's `--help` text. */
export function commandHelp(command: Command): string {
  const options = [...command.options, HELP_OPTION];
  const labels = options.map((o) =>
    `${o.short ? `-${o.short}, ` : "    "}--${o.name}${o.value ? ` ${o.value}` : ""}`
  );
  const width = Math.max(...labels.map((l) => l.length)) + 2;
  const rows = options.map((o, i) =>
    `  ${labels[i]!.padEnd(width)}${
      wrap(o.help, HELP_WIDTH - 2 - width).join(`\n  ${" ".repeat(width)}`)
    }`
  );
  const sections = [
    `Usage: hookd ${command.name}${command.usage ? ` ${command.usage}` : ""}`,
    wrap(command.description, HELP_WIDTH).join("\n"),
    `Options:\n${rows.join("\n")}`,
  ];
  if (command.footer) sections.push(command.footer);
  return sections.join("\n\n");
}
