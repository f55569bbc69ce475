/** The line chart (lib/course/chart.ts): ticks, scaling, gaps, markers, escaping, Vega-Lite. No services. */
import assert from "node:assert/strict";
import { lineChart, niceTicks, VEGA_LITE_MIME } from "../lib/course/chart.ts";

const DISPLAY = Symbol.for("Jupyter.display");

/** The `d` attribute of every path, as [x, y] pairs per path. */
function paths(svg: string): [number, number][][] {
  return [...svg.matchAll(/<path d="([^"]+)"/g)].map((m) =>
    [...m[1].matchAll(/[ML](-?[\d.]+),(-?[\d.]+)/g)].map((p) => [Number(p[1]), Number(p[2])])
  );
}

/** Tick label texts (y ticks are right-aligned at the axis, x ticks centred below it). */
function labels(svg: string, anchor: "end" | "middle"): string[] {
  return [...svg.matchAll(new RegExp(`text-anchor="${anchor}">([^<]*)</text>`, "g"))].map((m) =>
    m[1]
  );
}

Deno.test("niceTicks: steps of 1, 2 or 5 times a power of ten that cover the range", () => {
  assert.deepEqual(niceTicks(0, 47_312), [0, 10_000, 20_000, 30_000, 40_000, 50_000]);
  assert.deepEqual(niceTicks(0, 9), [0, 2, 4, 6, 8, 10]);
  assert.deepEqual(niceTicks(0, 0.35), [0, 0.1, 0.2, 0.3, 0.4]);
  assert.deepEqual(niceTicks(-3, 7), [-4, -2, 0, 2, 4, 6, 8]);
  assert.deepEqual(niceTicks(5, 5), [2, 3, 4, 5, 6, 7, 8], "a flat series still gets a range");
  assert.deepEqual(niceTicks(0, 0), [0, 0.2, 0.4, 0.6, 0.8, 1], "all zero: 0 to 1");
  assert.deepEqual(niceTicks(0, 0, 5, 1), [0, 1], "counts have no fractional ticks");
  assert.deepEqual(niceTicks(0, 3, 5, 1), [0, 1, 2, 3]);
  assert.throws(() => niceTicks(0, Infinity), RangeError);
});

