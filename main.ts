/**
 * hookd's command line: a table of commands and the dispatcher. `serve` (the
 * default) runs the daemon; the others help operate it, offline (`check-config`,
 * `keys create`) or through a running daemon's API (`src/cli/`). Failures print
 * `hookd: <reason>` and exit with a code from `src/cli/exit_codes.ts`.
 */
import { newApiKey } from "./src/api/auth.ts";
import { type Scope, SCOPES } from "./src/api/scopes.ts";
import { parseArgs, type ParsedArgs } from "./src/cli/args.ts";
import { type Command, commandHelp, HELP_OPTION } from "./src/cli/command.ts";
import { deliveriesCommand } from "./src/cli/deliveries.ts";
import { DaemonUnreachableError, UsageError } from "./src/cli/errors.ts";
import { EXIT, EXIT_CODES_HELP } from "./src/cli/exit_codes.ts";
import { systemIo } from "./src/cli/io.ts";
import { replayCommand } from "./src/cli/replay.ts";
import { webhooksCommand } from "./src/cli/webhooks.ts";
import { DEFAULT_URL } from "./src/cli/api_target.ts";
import { ConfigError, formatIssue } from "./src/config/config_error.ts";
import { formatConfig } from "./src/config/format_config.ts";
import { loadConfig } from "./src/config/load_config.ts";
import type { Config } from "./src/config/types.ts";
import { suggest } from "./src/config/suggest.ts";
import { startDaemon } from "./src/daemon.ts";
import { checkDaemon } from "./src/ops/healthcheck.ts";
import { createLogger, formatLogLine, type LogFormat } from "./src/ops/log.ts";
import { BufferedLineWriter } from "./src/ops/line_writer.ts";
import { Store } from "./src/store/client.ts";
import { VERSION } from "./src/version.ts";

const CONFIG_OPTION = {
  name: "config",
  value: "FILE",
  help: "the config file (else HOOKD_CONFIG, else the embedded defaults)",
};

const CONFIG_HELP = `The config file may also be given as HOOKD_CONFIG. HOOKD_<SECTION>_<KEY>
variables override keys (e.g. HOOKD_SERVER_LISTEN=0.0.0.0:8787), and
HOOKD_ADMIN_KEY sets the root API key.`;

function loadFromFlags(args: ParsedArgs): Config {
  const file = args.string("config") ?? (Deno.env.get("HOOKD_CONFIG") || undefined);
  return loadConfig({ file, env: Deno.env.toObject() });
}

const serve: Command = {
  name: "serve",
  summary: "run the daemon (the default command)",
  usage: "[--config FILE]",
  description: "Runs the daemon until SIGINT or SIGTERM, on the embedded defaults unless a " +
    "config file is given. It logs JSON lines on stdout, the first one " +
    '"hookd listening on URL" once the API accepts requests.',
  options: [CONFIG_OPTION],
  footer: CONFIG_HELP,
  async run({ args }) {
    // The log stream goes to stdout, as journald and container runtimes expect,
    // buffered so that a burst of attempts is not slowed by one write per line.
    const output = new BufferedLineWriter({
      writeSync: (bytes) => Deno.stdout.writeSync(bytes),
    });
    let format: LogFormat = "json";
    // An uncaught error ends the process without reaching `finally`: what the
    // log said before it must still get out. (The default handling, printing
    // and exiting, goes on.)
    const flushLogs = () => output.flush();
    globalThis.addEventListener("error", flushLogs);
    globalThis.addEventListener("unhandledrejection", flushLogs);
    // Listen for signals before starting, so one that arrives mid-start still
    // shuts down cleanly once the daemon is up.
    const signalled = Promise.withResolvers<void>();
    const onSignal = () => signalled.resolve();
    Deno.addSignalListener("SIGINT", onSignal);
    Deno.addSignalListener("SIGTERM", onSignal);
    // A file-size limit (RLIMIT_FSIZE, systemd's LimitFSIZE=) sends SIGXFSZ on
    // the write that crosses it, which by default kills the process. Handled,
    // the write fails instead and the store answers 503 until the limit allows
    // writes again (tests/store_faults_test.ts).
    Deno.addSignalListener("SIGXFSZ", () => {});
    try {
      const config = loadFromFlags(args);
      format = config.log.format;
      const log = createLogger({ ...config.log, write: (line) => output.write(line) });
      const daemon = await startDaemon(config, log);
      const { hostname, port, scheme } = daemon.address;
      const host = hostname.includes(":") ? `[${hostname}]` : hostname;
      const url = `${scheme}://${host}:${port}`;
      // Tools and tests read this line to find the address (the port may have
      // been 0), so it is written whatever the level, and at once.
      output.write(
        formatLogLine(format, Date.now(), "info", `hookd listening on ${url}`, {
          url,
          version: VERSION,
        }),
      );
      output.flush();
      await signalled.promise;
      await daemon.shutdown();
      return EXIT.ok;
    } catch (error) {
      // The log stream says why the daemon stopped; stderr gets `hookd: <reason>` too.
      output.write(formatLogLine(format, Date.now(), "error", "hookd stopped", fatalFields(error)));
      throw error;
    } finally {
      output.close();
      globalThis.removeEventListener("error", flushLogs);
      globalThis.removeEventListener("unhandledrejection", flushLogs);
      Deno.removeSignalListener("SIGINT", onSignal);
      Deno.removeSignalListener("SIGTERM", onSignal);
    }
  },
};

