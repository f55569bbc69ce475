/**
 * Aligned plain-text tables for task output.
 *
 * @module
 */

/**
 * Formats rows under a header with columns padded to their widest cell.
 * Cells that look numeric are right-aligned.
 *
 * @example
 * ```ts
 * import { formatTable } from "./table.ts";
 * console.log(formatTable(["service", "ms"], [["kafka", "812"], ["minio", "95"]]));
 * // service  ms
 * // -------  ---
 * // kafka    812
 * // minio     95
 * ```
 */
export function formatTable(
  header: readonly string[],
  rows: readonly (readonly unknown[])[],
): string {
  const cells = [header, ...rows].map((r) => header.map((_, i) => String(r[i] ?? "")));
  const widths = header.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  const numeric = header.map((_, i) =>
    rows.length > 0 && rows.every((r) => /^-?[\d.,]+( ?[a-zA-Z%/]+)?$/.test(String(r[i] ?? "")))
  );
  const line = (r: string[]) =>
    r.map((c, i) =>
      i === r.length - 1 && !numeric[i]
        ? c
        : numeric[i]
        ? c.padStart(widths[i])
        : c.padEnd(widths[i])
    ).join("  ").trimEnd();
  return [line(cells[0]), line(widths.map((w) => "-".repeat(w))), ...cells.slice(1).map(line)]
    .join("\n");
}
