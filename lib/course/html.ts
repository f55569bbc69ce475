/**
 * HTML tables that render in a Deno Jupyter notebook: the returned object
 * carries the `Jupyter.display` symbol, so a cell that ends with it shows a
 * table. Plain cell values are escaped; wrap trusted markup in {@linkcode raw}.
 *
 * @example
 * ```ts
 * import { htmlTable, raw } from "./html.ts";
 * htmlTable(["service", "status"], [["kafka", raw("<b>ok</b>")], ["minio", "<not escaped?>"]]);
 * ```
 *
 * @module
 */
import { formatBytes, numericColumns, tableCell } from "../util/mod.ts";

/** Markup inserted as is. */
export interface RawHtml {
  /** The markup. */
  readonly html: string;
}

/** A table cell: text and numbers are escaped, {@linkcode RawHtml} is not. */
export type HtmlCell = string | number | bigint | boolean | null | undefined | RawHtml;

/** What {@linkcode htmlTable} returns: the markup, displayable by the Deno kernel. */
export interface HtmlDisplay {
  /** The table markup. */
  readonly html: string;
  /** The Deno kernel's display hook (`Symbol.for("Jupyter.display")`). */
  [key: symbol]: () => Record<string, string>;
}

const DISPLAY = Symbol.for("Jupyter.display");

/**
 * Escapes `&`, `<`, `>`, `"` and `'` for use in HTML text and attributes.
 *
 * @example
 * ```ts
 * import { escapeHtml } from "./html.ts";
 * console.log(escapeHtml("<a & b>")); // &lt;a &amp; b&gt;
 * ```
 */
export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!,
  );
}

/**
 * Marks `html` as trusted markup for a table cell.
 *
 * @example
 * ```ts
 * import { raw } from "./html.ts";
 * const ok = raw('<span style="color:green">ok</span>');
 * ```
 */
export function raw(html: string): RawHtml {
  return { html };
}

/**
 * A table with a header row. A column whose cells all read as numbers
 * (numbers, bigints, numeric text such as kafkajs's string offsets) is
 * right-aligned, header included, with thousands separators as in the charts;
 * columns of ids and ports are aligned but not grouped. Use
 * {@linkcode bytes} for byte counts.
 *
 * @example
 * ```ts
 * import { htmlTable } from "./html.ts";
 * const t = htmlTable(["partition", "records"], [[0, 40464], [1, "9"]]);
 * console.log(t.html.includes("40,464")); // true
 * ```
 */
export function htmlTable(
  headers: readonly string[],
  rows: readonly (readonly HtmlCell[])[],
): HtmlDisplay {
  const plain = rows.map((r) =>
    r.map((c) => (c !== null && typeof c === "object" ? undefined : c))
  );
  const numeric = numericColumns(headers.length, plain);
  const align = (i: number) => (numeric[i] ? "right" : "left");
  const head = headers.map((h, i) => `<th style="text-align:${align(i)}">${escapeHtml(h)}</th>`)
    .join("");
  const cell = (c: HtmlCell, i: number) =>
    c !== null && typeof c === "object" ? c.html : escapeHtml(tableCell(c, headers[i] ?? ""));
  const body = rows.map((row) =>
    `<tr>${
      row.map((c, i) => `<td style="text-align:${align(i)}">${cell(c, i)}</td>`).join("")
    }</tr>`
  ).join("");
  const html = `<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
  return { html, [DISPLAY]: () => ({ "text/html": html }) };
}

/**
 * A byte count for a table cell, in binary units (`64 MiB`), right-aligned.
 *
 * @example
 * ```ts
 * import { bytes, htmlTable } from "./html.ts";
 * console.log(htmlTable(["config", "value"], [["segment.bytes", bytes(67108864)]]).html.includes("64 MiB")); // true
 * ```
 */
export function bytes(n: number | string): string {
  return formatBytes(Number(n));
}
