/**
 * Charts as SVG that render in a Deno Jupyter notebook (the returned object
 * carries the `Jupyter.display` symbol): a horizontal bar chart, and a line
 * chart of one or more series over time (optionally with a Vega-Lite spec
 * beside the SVG). Labels are escaped; no dependencies.
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
import { formatNumber } from "../util/format.ts";
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

/** One point of a line: `x` (e.g. seconds into a run) and `y`; a non-finite `y` leaves a gap. */
export interface LinePoint {
  /** Horizontal position, e.g. seconds since the run started. */
  x: number;
  /** Value; `NaN`, `null` or `undefined` draws no point (the line has a gap there). */
  y: number | null | undefined;
}

/** One line of a {@linkcode lineChart}. */
export interface LineSeries {
  /** Legend text. */
  name: string;
  /** Points, in any order (they are drawn sorted by `x`). */
  points: readonly LinePoint[];
  /** CSS colour; default one of ten distinct colours by position. */
  color?: string;
  /** Draw dashed (e.g. a threshold or a target). */
  dashed?: boolean;
}

/** A vertical marker with a label, e.g. "broker 2 killed" at x = 12. */
export interface LineMark {
  /** Where, on the x axis. */
  x: number;
  /** Text at the top of the marker. */
  label: string;
}

/** Options of {@linkcode lineChart}. */
export interface LineChartOptions {
  /** Heading above the chart. */
  title?: string;
  /** Text under the x axis, e.g. "seconds since the fault". */
  xLabel?: string;
  /** Text beside the y axis, e.g. "records behind". */
  yLabel?: string;
  /** Overall width in pixels (default 640). */
  width?: number;
  /** Overall height in pixels (default 300). */
  height?: number;
  /** Most decimals in the y tick labels (default: as few as the ticks need). */
  digits?: number;
  /** Vertical markers for events of the run. */
  marks?: readonly LineMark[];
  /** Lowest y shown (default 0 when every value is >= 0, else the smallest value). */
  yMin?: number;
  /** Also return a Vega-Lite v5 spec (JupyterLab draws it; other front ends fall back to the SVG). */
  vegaLite?: boolean;
}

/** What {@linkcode lineChart} returns: SVG markup (and a Vega-Lite spec when asked), displayable. */
export interface LineChartDisplay {
  /** The SVG markup. */
  readonly svg: string;
  /** The Vega-Lite v5 spec, when `vegaLite` was set. */
  readonly vegaLite?: Record<string, unknown>;
  /** The Deno kernel's display hook (`Symbol.for("Jupyter.display")`). */
  [key: symbol]: () => Record<string, unknown>;
}

/** The MIME type of a Vega-Lite v5 spec in a notebook output. */
export const VEGA_LITE_MIME = "application/vnd.vegalite.v5+json";

const PALETTE = [
  "#4c78a8",
  "#f58518",
  "#54a24b",
  "#e45756",
  "#72b7b2",
  "#b279a2",
  "#eeca3b",
  "#9d755d",
  "#ff9da6",
  "#bab0ac",
];

/**
 * Evenly spaced "nice" tick values (steps of 1, 2 or 5 times a power of ten)
 * covering `min`..`max` with about `count` ticks, the step at least `minStep`
 * (1 for counts, which have no fractions).
 *
 * @example
 * ```ts
 * import { niceTicks } from "./chart.ts";
 * console.log(niceTicks(0, 47_312)); // [0, 10000, 20000, 30000, 40000, 50000]
 * ```
 */
export function niceTicks(min: number, max: number, count = 5, minStep = 0): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) {
    throw new RangeError(`niceTicks: bounds must be finite, got ${min} and ${max}`);
  }
  if (max < min) [min, max] = [max, min];
  if (max === min) {
    const pad = min === 0 ? 1 : Math.abs(min) / 2;
    min -= min === 0 ? 0 : pad;
    max += pad;
  }
  const raw = (max - min) / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = Math.max(minStep, [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw)!);
  const first = Math.floor(min / step + 1e-9) * step;
  const ticks: number[] = [];
  for (let v = first; v < max + step - 1e-9 * step; v += step) {
    ticks.push(Number(v.toPrecision(12)));
  }
  return ticks;
}

/** A tick label: {@linkcode formatNumber}, with 4-digit values grouped too when a sibling has 5+. */
function tickText(value: number, digits: number, groupAll: boolean): string {
  const text = formatNumber(value, digits);
  return groupAll ? text.replace(/^(-?\d)(\d{3})(?=\.|$)/, "$1,$2") : text;
}

function decimalsOf(step: number): number {
  if (step >= 1) return 0;
  return Math.min(6, Math.ceil(-Math.log10(step) - 1e-9));
}

