/**
 * Metrics in the Prometheus text exposition format (version 0.0.4): a small
 * registry of counters, gauges and histograms with labels, its rendering
 * (`# HELP`, `# TYPE`, escaped label values, histogram `_bucket`/`_sum`/
 * `_count` with cumulative `le` buckets up to `+Inf`), and a parser of the
 * same format, so a monitor can scrape any `/metrics` page.
 *
 * @example
 * ```ts
 * import { MetricsRegistry, parseExposition } from "./prometheus.ts";
 * const registry = new MetricsRegistry();
 * const sent = registry.counter({ name: "app_sent_total", help: "Records sent.", labelNames: ["topic"] });
 * sent.inc({ topic: "orders" }, 3);
 * const text = registry.render();
 * console.log(parseExposition(text)[0].samples[0].value); // 3
 * ```
 *
 * @module
 */

/** Label names to values of one series. */
export type Labels = Record<string, string>;

/** The metric types this module renders and parses. */
export type MetricType = "counter" | "gauge" | "histogram" | "summary" | "untyped";

/** One line of an exposition: a sample name, its labels, a value and an optional timestamp. */
export interface Sample {
  /** Sample name, e.g. `shopstream_consumer_lag` or `x_bucket`. */
  name: string;
  /** The sample's labels. */
  labels: Labels;
  /** The sample's value. */
  value: number;
  /** Milliseconds since the epoch, when the line carries one. */
  timestampMs?: number;
}

/** A metric family: one `# HELP`/`# TYPE` header and its samples. */
export interface MetricFamily {
  /** Family name. */
  name: string;
  /** The `# HELP` text. */
  help: string;
  /** The `# TYPE`. */
  type: MetricType;
  /** The family's samples. */
  samples: Sample[];
}

/** The `Content-Type` of a text exposition. */
export const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Prometheus' default histogram buckets (seconds). */
export const DEFAULT_BUCKETS: readonly number[] = [
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
];

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * A number as the exposition format writes it: `+Inf`, `-Inf`, `NaN`, or
 * the shortest decimal that reads back to the same number.
 *
 * @example
 * ```ts
 * import { formatValue } from "./prometheus.ts";
 * console.log(formatValue(Infinity), formatValue(0.25)); // +Inf 0.25
 * ```
 */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

/**
 * Parses a sample value: a float, `+Inf`/`Inf`, `-Inf` or `NaN`.
 *
 * @example
 * ```ts
 * import { parseValue } from "./prometheus.ts";
 * console.log(parseValue("+Inf"), parseValue("1e3")); // Infinity 1000
 * ```
 */
export function parseValue(text: string): number {
  const t = text.trim();
  if (/^[+]?inf$/i.test(t)) return Infinity;
  if (/^-inf$/i.test(t)) return -Infinity;
  if (/^nan$/i.test(t)) return NaN;
  const n = Number(t);
  if (t === "" || Number.isNaN(n)) throw new SyntaxError(`"${text}" is not a sample value`);
  return n;
}

/**
 * Escapes a label value: backslash, double quote and line feed.
 *
 * @example
 * ```ts
 * import { escapeLabelValue } from "./prometheus.ts";
 * console.log(escapeLabelValue('a "b"\n')); // a \"b\"\n
 * ```
 */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/**
 * Escapes `# HELP` text: backslash and line feed.
 *
 * @example
 * ```ts
 * import { escapeHelp } from "./prometheus.ts";
 * console.log(escapeHelp("two\nlines")); // two\nlines
 * ```
 */
export function escapeHelp(help: string): string {
  return help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

/** `\\`, `\"` (labels only) and `\n` back to their characters; other escapes are kept as written. */
function unescape(text: string, quotes: boolean): string {
  return text.replace(/\\(.)/g, (all, c: string) => {
    if (c === "\\") return "\\";
    if (c === "n") return "\n";
    if (c === '"' && quotes) return '"';
    return all;
  });
}

/**
 * The series part of a sample line: `{a="1",b="x"}` (empty for no labels),
 * labels in the order given.
 *
 * @example
 * ```ts
 * import { formatLabels } from "./prometheus.ts";
 * console.log(formatLabels({ topic: "orders", le: "+Inf" })); // {topic="orders",le="+Inf"}
 * ```
 */
export function formatLabels(labels: Labels): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return "";
  return `{${entries.map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(",")}}`;
}