/** A fatal error of `serve` as log fields, with what to do about it. */
function fatalFields(error: unknown): Record<string, unknown> {
  if (error instanceof ConfigError) {
    return {
      error: "invalid configuration",
      problems: error.issues.map(formatIssue),
      action: "fix these in the config file or HOOKD_* variables; " +
        "`hookd check-config FILE` lists every problem",
    };
  }
  return { error: error instanceof Error ? error.message : String(error) };
}

const checkConfig: Command = {
  name: "check-config",
  summary: "print the resolved config, or every error",
  usage: "FILE",
  description: "Loads FILE over the embedded defaults and the HOOKD_* variables, as serve " +
    "would, and prints the result with secrets redacted, or every problem with its " +
    "file:line:column.",
  options: [],
  run({ args, io }) {
    const file = args.positional[0];
    if (file === undefined) throw new UsageError("check-config needs a FILE", "check-config");
    io.stdout(formatConfig(loadConfig({ file, env: Deno.env.toObject() })) + "\n");
    return EXIT.ok;
  },
};

const keys: Command = {
  name: "keys",
  summary: "create an API key offline and print it once (keys create)",
  usage: "create --name NAME --scopes a,b [--config FILE]",
  description: "Writes a new API key straight into the store named by the config (the " +
    "daemon may be running or not) and prints {id, name, scopes, key} once. Scopes: " +
    `${SCOPES.join(", ")}.`,
  options: [
    { name: "name", value: "NAME", help: "what the key is for, e.g. checkout-service" },
    { name: "scopes", value: "a,b", help: "comma-separated scopes the key grants" },
    CONFIG_OPTION,
  ],
  footer: CONFIG_HELP,
  async run({ args, io }) {
    const usage = (message: string) => new UsageError(message, "keys");
    if (args.positional[0] !== "create") {
      throw usage('expected "keys create --name NAME --scopes a,b"');
    }
    const name = args.string("name");
    const scopes = args.string("scopes");
    if (name === undefined || name === "") throw usage("keys create needs --name");
    if (scopes === undefined) throw usage(`keys create needs --scopes (${SCOPES.join(",")})`);
    const list = scopes.split(",").map((s) => s.trim()).filter((s) => s !== "");
    const unknown = list.filter((s) => !(SCOPES as readonly string[]).includes(s));
    if (list.length === 0 || unknown.length > 0) {
      throw usage(
        `unknown scope ${JSON.stringify(unknown[0] ?? "")}; allowed: ${SCOPES.join(", ")}`,
      );
    }
    const config = loadFromFlags(args);
    const store = await Store.open(config.store);
    try {
      const { record, key } = await newApiKey(name, [...new Set(list)] as Scope[], Date.now());
      await store.write("insertApiKey", { key: record });
      io.stdout(JSON.stringify({ id: record.id, name, scopes: record.scopes, key }) + "\n");
    } finally {
      await store.close();
    }
    return EXIT.ok;
  },
};

