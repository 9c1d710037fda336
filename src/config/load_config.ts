import { parse, TomlError } from "smol-toml";
import type { z } from "zod";
import { deepFreeze, isTable, type Table } from "./_util.ts";
import { ConfigError, type ConfigIssue } from "./config_error.ts";
import { DEFAULT_TOML, DEFAULT_TOML_NAME } from "./default_toml.ts";
import { type EnvValue, readEnv } from "./env.ts";
import { reason } from "./fields.ts";
import { type KeyPath, locate } from "./locate.ts";
import { configSchema } from "./schema.ts";
import type { Config } from "./types.ts";

/** Where `loadConfig` reads from; every field is optional. */
export interface LoadConfigOptions {
  /**
   * Path of the user's TOML file. Read unless `text` is given; either way it
   * names the file in error messages. Default: no file, defaults only.
   */
  readonly file?: string;
  /** The user's TOML text, instead of reading `file`. */
  readonly text?: string;
  /**
   * Environment, typically `Deno.env.toObject()`. Only `HOOKD_*` variables are
   * read (`HOOKD_CONFIG` is left to the caller). Default: none, so tests and
   * callers without `--allow-env` get a pure function.
   */
  readonly env?: Readonly<Record<string, string>>;
}

const BARE = /^[A-Za-z0-9_-]+$/;

/** `["policies", "fast", "schedule", 2]` → `policies.fast.schedule[2]`. */
export function formatKeyPath(path: KeyPath): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else {
      const name = BARE.test(segment) ? segment : JSON.stringify(segment);
      out += out === "" ? name : `.${name}`;
    }
  }
  return out;
}

function hasPath(tree: Table, path: KeyPath): boolean {
  let node: unknown = tree;
  for (const segment of path) {
    if (!isTable(node) || !Object.hasOwn(node, String(segment))) return false;
    node = node[String(segment)];
  }
  return true;
}

/**
 * Loads the configuration: the embedded defaults (`default.toml`), then the
 * user's file merged over them key by key, then `HOOKD_<SECTION>_<KEY>`
 * variables (and `HOOKD_ADMIN_KEY`), then one validation pass by the schema.
 *
 * @returns the resolved config, deeply frozen.
 * @throws {ConfigError} listing every problem found, each with the file,
 * line and column of the offending key, or the variable it came from.
 */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const fileName = options.file ?? "<text>";
  const early: ConfigIssue[] = [];

  let userText = "";
  let user: Table = {};
  if (options.text !== undefined || options.file !== undefined) {
    try {
      userText = options.text ?? Deno.readTextFileSync(options.file ?? "");
      user = parse(userText, { unsafeKeyBehaviour: "throw" }) as Table;
    } catch (error) {
      userText = "";
      if (error instanceof TomlError) {
        const first = error.message.split("\n")[0] ?? "";
        early.push({
          path: "",
          message: first.replace(/^Invalid TOML document: /, "invalid TOML: "),
          file: fileName,
          line: error.line,
          column: error.column,
        });
      } else {
        early.push({ path: "", message: `cannot read: ${reason(error)}`, file: fileName });
      }
    }
  }

  const env = readEnv(options.env ?? {});
  for (const issue of env.issues) {
    early.push({ path: issue.path, message: issue.message, env: issue.variable });
  }
  const envValues = new Map(env.values.map((v) => [`${v.section}.${v.key}`, v]));
  const given = (path: KeyPath) =>
    hasPath(user, path) || envValues.has(`${String(path[0])}.${String(path[1])}`);

  const result = configSchema(given).safeParse(withEnv(user, env.values));
  if (early.length === 0 && result.success) return deepFreeze(result.data);

  // Each problem is shown where the value that caused it came from: a
  // variable, the user's file, or the built-in defaults.
  const where = (issue: z.core.$ZodIssue): Omit<ConfigIssue, "path" | "message"> => {
    const source = sourceOf(issue);
    const variable = envValues.get(`${String(source[0])}.${String(source[1])}`)?.variable;
    if (variable !== undefined) return { env: variable };
    const fromUser = hasPath(user, source.slice(0, 2));
    return {
      file: fromUser ? fileName : DEFAULT_TOML_NAME,
      ...locate(fromUser ? userText : DEFAULT_TOML, source),
    };
  };
  const all = [
    ...early,
    ...(result.error?.issues ?? []).map((issue): ConfigIssue => ({
      path: formatKeyPath(issue.path as KeyPath),
      message: issue.message,
      ...where(issue),
    })),
  ];
  throw new ConfigError(all.sort(byPosition));
}

/** The key whose value caused `issue`: its own, unless a rule named another (`RuleContext.report`). */
function sourceOf(issue: z.core.$ZodIssue): KeyPath {
  const source = issue.code === "custom" ? issue.params?.source : undefined;
  return (Array.isArray(source) ? source : issue.path) as KeyPath;
}

/** The user's tables with each `HOOKD_*` value put in (new objects; `user` is left as is). */
function withEnv(user: Table, values: readonly EnvValue[]): Table {
  const input: Table = { ...user };
  for (const { section, key, value } of values) {
    const current = input[section] ?? {};
    // A section that is not a table is reported as such; the variable cannot fix it.
    if (isTable(current)) input[section] = { ...current, [key]: value };
  }
  return input;
}

/** File problems in reading order, then environment problems. */
function byPosition(a: ConfigIssue, b: ConfigIssue): number {
  const rank = (issue: ConfigIssue) => issue.env !== undefined ? 1 : 0;
  return rank(a) - rank(b) ||
    (a.env === undefined && b.env === undefined
      ? (a.file ?? "").localeCompare(b.file ?? "") || (a.line ?? 0) - (b.line ?? 0) ||
        (a.column ?? 0) - (b.column ?? 0)
      : 0);
}
