import { z } from "zod";
import { describe, isTable, type Table } from "./_util.ts";
import type { KeyPath } from "./locate.ts";
import { suggest } from "./suggest.ts";

/** `unknown key; did you mean "x"?`, or the allowed keys when nothing is close. */
export function unknownKeyMessage(key: string, allowed: readonly string[]): string {
  const guess = suggest(key, allowed);
  return guess === undefined
    ? `unknown key; allowed keys are ${allowed.join(", ")}`
    : `unknown key; did you mean "${guess}"?`;
}

export interface TableOptions {
  /** What the table should be, for "expected …, got …"; default "a table". */
  readonly expected?: string;
  /** Raw values (from `default.toml`) for the keys the table omits. */
  readonly defaults?: Table;
  /**
   * Keys that must be given, each with the message for the table when it is
   * missing. A missing one stops the table's checks: nothing else about it
   * means much without that key.
   */
  readonly required?: Readonly<Record<string, string>>;
}

/**
 * One TOML table as a schema. Anything but a table is rejected with "expected
 * …, got …"; every unknown key is reported at its own path with a
 * did-you-mean (zod's strict objects list them in one issue, without a
 * suggestion); omitted keys take `defaults`; then `shape` parses the keys.
 */
export function table<const Shape extends z.ZodRawShape>(
  shape: Shape,
  options: TableOptions = {},
) {
  const allowed = Object.keys(shape);
  const expected = options.expected ?? "a table";
  const checked = z.unknown().transform((raw, ctx): Table => {
    if (!isTable(raw)) {
      ctx.issues.push({
        code: "custom",
        message: `expected ${expected}, got ${describe(raw)}`,
        input: raw,
      });
      return z.NEVER;
    }
    for (const key of Object.keys(raw)) {
      if (allowed.includes(key)) continue;
      // Zod's own code for an extra key: a pipe goes on past it, so the known
      // keys are still checked and one pass reports both.
      ctx.issues.push({
        code: "unrecognized_keys",
        keys: [key],
        path: [key],
        message: unknownKeyMessage(key, allowed),
        input: raw,
        continue: true,
      });
    }
    for (const [key, message] of Object.entries(options.required ?? {})) {
      if (!Object.hasOwn(raw, key)) {
        ctx.issues.push({ code: "custom", message, input: raw });
        return z.NEVER;
      }
    }
    return { ...options.defaults, ...raw };
  });
  return checked.pipe(z.object(shape));
}

/** The keys of a parsed table that parsed without a problem; the others are absent. */
export type Valid<T> = { readonly [K in keyof T]?: T[K] };

/** What a rule across keys may ask and do. */
export interface RuleContext {
  /** Every key of the table as given (defaults included), valid or not. */
  readonly keys: readonly string[];
  /** Whether the table has `key`, valid or not. */
  given(key: string): boolean;
  /**
   * Reports a problem at `path` below the table. `source`, when given, is the
   * full key path (from the top of the config) of the value that caused it:
   * the problem is shown at that value's file position or variable.
   */
  report(path: KeyPath, message: string, source?: KeyPath): void;
}

/**
 * Adds rules across the keys of a table. They run even when some keys failed
 * (so one pass reports everything), seeing only the keys that parsed; they do
 * not run when the table itself failed (not a table, a required key missing).
 */
export function withRules<S extends z.ZodType<object>>(
  schema: S,
  rules: (valid: Valid<z.output<S>>, ctx: RuleContext) => void,
): S {
  return schema.superRefine((value, payload) => {
    const failed = new Set(payload.issues.map((issue) => issue.path?.[0]));
    const entries = Object.entries(value);
    const valid = Object.fromEntries(entries.filter(([key]) => !failed.has(key)));
    rules(valid as Valid<z.output<S>>, {
      keys: entries.map(([key]) => key),
      given: (key) => Object.hasOwn(value, key),
      report(path, message, source) {
        payload.addIssue({
          code: "custom",
          path: [...path],
          message,
          input: value,
          ...(source === undefined ? {} : { params: { source } }),
        });
      },
    });
  }, {
    when: (payload) =>
      isTable(payload.value) && !payload.issues.some((issue) => (issue.path ?? []).length === 0),
  });
}

/** `[policies.NAME]`: NAME is 1-64 of a-z, 0-9, "_" and "-"; so is a profile's. */
const TABLE_NAME = /^[a-z0-9_-]{1,64}$/;

/**
 * `[policies.NAME]` or `[profiles.NAME]` tables: each parsed by `schema` and
 * given its `name`. `builtIn` is always there, first: from `{}` (the
 * defaults alone) unless the user defines it.
 */
export function namedTables<S extends z.ZodType<object>>(
  options: { readonly section: "policies" | "profiles"; readonly builtIn: string; schema: S },
) {
  const { section, builtIn, schema } = options;
  const what = section === "policies" ? "policy" : "profile";
  const checked = z.unknown().transform((raw, ctx): Table => {
    if (!isTable(raw)) {
      ctx.issues.push({
        code: "custom",
        message: `expected [${section}.NAME] tables, got ${describe(raw)}`,
        input: raw,
      });
      return z.NEVER;
    }
    return { [builtIn]: {}, ...raw };
  });
  const named = withRules(checked.pipe(z.record(z.string(), schema)), (_valid, ctx) => {
    for (const name of ctx.keys) {
      if (!TABLE_NAME.test(name)) {
        ctx.report(
          [name],
          `${what} names are 1-64 of a-z, 0-9, "_" and "-", got ${JSON.stringify(name)}`,
        );
      }
    }
  });
  return named.transform((tables) => {
    const out: Record<string, { readonly name: string } & z.output<S>> = {};
    for (const [name, value] of Object.entries(tables)) out[name] = { name, ...value };
    return out;
  });
}