/**
 * Renders metric families as a text exposition (one trailing line feed).
 *
 * @example
 * ```ts
 * import { renderExposition } from "./prometheus.ts";
 * console.log(renderExposition([{ name: "up", help: "Up.", type: "gauge", samples: [{ name: "up", labels: {}, value: 1 }] }]));
 * // # HELP up Up.
 * // # TYPE up gauge
 * // up 1
 * ```
 */
export function renderExposition(families: readonly MetricFamily[]): string {
  const lines: string[] = [];
  for (const f of families) {
    lines.push(`# HELP ${f.name} ${escapeHelp(f.help)}`);
    lines.push(`# TYPE ${f.name} ${f.type}`);
    for (const s of f.samples) {
      const ts = s.timestampMs === undefined ? "" : ` ${Math.round(s.timestampMs)}`;
      lines.push(`${s.name}${formatLabels(s.labels)} ${formatValue(s.value)}${ts}`);
    }
  }
  return lines.length ? lines.join("\n") + "\n" : "";
}

/** Reads `{a="x",b="y"}` starting at `text[start] === "{"`; returns the labels and the index after `}`. */
function readLabels(text: string, start: number, line: number): [Labels, number] {
  const labels: Labels = {};
  let i = start + 1;
  const fail = (why: string): never => {
    throw new SyntaxError(`line ${line}: ${why}: ${text}`);
  };
  while (true) {
    while (text[i] === " " || text[i] === ",") i++;
    if (text[i] === "}") return [labels, i + 1];
    const m = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(text.slice(i));
    if (!m) fail("expected a label name");
    const name = m![0];
    i += name.length;
    while (text[i] === " ") i++;
    if (text[i] !== "=") fail(`expected = after label ${name}`);
    i++;
    while (text[i] === " ") i++;
    if (text[i] !== '"') fail(`expected " to open the value of label ${name}`);
    i++;
    let raw = "";
    while (i < text.length && text[i] !== '"') {
      if (text[i] === "\\") {
        raw += text.slice(i, i + 2);
        i += 2;
      } else raw += text[i++];
    }
    if (text[i] !== '"') fail(`unterminated value of label ${name}`);
    i++;
    labels[name] = unescape(raw, true);
  }
}

/** The family a sample belongs to: histogram/summary samples carry a suffix. */
function familyOf(sample: string, types: Map<string, MetricType>): string {
  for (const suffix of ["_bucket", "_sum", "_count"]) {
    if (!sample.endsWith(suffix)) continue;
    const base = sample.slice(0, -suffix.length);
    const t = types.get(base);
    if (t === "histogram" || (t === "summary" && suffix !== "_bucket")) return base;
  }
  return sample;
}

/**
 * Parses a text exposition into families, in the order they appear.
 * Samples without a `# TYPE` line form `untyped` families; comments other
 * than HELP and TYPE are ignored. Throws a `SyntaxError` naming the line
 * for anything malformed.
 *
 * @example
 * ```ts
 * import { parseExposition } from "./prometheus.ts";
 * const [f] = parseExposition('# TYPE lag gauge\nlag{partition="0"} 42\n');
 * console.log(f.type, f.samples[0].labels.partition, f.samples[0].value); // gauge 0 42
 * ```
 */
export function parseExposition(text: string): MetricFamily[] {
  const families = new Map<string, MetricFamily>();
  const types = new Map<string, MetricType>();
  const family = (name: string): MetricFamily => {
    let f = families.get(name);
    if (!f) {
      f = { name, help: "", type: types.get(name) ?? "untyped", samples: [] };
      families.set(name, f);
    }
    return f;
  };
  const lines = text.split("\n");
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n].replace(/\r$/, "");
    if (line.trim() === "") continue;
    if (line.startsWith("#")) {
      const m = /^#\s+(HELP|TYPE)\s+([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\s(.*))?$/.exec(line);
      if (!m) continue;
      if (m[1] === "TYPE") {
        const type = (m[3] ?? "").trim() as MetricType;
        if (!["counter", "gauge", "histogram", "summary", "untyped"].includes(type)) {
          throw new SyntaxError(`line ${n + 1}: unknown metric type "${type}"`);
        }
        types.set(m[2], type);
        family(m[2]).type = type;
      } else {
        family(m[2]).help = unescape(m[3] ?? "", false);
      }
      continue;
    }
    const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
    if (!nameMatch) throw new SyntaxError(`line ${n + 1}: expected a metric name: ${line}`);
    const name = nameMatch[0];
    let i = name.length;
    let labels: Labels = {};
    if (line[i] === "{") [labels, i] = readLabels(line, i, n + 1);
    const rest = line.slice(i).trim().split(/\s+/);
    if (rest.length < 1 || rest.length > 2 || rest[0] === "") {
      throw new SyntaxError(`line ${n + 1}: expected a value and an optional timestamp: ${line}`);
    }
    let value: number;
    try {
      value = parseValue(rest[0]);
    } catch {
      throw new SyntaxError(`line ${n + 1}: "${rest[0]}" is not a sample value: ${line}`);
    }
    const sample: Sample = { name, labels, value };
    if (rest.length === 2) {
      const ts = Number(rest[1]);
      if (!Number.isInteger(ts)) throw new SyntaxError(`line ${n + 1}: bad timestamp: ${line}`);
      sample.timestampMs = ts;
    }
    family(familyOf(name, types)).samples.push(sample);
  }
  return [...families.values()];
}

