/**
 * Where the operator commands find the daemon and which key they present:
 * `--url`/`HOOKD_URL` (default: the address `hookd serve` listens on out of
 * the box) and `--key`/`HOOKD_KEY`, falling back to the root key variables
 * the daemon itself reads, so a shell that starts the daemon can also run
 * these commands.
 */
import { DEFAULTS } from "../config/default_toml.ts";
import { ENV_ADMIN_KEY, ENV_CLI_KEY, ENV_CLI_URL, envName } from "../config/schema.ts";
import { HELP_WIDTH, type OptionSpec, wrap } from "./command.ts";
import { UsageError } from "./errors.ts";
import type { ParsedArgs } from "./args.ts";

/** `[server] listen`'s built-in default, as a URL. */
export const DEFAULT_URL = `http://${(DEFAULTS.server as Record<string, unknown>).listen}`;

/** Key variables in the order they are tried after `--key`. */
const KEY_VARIABLES = [ENV_CLI_KEY, ENV_ADMIN_KEY, envName("auth", "admin_key")] as const;

export const API_OPTIONS: readonly OptionSpec[] = [
  { name: "url", value: "URL", help: `the API's URL (else HOOKD_URL, else ${DEFAULT_URL})` },
  {
    name: "key",
    value: "KEY",
    help: "API key (else HOOKD_KEY, else HOOKD_ADMIN_KEY); the variables are safer: " +
      "other users can read a command line with ps",
  },
];

/** The help's paragraph on reaching the daemon. */
export const API_HELP = wrap(
  `Talks to a running daemon over its HTTP API (${DEFAULT_URL} unless --url or HOOKD_URL ` +
    "say otherwise) with an API key from --key, HOOKD_KEY or HOOKD_ADMIN_KEY. The key is " +
    "sent as a bearer token and never printed.",
  HELP_WIDTH,
).join("\n");

export interface ApiTarget {
  /** The API's base URL, ending in "/"; paths are resolved against it. */
  readonly base: URL;
  readonly key: string;
}

export function apiTarget(
  args: ParsedArgs,
  env: Readonly<Record<string, string | undefined>>,
  command: string,
): ApiTarget {
  const given = args.string("url");
  const [source, text] = given !== undefined
    ? ["--url", given]
    : env[ENV_CLI_URL]
    ? [ENV_CLI_URL, env[ENV_CLI_URL]]
    : ["the default URL", DEFAULT_URL];
  let base: URL;
  try {
    base = new URL(text);
  } catch {
    base = new URL("invalid:");
  }
  if ((base.protocol !== "http:" && base.protocol !== "https:") || base.hostname === "") {
    throw new UsageError(
      `${source} must be an http:// or https:// URL such as ${DEFAULT_URL}, got ${
        JSON.stringify(text)
      }`,
      command,
    );
  }
  if (!base.pathname.endsWith("/")) base.pathname += "/";
  base.search = "";
  base.hash = "";
  const key = args.string("key") || KEY_VARIABLES.map((name) => env[name]).find((v) => v);
  if (!key) {
    throw new UsageError(
      "no API key: pass --key KEY or set HOOKD_KEY (or HOOKD_ADMIN_KEY)",
      command,
    );
  }
  return { base, key };
}
