/**
 * Rows as an aligned plain-text table, the way `ps` or `kubectl get` print
 * them: upper-case headers, columns two spaces apart, the last column not
 * padded. Cells come from the API and may hold anything a client stored, so
 * control characters (a terminal escape sequence, a newline that would forge
 * a row) are shown as `\u001b`-style escapes instead of being written raw.
 */

export interface Column<T> {
  readonly header: string;
  readonly cell: (row: T) => string;
}

// deno-lint-ignore no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

function printable(text: string): string {
  return text.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** The table as lines ending in "\n"; empty when there are no rows. */
export function formatTable<T>(columns: readonly Column<T>[], rows: readonly T[]): string {
  if (rows.length === 0) return "";
  const cells = [
    columns.map((c) => c.header.toUpperCase()),
    ...rows.map((row) => columns.map((c) => printable(c.cell(row)))),
  ];
  const widths = columns.map((_, i) => Math.max(...cells.map((line) => line[i]!.length)));
  return cells.map((line) =>
    line.map((cell, i) => (i === line.length - 1 ? cell : cell.padEnd(widths[i]!))).join("  ")
      .trimEnd() + "\n"
  ).join("");
}