Deno.test("lineChart: series scaled into the plot, axes with thousands separators", () => {
  const chart = lineChart([
    { name: "lag", points: [{ x: 0, y: 0 }, { x: 10, y: 47_312 }, { x: 20, y: 0 }] },
    { name: "appended/s", points: [{ x: 0, y: 600 }, { x: 20, y: 600 }], dashed: true },
  ], { title: "lag <run 1>", xLabel: "seconds", yLabel: "records", width: 600, height: 300 });
  assert.ok(chart.svg.startsWith("<svg") && chart.svg.endsWith("</svg>"));
  assert.match(chart.svg, /lag &lt;run 1&gt;/, "the title is escaped");
  assert.deepEqual(labels(chart.svg, "end"), [
    "0",
    "10,000",
    "20,000",
    "30,000",
    "40,000",
    "50,000",
  ]);
  assert.ok(labels(chart.svg, "middle").includes("seconds"), "x label under the axis");
  assert.match(chart.svg, /rotate\(-90[^>]*>records</, "y label turned along the axis");
  const [lag, rate] = paths(chart.svg);
  assert.equal(lag.length, 3);
  // x: 0..20 over the plot; y: 0 at the bottom, 47,312 below the top tick (50,000).
  assert.ok(lag[0][0] < lag[1][0] && lag[1][0] < lag[2][0], "x grows to the right");
  assert.equal(lag[0][1], lag[2][1], "equal values, equal heights");
  assert.ok(lag[1][1] < lag[0][1], "a larger value is drawn higher");
  const top = lag[0][1] - (lag[0][1] - lag[1][1]) * (50_000 / 47_312);
  assert.ok(Math.abs(lag[1][1] - (top + (lag[0][1] - top) * (1 - 47_312 / 50_000))) < 0.2);
  assert.equal(rate[0][1], rate[1][1], "a constant series is flat");
  assert.match(chart.svg, /stroke-dasharray="5,3"\/>/, "the dashed series is dashed");
  assert.match(chart.svg, />lag</);
  const legendX = [...chart.svg.matchAll(/<text x="(\d+)" y="\d+">(lag|appended\/s)</g)].map((m) =>
    Number(m[1])
  );
  assert.ok(legendX[1] > legendX[0] + 3 * 7, "legend entries do not overlap");
  assert.match(chart.svg, />appended\/s</, "both series in the legend");
});

Deno.test("lineChart: gaps, unsorted points, markers and input checks", () => {
  const chart = lineChart([{
    name: "flush seconds",
    points: [{ x: 3, y: 0.2 }, { x: 0, y: 0.1 }, { x: 1, y: NaN }, { x: 2, y: null }, {
      x: 4,
      y: 0.3,
    }],
  }], { marks: [{ x: 1, label: "MinIO paused <SIGSTOP>" }, { x: 2.5, label: "resumed" }] });
  const d = chart.svg.match(/<path d="([^"]+)"/)![1];
  assert.equal((d.match(/M/g) ?? []).length, 2, "a missing value starts a new segment");
  const [first, second] = paths(chart.svg)[0].map((p) => p[0]);
  assert.ok(first < second, "points are drawn in x order");
  assert.match(chart.svg, /MinIO paused &lt;SIGSTOP&gt;/);
  assert.equal((chart.svg.match(/stroke-dasharray="3,3"/g) ?? []).length, 2, "one rule per mark");
  const crowded = lineChart([{ name: "lag", points: [{ x: 0, y: 1 }, { x: 30, y: 2 }] }], {
    width: 600,
    marks: [{ x: 1, label: "stream started" }, { x: 2, label: "a broker crashed" }, {
      x: 29.5,
      label: "broker 3 restarted",
    }],
  });
  const placed = [
    ...crowded.svg.matchAll(
      /<text x="([\d.]+)" y="([\d.]+)" fill="#555"[^>]*?( text-anchor="end")?>/g,
    ),
  ].map((m) => ({ x: Number(m[1]), y: Number(m[2]), end: m[3] !== undefined }));
  assert.notEqual(placed[0].y, placed[1].y, "labels of close marks go on different rows");
  assert.ok(placed[2].end, "a label at the right edge ends at its line instead of running off");
  assert.deepEqual(
    labels(chart.svg, "end"),
    ["0", "0.1", "0.2", "0.3"],
    "decimals as the step needs",
  );
  assert.throws(() => lineChart([]), RangeError);
  assert.throws(() => lineChart([{ name: "x", points: [{ x: NaN, y: 1 }] }]), /x = NaN/);
  const long = lineChart(
    ["rows written to bronze, cumulative", "records buffered in the sink", "failed uploads"].map((
      name,
    ) => ({
      name,
      points: [{ x: 0, y: 1 }],
    })),
    { width: 400 },
  );
  const rows = [...long.svg.matchAll(/<line x1="(\d+)" y1="(\d+)" x2="\d+" y2="\2" stroke="#/g)]
    .map((m) => [Number(m[1]), Number(m[2])]).slice(0, 3);
  // 400 px: the first name fills a row, the next two share the second.
  assert.deepEqual(rows, [[0, 14], [0, 32], [238, 32]], "legend entries wrap at the right edge");
  const zeros = lineChart([{ name: "lag", points: [{ x: 0, y: 0 }, { x: 1, y: 0 }] }]);
  assert.deepEqual(labels(zeros.svg, "end"), ["0", "1"], "a count axis has whole ticks");
  const empty = lineChart([{ name: "nothing yet", points: [] }]);
  assert.ok(!empty.svg.includes("<path"), "no points, no line, still a chart");
});

Deno.test("lineChart: displays as SVG, or as Vega-Lite with the SVG as fallback", () => {
  const series = [{ name: "lag", points: [{ x: 0, y: 5 }, { x: 1, y: 7 }, { x: 2, y: NaN }] }];
  const plain = lineChart(series);
  assert.deepEqual(Object.keys(plain[DISPLAY]()), ["image/svg+xml"]);
  assert.equal(plain.vegaLite, undefined);
  const both = lineChart(series, {
    title: "t",
    xLabel: "s",
    yLabel: "records",
    marks: [{ x: 1, label: "fix" }],
    vegaLite: true,
  });
  const bundle = both[DISPLAY]();
  assert.deepEqual(Object.keys(bundle).sort(), ["image/svg+xml", VEGA_LITE_MIME].sort());
  assert.equal(bundle["image/svg+xml"], both.svg);
  const spec = bundle[VEGA_LITE_MIME] as {
    $schema: string;
    data: { values: { series: string; x: number; y: number }[] };
    layer: { mark: { type: string } }[];
  };
  assert.match(spec.$schema, /vega-lite\/v5/);
  assert.deepEqual(spec.data.values, [{ series: "lag", x: 0, y: 5 }, {
    series: "lag",
    x: 1,
    y: 7,
  }]);
  assert.deepEqual(spec.layer.map((l) => l.mark.type), ["line", "rule", "text"]);
  JSON.stringify(spec); // plain JSON, as a notebook output must be
});
