/**
 * Alert rules: the PromQL they render to, expression evaluation over
 * snapshots (rate, increase, aggregation, matchers, counter resets), the
 * pending -> firing -> resolved state machine with `for` durations, and the
 * rules file. No services needed.
 */
import assert from "node:assert/strict";
import { parse } from "yaml";
import {
  AlertEvaluator,
  type AlertExpr,
  type AlertRule,
  evaluateExpr,
  fillTemplate,
  formatDuration,
  parseDuration,
  promql,
  renderRulesFile,
  type Snapshot,
} from "../lib/observe/alerts.ts";
import type { Sample } from "../lib/observe/prometheus.ts";

const at = (timeMs: number, samples: Sample[]): Snapshot => ({ timeMs, samples });
const s = (name: string, labels: Record<string, string>, value: number): Sample => ({
  name,
  labels,
  value,
});

const lagRule: AlertRule = {
  alert: "LagHigh",
  expr: { metric: "lag", op: ">", threshold: 100 },
  forSeconds: 60,
  severity: "warning",
  summary: "partition {{ $labels.partition }} lags {{ $value }}",
  runbook: "notebooks/runbook.md#lag-growing",
};

Deno.test("alert expressions", async (t) => {
  await t.step("promql text", () => {
    assert.equal(promql(lagRule.expr), "lag > 100");
    assert.equal(
      promql({
        metric: "dlq_total",
        match: { topic: 'a"b' },
        range: { fn: "rate", windowSeconds: 300 },
        aggregate: { op: "sum", by: ["topic", "reason"] },
        op: ">=",
        threshold: 0.5,
      }),
      'sum by (topic, reason) (rate(dlq_total{topic="a\\"b"}[5m])) >= 0.5',
    );
    assert.equal(
      promql({
        metric: "f_total",
        range: { fn: "increase", windowSeconds: 90 },
        aggregate: { op: "max" },
        op: ">",
        threshold: 0,
      }),
      "max (increase(f_total[1m30s])) > 0",
    );
  });

  await t.step("durations", () => {
    assert.deepEqual([0, 30, 60, 90, 3600, 3690].map(formatDuration), [
      "0s",
      "30s",
      "1m",
      "1m30s",
      "1h",
      "1h1m30s",
    ]);
    assert.equal(parseDuration("1h1m30s"), 3690);
    assert.equal(parseDuration("1500ms"), 1.5);
    assert.equal(parseDuration("5"), 5);
    assert.throws(() => parseDuration("5 minutes"), /not a duration/);
    assert.throws(() => formatDuration(1.5), /whole seconds/);
  });

  await t.step("plain comparison per series, with matchers", () => {
    const snap = at(0, [
      s("lag", { group: "g", partition: "0" }, 50),
      s("lag", { group: "g", partition: "1" }, 500),
      s("lag", { group: "h", partition: "0" }, 900),
      s("other", {}, 1e9),
    ]);
    assert.deepEqual(evaluateExpr(lagRule.expr, [snap]).map((r) => r.value), [500, 900]);
    const onlyG: AlertExpr = { ...lagRule.expr, match: { group: "g" } };
    assert.deepEqual(evaluateExpr(onlyG, [snap]), [
      { labels: { group: "g", partition: "1" }, value: 500 },
    ]);
  });

  await t.step("rate and increase use the oldest snapshot inside the window", () => {
    const expr: AlertExpr = {
      metric: "dlq_total",
      range: { fn: "rate", windowSeconds: 60 },
      op: ">",
      threshold: 0,
    };
    const h = [
      at(0, [s("dlq_total", {}, 0)]), // outside the 60 s window at t=100 s
      at(50_000, [s("dlq_total", {}, 100)]),
      at(80_000, [s("dlq_total", {}, 160)]),
      at(100_000, [s("dlq_total", {}, 300)]),
    ];
    assert.deepEqual(evaluateExpr(expr, h), [{ labels: {}, value: 4 }], "(300-100)/50 s");
    assert.deepEqual(
      evaluateExpr({ ...expr, range: { fn: "increase", windowSeconds: 60 } }, h),
      [{ labels: {}, value: 200 }],
    );
    assert.deepEqual(evaluateExpr(expr, h.slice(0, 1)), [], "one snapshot: no rate yet");
    const reset = [at(0, [s("dlq_total", {}, 500)]), at(10_000, [s("dlq_total", {}, 20)])];
    assert.deepEqual(evaluateExpr(expr, reset), [{ labels: {}, value: 2 }], "reset counts from 0");
  });

  await t.step("aggregation keeps only the by labels", () => {
    const snap = at(0, [
      s("lag", { topic: "a", partition: "0" }, 10),
      s("lag", { topic: "a", partition: "1" }, 30),
      s("lag", { topic: "b", partition: "0" }, 5),
    ]);
    const by = (op: "sum" | "max" | "min" | "avg") =>
      evaluateExpr({
        metric: "lag",
        aggregate: { op, by: ["topic"] },
        op: ">=",
        threshold: 0,
      }, [snap]).map((r) => `${r.labels.topic}=${r.value}`);
    assert.deepEqual(by("sum"), ["a=40", "b=5"]);
    assert.deepEqual(by("max"), ["a=30", "b=5"]);
    assert.deepEqual(by("min"), ["a=10", "b=5"]);
    assert.deepEqual(by("avg"), ["a=20", "b=5"]);
    assert.deepEqual(
      evaluateExpr({ metric: "lag", aggregate: { op: "sum" }, op: ">", threshold: 44 }, [snap]),
      [{ labels: {}, value: 45 }],
    );
  });

  await t.step("templates", () => {
    assert.equal(
      fillTemplate(lagRule.summary, { partition: "3" }, 1234.56789),
      "partition 3 lags 1234.568",
    );
  });
});

