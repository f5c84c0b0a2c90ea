import { formatDurationMs } from "../../src/duration.ts";
/** Plain-text tables for the benchmark report: columns padded, numbers right-aligned. */

export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)));
  const line = (cells: readonly string[]): string =>
    cells
      // The first column names the row; the others hold figures, right-aligned so digits line up.
      .map((cell, column) => (column > 0 ? cell.padStart(widths[column] ?? 0) : cell.padEnd(widths[column] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(header), line(widths.map((width) => "-".repeat(width))), ...rows.map(line)].join("\n");
}

export function ratio(value: number, baseline: number): string {
  return Number.isFinite(value) && Number.isFinite(baseline) && baseline > 0 ? `${(value / baseline).toFixed(2)}×` : "n/a";
}

export function rate(callsPerSecond: number): string {
  return Number.isFinite(callsPerSecond) ? `${Math.round(callsPerSecond)}/s` : "n/a";
}

/** A latency in the one format of the whole codebase (src/duration.ts); n/a when there is none. */
export function ms(value: number): string {
  return Number.isFinite(value) ? formatDurationMs(value) : "n/a";
}

export function mb(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(1)} MB` : "n/a";
}

/** `ok` or `MISS` against a goal `value <= limit` or `value >= floor`. */
export function verdict(value: number, goal: { atLeast: number } | { atMost: number }): string {
  if (!Number.isFinite(value)) return "n/a";
  return ("atLeast" in goal ? value >= goal.atLeast : value <= goal.atMost) ? "ok" : "MISS";
}