/**
 * Draws `series` as lines over a shared x axis: axis ticks with thousands
 * separators ({@linkcode formatNumber}), axis labels, a legend, optional
 * vertical markers for events, gaps where a value is missing. Validates its
 * input: non-finite `x`, or no series, throws a `RangeError`.
 *
 * @example
 * ```ts
 * import { lineChart } from "./chart.ts";
 * const lag = [0, 1, 2, 3, 4].map((x) => ({ x, y: [0, 1200, 2500, 900, 0][x] }));
 * const chart = lineChart([{ name: "lag", points: lag }], {
 *   title: "consumer lag", xLabel: "seconds", yLabel: "records", marks: [{ x: 2, label: "scaled to 3" }],
 * });
 * console.log(chart.svg.includes("scaled to 3")); // true
 * ```
 */
export function lineChart(
  series: readonly LineSeries[],
  options: LineChartOptions = {},
): LineChartDisplay {
  if (series.length === 0) throw new RangeError("lineChart: give at least one series");
  const finite = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
  for (const s of series) {
    for (const p of s.points) {
      if (!finite(p.x)) throw new RangeError(`lineChart: "${s.name}" has a point with x = ${p.x}`);
    }
  }
  const marks = options.marks ?? [];
  const xs = [...series.flatMap((s) => s.points.map((p) => p.x)), ...marks.map((m) => m.x)];
  const ys = series.flatMap((s) => s.points.map((p) => p.y)).filter(finite);
  const width = options.width ?? 640;
  const height = options.height ?? 300;
  // Legend entries flow left to right (about 7 px per character) and wrap at the right edge.
  const legendTop = options.title ? 26 : 8;
  const legend: { x: number; row: number }[] = [];
  for (let i = 0, x = 0, row = 0; i < series.length; i++) {
    const w = 24 + series[i].name.length * 7 + 18;
    if (x > 0 && x + w > width - 8) [x, row] = [0, row + 1];
    legend.push({ x, row });
    x += w;
  }
  const legendRows = (legend.at(-1)?.row ?? 0) + 1;
  const top = legendTop + legendRows * 18 + 14;
  const left = options.yLabel ? 78 : 60;
  const right = 18;
  const bottom = options.xLabel ? 46 : 28;
  const plotW = Math.max(40, width - left - right);
  const plotH = Math.max(40, height - top - bottom);
  const xMin = xs.length ? Math.min(...xs) : 0;
  const xMax = xs.length ? Math.max(...xs) : 1;
  const dataMin = ys.length ? Math.min(...ys) : 0;
  const dataMax = ys.length ? Math.max(...ys) : 1;
  const counts = ys.every(Number.isInteger) && (options.yMin ?? 0) % 1 === 0;
  const yTicks = niceTicks(
    options.yMin ?? (dataMin >= 0 ? 0 : dataMin),
    Math.max(dataMax, 0),
    5,
    counts ? 1 : 0,
  );
  const xTicks = niceTicks(xMin, xMax, Math.max(2, Math.floor(plotW / 90)))
    .filter((t) => t >= xMin - 1e-9 && t <= xMax + 1e-9);
  const y0 = yTicks[0], y1 = yTicks.at(-1)!;
  const xSpan = xMax - xMin || 1;
  const px = (x: number) => left + ((x - xMin) / xSpan) * plotW;
  const py = (y: number) => top + plotH - ((y - y0) / (y1 - y0 || 1)) * plotH;
  const yDigits = options.digits ?? decimalsOf(yTicks.length > 1 ? yTicks[1] - yTicks[0] : 1);
  const xDigits = decimalsOf(xTicks.length > 1 ? xTicks[1] - xTicks[0] : 1);
  const r = (n: number) => Math.round(n * 10) / 10;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
    `font-family="sans-serif" font-size="12">`,
  ];
  if (options.title) {
    parts.push(`<text x="0" y="16" font-weight="bold">${escapeHtml(options.title)}</text>`);
  }
  const colorOf = (s: LineSeries, i: number) => s.color ?? PALETTE[i % PALETTE.length];
  series.forEach((s, i) => {
    const lx = legend[i].x;
    const ly = legendTop + legend[i].row * 18 + 6;
    parts.push(
      `<line x1="${lx}" y1="${ly}" x2="${lx + 18}" y2="${ly}" stroke="${
        escapeHtml(colorOf(s, i))
      }" stroke-width="2.5"${s.dashed ? ' stroke-dasharray="5,3"' : ""}/>`,
      `<text x="${lx + 24}" y="${ly + 4}">${escapeHtml(s.name)}</text>`,
    );
  });
  for (const t of yTicks) {
    const y = r(py(t));
    parts.push(
      `<line x1="${left}" y1="${y}" x2="${left + plotW}" y2="${y}" stroke="#e5e5e5"/>`,
      `<text x="${left - 6}" y="${y + 4}" text-anchor="end">${
        escapeHtml(tickText(t, yDigits, yTicks.some((v) => Math.abs(v) >= 10_000)))
      }</text>`,
    );
  }
  for (const t of xTicks) {
    const x = r(px(t));
    parts.push(
      `<line x1="${x}" y1="${top + plotH}" x2="${x}" y2="${top + plotH + 4}" stroke="#333"/>`,
      `<text x="${x}" y="${top + plotH + 17}" text-anchor="middle">${
        escapeHtml(tickText(t, xDigits, xTicks.some((v) => Math.abs(v) >= 10_000)))
      }</text>`,
    );
  }
  parts.push(
    `<line x1="${left}" y1="${top}" x2="${left}" y2="${top + plotH}" stroke="#333"/>`,
    `<line x1="${left}" y1="${top + plotH}" x2="${left + plotW}" y2="${
      top + plotH
    }" stroke="#333"/>`,
  );
  if (options.xLabel) {
    parts.push(
      `<text x="${left + plotW / 2}" y="${height - 6}" text-anchor="middle">${
        escapeHtml(options.xLabel)
      }</text>`,
    );
  }
  if (options.yLabel) {
    const cy = top + plotH / 2;
    parts.push(
      `<text x="14" y="${cy}" text-anchor="middle" transform="rotate(-90 14 ${cy})">${
        escapeHtml(options.yLabel)
      }</text>`,
    );
  }
  // Marker labels: right of their line (left of it near the right edge), one row lower when
  // they would overlap a label already placed (about 6 px per character at 11 px).
  const rowEnds: number[] = [];
  for (const m of [...marks].sort((a, b) => a.x - b.x)) {
    const x = r(px(m.x));
    const w = m.label.length * 6 + 6;
    const flip = x + 3 + w > width - 2;
    const [from, to] = flip ? [x - 3 - w, x - 3] : [x + 3, x + 3 + w];
    let row = rowEnds.findIndex((end) => end < from);
    if (row < 0) row = rowEnds.push(to) - 1;
    else rowEnds[row] = to;
    const anchor = flip ? ' text-anchor="end"' : "";
    parts.push(
      `<line x1="${x}" y1="${top}" x2="${x}" y2="${
        top + plotH
      }" stroke="#888" stroke-dasharray="3,3"/>`,
      `<text x="${flip ? x - 3 : x + 3}" y="${
        top + 10 + row * 12
      }" fill="#555" font-size="11"${anchor}>${escapeHtml(m.label)}</text>`,
    );
  }
  series.forEach((s, i) => {
    const sorted = [...s.points].sort((a, b) => a.x - b.x);
    let d = "";
    let pen = false;
    for (const p of sorted) {
      if (!finite(p.y)) {
        pen = false;
        continue;
      }
      d += `${pen ? "L" : "M"}${r(px(p.x))},${r(py(p.y))}`;
      pen = true;
    }
    if (d) {
      parts.push(
        `<path d="${d}" fill="none" stroke="${escapeHtml(colorOf(s, i))}" stroke-width="2"${
          s.dashed ? ' stroke-dasharray="5,3"' : ""
        }/>`,
      );
    }
  });
  parts.push("</svg>");
  const svg = parts.join("");
  const vegaLite = options.vegaLite ? vegaLiteSpec(series, options, colorOf) : undefined;
  return {
    svg,
    ...(vegaLite ? { vegaLite } : {}),
    [DISPLAY]:
      () => (vegaLite
        ? { [VEGA_LITE_MIME]: vegaLite, "image/svg+xml": svg }
        : { "image/svg+xml": svg }),
  };
}

