/**
 * Alert rules in the shape Prometheus uses (an expression over samples, a
 * threshold, a `for` duration, a severity, a summary and a runbook link),
 * evaluated here over successive snapshots of samples with Prometheus'
 * state machine (inactive -> pending -> firing -> resolved), and rendered as
 * a Prometheus rules file, so one definition drives both the live monitor
 * and a real Prometheus.
 *
 * The expression language is a small, explicit subset of PromQL: one metric
 * with optional label equality matchers, optionally `rate()` or
 * `increase()` over a window, optionally aggregated (`sum`, `max`, `min`,
 * `avg`, optionally `by` labels), compared with a number. Here `rate` and
 * `increase` are computed from the oldest snapshot inside the window to the
 * newest (counter resets count from zero); Prometheus also extrapolates to
 * the window's edges, so its numbers can be slightly larger.
 *
 * @example
 * ```ts
 * import { AlertEvaluator, promql, type AlertRule } from "./alerts.ts";
 * const rule: AlertRule = {
 *   alert: "QueueLong",
 *   expr: { metric: "queue_length", op: ">", threshold: 100 },
 *   forSeconds: 60,
 *   severity: "warning",
 *   summary: "queue {{ $labels.queue }} holds {{ $value }} items",
 *   runbook: "notebooks/runbook.md#lag-growing",
 * };
 * console.log(promql(rule.expr)); // queue_length > 100
 * const alerts = new AlertEvaluator([rule]);
 * const sample = { name: "queue_length", labels: { queue: "a" }, value: 500 };
 * alerts.evaluate({ timeMs: 0, samples: [sample] });        // pending
 * const [a] = alerts.evaluate({ timeMs: 60_000, samples: [sample] });
 * console.log(a.state); // firing
 * ```
 *
 * @module
 */
import { stringify } from "yaml";
import { formatLabels, formatValue, type Labels, type Sample } from "./prometheus.ts";

/** A comparison of the expression's value with the threshold. */
export type Comparison = ">" | ">=" | "<" | "<=" | "==" | "!=";

/** The PromQL subset a rule is written in (see the module doc). */
export interface AlertExpr {
  /** The sample name, e.g. `shopstream_consumer_lag`. */
  metric: string;
  /** Label equality matchers: `{ group: "sink" }` selects `metric{group="sink"}`. */
  match?: Labels;
  /** `rate` (per second) or `increase` over `windowSeconds`. */
  range?: { fn: "rate" | "increase"; windowSeconds: number };
  /** Aggregation across series, keeping only the `by` labels. */
  aggregate?: { op: "sum" | "max" | "min" | "avg"; by?: readonly string[] };
  /** How the value is compared with `threshold`. */
  op: Comparison;
  /** The value compared against. */
  threshold: number;
}

/** How bad a firing alert is. */
export type Severity = "critical" | "warning" | "info";

/** One alert rule. */
export interface AlertRule {
  /** Alert name, e.g. `ShopStreamConsumerLagHigh`. */
  alert: string;
  /** The condition, in the PromQL subset. */
  expr: AlertExpr;
  /** How long the expression must hold before the alert fires (0: at once). */
  forSeconds: number;
  /** How urgent the alert is. */
  severity: Severity;
  /** One line; may use `{{ $labels.<name> }}` and `{{ $value }}` as Prometheus does. */
  summary: string;
  /** Link to the runbook section, e.g. `notebooks/runbook.md#broker-down`. */
  runbook: string;
}

/** The samples of one scrape or observation, and when it was taken. */
export interface Snapshot {
  /** Milliseconds since the epoch (or any monotonic clock the caller keeps). */
  timeMs: number;
  /** The samples taken at `timeMs`. */
  samples: readonly Sample[];
}

/** One labelled result of an expression that passed its comparison. */
export interface ExprResult {
  /** The series' labels (after aggregation, only the `by` labels). */
  labels: Labels;
  /** The expression's value for them. */
  value: number;
}

/** The states an alert instance moves through. */
export type AlertStateName = "pending" | "firing" | "resolved";

/** One alert instance (a rule and one label set) and where it stands. */
export interface AlertState {
  /** The rule's alert name. */
  alert: string;
  /** The labels of this instance. */
  labels: Labels;
  /** Pending, firing or resolved. */
  state: AlertStateName;
  /** The expression's value at the last evaluation where it held. */
  value: number;
  /** When the expression started to hold. */
  activeAtMs: number;
  /** When the alert went from pending to firing. */
  firedAtMs?: number;
  /** When a firing alert's expression stopped holding. */
  resolvedAtMs?: number;
  /** The rule's severity. */
  severity: Severity;
  /** The rule's summary with labels and value filled in. */
  summary: string;
  /** The rule's runbook link. */
  runbook: string;
}

