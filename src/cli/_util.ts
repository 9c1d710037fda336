/** Small helpers the operator commands share. */
import type { ParsedArgs } from "./args.ts";
import { UsageError } from "./errors.ts";

/** The operator commands take options only; a stray word is most likely a missing `--`. */
export function noOperands(args: ParsedArgs, command: string): void {
  const stray = args.positional[0];
  if (stray !== undefined) {
    throw new UsageError(
      `unexpected argument ${JSON.stringify(stray)}; ${command} takes only options`,
      command,
    );
  }
}

/** `--limit N`: how many items a listing prints at most; `fallback` when not given. */
export function limitOption(args: ParsedArgs, command: string, fallback: number): number {
  const text = args.string("limit");
  if (text === undefined) return fallback;
  const limit = /^[0-9]+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new UsageError(
      `--limit must be a whole number from 1 up, got ${JSON.stringify(text)}`,
      command,
    );
  }
  return limit;
}

/** Writes `value` as one line of JSON. */
export function jsonLine(value: unknown): string {
  return JSON.stringify(value) + "\n";
}
