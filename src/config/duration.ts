const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

const DURATION = /^(?:\d+(?:ms|s|m|h|d))+$/;
const PART = /(\d+)(ms|s|m|h|d)/g;

/**
 * Parses a duration such as `"500ms"`, `"5s"`, `"1h30m"` or `"1d"` into
 * milliseconds. Parts may be combined; `"0"` alone means zero. Negative and
 * fractional numbers are rejected so every duration is a whole number of ms.
 *
 * @throws {TypeError} when the text is not a duration.
 * @throws {RangeError} when the duration exceeds `Number.MAX_SAFE_INTEGER` ms.
 */
export function parseDuration(input: string): number {
  if (typeof input !== "string") {
    throw new TypeError(
      `Cannot parse duration: expected a string such as "5s", got ${String(input)}`,
    );
  }
  if (input === "0") return 0;
  if (!DURATION.test(input)) {
    throw new TypeError(
      `Cannot parse duration: expected a number followed by ms, s, m, h or d ` +
        `(e.g. "5s", "1h30m"), got ${JSON.stringify(input)}`,
    );
  }
  let total = 0;
  for (const [, digits, unit] of input.matchAll(PART)) {
    total += Number(digits) * (UNIT_MS[unit ?? ""] ?? 0);
  }
  if (!Number.isSafeInteger(total)) {
    throw new RangeError(`Cannot parse duration: ${JSON.stringify(input)} is too large`);
  }
  return total;
}

/**
 * Renders milliseconds as the shortest compound duration `parseDuration`
 * reads back to the same value, e.g. `5400000` → `"1h30m"`, `0` → `"0s"`.
 */
export function formatDuration(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0) {
    throw new RangeError(`Cannot format duration: expected whole non-negative ms, got ${ms}`);
  }
  if (ms === 0) return "0s";
  let rest = ms;
  let out = "";
  for (const unit of ["d", "h", "m", "s", "ms"] as const) {
    const size = UNIT_MS[unit] ?? 1;
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  return out;
}
