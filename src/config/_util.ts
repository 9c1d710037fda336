import { TomlDate } from "smol-toml";

/** A TOML table as smol-toml returns it. */
export type Table = Record<string, unknown>;

/** True for a plain TOML table (not an array, date or primitive). */
export function isTable(value: unknown): value is Table {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    !(value instanceof Date);
}

/** Describes a TOML value for "expected …, got …" messages. */
export function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") {
    return String(value);
  }
  if (value instanceof TomlDate || value instanceof Date) return "a date";
  if (Array.isArray(value)) return "an array";
  if (isTable(value)) return "a table";
  return String(value);
}

/** `T` with every object, array and tuple inside it read-only: what `deepFreeze` returns. */
export type DeepReadonly<T> = T extends object ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
  : T;

/** Freezes an object graph in place and returns it, typed as read-only all the way down. */
export function deepFreeze<T>(value: T): DeepReadonly<T> {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value as DeepReadonly<T>;
}
