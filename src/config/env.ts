import type { z } from "zod";
import { envKind } from "./fields.ts";
import {
  ENV_ADMIN_KEY,
  ENV_CLI_KEY,
  ENV_CLI_URL,
  ENV_CONFIG,
  envName,
  SECTIONS,
} from "./schema.ts";

/** Variables that are not config keys: main.ts and the operator commands read them. */
const NOT_CONFIG: ReadonlySet<string> = new Set([ENV_CONFIG, ENV_CLI_URL, ENV_CLI_KEY]);
import { suggest } from "./suggest.ts";

/** A value taken from a `HOOKD_*` variable, converted to its key's TOML type. */
export interface EnvValue {
  readonly section: string;
  readonly key: string;
  readonly variable: string;
  readonly value: unknown;
}

/** A problem with one variable. */
export interface EnvIssue {
  readonly variable: string;
  /** `section.key` the variable sets; empty for an unknown variable. */
  readonly path: string;
  readonly message: string;
}

/** Every variable hookd reads, mapped to the key it sets. */
function knownVariables(): Map<string, { section: string; key: string }> {
  const known = new Map<string, { section: string; key: string }>();
  for (const [section, fields] of Object.entries(SECTIONS)) {
    for (const key of Object.keys(fields)) known.set(envName(section, key), { section, key });
  }
  known.set(ENV_ADMIN_KEY, { section: "auth", key: "admin_key" });
  return known;
}

/**
 * Reads the `HOOKD_*` variables of `env` (others are ignored, as are
 * `HOOKD_CONFIG`, which main.ts uses to find the file, and `HOOKD_URL` /
 * `HOOKD_KEY`, the operator commands'). Values are converted
 * to their key's TOML type: booleans from true/false/1/0, integers from
 * digits, everything else kept as a string for the key's own parser. Returns
 * the values and every problem: unknown variables (with a suggestion),
 * unconvertible values, and both spellings of the admin key set at once.
 */
export function readEnv(
  env: Readonly<Record<string, string>>,
): { values: EnvValue[]; issues: EnvIssue[] } {
  const known = knownVariables();
  const values: EnvValue[] = [];
  const issues: EnvIssue[] = [];
  for (const [variable, text] of Object.entries(env).sort(([a], [b]) => a < b ? -1 : 1)) {
    if (!variable.startsWith("HOOKD_") || NOT_CONFIG.has(variable)) continue;
    const target = known.get(variable);
    if (target === undefined) {
      const guess = suggest(variable, [...known.keys(), ENV_CONFIG]);
      issues.push({
        variable,
        path: "",
        message: guess === undefined
          ? `unknown variable; hookd reads ${ENV_CONFIG}, ${ENV_ADMIN_KEY} and ` +
            `HOOKD_<SECTION>_<KEY> for the keys of [${Object.keys(SECTIONS).join("], [")}]`
          : `unknown variable; did you mean ${guess}?`,
      });
      continue;
    }
    const { section, key } = target;
    const path = `${section}.${key}`;
    const field = (SECTIONS as Record<string, Record<string, z.ZodType>>)[section]?.[key];
    const kind = field === undefined ? "string" : envKind(field);
    let value: unknown = text;
    if (kind === "boolean") {
      const lower = text.toLowerCase();
      if (lower === "true" || lower === "1") value = true;
      else if (lower === "false" || lower === "0") value = false;
      else {
        issues.push({
          variable,
          path,
          message: `expected true, false, 1 or 0, got ${JSON.stringify(text)}`,
        });
        continue;
      }
    } else if (kind === "integer") {
      if (!/^-?\d+$/.test(text)) {
        issues.push({
          variable,
          path,
          message: `expected an integer, got ${JSON.stringify(text)}`,
        });
        continue;
      }
      value = Number(text);
    }
    values.push({ section, key, variable, value });
  }
  const adminKeys = values.filter((v) => v.section === "auth" && v.key === "admin_key");
  if (adminKeys.length > 1) {
    issues.push({
      variable: ENV_ADMIN_KEY,
      path: "auth.admin_key",
      message: `set either ${ENV_ADMIN_KEY} or ${envName("auth", "admin_key")}, not both`,
    });
  }
  return { values, issues };
}
