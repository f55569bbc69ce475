/**
 * ShopStream's metrics and alert rules, defined once: the metric names every
 * part of the pipeline exposes (producer, sink, lake jobs), the facts read
 * from Kafka itself (consumer lag per partition, under-replicated
 * partitions, records appended per topic), and the alert rules the monitor
 * evaluates and `lib/shopstream/alerts.rules.yml` ships to Prometheus.
 *
 * @example
 * ```ts
 * import { MetricsRegistry } from "../observe/prometheus.ts";
 * import { registerShopstreamMetrics, renderShopstreamRules } from "./monitoring.ts";
 * const metrics = registerShopstreamMetrics(new MetricsRegistry());
 * metrics.produced.inc({ topic: "shopstream.orders" }, 100);
 * console.log(renderShopstreamRules().includes("ShopStreamUnderReplicatedPartitions")); // true
 * ```
 *
 * @module
 */
import { type Config, loadConfig } from "../config.ts";
import type { ClusterAdmin, PartitionInfo, PartitionLag } from "../kafka/admin.ts";
import type { AlertRule } from "../observe/alerts.ts";
import { renderRulesFile } from "../observe/alerts.ts";
import { withDeadline } from "../util/deadline.ts";
import type { Counter, Gauge, Histogram, MetricsRegistry, Sample } from "../observe/prometheus.ts";

/** Every ShopStream metric name: what the pipeline counts itself, then the facts read from Kafka. */
export const METRIC = {
  produced: "shopstream_produced_total",
  producerResent: "shopstream_producer_resent_total",
  malformedProduced: "shopstream_malformed_produced_total",
  sinkRecords: "shopstream_sink_records_total",
  sinkDeadLetters: "shopstream_sink_dead_letters_total",
  sinkFlushes: "shopstream_sink_flushes_total",
  sinkFlushFailures: "shopstream_sink_flush_failures_total",
  sinkFlushSeconds: "shopstream_sink_flush_seconds",
  sinkBuffered: "shopstream_sink_buffered_records",
  sinkConsumerRestarts: "shopstream_sink_consumer_restarts_total",
  sinkWaitingForStore: "shopstream_sink_waiting_for_store",
  consumerLag: "shopstream_consumer_lag",
  underReplicated: "shopstream_under_replicated_partitions",
  lakeObjects: "shopstream_lake_objects_total",
  topicRecords: "shopstream_topic_records_total",
} as const;

/** Buckets of the flush-time histogram, in seconds. */
export const FLUSH_BUCKETS: readonly number[] = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** The registered metrics of one process: increment or set what applies to you. */
export interface ShopstreamMetrics {
  /** Records the producer service wrote, by topic. */
  produced: Counter;
  /** Records the verified send wrote again (see the facts in lib/kafka/mod.ts), by topic. */
  producerResent: Counter;
  /** Deliberately malformed records the generator sent (they must reach the DLQ), by topic. */
  malformedProduced: Counter;
  /** Records the sink wrote to bronze, by topic and region. */
  sinkRecords: Counter;
  /** Records the sink sent to the DLQ, by topic and reason. */
  sinkDeadLetters: Counter;
  /** Parquet objects the sink uploaded, by topic and region. */
  sinkFlushes: Counter;
  /** Failed upload attempts (retried), by topic. */
  sinkFlushFailures: Counter;
  /** Time from flush start to upload done, by topic. */
  sinkFlushSeconds: Histogram;
  /** Records held in the sink's buffers, by topic. */
  sinkBuffered: Gauge;
  /** Times kafkajs restarted the sink's consumer after its handler or a fetch threw. */
  sinkConsumerRestarts: Counter;
  /** 1 while the sink retries a failing object store call (MinIO down or frozen), else 0. */
  sinkWaitingForStore: Gauge;
  /** Log-end offset minus committed offset, by group, topic and partition (read from Kafka). */
  consumerLag: Gauge;
  /** Partitions whose ISR is smaller than their replica set, or with no leader (read from Kafka). */
  underReplicated: Gauge;
  /** Objects written to the lake, by layer (bronze, silver, gold). */
  lakeObjects: Counter;
  /** Records ever appended to a topic: the sum of its log-end offsets (read from Kafka). */
  topicRecords: Counter;
}

/**
 * Registers every ShopStream metric on `registry` (idempotent: a second
 * call returns the same metrics).
 *
 * @example
 * ```ts
 * import { MetricsRegistry } from "../observe/prometheus.ts";
 * import { registerShopstreamMetrics } from "./monitoring.ts";
 * const registry = new MetricsRegistry();
 * const m = registerShopstreamMetrics(registry);
 * m.sinkFlushSeconds.observe({ topic: "shopstream.orders" }, 0.4);
 * console.log(registry.render().includes('le="0.5"')); // true
 * ```
 */