/**
 * Every sample of a text exposition, flattened (histograms as their
 * `_bucket`, `_sum` and `_count` lines).
 *
 * @example
 * ```ts
 * import { parseSamples } from "./prometheus.ts";
 * console.log(parseSamples("a 1\nb 2\n").map((s) => s.name)); // ["a", "b"]
 * ```
 */
export function parseSamples(text: string): Sample[] {
  return parseExposition(text).flatMap((f) => f.samples);
}

/** What every metric is declared with. */
export interface MetricOptions {
  /** Metric name, e.g. `shopstream_produced_total`. */
  name: string;
  /** One line saying what it counts. */
  help: string;
  /** Label names every sample must set, in this order. */
  labelNames?: readonly string[];
}

/** Options of a histogram: its bucket upper bounds (ascending; `+Inf` is implied). */
export interface HistogramOptions extends MetricOptions {
  /** Bucket upper bounds, ascending; default {@linkcode DEFAULT_BUCKETS}. */
  buckets?: readonly number[];
}

/**
 * What every metric has: a checked name, help, label names and one state `S`
 * per label set (a series). {@linkcode Counter}, {@linkcode Gauge} and
 * {@linkcode Histogram} are the concrete kinds.
 *
 * @example
 * ```ts
 * import { Histogram, type Metric } from "./prometheus.ts";
 * const m: Metric<{ counts: number[]; sum: number; count: number }> = new Histogram({
 *   name: "flush_seconds",
 *   help: "Flush time",
 *   buckets: [0.1, 1],
 * });
 * console.log(m.name, m.type); // flush_seconds histogram
 * ```
 */
export abstract class Metric<S> {
  /** Metric name, e.g. `shopstream_produced_total`. */
  readonly name: string;
  /** One line saying what it counts. */
  readonly help: string;
  /** Label names every sample must set, in this order. */
  readonly labelNames: readonly string[];
  /** The exposition `# TYPE`. */
  abstract readonly type: MetricType;
  /** Series by their label values (as JSON), each with its labels and state. */
  protected readonly series = new Map<string, { labels: Labels; state: S }>();

  /** Checks the metric and label names; throws a `RangeError` on an illegal one. */
  constructor(options: MetricOptions) {
    if (!METRIC_NAME.test(options.name)) {
      throw new RangeError(
        `"${options.name}" is not a legal metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)`,
      );
    }
    for (const l of options.labelNames ?? []) {
      if (!LABEL_NAME.test(l) || l.startsWith("__")) {
        throw new RangeError(`"${l}" is not a legal label name for ${options.name}`);
      }
    }
    this.name = options.name;
    this.help = options.help;
    this.labelNames = [...(options.labelNames ?? [])];
  }

  /** The series for `labels`, created with `init` on first use; labels must match the declaration. */
  protected entry(labels: Labels, init: () => S): { labels: Labels; state: S };
  /** The series for `labels`, or undefined when it was never set. */
  protected entry(labels: Labels): { labels: Labels; state: S } | undefined;
  protected entry(labels: Labels, init?: () => S): { labels: Labels; state: S } | undefined {
    const keys = Object.keys(labels);
    if (
      keys.length !== this.labelNames.length || !this.labelNames.every((l) => l in labels)
    ) {
      throw new RangeError(
        `${this.name} takes labels [${this.labelNames.join(", ")}], got [${keys.join(", ")}]`,
      );
    }
    const ordered: Labels = {};
    for (const l of this.labelNames) ordered[l] = String(labels[l]);
    const key = JSON.stringify(this.labelNames.map((l) => ordered[l]));
    let e = this.series.get(key);
    if (!e && init) {
      e = { labels: ordered, state: init() };
      this.series.set(key, e);
    }
    return e;
  }

