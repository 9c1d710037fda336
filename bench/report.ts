/** The benchmark's result rows and the table they print as. */

export interface Row {
  readonly figure: string;
  readonly value: number;
  readonly unit: string;
  readonly reference?: { readonly name: string; readonly value: number };
  /**
   * "min": the value must be ≥ target; "max": ≤ target. With `ratio`, the
   * target applies to value / reference instead of the value.
   */
  readonly target?: {
    readonly kind: "min" | "max";
    readonly value: number;
    readonly ratio?: boolean;
  };
}

export function formatNumber(value: number, unit: string): string {
  if (!Number.isFinite(value)) return "n/a";
  if (unit === "ms") return `${value.toFixed(value !== 0 && Math.abs(value) < 10 ? 2 : 1)} ms`;
  if (unit === "MB") return `${value.toFixed(1)} MB`;
  if (unit === "µs") return `${value.toFixed(1)} µs`;
  if (unit === "x") return value.toFixed(2);
  return `${Math.round(value).toLocaleString("en-US")} ${unit}`;
}

export function ratioOf(row: Row): number | undefined {
  return row.reference ? row.value / row.reference.value : undefined;
}

export function verdict(row: Row): string {
  if (!row.target) return "";
  const value = row.target.ratio ? ratioOf(row) : row.value;
  if (value === undefined || !Number.isFinite(value)) return "MISS";
  const ok = row.target.kind === "min" ? value >= row.target.value : value <= row.target.value;
  return ok ? "PASS" : "MISS";
}

function formatTarget(row: Row): string {
  if (!row.target) return "";
  const sign = row.target.kind === "min" ? "≥" : "≤";
  return row.target.ratio
    ? `${sign} ${row.target.value.toFixed(2)}x ref`
    : `${sign} ${formatNumber(row.target.value, row.unit)}`;
}

export function printTable(rows: readonly Row[]): void {
  const header = ["figure", "value", "reference", "ratio", "target", "result"];
  const lines = rows.map((row) => {
    const ratio = ratioOf(row);
    return [
      row.figure,
      formatNumber(row.value, row.unit),
      row.reference ? `${formatNumber(row.reference.value, row.unit)} (${row.reference.name})` : "",
      ratio === undefined ? "" : Number.isFinite(ratio) ? `${ratio.toFixed(2)}x` : "n/a",
      formatTarget(row),
      verdict(row),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const format = (cells: string[]) =>
    cells.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd();
  console.log(format(header));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const line of lines) console.log(format(line));
}

/** Rows as JSON, with their ratio and verdict. */
export function rowsJson(rows: readonly Row[]): unknown[] {
  return rows.map((row) => ({
    ...row,
    ratio: ratioOf(row),
    result: verdict(row) || undefined,
  }));
}