Deno.test("alert state machine: pending -> firing after `for`, resolved, dropped", async (t) => {
  const alerts = new AlertEvaluator([lagRule], { resolvedRetentionMs: 30_000 });
  const lag = (p0: number, p1 = 0) => [
    s("lag", { partition: "0" }, p0),
    s("lag", { partition: "1" }, p1),
  ];
  const states = (timeMs: number, samples: Sample[]) =>
    alerts.evaluate(at(timeMs, samples)).map((a) => `${a.labels.partition}:${a.state}`);

  await t.step("below the threshold: nothing listed", () => {
    assert.deepEqual(states(0, lag(50)), []);
  });
  await t.step("above it: pending until it has held for 60 s", () => {
    assert.deepEqual(states(10_000, lag(500)), ["0:pending"]);
    assert.deepEqual(states(40_000, lag(600)), ["0:pending"]);
    assert.deepEqual(states(69_999, lag(700)), ["0:pending"]);
  });
  await t.step("held for 60 s: firing, with value and summary", () => {
    const [a] = alerts.evaluate(at(70_000, lag(800)));
    assert.equal(a.state, "firing");
    assert.equal(a.activeAtMs, 10_000);
    assert.equal(a.firedAtMs, 70_000);
    assert.equal(a.value, 800);
    assert.equal(a.summary, "partition 0 lags 800");
    assert.equal(a.severity, "warning");
    assert.equal(a.runbook, "notebooks/runbook.md#lag-growing");
    assert.equal(alerts.firing().length, 1);
  });
  await t.step("a pending alert that stops holding is dropped, and restarts its clock", () => {
    assert.deepEqual(states(80_000, lag(800, 200)), ["0:firing", "1:pending"]);
    assert.deepEqual(states(90_000, lag(800, 10)), ["0:firing"]);
    assert.deepEqual(states(100_000, lag(800, 300)), ["0:firing", "1:pending"]);
    assert.deepEqual(states(159_999, lag(800, 300)), ["0:firing", "1:pending"]);
    assert.deepEqual(states(160_000, lag(800, 300)), ["0:firing", "1:firing"]);
  });
  await t.step("a firing alert that stops holding is resolved, listed a while, then gone", () => {
    assert.deepEqual(states(170_000, lag(5, 300)), ["1:firing", "0:resolved"]);
    const resolved = alerts.alerts.find((a) => a.state === "resolved")!;
    assert.equal(resolved.resolvedAtMs, 170_000);
    assert.deepEqual(states(200_000, lag(5, 300)), ["1:firing", "0:resolved"]);
    assert.deepEqual(states(200_001, lag(5, 300)), ["1:firing"]);
  });
  await t.step("it starts again from pending", () => {
    assert.deepEqual(states(210_000, lag(999, 300)), ["1:firing", "0:pending"]);
  });
  await t.step("for 0s fires on the first evaluation; time must move forward", () => {
    const now = new AlertEvaluator([{ ...lagRule, forSeconds: 0 }]);
    assert.equal(now.evaluate(at(1, lag(101)))[0].state, "firing");
    assert.throws(() => now.evaluate(at(1, lag(101))), /forward in time/);
  });
  await t.step("bad rules are refused", () => {
    assert.throws(() => new AlertEvaluator([lagRule, lagRule]), /defined twice/);
    assert.throws(() => new AlertEvaluator([{ ...lagRule, alert: "a-b" }]), /legal alert name/);
    assert.throws(() => new AlertEvaluator([{ ...lagRule, forSeconds: -1 }]), /whole seconds/);
  });
});

Deno.test("rules file: Prometheus' groups/rules shape, one entry per rule", () => {
  const text = renderRulesFile(
    [{ name: "demo", intervalSeconds: 30, rules: [lagRule] }],
    "generated\nby a test",
  );
  assert.ok(text.startsWith("# generated\n# by a test\n"), text);
  assert.deepEqual(parse(text), {
    groups: [{
      name: "demo",
      interval: "30s",
      rules: [{
        alert: "LagHigh",
        expr: "lag > 100",
        for: "1m",
        labels: { severity: "warning" },
        annotations: {
          summary: "partition {{ $labels.partition }} lags {{ $value }}",
          runbook_url: "notebooks/runbook.md#lag-growing",
        },
      }],
    }],
  });
});
