/**
 * hookd's command line. `serve` (the default) runs the daemon; the other
 * commands help operate it. Fatal errors print one line and exit non-zero.
 */
import { newApiKey } from "./src/api/auth.ts";
import { type Scope, SCOPES } from "./src/api/scopes.ts";
import { ConfigError } from "./src/config/config_error.ts";
import { formatConfig } from "./src/config/format_config.ts";
import { loadConfig } from "./src/config/load_config.ts";
import type { Config } from "./src/config/types.ts";
import { startDaemon } from "./src/daemon.ts";
import { createLogger } from "./src/ops/log.ts";
import { Store } from "./src/store/client.ts";
import { VERSION } from "./src/version.ts";

const HELP = `hookd ${VERSION}: a self-hosted webhook delivery daemon

Usage:
  hookd [serve] [--config FILE]        run the daemon (embedded defaults without a file)
  hookd check-config FILE              print the resolved config, or every error
  hookd keys create --name NAME --scopes a,b [--config FILE]
                                       create an API key and print it once
  hookd version                        print the version
  hookd --help                         print this help

The config file may also be given as HOOKD_CONFIG. HOOKD_<SECTION>_<KEY>
variables override keys (e.g. HOOKD_SERVER_LISTEN=0.0.0.0:8787), and
HOOKD_ADMIN_KEY sets the root API key. Scopes: ${SCOPES.join(", ")}.`;

class UsageError extends Error {}

interface Flags {
  readonly positional: string[];
  readonly options: Map<string, string | true>;
}

function parseFlags(args: string[], valued: readonly string[]): Flags {
  const positional: string[] = [];
  const options = new Map<string, string | true>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith("--")) {
      positional.push(arg);
      continue;
    }
    const [name, inline] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    if (name === "help") {
      options.set("help", true);
    } else if (valued.includes(name)) {
      const value = inline ?? args[++i];
      if (value === undefined) throw new UsageError(`--${name} needs a value`);
      options.set(name, value);
    } else {
      throw new UsageError(`unknown option --${name}`);
    }
  }
  return { positional, options };
}

function loadFromFlags(flags: Flags): Config {
  const option = flags.options.get("config");
  const file = typeof option === "string" ? option : Deno.env.get("HOOKD_CONFIG") || undefined;
  return loadConfig({ file, env: Deno.env.toObject() });
}

async function serve(flags: Flags): Promise<number> {
  const config = loadFromFlags(flags);
  const log = createLogger(config.log);
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
    const daemon = await startDaemon(config, log);
    const { hostname, port, scheme } = daemon.address;
    const host = hostname.includes(":") ? `[${hostname}]` : hostname;
    // Tools and tests read this line to find the address (the port may have been 0).
    console.log(`hookd listening on ${scheme}://${host}:${port}`);
    await signalled.promise;
    await daemon.shutdown();
    return 0;
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
  }
}

function checkConfig(flags: Flags): number {
  const file = flags.positional[1];
  if (file === undefined) throw new UsageError("check-config needs a FILE");
  console.log(formatConfig(loadConfig({ file, env: Deno.env.toObject() })));
  return 0;
}

async function keys(flags: Flags): Promise<number> {
  if (flags.positional[1] !== "create") {
    throw new UsageError('expected "keys create --name NAME --scopes a,b"');
  }
  const name = flags.options.get("name");
  const scopes = flags.options.get("scopes");
  if (typeof name !== "string" || name === "") throw new UsageError("keys create needs --name");
  if (typeof scopes !== "string") {
    throw new UsageError(`keys create needs --scopes (${SCOPES.join(",")})`);
  }
  const list = scopes.split(",").map((s) => s.trim()).filter((s) => s !== "");
  const unknown = list.filter((s) => !(SCOPES as readonly string[]).includes(s));
  if (list.length === 0 || unknown.length > 0) {
    throw new UsageError(
      `unknown scope ${JSON.stringify(unknown[0] ?? "")}; allowed: ${SCOPES.join(", ")}`,
    );
  }
  const config = loadFromFlags(flags);
  const store = await Store.open(config.store);
  try {
    const { record, key } = await newApiKey(name, [...new Set(list)] as Scope[], Date.now());
    await store.write("insertApiKey", { key: record });
    console.log(JSON.stringify({ id: record.id, name, scopes: record.scopes, key }));
  } finally {
    await store.close();
  }
  return 0;
}

async function main(args: string[]): Promise<number> {
  const command = args[0] !== undefined && !args[0].startsWith("--") ? args[0] : "serve";
  const flags = parseFlags(command === args[0] ? args : ["serve", ...args], [
    "config",
    "name",
    "scopes",
  ]);
  if (flags.options.has("help") || command === "help") {
    console.log(HELP);
    return 0;
  }
  switch (command) {
    case "serve":
      return await serve(flags);
    case "check-config":
      return checkConfig(flags);
    case "keys":
      return await keys(flags);
    case "version":
      console.log(`hookd ${VERSION}`);
      return 0;
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

if (import.meta.main) {
  let code: number;
  try {
    code = await main(Deno.args);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`hookd: ${error.message}`);
    } else if (error instanceof UsageError) {
      console.error(`hookd: ${error.message} (see hookd --help)`);
    } else {
      console.error(`hookd: ${error instanceof Error ? error.message : String(error)}`);
    }
    code = error instanceof UsageError ? 2 : 1;
  }
  Deno.exit(code);
}
