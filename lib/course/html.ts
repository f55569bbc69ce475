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

function cellHtml(cell: HtmlCell): string {
  if (cell !== null && typeof cell === "object") return cell.html;
  return escapeHtml(cell === undefined || cell === null ? "" : String(cell));
}

/**
 * A table with a header row; numbers are right-aligned.
 *
 * @example
 * ```ts
 * import { htmlTable } from "./html.ts";
 * const t = htmlTable(["partition", "records"], [[0, 12], [1, 9]]);
 * console.log(t.html.startsWith("<table")); // true
 * ```
 */
export function htmlTable(
  headers: readonly string[],
  rows: readonly (readonly HtmlCell[])[],
): HtmlDisplay {
  const align = (c: HtmlCell) => typeof c === "number" || typeof c === "bigint" ? "right" : "left";
  const head = headers.map((h) => `<th style="text-align:left">${escapeHtml(h)}</th>`).join("");
  const body = rows.map((row) =>
    `<tr>${row.map((c) => `<td style="text-align:${align(c)}">${cellHtml(c)}</td>`).join("")}</tr>`
  ).join("");
  const html = `<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
  return { html, [DISPLAY]: () => ({ "text/html": html }) };
}