export function registerShopstreamMetrics(registry: MetricsRegistry): ShopstreamMetrics {
  const topic = ["topic"];
  return {
    produced: registry.counter({
      name: METRIC.produced,
      help: "Records the producer service wrote to Kafka.",
      labelNames: topic,
    }),
    producerResent: registry.counter({
      name: METRIC.producerResent,
      help: "Records sent again because a send's answer left their partition out.",
      labelNames: topic,
    }),
    malformedProduced: registry.counter({
      name: METRIC.malformedProduced,
      help: "Deliberately malformed records the generator sent (expected in the DLQ).",
      labelNames: topic,
    }),
    sinkRecords: registry.counter({
      name: METRIC.sinkRecords,
      help: "Records the lake sink wrote to bronze.",
      labelNames: ["topic", "region"],
    }),
    sinkDeadLetters: registry.counter({
      name: METRIC.sinkDeadLetters,
      help: "Records the lake sink sent to the dead-letter topic.",
      labelNames: ["topic", "reason"],
    }),
    sinkFlushes: registry.counter({
      name: METRIC.sinkFlushes,
      help: "Parquet objects the lake sink uploaded.",
      labelNames: ["topic", "region"],
    }),
    sinkFlushFailures: registry.counter({
      name: METRIC.sinkFlushFailures,
      help: "Failed upload attempts of the lake sink (each is retried).",
      labelNames: topic,
    }),
    sinkFlushSeconds: registry.histogram({
      name: METRIC.sinkFlushSeconds,
      help: "Seconds from the start of a flush to its upload succeeding.",
      labelNames: topic,
      buckets: FLUSH_BUCKETS,
    }),
    sinkBuffered: registry.gauge({
      name: METRIC.sinkBuffered,
      help: "Records held in the lake sink's buffers, not yet uploaded.",
      labelNames: topic,
    }),
    sinkConsumerRestarts: registry.counter({
      name: METRIC.sinkConsumerRestarts,
      help: "Times the lake sink's consumer was restarted after a crash (a loop shows here).",
    }),
    sinkWaitingForStore: registry.gauge({
      name: METRIC.sinkWaitingForStore,
      help: "1 while the lake sink retries a failing object store call, else 0.",
    }),
    consumerLag: registry.gauge({
      name: METRIC.consumerLag,
      help: "Log-end offset minus the group's committed offset, per partition (from Kafka).",
      labelNames: ["group", "topic", "partition"],
    }),
    underReplicated: registry.gauge({
      name: METRIC.underReplicated,
      help: "Partitions with fewer in-sync replicas than replicas, or no leader (from Kafka).",
    }),
    lakeObjects: registry.counter({
      name: METRIC.lakeObjects,
      help: "Objects written to the lake.",
      labelNames: ["layer"],
    }),
    topicRecords: registry.counter({
      name: METRIC.topicRecords,
      help: "Records appended to the topic: the sum of its log-end offsets (from Kafka).",
      labelNames: topic,
    }),
  };
}

/** What Kafka itself says about the pipeline at one moment. */
export interface KafkaFacts {
  /** When the facts were read, epoch ms. */
  timeMs: number;
  /** The consumer group watched. */
  group: string;
  /** Lag of `group` on every partition of the watched topics that exist. */
  lag: PartitionLag[];
  /** Watched topics that do not exist (yet). */
  missingTopics: string[];
  /** Brokers in the cluster. */
  brokers: number;
  /** Partitions of all topics, internal ones included. */
  partitions: number;
  /** Partitions with no leader or fewer in-sync replicas than replicas. */
  underReplicated: PartitionInfo[];
  /** Sum of log-end offsets per watched topic (the DLQ included). */
  topicRecords: Record<string, number>;
}

/** Which group and topics {@linkcode readKafkaFacts} looks at. */
export interface WatchOptions {
  /** The consumer group to watch. */
  group: string;
  /** The topics the group consumes. */
  topics: readonly string[];
  /** The dead-letter topic. */
  dlqTopic: string;
}

/**
 * The default watch: the lake sink's group on the four event topics and the DLQ.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { defaultWatch } from "./monitoring.ts";
 * console.log(defaultWatch(loadConfig()).group); // shopstream-lake-sink
 * ```
 */
export function defaultWatch(config: Config): WatchOptions {
  const t = config.topics;
  return {
    group: config.clients.sinkGroup,
    topics: [t.orders, t.payments, t.shipments, t.clickstream],
    dlqTopic: t.deadLetter,
  };
}

/**
 * Partitions that are under-replicated: ISR smaller than the replica set, or no leader.
 *
 * @example
 * ```ts
 * import { underReplicated } from "./monitoring.ts";
 * const p = { topic: "t", partition: 0, leader: 1, replicas: [1, 2, 3], isr: [1, 2], offline: [] };
 * console.log(underReplicated([p]).length); // 1
 * ```
 */
