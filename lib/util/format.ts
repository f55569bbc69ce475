/**
 * Number formatting shared by tables and charts: thousands separators and
 * byte units, so a table prints 40,464 where a chart prints 40,464.
 *
 * @example
 * ```ts
 * import { formatBytes, formatNumber } from "./format.ts";
 * console.log(formatNumber(1306158), formatBytes(67108864)); // 1,306,158 64 MiB
 * ```
 *
 * @module
 */

const NUMERIC_TEXT = /^(-?)(\d+)(\.\d+)?(\s?[A-Za-z%/]+)?$/;

/**
 * Whether a cell reads as a number: a number, a bigint, or text such as
 * `"40464"`, `"1306158 JPY"`, `"12.5 ms"` (kafkajs returns offsets as text).
 *
 * @example
 * ```ts
 * import { isNumeric } from "./format.ts";
 * console.log(isNumeric("40464"), isNumeric("1306158 JPY"), isNumeric("eu-west")); // true true false
 * ```
 */
export function isNumeric(value: unknown): boolean {
  if (typeof value === "number") return Number.isFinite(value);
  if (typeof value === "bigint") return true;
  return typeof value === "string" && NUMERIC_TEXT.test(value.trim()) && value.trim() !== "";
}

function group(digits: string): string {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/**
 * A number (or numeric text) with thousands separators from 10,000 up
 * (smaller integers such as ports below 10,000, years and ids stay as they
 * are), at most `maxFractionDigits` decimals (default 2; 4 below 1). Other
 * values are returned as text unchanged.
 *
 * @example
 * ```ts
 * import { formatNumber } from "./format.ts";
 * console.log(formatNumber(40464), formatNumber("1306158 JPY"), formatNumber(2026), formatNumber(0.01234));
 * // 40,464 1,306,158 JPY 2026 0.0123
 * ```
 */
export function formatNumber(value: unknown, maxFractionDigits?: number): string {
  if (typeof value === "bigint") {
    return Math.abs(Number(value)) >= 10_000 ? group(value.toString()) : value.toString();
  }
  if (typeof value === "number") {
    if (!Number.isFinite(value)) return String(value);
    const digits = maxFractionDigits ?? (Math.abs(value) < 1 && value !== 0 ? 4 : 2);
    const rounded = Number(value.toFixed(digits));
    const [int, frac] = String(Math.abs(rounded)).split(".");
    const sign = rounded < 0 ? "-" : "";
    return `${sign}${Math.abs(rounded) >= 10_000 ? group(int) : int}${frac ? `.${frac}` : ""}`;
  }
  const text = value === undefined || value === null ? "" : String(value);
  const m = NUMERIC_TEXT.exec(text.trim());
  if (!m) return text;
  const [, sign, int, frac = "", unit = ""] = m;
  return `${sign}${int.length >= 5 ? group(int) : int}${frac}${unit}`;
}

/**
 * A byte count in binary units: `512 B`, `1.5 KiB`, `64 MiB`, `2 GiB`.
 *
 * @example
 * ```ts
 * import { formatBytes } from "./format.ts";
 * console.log(formatBytes(1536), formatBytes(1073741824)); // 1.5 KiB 1 GiB
 * ```
 */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const text = unit === 0 ? String(value) : String(Number(value.toFixed(value >= 100 ? 0 : 1)));
  return `${text} ${units[unit]}`;
}