  /** Series in a stable order (by label values). */
  protected sorted(): { labels: Labels; state: S }[] {
    return [...this.series.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, e]) => e);
  }

  /** Forgets every series (e.g. partitions that no longer exist). */
  reset(): void {
    this.series.clear();
  }

  /** The family with its current samples. */
  abstract collect(): MetricFamily;
}

/**
 * A metric with one number per series (counters and gauges).
 *
 * @example
 * ```ts
 * import { Gauge, type ScalarMetric } from "./prometheus.ts";
 * const m: ScalarMetric = new Gauge({ name: "lag", help: "Records behind" });
 * console.log(m.value()); // 0
 * ```
 */
export abstract class ScalarMetric extends Metric<{ value: number }> {
  /** The current value of `labels` (0 when never set). */
  value(labels: Labels = {}): number {
    return this.entry(labels)?.state.value ?? 0;
  }

  /** The family with one sample per series. */
  collect(): MetricFamily {
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      samples: this.sorted().map((e) => ({
        name: this.name,
        labels: e.labels,
        value: e.state.value,
      })),
    };
  }
}

/**
 * A monotonically increasing count.
 *
 * @example
 * ```ts
 * import { MetricsRegistry } from "./prometheus.ts";
 * const c = new MetricsRegistry().counter({ name: "jobs_total", help: "Jobs.", labelNames: ["kind"] });
 * c.inc({ kind: "a" });
 * console.log(c.value({ kind: "a" })); // 1
 * ```
 */
export class Counter extends ScalarMetric {
  /** The exposition `# TYPE`. */
  readonly type = "counter" as const;

  /** Adds `by` (default 1, never negative) to the series of `labels`. */
  inc(labels: Labels = {}, by = 1): void {
    if (!(by >= 0)) throw new RangeError(`${this.name}: a counter only goes up, got ${by}`);
    this.entry(labels, () => ({ value: 0 })).state.value += by;
  }

  /**
   * Raises the series of `labels` to `total` when `total` is larger (no-op
   * otherwise): for mirroring a cumulative count kept elsewhere, e.g. a
   * client's own counters or a topic's end offsets, at scrape time.
   */
  advanceTo(labels: Labels, total: number): void {
    const e = this.entry(labels, () => ({ value: 0 })).state;
    if (total > e.value) e.value = total;
  }
}

/**
 * A value that goes up and down.
 *
 * @example
 * ```ts
 * import { MetricsRegistry } from "./prometheus.ts";
 * const g = new MetricsRegistry().gauge({ name: "buffered", help: "Buffered records." });
 * g.set({}, 10);
 * g.inc({}, -3);
 * console.log(g.value()); // 7
 * ```
 */
export class Gauge extends ScalarMetric {
  /** The exposition `# TYPE`. */
  readonly type = "gauge" as const;

  /** Sets the series of `labels` to `value`. */
  set(labels: Labels, value: number): void {
    this.entry(labels, () => ({ value: 0 })).state.value = value;
  }

  /** Adds `by` (may be negative). */
  inc(labels: Labels = {}, by = 1): void {
    this.entry(labels, () => ({ value: 0 })).state.value += by;
  }
}

/**
 * Observations counted into buckets by upper bound, with their sum and count.
 *
 * @example
 * ```ts
 * import { MetricsRegistry } from "./prometheus.ts";
 * const h = new MetricsRegistry().histogram({ name: "flush_seconds", help: "Flush time.", buckets: [0.1, 1] });
 * h.observe({}, 0.05);
 * h.observe({}, 3);
 * console.log(h.collect().samples.map((s) => s.value)); // [1, 1, 2, 3.05, 2]
 * ```
 */
export class Histogram extends Metric<{ counts: number[]; sum: number; count: number }> {
  /** The exposition `# TYPE`. */
  readonly type = "histogram" as const;
  /** Bucket upper bounds, ascending, without `+Inf`. */
  readonly buckets: readonly number[];

