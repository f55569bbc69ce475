/**
 * ShopStream's metric names and alert rules (no services needed): the
 * contract's names and label sets, the committed rules file equals the
 * generated one, every rule links a runbook section that exists, the rules
 * fire on the facts the monitor reads, the monitor's text, the task's flags.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { loadConfig } from "../lib/config.ts";
import { AlertEvaluator } from "../lib/observe/alerts.ts";
import { MetricsRegistry } from "../lib/observe/prometheus.ts";
import { formatMonitorView, type MonitorView } from "../lib/shopstream/monitor.ts";
import type { ClusterAdmin } from "../lib/kafka/admin.ts";
import {
  exposeKafkaFacts,
  type KafkaFacts,
  kafkaFactSamples,
  registerShopstreamMetrics,
  renderShopstreamRules,
  RULES_PATH,
  RUNBOOK,
  shopstreamRules,
  underReplicated,
} from "../lib/shopstream/monitoring.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const DLQ = loadConfig({}).topics.deadLetter;

function facts(partial: Partial<KafkaFacts> = {}): KafkaFacts {
  return {
    timeMs: 0,
    group: "g",
    lag: [],
    missingTopics: [],
    brokers: 3,
    partitions: 6,
    underReplicated: [],
    topicRecords: {},
    ...partial,
  };
}

Deno.test("monitoring: the contract's metric names, types and labels", () => {
  const registry = new MetricsRegistry();
  registerShopstreamMetrics(registry);
  registerShopstreamMetrics(registry); // idempotent
  const declared = Object.fromEntries(
    registry.collect().map((f) => [f.name, f.type]),
  );
  assert.deepEqual(declared, {
    shopstream_produced_total: "counter",
    shopstream_producer_resent_total: "counter",
    shopstream_malformed_produced_total: "counter",
    shopstream_sink_records_total: "counter",
    shopstream_sink_dead_letters_total: "counter",
    shopstream_sink_flushes_total: "counter",
    shopstream_sink_flush_failures_total: "counter",
    shopstream_sink_flush_seconds: "histogram",
    shopstream_sink_buffered_records: "gauge",
    shopstream_sink_consumer_restarts_total: "counter",
    shopstream_sink_waiting_for_store: "gauge",
    shopstream_consumer_lag: "gauge",
    shopstream_under_replicated_partitions: "gauge",
    shopstream_lake_objects_total: "counter",
    shopstream_topic_records_total: "counter",
  });
  const m = registerShopstreamMetrics(new MetricsRegistry());
  const labels: [{ labelNames: readonly string[] }, string[]][] = [
    [m.produced, ["topic"]],
    [m.producerResent, ["topic"]],
    [m.malformedProduced, ["topic"]],
    [m.sinkRecords, ["topic", "region"]],
    [m.sinkDeadLetters, ["topic", "reason"]],
    [m.sinkFlushes, ["topic", "region"]],
    [m.sinkFlushFailures, ["topic"]],
    [m.sinkFlushSeconds, ["topic"]],
    [m.sinkBuffered, ["topic"]],
    [m.sinkConsumerRestarts, []],
    [m.sinkWaitingForStore, []],
    [m.consumerLag, ["group", "topic", "partition"]],
    [m.underReplicated, []],
    [m.lakeObjects, ["layer"]],
  ];
  for (const [metric, names] of labels) assert.deepEqual(metric.labelNames, names);
});

Deno.test("monitoring: the committed rules file is the generated one", async () => {
  const committed = await Deno.readTextFile(RULES_PATH);
  assert.equal(
    committed,
    renderShopstreamRules(),
    "lib/shopstream/alerts.rules.yml is stale: run `deno task monitor rules`",
  );
  const doc = parse(committed) as {
    groups: { rules: { alert: string; expr: string; for: string }[] }[];
  };
  assert.deepEqual(doc.groups[0].rules.map((r) => r.alert), [
    "ShopStreamConsumerLagHigh",
    "ShopStreamDeadLettersHigh",
    "ShopStreamUnderReplicatedPartitions",
    "ShopStreamSinkFlushFailing",
  ]);
  assert.ok(doc.groups[0].rules[1].expr.includes(`topic="${DLQ}"`));
});

Deno.test("monitoring: every rule links a runbook section that exists", async () => {
  const text = await Deno.readTextFile(`${ROOT}/${RUNBOOK}`);
  // GitHub's anchors: lower case, punctuation dropped, spaces to dashes.
  const anchors = new Set(
    [...text.matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) =>
      m[1].trim().toLowerCase().replace(/[^\w\- ]/g, "").replace(/ /g, "-")
    ),
  );
  for (const rule of shopstreamRules(DLQ)) {
    const [file, anchor] = rule.runbook.split("#");
    assert.equal(file, RUNBOOK);
    assert.ok(anchors.has(anchor), `${rule.alert}: no section #${anchor} in ${RUNBOOK}`);
  }
  for (
    const section of [
      "broker-down",
      "lag-growing",
      "dlq-growing",
      "minio-unreachable",
      "schema-rejected",
      "disk-full",
    ]
  ) assert.ok(anchors.has(section), `runbook lacks #${section}`);
});

Deno.test("monitoring: the rules fire on the facts the monitor reads", async (t) => {
  const alerts = new AlertEvaluator(shopstreamRules(DLQ));
  const p = { topic: "t", partition: 0, leader: 1, replicas: [1, 2, 3], isr: [1, 2], offline: [] };
  const lag = (n: number) => ({ topic: "t", partition: 2, committed: "0", end: String(n), lag: n });
  const observe = (timeMs: number, f: Partial<KafkaFacts>) =>
    alerts.evaluate({ timeMs, samples: kafkaFactSamples(facts(f)) })
      .map((a) => `${a.alert}:${a.state}`);

  await t.step("under-replicated partitions: pending, firing after 30 s, resolved", () => {
    assert.deepEqual(
      underReplicated([p, { ...p, isr: [1, 2, 3] }, { ...p, leader: -1 }]).length,
      2,
    );
    assert.deepEqual(observe(1_000, { underReplicated: [p] }), [
      "ShopStreamUnderReplicatedPartitions:pending",
    ]);
    assert.deepEqual(observe(31_000, { underReplicated: [p] }), [
      "ShopStreamUnderReplicatedPartitions:firing",
    ]);
    assert.deepEqual(observe(32_000, {}), ["ShopStreamUnderReplicatedPartitions:resolved"]);
  });
  await t.step("lag above 10,000 on one partition for 2 minutes", () => {
    assert.ok(!observe(40_000, { lag: [lag(10_000)] }).some((a) => a.includes("Lag")));
    assert.ok(
      observe(41_000, { lag: [lag(10_001)] }).includes("ShopStreamConsumerLagHigh:pending"),
    );
    assert.ok(
      observe(161_000, { lag: [lag(20_000)] }).includes("ShopStreamConsumerLagHigh:firing"),
    );
    const [a] = alerts.firing();
    assert.deepEqual(a.labels, { group: "g", topic: "t", partition: "2" });
    assert.equal(a.summary, "group g is 20000 records behind on t[2]");
  });
  await t.step("dead letters above 50/s for 2 minutes, from the DLQ's end offsets", () => {
    const dlq = (timeMs: number, n: number) => observe(timeMs, { topicRecords: { [DLQ]: n } });
    dlq(200_000, 0);
    assert.ok(!dlq(210_000, 400).some((a) => a.includes("DeadLetters")), "40/s is fine");
    assert.ok(dlq(220_000, 2_000).includes("ShopStreamDeadLettersHigh:pending"), "100/s");
    assert.ok(dlq(340_000, 20_000).includes("ShopStreamDeadLettersHigh:firing"));
  });
  await t.step("sink flush failures: any increase in 5 minutes, held 1 minute", () => {
    const fails = (timeMs: number, n: number) =>
      alerts.evaluate({
        timeMs,
        samples: [{
          name: "shopstream_sink_flush_failures_total",
          labels: { topic: "o" },
          value: n,
        }],
      }).filter((a) => a.alert === "ShopStreamSinkFlushFailing").map((a) => a.state);
    assert.deepEqual(fails(400_000, 0), []);
    assert.deepEqual(fails(410_000, 3), ["pending"]);
    assert.deepEqual(fails(470_000, 3), ["firing"]);
    assert.deepEqual(fails(720_000, 3), ["resolved"], "no new failure for 5 minutes");
  });
});

Deno.test("monitoring: the monitor's text shows lag per partition, replication, rates, alerts", () => {
  const view: MonitorView = {
    timeMs: Date.UTC(2026, 0, 2, 3, 4, 5),
    facts: facts({
      group: "sink",
      lag: [
        { topic: "orders", partition: 0, committed: "10", end: "15", lag: 5 },
        { topic: "orders", partition: 1, committed: null, end: "7", lag: 7 },
      ],
      underReplicated: [{
        topic: "orders",
        partition: 1,
        leader: 2,
        replicas: [1, 2, 3],
        isr: [2, 3],
        offline: [],
      }, {
        topic: "__consumer_offsets",
        partition: 7,
        leader: 2,
        replicas: [1, 2, 3],
        isr: [2, 3],
        offline: [],
      }],
    }),
    scrape: { url: "http://127.0.0.1:9464/metrics", ok: false, error: "not running", samples: [] },
    rates: {
      seconds: 2,
      topics: [{ topic: "orders", appended: 1234.4, produced: undefined, sunk: undefined }],
      dlqPerSecond: 0.5,
    },
    topics: ["orders"],
    dlqTopic: "dlq",
    dlqTotal: 9,
    alerts: [{
      alert: "ShopStreamUnderReplicatedPartitions",
      labels: {},
      state: "pending",
      value: 1,
      activeAtMs: 0,
      severity: "critical",
      summary: "1 partitions have fewer in-sync replicas than replicas",
      runbook: "notebooks/runbook.md#broker-down",
    }],
    rules: [{
      alert: "ShopStreamUnderReplicatedPartitions",
      severity: "critical",
      state: "pending",
    }],
  };
  const text = formatMonitorView(view);
  assert.match(text, /2026-01-02 03:04:05 UTC/);
  assert.match(text, /under-replicated 2/);
  assert.match(text, /^in other topics: __consumer_offsets \(1\)$/m);
  assert.match(text, /not running \(throughput from Kafka end offsets\)/);
  assert.match(text, /consumer lag of group sink: 12 records/);
  assert.match(text, /^orders\s+0\s+10\s+15\s+5$/m);
  assert.match(text, /^orders\s+1\s+-\s+7\s+7$/m);
  assert.match(text, /^orders\s+1\s+2\s+1,2,3\s+2,3$/m);
  assert.match(text, /^orders\s+1234\s+-\s+-$/m);
  assert.match(text, /dead letters: 0\.5\/s into dlq \(9 in total\)/);
  assert.match(text, /ShopStreamUnderReplicatedPartitions\s+critical\s+PENDING/);
  assert.match(text, /notebooks\/runbook\.md#broker-down/);
});

Deno.test("monitor task: usage errors exit 2, --help exits 0, rules --check passes", async () => {
  const run = async (...args: string[]) => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "tasks/monitor.ts", ...args],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    return {
      code: out.code,
      text: new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr),
    };
  };
  const help = await run("--help");
  assert.equal(help.code, 0);
  for (const flag of ["--once", "--group", "--interval", "--metrics-url", "--fail-on-alert"]) {
    assert.ok(help.text.includes(flag), flag);
  }
  for (
    const bad of [
      ["--interval", "soon"],
      ["--iterations", "0"],
      ["--metrics-url", "localhost:9464"],
      ["--bogus"],
      ["status"],
    ]
  ) {
    const r = await run(...bad);
    assert.equal(r.code, 2, `${bad.join(" ")}: ${r.text}`);
    assert.match(r.text, /usage: deno task monitor/);
  }
  const check = await run("rules", "--check");
  assert.equal(check.code, 0, check.text);
});

Deno.test("monitoring: a scrape while Kafka fails still serves the pipeline's counters", async () => {
  const registry = new MetricsRegistry();
  const metrics = registerShopstreamMetrics(registry);
  metrics.produced.inc({ topic: "o" }, 5);
  metrics.consumerLag.set({ group: "g", topic: "o", partition: "0" }, 9);
  const errors: string[] = [];
  // A dependency that fails, standing in for an unreachable cluster.
  const broken = {
    listTopics: () => Promise.reject(new Error("connect ECONNREFUSED")),
  } as unknown as ClusterAdmin;
  exposeKafkaFacts(registry, metrics, broken, { group: "g", topics: ["o"], dlqTopic: "d" }, {
    onError: (e) => errors.push((e as Error).message),
  });
  const text = await registry.scrape();
  assert.match(text, /^shopstream_produced_total\{topic="o"\} 5$/m);
  assert.doesNotMatch(text, /^shopstream_consumer_lag\{/m, "no stale lag");
  assert.deepEqual(errors, ["connect ECONNREFUSED"]);
});