/**
 * A duration in Prometheus' notation: `90` -> `1m30s`, `0` -> `0s`.
 *
 * @example
 * ```ts
 * import { formatDuration } from "./alerts.ts";
 * console.log(formatDuration(300), formatDuration(3690)); // 5m 1h1m30s
 * ```
 */
export function formatDuration(seconds: number): string {
  if (!Number.isInteger(seconds) || seconds < 0) {
    throw new RangeError(`a duration must be whole seconds >= 0, got ${seconds}`);
  }
  if (seconds === 0) return "0s";
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return `${h ? `${h}h` : ""}${m ? `${m}m` : ""}${s ? `${s}s` : ""}`;
}

/**
 * Reads a duration like `30s`, `5m`, `1h30m` or `1500ms` into seconds.
 *
 * @example
 * ```ts
 * import { parseDuration } from "./alerts.ts";
 * console.log(parseDuration("1m30s"), parseDuration("2")); // 90 2
 * ```
 */
export function parseDuration(text: string): number {
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t);
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;
  let total = 0;
  let m: RegExpExecArray | null;
  let end = 0;
  while ((m = re.exec(t)) !== null) {
    const unit = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 }[m[2] as "s"];
    total += Number(m[1]) * unit;
    end = re.lastIndex;
  }
  if (t === "" || end !== t.length) {
    throw new RangeError(`"${text}" is not a duration (use e.g. 30s, 5m, 1h30m)`);
  }
  return total;
}

/**
 * The expression as PromQL text, e.g.
 * `sum by (topic) (rate(x_total[5m])) > 1`.
 *
 * @example
 * ```ts
 * import { promql } from "./alerts.ts";
 * console.log(promql({
 *   metric: "dlq_total", match: { topic: "orders" },
 *   range: { fn: "rate", windowSeconds: 300 },
 *   aggregate: { op: "sum", by: ["topic"] }, op: ">", threshold: 5,
 * })); // sum by (topic) (rate(dlq_total{topic="orders"}[5m])) > 5
 * ```
 */
export function promql(expr: AlertExpr): string {
  let q = `${expr.metric}${formatLabels(expr.match ?? {})}`;
  if (expr.range) q = `${expr.range.fn}(${q}[${formatDuration(expr.range.windowSeconds)}])`;
  if (expr.aggregate) {
    const by = expr.aggregate.by?.length ? ` by (${expr.aggregate.by.join(", ")})` : "";
    q = `${expr.aggregate.op}${by} (${q})`;
  }
  return `${q} ${expr.op} ${formatValue(expr.threshold)}`;
}

function seriesKey(labels: Labels): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function selects(expr: AlertExpr, s: Sample): boolean {
  if (s.name !== expr.metric) return false;
  return Object.entries(expr.match ?? {}).every(([k, v]) => s.labels[k] === v);
}

function compare(value: number, op: Comparison, threshold: number): boolean {
  switch (op) {
    case ">":
      return value > threshold;
    case ">=":
      return value >= threshold;
    case "<":
      return value < threshold;
    case "<=":
      return value <= threshold;
    case "==":
      return value === threshold;
    case "!=":
      return value !== threshold;
  }
}

/**
 * The series for which `expr` holds at the newest snapshot of `history`
 * (oldest first). `rate`/`increase` need an older snapshot inside the
 * window that has the series; without one the series has no value yet.
 *
 * @example
 * ```ts
 * import { evaluateExpr } from "./alerts.ts";
 * const s = (timeMs: number, value: number) => ({ timeMs, samples: [{ name: "x_total", labels: {}, value }] });
 * const expr = { metric: "x_total", range: { fn: "rate" as const, windowSeconds: 60 }, op: ">" as const, threshold: 1 };
 * console.log(evaluateExpr(expr, [s(0, 0), s(10_000, 50)])); // [{ labels: {}, value: 5 }]
 * ```
 */