export function underReplicated(partitions: readonly PartitionInfo[]): PartitionInfo[] {
  return partitions.filter((p) => p.leader < 0 || p.isr.length < p.replicas.length);
}

/**
 * Reads lag, replication and end offsets from the cluster through a
 * connected {@linkcode ClusterAdmin}.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { createKafka } from "../kafka/client.ts";
 * import { ClusterAdmin } from "../kafka/admin.ts";
 * import { defaultWatch, readKafkaFacts } from "./monitoring.ts";
 * const config = loadConfig();
 * const admin = new ClusterAdmin(createKafka(config));
 * await admin.connect();
 * const facts = await readKafkaFacts(admin, defaultWatch(config));
 * console.log(facts.underReplicated.length, facts.lag.length);
 * await admin.disconnect();
 * ```
 */
export async function readKafkaFacts(
  admin: ClusterAdmin,
  watch: WatchOptions,
): Promise<KafkaFacts> {
  const timeMs = Date.now();
  const all = await admin.listTopics(true);
  const existing = new Set(all);
  const cluster = await admin.describeCluster(all);
  const topics = watch.topics.filter((t) => existing.has(t));
  const lag = (await Promise.all(topics.map((t) => admin.lag(watch.group, t)))).flat();
  const topicRecords: Record<string, number> = {};
  for (const t of [...topics, watch.dlqTopic].filter((t) => existing.has(t))) {
    topicRecords[t] = await admin.recordsAppended(t);
  }
  return {
    timeMs,
    group: watch.group,
    lag,
    missingTopics: watch.topics.filter((t) => !existing.has(t)),
    brokers: cluster.brokers.length,
    partitions: cluster.partitions.length,
    underReplicated: underReplicated(cluster.partitions),
    topicRecords,
  };
}

/**
 * The facts as samples under the ShopStream metric names.
 *
 * @example
 * ```ts
 * import { kafkaFactSamples } from "./monitoring.ts";
 * const samples = kafkaFactSamples({
 *   timeMs: 0, group: "g", missingTopics: [], brokers: 3, partitions: 1, underReplicated: [],
 *   lag: [{ topic: "t", partition: 0, committed: "5", end: "8", lag: 3 }], topicRecords: { t: 8 },
 * });
 * console.log(samples.length); // 3
 * ```
 */
export function kafkaFactSamples(facts: KafkaFacts): Sample[] {
  return [
    ...facts.lag.map((l) => ({
      name: METRIC.consumerLag,
      labels: { group: facts.group, topic: l.topic, partition: String(l.partition) },
      value: l.lag,
    })),
    { name: METRIC.underReplicated, labels: {}, value: facts.underReplicated.length },
    ...Object.entries(facts.topicRecords).map(([topic, value]) => ({
      name: METRIC.topicRecords,
      labels: { topic },
      value,
    })),
  ];
}

/**
 * Makes a registry read the Kafka facts on every scrape (for the pipeline's
 * `/metrics`): consumer lag per partition, under-replicated partitions and
 * records per topic are set from a fresh {@linkcode readKafkaFacts}. When
 * Kafka does not answer within `timeoutMs` (default 5 s) the scrape still
 * serves every other metric, without consumer lag, and `onError` is told.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { createKafka } from "../kafka/client.ts";
 * import { ClusterAdmin } from "../kafka/admin.ts";
 * import { MetricsRegistry } from "../observe/prometheus.ts";
 * import { defaultWatch, exposeKafkaFacts, registerShopstreamMetrics } from "./monitoring.ts";
 * const config = loadConfig();
 * const admin = new ClusterAdmin(createKafka(config));
 * await admin.connect();
 * const registry = new MetricsRegistry();
 * exposeKafkaFacts(registry, registerShopstreamMetrics(registry), admin, defaultWatch(config));
 * console.log(await registry.scrape());
 * await admin.disconnect();
 * ```
 */
export function exposeKafkaFacts(
  registry: MetricsRegistry,
  metrics: ShopstreamMetrics,
  admin: ClusterAdmin,
  watch: WatchOptions,
  options: { timeoutMs?: number; onError?: (e: unknown) => void } = {},
): void {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const onError = options.onError ??
    ((e: unknown) => console.error(`metrics: Kafka facts unavailable: ${(e as Error).message}`));
  registry.onScrape(async () => {
    let facts: KafkaFacts;
    try {
      facts = await withDeadline(readKafkaFacts(admin, watch), timeoutMs, "reading Kafka facts");
    } catch (e) {
      // The pipeline's own counters are still served; lag is left out rather than shown stale.
      metrics.consumerLag.reset();
      onError(e);
      return;
    }
    metrics.consumerLag.reset();
    for (const l of facts.lag) {
      metrics.consumerLag.set(
        { group: facts.group, topic: l.topic, partition: String(l.partition) },
        l.lag,
      );
    }
    metrics.underReplicated.set({}, facts.underReplicated.length);
    for (const [topic, n] of Object.entries(facts.topicRecords)) {
      metrics.topicRecords.advanceTo({ topic }, n);
    }
  });
}