const healthcheck: Command = {
  name: "healthcheck",
  summary: "exit 0 if the daemon is ready (GET /readyz answers 200), else 1",
  usage: "[--url URL] [--config FILE]",
  description: "Probes a running daemon's GET /readyz, for container health checks (the " +
    "image needs no curl) and scripts. Without --url it probes the address the config " +
    "listens on: 0.0.0.0 and :: on loopback, over https when tls_cert is set, trusting " +
    "that certificate. It never goes through HTTP_PROXY. Exits 0 when ready, and 1 when " +
    "not ready, unreachable or silent for 5 s (Docker's HEALTHCHECK reserves 2).",
  options: [
    { name: "url", value: "URL", help: "the API's URL (else from [server] listen)" },
    CONFIG_OPTION,
  ],
  footer: CONFIG_HELP,
  async run({ args, io }) {
    const { ready, message } = await checkDaemon(loadFromFlags(args).server, args.string("url"));
    (ready ? io.stdout : io.stderr)(`hookd: ${message}\n`);
    return ready ? EXIT.ok : EXIT.failed;
  },
};

const version: Command = {
  name: "version",
  summary: "print the version (also --version, -V)",
  usage: "",
  description: "Prints hookd's version.",
  options: [],
  run({ io }) {
    io.stdout(`hookd ${VERSION}\n`);
    return EXIT.ok;
  },
};

const help: Command = {
  name: "help",
  summary: "print this help, or a command's (also --help, -h)",
  usage: "[COMMAND]",
  description: "Prints the list of commands, or the help of COMMAND.",
  options: [],
  run({ args, io }) {
    const name = args.positional[0];
    io.stdout((name === undefined ? topHelp() : commandHelp(findCommand(name))) + "\n");
    return EXIT.ok;
  },
};

/** Every command, in the order the help lists them. */
const COMMANDS: readonly Command[] = [
  serve,
  checkConfig,
  keys,
  healthcheck,
  replayCommand,
  deliveriesCommand,
  webhooksCommand,
  version,
  help,
];

function findCommand(name: string): Command {
  const command = COMMANDS.find((c) => c.name === name);
  if (command) return command;
  const guess = suggest(name, COMMANDS.map((c) => c.name));
  throw new UsageError(`unknown command "${name}"${guess ? `; did you mean "${guess}"?` : ""}`);
}

function topHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return `hookd ${VERSION}: a self-hosted webhook delivery daemon

Usage: hookd [COMMAND] [options]     (no command: serve)

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`).join("\n")}

"hookd COMMAND --help" shows a command's options. serve, check-config, keys and
healthcheck read the config (--config FILE or HOOKD_CONFIG, then
HOOKD_<SECTION>_<KEY> variables); replay, deliveries and webhooks talk to a running daemon's API at
--url or HOOKD_URL (default ${DEFAULT_URL}) with --key or HOOKD_KEY (else
HOOKD_ADMIN_KEY).

${EXIT_CODES_HELP}`;
}

async function main(args: readonly string[], io = systemIo()): Promise<number> {
  const [first, ...rest] = args;
  if (first === "--version" || first === "-V") return version.run({ args: parseArgs([], []), io });
  if (first === "--help" || first === "-h") return help.run({ args: parseArgs([], []), io });
  // Options without a command are serve's: `hookd --config hookd.toml`.
  const named = first !== undefined && !first.startsWith("-");
  const command = findCommand(named ? first : "serve");
  const parsed = parseArgs(named ? rest : args, [...command.options, HELP_OPTION], command.name);
  if (parsed.flag("help")) {
    io.stdout(commandHelp(command) + "\n");
    return EXIT.ok;
  }
  return await command.run({ args: parsed, io });
}

if (import.meta.main) {
  let code: number;
  try {
    code = await main(Deno.args);
  } catch (error) {
    if (error instanceof UsageError) {
      const help = error.command ? `hookd ${error.command} --help` : "hookd --help";
      console.error(`hookd: ${error.message} (see ${help})`);
      code = EXIT.usage;
    } else {
      // ConfigError, ApiRequestError, DaemonUnreachableError: their message is the whole story.
      console.error(`hookd: ${error instanceof Error ? error.message : String(error)}`);
      code = error instanceof DaemonUnreachableError ? EXIT.unreachable : EXIT.failed;
    }
  }
  Deno.exit(code);
}