export function evaluateExpr(expr: AlertExpr, history: readonly Snapshot[]): ExprResult[] {
  const now = history.at(-1);
  if (!now) return [];
  let series: ExprResult[] = now.samples.filter((s) => selects(expr, s))
    .map((s) => ({ labels: s.labels, value: s.value }));
  if (expr.range) {
    const from = now.timeMs - expr.range.windowSeconds * 1000;
    const older = history.filter((h) => h.timeMs >= from && h.timeMs < now.timeMs);
    const ranged: ExprResult[] = [];
    for (const s of series) {
      const key = seriesKey(s.labels);
      let base: { timeMs: number; value: number } | undefined;
      for (const h of older) {
        const match = h.samples.find((x) => selects(expr, x) && seriesKey(x.labels) === key);
        if (match) {
          base = { timeMs: h.timeMs, value: match.value };
          break;
        }
      }
      if (!base) continue;
      const delta = s.value >= base.value ? s.value - base.value : s.value;
      const value = expr.range.fn === "increase"
        ? delta
        : delta / ((now.timeMs - base.timeMs) / 1000);
      ranged.push({ labels: s.labels, value });
    }
    series = ranged;
  }
  if (expr.aggregate) {
    const { op, by = [] } = expr.aggregate;
    const groups = new Map<string, { labels: Labels; values: number[] }>();
    for (const s of series) {
      const labels: Labels = {};
      for (const l of by) if (s.labels[l] !== undefined) labels[l] = s.labels[l];
      const key = seriesKey(labels);
      const g = groups.get(key) ?? { labels, values: [] };
      g.values.push(s.value);
      groups.set(key, g);
    }
    series = [...groups.values()].map(({ labels, values }) => {
      const sum = values.reduce((a, b) => a + b, 0);
      const value = op === "sum"
        ? sum
        : op === "avg"
        ? sum / values.length
        : op === "max"
        ? Math.max(...values)
        : Math.min(...values);
      return { labels, value };
    });
  }
  return series.filter((s) => compare(s.value, expr.op, expr.threshold));
}

/**
 * A rule's summary with `{{ $labels.<name> }}` and `{{ $value }}` filled in.
 *
 * @example
 * ```ts
 * import { fillTemplate } from "./alerts.ts";
 * console.log(fillTemplate("lag {{ $value }} on {{ $labels.topic }}", { topic: "orders" }, 12)); // lag 12 on orders
 * ```
 */
