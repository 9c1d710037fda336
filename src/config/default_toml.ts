import { parse } from "smol-toml";
import { deepFreeze, type Table } from "./_util.ts";
// A text import puts the file into the module graph, so `deno compile`
// embeds it without --include (stable since Deno 2.x; no unstable flag).
import text from "./default.toml" with { type: "text" };

/** The built-in defaults: the source text of `default.toml`, which documents every key. */
export const DEFAULT_TOML: string = text;

/** How the built-in defaults are named in error messages. */
export const DEFAULT_TOML_NAME = "<built-in default.toml>";

/** `default.toml` parsed: the raw default of every key, before validation. */
export const DEFAULTS: Readonly<Table> = deepFreeze(parse(DEFAULT_TOML) as Table);