/** The bounds the rules compare with. */
export interface RuleBounds {
  /** Records behind on one partition (default 10,000) ... */
  lagRecords: number;
  /** ... held for this long (default 120 s). */
  lagForSeconds: number;
  /** Dead letters per second over 5 minutes (default 50) ... */
  dlqPerSecond: number;
  /** ... held for this long (default 120 s). */
  dlqForSeconds: number;
  /** Under-replicated partitions held for this long (default 30 s). */
  underReplicatedForSeconds: number;
  /** Failed uploads in the last 5 minutes held for this long (default 60 s). */
  flushFailuresForSeconds: number;
}

/** The bounds of the committed rules file. */
export const DEFAULT_BOUNDS: RuleBounds = {
  lagRecords: 10_000,
  lagForSeconds: 120,
  dlqPerSecond: 50,
  dlqForSeconds: 120,
  underReplicatedForSeconds: 30,
  flushFailuresForSeconds: 60,
};

/** Where the runbook lives, relative to the repository root (rules link its sections). */
export const RUNBOOK = "notebooks/runbook.md";

/**
 * ShopStream's alert rules: consumer lag above a bound, the DLQ growing
 * faster than a bound, under-replicated partitions, sink flush failures.
 *
 * @example
 * ```ts
 * import { shopstreamRules } from "./monitoring.ts";
 * for (const r of shopstreamRules("shopstream.dlq")) console.log(r.alert, r.runbook);
 * ```
 */
export function shopstreamRules(
  dlqTopic: string,
  bounds: Partial<RuleBounds> = {},
): AlertRule[] {
  const b = { ...DEFAULT_BOUNDS, ...bounds };
  return [
    {
      alert: "ShopStreamConsumerLagHigh",
      expr: { metric: METRIC.consumerLag, op: ">", threshold: b.lagRecords },
      forSeconds: b.lagForSeconds,
      severity: "warning",
      summary:
        "group {{ $labels.group }} is {{ $value }} records behind on {{ $labels.topic }}[{{ $labels.partition }}]",
      runbook: `${RUNBOOK}#lag-growing`,
    },
    {
      alert: "ShopStreamDeadLettersHigh",
      expr: {
        metric: METRIC.topicRecords,
        match: { topic: dlqTopic },
        range: { fn: "rate", windowSeconds: 300 },
        aggregate: { op: "sum", by: ["topic"] },
        op: ">",
        threshold: b.dlqPerSecond,
      },
      forSeconds: b.dlqForSeconds,
      severity: "warning",
      summary: "{{ $value }} dead letters/s are arriving in {{ $labels.topic }}",
      runbook: `${RUNBOOK}#dlq-growing`,
    },
    {
      alert: "ShopStreamUnderReplicatedPartitions",
      expr: { metric: METRIC.underReplicated, op: ">", threshold: 0 },
      forSeconds: b.underReplicatedForSeconds,
      severity: "critical",
      summary: "{{ $value }} partitions have fewer in-sync replicas than replicas",
      runbook: `${RUNBOOK}#broker-down`,
    },
    {
      alert: "ShopStreamSinkFlushFailing",
      expr: {
        metric: METRIC.sinkFlushFailures,
        range: { fn: "increase", windowSeconds: 300 },
        aggregate: { op: "sum", by: ["topic"] },
        op: ">",
        threshold: 0,
      },
      forSeconds: b.flushFailuresForSeconds,
      severity: "critical",
      summary: "the lake sink failed {{ $value }} uploads for {{ $labels.topic }} in 5 minutes",
      runbook: `${RUNBOOK}#minio-unreachable`,
    },
  ];
}

/** The committed Prometheus rules file. */
export const RULES_PATH: URL = new URL("./alerts.rules.yml", import.meta.url);

/**
 * The rules file for the default configuration (what `RULES_PATH` must hold).
 *
 * @example
 * ```ts
 * import { renderShopstreamRules } from "./monitoring.ts";
 * console.log(renderShopstreamRules());
 * ```
 */
export function renderShopstreamRules(config: Config = loadConfig({})): string {
  return renderRulesFile(
    [{ name: "shopstream", rules: shopstreamRules(config.topics.deadLetter) }],
    "ShopStream alert rules for Prometheus. Generated from lib/shopstream/monitoring.ts:\n" +
      "do not edit; run `deno task monitor rules` to regenerate.",
  );
}
