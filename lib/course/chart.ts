/**
 * A horizontal bar chart as SVG that renders in a Deno Jupyter notebook
 * (the returned object carries the `Jupyter.display` symbol). Labels are
 * escaped; no dependencies.
 *
 * @example
 * ```ts
 * import { barChart } from "./chart.ts";
 * barChart([{ label: "partition 0", value: 34 }, { label: "partition 1", value: 31 }], {
 *   title: "records per partition",
 * });
 * ```
 *
 * @module
 */
import { escapeHtml } from "./html.ts";

/** One bar. */
export interface Bar {
  /** Text under the bar. */
  label: string;
  /** The bar's value. */
  value: number;
  /** CSS colour; default a blue. */
  color?: string;
}

/** Options for {@linkcode barChart}. */
export interface BarChartOptions {
  /** Heading above the chart. */
  title?: string;
  /** Appended to each value label, e.g. "rec/s". */
  unit?: string;
  /** Overall width in pixels (default 640). */
  width?: number;
  /** Decimals of the value labels (default 0). */
  digits?: number;
}

/** What {@linkcode barChart} returns: the SVG markup, displayable by the Deno kernel. */
export interface SvgDisplay {
  /** The SVG markup. */
  readonly svg: string;
  /** The Deno kernel's display hook (`Symbol.for("Jupyter.display")`). */
  [key: symbol]: () => Record<string, string>;
}

const DISPLAY = Symbol.for("Jupyter.display");

/**
 * Draws `bars` as horizontal bars scaled to the largest value.
 *
 * @example
 * ```ts
 * import { barChart } from "./chart.ts";
 * const chart = barChart([{ label: "java", value: 100 }, { label: "ours", value: 60 }]);
 * console.log(chart.svg.startsWith("<svg")); // true
 * ```
 */
export function barChart(bars: readonly Bar[], options: BarChartOptions = {}): SvgDisplay {
  for (const b of bars) {
    if (!Number.isFinite(b.value) || b.value < 0) {
      throw new RangeError(`barChart: "${b.label}" has value ${b.value}; use finite values >= 0`);
    }
  }
  const width = options.width ?? 640;
  const barHeight = 22;
  const gap = 6;
  const labelWidth = Math.min(
    260,
    Math.max(60, ...bars.map((b) => b.label.length * 7 + 10)),
  );
  const valueWidth = 110;
  const top = options.title ? 28 : 8;
  const plot = Math.max(40, width - labelWidth - valueWidth);
  const max = Math.max(0, ...bars.map((b) => b.value));
  const digits = options.digits ?? 0;
  const unit = options.unit ? ` ${options.unit}` : "";
  const height = top + bars.length * (barHeight + gap) + 4;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
    `font-family="sans-serif" font-size="12">`,
  ];
  if (options.title) {
    parts.push(
      `<text x="0" y="16" font-weight="bold">${escapeHtml(options.title)}</text>`,
    );
  }
  bars.forEach((b, i) => {
    const y = top + i * (barHeight + gap);
    const w = max > 0 ? Math.max(1, Math.round((b.value / max) * plot)) : 1;
    const text = `${
      b.value.toLocaleString("en-US", {
        minimumFractionDigits: digits,
        maximumFractionDigits: digits,
      })
    }${unit}`;
    parts.push(
      `<text x="${labelWidth - 6}" y="${y + 15}" text-anchor="end">${escapeHtml(b.label)}</text>`,
      `<rect x="${labelWidth}" y="${y}" width="${w}" height="${barHeight}" fill="${
        escapeHtml(b.color ?? "#4c78a8")
      }"/>`,
      `<text x="${labelWidth + w + 6}" y="${y + 15}">${escapeHtml(text)}</text>`,
    );
  });
  parts.push("</svg>");
  const svg = parts.join("");
  return { svg, [DISPLAY]: () => ({ "image/svg+xml": svg }) };
}
