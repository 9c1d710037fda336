const UNIT_BYTES: Readonly<Record<string, number>> = {
  B: 1,
  KB: 1_000,
  KiB: 1_024,
  MB: 1_000_000,
  MiB: 1_048_576,
  GB: 1_000_000_000,
  GiB: 1_073_741_824,
};

const SIZE = /^(\d+)(B|KB|KiB|MB|MiB|GB|GiB)?$/;

/**
 * Parses a byte size such as `"1MiB"`, `"4KiB"`, `"512B"` or `"1KB"`
 * (KB = 1000, KiB = 1024; likewise MB/MiB, GB/GiB), a string of digits, or a
 * plain non-negative integer, into bytes.
 *
 * @throws {TypeError} when the input is not a size.
 * @throws {RangeError} when the size exceeds `Number.MAX_SAFE_INTEGER` bytes.
 */
export function parseSize(input: string | number): number {
  if (typeof input === "number") {
    if (!Number.isSafeInteger(input) || input < 0) {
      throw new TypeError(
        `Cannot parse size: expected a whole number of bytes, got ${input}`,
      );
    }
    return input;
  }
  const match = typeof input === "string" ? SIZE.exec(input) : null;
  if (match === null) {
    throw new TypeError(
      `Cannot parse size: expected bytes or a number followed by B, KB, KiB, MB, MiB, GB ` +
        `or GiB (e.g. "512B", "4KiB", "1MiB"), got ${JSON.stringify(input)}`,
    );
  }
  const bytes = Number(match[1]) * (UNIT_BYTES[match[2] ?? "B"] ?? 1);
  if (!Number.isSafeInteger(bytes)) {
    throw new RangeError(`Cannot parse size: ${JSON.stringify(input)} is too large`);
  }
  return bytes;
}

/**
 * Renders bytes with the largest binary unit that divides them exactly, e.g.
 * `1048576` → `"1MiB"`, `1500` → `"1500B"`.
 */
export function formatSize(bytes: number): string {
  if (!Number.isSafeInteger(bytes) || bytes < 0) {
    throw new RangeError(`Cannot format size: expected whole non-negative bytes, got ${bytes}`);
  }
  for (const unit of ["GiB", "MiB", "KiB"] as const) {
    const size = UNIT_BYTES[unit] ?? 1;
    if (bytes > 0 && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return `${bytes}B`;
}
