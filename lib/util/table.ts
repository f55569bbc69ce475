/**
 * Aligned plain-text tables for task output.
 *
 * @module
 */
import { formatNumber, isNumeric } from "./format.ts";

/** Headers whose numbers are identifiers (ids, ports, pids): aligned, never grouped. */
const ID_HEADER = /(^|[\s_])(id|port|pid|epoch)s?$/i;

/**
 * Which columns are numeric: every non-empty cell reads as a number
 * (numbers, bigints, or text such as kafkajs's string offsets).
 *
 * @example
 * ```ts
 * import { numericColumns } from "./table.ts";
 * console.log(numericColumns(2, [["p0", "40464"], ["p1", ""]])); // [false, true]
 * ```
 */
export function numericColumns(width: number, rows: readonly (readonly unknown[])[]): boolean[] {
  return Array.from({ length: width }, (_, i) => {
    const cells = rows.map((r) => r[i]).filter((c) => c !== undefined && c !== null && c !== "");
    return cells.length > 0 && cells.every(isNumeric);
  });
}

/**
 * A table cell as text: numbers (and numeric text) with thousands separators
 * unless the column holds identifiers.
 *
 * @example
 * ```ts
 * import { tableCell } from "./table.ts";
 * console.log(tableCell("1306158 JPY", "revenue"), tableCell(19093, "port")); // 1,306,158 JPY 19093
 * ```
 */
export function tableCell(value: unknown, header = ""): string {
  if (value === undefined || value === null) return "";
  if (ID_HEADER.test(header.trim())) return String(value);
  return isNumeric(value) ? formatNumber(value) : String(value);
}

/**
 * Formats rows under a header with columns padded to their widest cell. A
 * column whose cells all read as numbers is right-aligned, header included,
 * and its numbers get thousands separators (see {@linkcode tableCell}).
 *
 * @example
 * ```ts
 * import { formatTable } from "./table.ts";
 * console.log(formatTable(["service", "ms"], [["kafka", "812"], ["minio", "95"]]));
 * //  service   ms
 * //  -------  ---
 * //  kafka    812
 * //  minio     95
 * ```
 */
export function formatTable(
  header: readonly string[],
  rows: readonly (readonly unknown[])[],
): string {
  const numeric = numericColumns(header.length, rows);
  const body = rows.map((r) => header.map((h, i) => tableCell(r[i], h)));
  const cells = [header.map(String), ...body];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  const line = (r: string[]) =>
    r.map((c, i) =>
      numeric[i] ? c.padStart(widths[i]) : i === r.length - 1 ? c : c.padEnd(widths[i])
    ).join("  ").trimEnd();
  return [line(cells[0]), line(widths.map((w) => "-".repeat(w))), ...body.map(line)].join("\n");
}