export function fillTemplate(template: string, labels: Labels, value: number): string {
  return template
    .replace(/\{\{\s*\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}/g, (_, l: string) => labels[l] ?? "")
    .replace(/\{\{\s*\$value\s*\}\}/g, () => formatValue(Math.round(value * 1000) / 1000));
}

/** Options of {@linkcode AlertEvaluator}. */
export interface AlertEvaluatorOptions {
  /** How long a resolved alert stays listed (default 5 minutes). */
  resolvedRetentionMs?: number;
}

/**
 * Evaluates rules over successive snapshots and keeps each alert
 * instance's state: an expression that starts to hold makes the instance
 * `pending`; once it has held for the rule's `for` duration it is
 * `firing`; a firing instance whose expression stops holding is
 * `resolved` (listed for a while), a pending one is dropped.
 *
 * @example
 * ```ts
 * import { AlertEvaluator } from "./alerts.ts";
 * const alerts = new AlertEvaluator([{
 *   alert: "Down", expr: { metric: "up", op: "==", threshold: 0 }, forSeconds: 0,
 *   severity: "critical", summary: "target down", runbook: "runbook.md#broker-down",
 * }]);
 * const out = alerts.evaluate({ timeMs: Date.now(), samples: [{ name: "up", labels: {}, value: 0 }] });
 * console.log(out[0].state); // firing
 * ```
 */
export class AlertEvaluator {
  /** The rules evaluated, as given. */
  readonly rules: readonly AlertRule[];
  readonly #retentionMs: number;
  readonly #historyMs: number;
  #history: Snapshot[] = [];
  readonly #alerts = new Map<string, AlertState>();

  /** Checks the rules (legal, unique names; durations) and keeps them. */
  constructor(rules: readonly AlertRule[], options: AlertEvaluatorOptions = {}) {
    const names = new Set<string>();
    for (const r of rules) {
      if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(r.alert)) {
        throw new RangeError(`"${r.alert}" is not a legal alert name`);
      }
      if (names.has(r.alert)) throw new RangeError(`alert ${r.alert} is defined twice`);
      names.add(r.alert);
      formatDuration(r.forSeconds);
      if (r.expr.range) formatDuration(r.expr.range.windowSeconds);
    }
    this.rules = rules;
    this.#retentionMs = options.resolvedRetentionMs ?? 5 * 60_000;
    this.#historyMs = Math.max(0, ...rules.map((r) => (r.expr.range?.windowSeconds ?? 0) * 1000));
  }

  /**
   * Adds a snapshot (newer than the last one) and returns every listed
   * alert instance after evaluating all rules at its time.
   */
  evaluate(snapshot: Snapshot): AlertState[] {
    const last = this.#history.at(-1);
    if (last && snapshot.timeMs <= last.timeMs) {
      throw new RangeError(
        `snapshots must move forward in time: ${snapshot.timeMs} after ${last.timeMs}`,
      );
    }
    const now = snapshot.timeMs;
    this.#history.push(snapshot);
    this.#history = this.#history.filter((h) => h.timeMs >= now - this.#historyMs);
    for (const rule of this.rules) {
      const seen = new Set<string>();
      for (const r of evaluateExpr(rule.expr, this.#history)) {
        const key = `${rule.alert}${seriesKey(r.labels)}`;
        seen.add(key);
        let a = this.#alerts.get(key);
        if (!a || a.state === "resolved") {
          a = {
            alert: rule.alert,
            labels: r.labels,
            state: "pending",
            value: r.value,
            activeAtMs: now,
            severity: rule.severity,
            summary: "",
            runbook: rule.runbook,
          };
          this.#alerts.set(key, a);
        }
        a.value = r.value;
        a.summary = fillTemplate(rule.summary, r.labels, r.value);
        if (a.state === "pending" && now - a.activeAtMs >= rule.forSeconds * 1000) {
          a.state = "firing";
          a.firedAtMs = now;
        }
      }
      for (const [key, a] of this.#alerts) {
        if (a.alert !== rule.alert || seen.has(key)) continue;
        if (a.state === "pending") this.#alerts.delete(key);
        else if (a.state === "firing") {
          a.state = "resolved";
          a.resolvedAtMs = now;
        } else if (now - (a.resolvedAtMs ?? now) > this.#retentionMs) this.#alerts.delete(key);
      }
    }
    return this.alerts;
  }

  /** Listed instances: firing first, then pending, then resolved; by name and labels. */
  get alerts(): AlertState[] {
    const rank = { firing: 0, pending: 1, resolved: 2 };
    return [...this.#alerts.values()].map((a) => ({ ...a, labels: { ...a.labels } })).sort((a, b) =>
      rank[a.state] - rank[b.state] || a.alert.localeCompare(b.alert) ||
      seriesKey(a.labels).localeCompare(seriesKey(b.labels))
    );
  }

  /** The instances firing now. */
  firing(): AlertState[] {
    return this.alerts.filter((a) => a.state === "firing");
  }
}

/** A named group of rules, as in a Prometheus rules file. */
export interface RuleGroup {
  /** Group name. */
  name: string;
  /** Evaluation interval; Prometheus' global default when absent. */
  intervalSeconds?: number;
  /** The group's rules. */
  rules: readonly AlertRule[];
}

/**
 * The groups as a Prometheus rules file (YAML), with `header` as a leading
 * comment. Each rule carries `labels.severity` and the annotations
 * `summary` and `runbook_url`.
 *
 * @example
 * ```ts
 * import { renderRulesFile } from "./alerts.ts";
 * console.log(renderRulesFile([{ name: "demo", rules: [{
 *   alert: "Down", expr: { metric: "up", op: "==", threshold: 0 }, forSeconds: 60,
 *   severity: "critical", summary: "target down", runbook: "runbook.md#broker-down",
 * }] }]));
 * ```
 */
export function renderRulesFile(groups: readonly RuleGroup[], header?: string): string {
  const doc = {
    groups: groups.map((g) => ({
      name: g.name,
      ...(g.intervalSeconds === undefined ? {} : { interval: formatDuration(g.intervalSeconds) }),
      rules: g.rules.map((r) => ({
        alert: r.alert,
        expr: promql(r.expr),
        for: formatDuration(r.forSeconds),
        labels: { severity: r.severity },
        annotations: { summary: r.summary, runbook_url: r.runbook },
      })),
    })),
  };
  const comment = header ? header.split("\n").map((l) => `# ${l}`.trimEnd()).join("\n") + "\n" : "";
  return comment + stringify(doc, { lineWidth: 0 });
}
