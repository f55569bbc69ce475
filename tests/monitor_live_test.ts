/**
 * The monitor and the metrics endpoint against the live cluster: a unique
 * group with a known lag per partition (made by committing offsets), read
 * back through `/metrics` (Kafka facts on every scrape) and through
 * `deno task monitor --once` as a subprocess, which also scrapes a running
 * metrics page.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { ClusterAdmin } from "../lib/kafka/admin.ts";
import { createKafka } from "../lib/kafka/client.ts";
import { commitGroupOffsets } from "../lib/kafka/group_offsets.ts";
import { sendVerified } from "../lib/kafka/verified.ts";
import { MetricsServer } from "../lib/observe/metrics_server.ts";
import { MetricsRegistry, parseSamples } from "../lib/observe/prometheus.ts";
import {
  exposeKafkaFacts,
  METRIC,
  registerShopstreamMetrics,
} from "../lib/shopstream/monitoring.ts";
import { config, requireKafka, uniqueName } from "./support.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** Records per partition, and the offsets the group commits: lag = written - committed. */
const WRITTEN = [10, 20, 30];
const COMMITTED = [4, 5, 30];
const LAG = [6, 15, 0];

Deno.test("monitor: lag per partition via /metrics and `deno task monitor --once`", async (t) => {
  await requireKafka();
  const kafka = createKafka(config, { clientId: "test-monitor" });
  const admin = new ClusterAdmin(kafka);
  await admin.connect();
  const topic = uniqueName("test.monitor");
  const dlq = uniqueName("test.monitor.dlq");
  const group = uniqueName("test.monitor.group");
  const producer = kafka.producer({ idempotent: true });
  const registry = new MetricsRegistry();
  const metrics = registerShopstreamMetrics(registry);
  const server = new MetricsServer(registry, { port: 0 });
  try {
    await admin.createTopic(topic, { partitions: 3, replicationFactor: 3 });
    await admin.createTopic(dlq, { partitions: 1, replicationFactor: 3 });
    await producer.connect();
    await sendVerified(producer, {
      topic,
      acks: -1,
      messages: WRITTEN.flatMap((n, partition) =>
        Array.from({ length: n }, (_, i) => ({ partition, key: `k${i}`, value: `v${i}` }))
      ),
    });
    await sendVerified(producer, {
      topic: dlq,
      acks: -1,
      messages: [{ partition: 0, value: "dead" }, { partition: 0, value: "dead" }],
    });
    const ends = await admin.raw.fetchTopicOffsets(topic);
    assert.deepEqual(
      ends.sort((a, b) => a.partition - b.partition).map((o) => Number(o.high)),
      WRITTEN,
      "the log holds what was written",
    );
    const partitions = COMMITTED.map((o, partition) => ({ partition, offset: String(o) }));
    assert.ok(await commitGroupOffsets(kafka, group, [{ topic, partitions }]), "offsets committed");

    exposeKafkaFacts(registry, metrics, admin, { group, topics: [topic], dlqTopic: dlq });
    metrics.produced.inc({ topic }, 60);
    metrics.sinkFlushSeconds.observe({ topic }, 0.2);
    await server.start();

    await t.step("/metrics carries the lag per partition read from Kafka", async () => {
      const res = await fetch(`${server.url}/metrics`);
      assert.equal(res.status, 200);
      const samples = parseSamples(await res.text());
      const lag = samples.filter((s) => s.name === METRIC.consumerLag)
        .sort((a, b) => Number(a.labels.partition) - Number(b.labels.partition));
      assert.deepEqual(
        lag.map((s) => [s.labels.group, s.labels.topic, s.labels.partition, s.value]),
        LAG.map((l, p) => [group, topic, String(p), l]),
      );
      const records = samples.filter((s) => s.name === METRIC.topicRecords);
      assert.deepEqual(
        records.map((s) => [s.labels.topic, s.value]).sort(),
        [[dlq, 2], [topic, 60]].sort(),
      );
      const under = samples.find((s) => s.name === METRIC.underReplicated);
      assert.equal(under?.value, 0, "a healthy cluster has no under-replicated partition");
      assert.ok(samples.some((s) => s.name === `${METRIC.sinkFlushSeconds}_bucket`));
    });

    await t.step("`deno task monitor --once` prints that lag per partition", async () => {
      const out = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          "tasks/monitor.ts",
          "--once",
          "--group",
          group,
          "--topic",
          topic,
          "--dlq-topic",
          dlq,
          "--metrics-url",
          `${server.url}/metrics`,
          "--fail-on-alert",
        ],
        cwd: ROOT,
        stdout: "piped",
        stderr: "piped",
        env: { NO_COLOR: "1" },
      }).output();
      const text = new TextDecoder().decode(out.stdout);
      const err = new TextDecoder().decode(out.stderr);
      assert.equal(out.code, 0, `monitor exited ${out.code}:\n${err}\n${text}`);
      for (let p = 0; p < 3; p++) {
        const row = new RegExp(
          `^${topic.replace(/\./g, "\\.")}\\s+${p}\\s+${COMMITTED[p]}\\s+${WRITTEN[p]}\\s+${
            LAG[p]
          }$`,
          "m",
        );
        assert.match(text, row, `partition ${p} row`);
      }
      assert.match(text, new RegExp(`consumer lag of group ${group}: 21 records`));
      assert.match(text, /under-replicated 0/);
      assert.match(text, /pipeline metrics http:\/\/127\.0\.0\.1:\d+\/metrics: scraped/);
      assert.match(text, /pipeline: produced 60,/);
      assert.match(text, new RegExp(`\\(2 in total\\)`));
      assert.match(text, /ShopStreamUnderReplicatedPartitions\s+critical\s+ok/);
    });
  } finally {
    await server.stop();
    await producer.disconnect().catch(() => {});
    await admin.deleteGroups([group]).catch(() => {});
    await admin.deleteTopics([topic, dlq]).catch(() => {});
    await admin.disconnect();
  }
});