  /** Checks the names and the buckets (finite, strictly ascending; `le` is reserved). */
  constructor(options: HistogramOptions) {
    super(options);
    if (this.labelNames.includes("le")) {
      throw new RangeError(`${this.name}: "le" is reserved for histogram buckets`);
    }
    const b = [...(options.buckets ?? DEFAULT_BUCKETS)].filter((x) => x !== Infinity);
    if (b.length === 0 || b.some((x, i) => !Number.isFinite(x) || (i > 0 && x <= b[i - 1]))) {
      throw new RangeError(`${this.name}: buckets must be finite and strictly ascending`);
    }
    this.buckets = b;
  }

  /** Counts one observation `value` (e.g. seconds) in the series of `labels`. */
  observe(labels: Labels, value: number): void {
    if (Number.isNaN(value)) throw new RangeError(`${this.name}: cannot observe NaN`);
    const e = this.entry(labels, () => ({
      counts: this.buckets.map(() => 0),
      sum: 0,
      count: 0,
    })).state;
    const i = this.buckets.findIndex((b) => value <= b);
    if (i >= 0) e.counts[i]++;
    e.sum += value;
    e.count++;
  }

  /** The family: cumulative `_bucket` lines (`le` ascending, then `+Inf`), `_sum` and `_count`. */
  collect(): MetricFamily {
    const samples: Sample[] = [];
    for (const e of this.sorted()) {
      let cumulative = 0;
      this.buckets.forEach((b, i) => {
        cumulative += e.state.counts[i];
        samples.push({
          name: `${this.name}_bucket`,
          labels: { ...e.labels, le: formatValue(b) },
          value: cumulative,
        });
      });
      samples.push({
        name: `${this.name}_bucket`,
        labels: { ...e.labels, le: "+Inf" },
        value: e.state.count,
      });
      samples.push({ name: `${this.name}_sum`, labels: e.labels, value: e.state.sum });
      samples.push({ name: `${this.name}_count`, labels: e.labels, value: e.state.count });
    }
    return { name: this.name, help: this.help, type: this.type, samples };
  }
}

/**
 * The set of metrics one process exposes. `onScrape` hooks run before each
 * {@linkcode MetricsRegistry.scrape}, for values read at scrape time (lag,
 * buffer sizes).
 *
 * @example
 * ```ts
 * import { MetricsRegistry } from "./prometheus.ts";
 * const registry = new MetricsRegistry();
 * const up = registry.gauge({ name: "up", help: "1 when serving." });
 * registry.onScrape(() => up.set({}, 1));
 * console.log(await registry.scrape());
 * ```
 */
export class MetricsRegistry {
  readonly #metrics = new Map<string, Counter | Gauge | Histogram>();
  readonly #hooks: (() => void | Promise<void>)[] = [];

  #add<M extends Counter | Gauge | Histogram>(metric: M): M {
    const existing = this.#metrics.get(metric.name);
    if (existing) {
      if (
        existing.type !== metric.type ||
        existing.labelNames.join() !== metric.labelNames.join()
      ) {
        throw new RangeError(`${metric.name} is already registered with another type or labels`);
      }
      return existing as M;
    }
    this.#metrics.set(metric.name, metric);
    return metric;
  }

  /** Registers a counter (or returns the one already registered under its name). */
  counter(options: MetricOptions): Counter {
    return this.#add(new Counter(options));
  }

  /** Registers a gauge (or returns the one already registered under its name). */
  gauge(options: MetricOptions): Gauge {
    return this.#add(new Gauge(options));
  }

  /** Registers a histogram (or returns the one already registered under its name). */
  histogram(options: HistogramOptions): Histogram {
    return this.#add(new Histogram(options));
  }

  /** Adds a hook that {@linkcode MetricsRegistry.scrape} runs first. */
  onScrape(hook: () => void | Promise<void>): void {
    this.#hooks.push(hook);
  }

  /** Every family, in registration order. */
  collect(): MetricFamily[] {
    return [...this.#metrics.values()].map((m) => m.collect());
  }

  /** The exposition of the current values (hooks are not run). */
  render(): string {
    return renderExposition(this.collect());
  }

  /** Runs the scrape hooks, then renders. */
  async scrape(): Promise<string> {
    for (const hook of this.#hooks) await hook();
    return this.render();
  }
}