function vegaLiteSpec(
  series: readonly LineSeries[],
  options: LineChartOptions,
  colorOf: (s: LineSeries, i: number) => string,
): Record<string, unknown> {
  const values = series.flatMap((s) =>
    s.points.filter((p) => typeof p.y === "number" && Number.isFinite(p.y))
      .map((p) => ({ series: s.name, x: p.x, y: p.y }))
  );
  const layers: Record<string, unknown>[] = [{
    mark: { type: "line" },
    encoding: {
      x: { field: "x", type: "quantitative", title: options.xLabel ?? "" },
      y: { field: "y", type: "quantitative", title: options.yLabel ?? "" },
      color: {
        field: "series",
        type: "nominal",
        scale: { domain: series.map((s) => s.name), range: series.map(colorOf) },
        title: null,
      },
    },
  }];
  if (options.marks?.length) {
    layers.push({
      data: { values: options.marks.map((m) => ({ x: m.x, label: m.label })) },
      mark: { type: "rule", strokeDash: [3, 3], color: "#888" },
      encoding: { x: { field: "x", type: "quantitative" } },
    }, {
      data: { values: options.marks.map((m) => ({ x: m.x, label: m.label })) },
      mark: { type: "text", align: "left", dx: 3, y: 0, baseline: "top", color: "#555" },
      encoding: { x: { field: "x", type: "quantitative" }, text: { field: "label" } },
    });
  }
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    ...(options.title ? { title: options.title } : {}),
    width: (options.width ?? 640) - 120,
    height: (options.height ?? 300) - 90,
    data: { values },
    layer: layers,
  };
}
