/**
 * The client benchmark: our producer and consumer (lib/kafka) and Kafka's
 * Java perf tools on the same topic layout with the same settings, in one
 * run. `deno task bench clients` is the command-line face of
 * {@linkcode runClientBench}.
 *
 * Both producers write keyless records of `recordSize` random uppercase
 * letters as fast as they can, each into its own fresh topic; both consumers then read the
 * *same* topic (the one Java wrote) in a fresh group from the beginning, so
 * they see identical batches on disk.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { DEFAULT_BENCH, runClientBench } from "./clients.ts";
 * const results = await runClientBench(loadConfig(), { ...DEFAULT_BENCH, records: 20_000 });
 * console.log(results.map((r) => `${r.tool} ${r.role} ${r.recordsPerSec.toFixed(0)}`));
 * ```
 *
 * @module
 */
import { Buffer } from "node:buffer";
import process from "node:process";
import type { Kafka } from "../kafka/upstream.ts";
import type { Config } from "../config.ts";
import { withDeadline } from "../util/deadline.ts";
import { type PerfResult, perfResult } from "./perf.ts";
import {
  javaAvailable,
  javaConsumerPerf,
  javaProducerPerf,
  type ProducerPerfSettings,
} from "./perf_java.ts";
import { installKafka } from "../stack/install.ts";
import { createKafka } from "../kafka/client.ts";
import { registerCodecs } from "../kafka/codecs.ts";
import { GroupConsumer } from "../kafka/consumer.ts";
import { type Acks, compressionAvailable, TopicProducer } from "../kafka/producer.ts";

/** Everything a benchmark run varies; topics are made per run. */
export interface BenchSettings extends Omit<ProducerPerfSettings, "topic"> {
  /** Partitions of each run's topic. */
  partitions: number;
  /** Replication factor of each run's topic. */
  replicationFactor: number;
  /** `min.insync.replicas` of each run's topic. */
  minInsyncReplicas: number;
  /** Which side(s) to run. */
  clients: "both" | "java" | "ours";
  /** Bytes a producer may hold unacknowledged before it waits (Java's `buffer.memory`). */
  bufferMemory: number;
}

/**
 * The defaults of `deno task bench clients` (a run of well under 2 minutes).
 *
 * @example
 * ```ts
 * import { DEFAULT_BENCH } from "./clients.ts";
 * const quick = { ...DEFAULT_BENCH, records: 20_000 };
 * ```
 */
export const DEFAULT_BENCH: BenchSettings = {
  records: 500_000,
  recordSize: 512,
  acks: "all",
  batchSize: 262_144,
  lingerMs: 20,
  compression: "none",
  partitions: 3,
  replicationFactor: 3,
  minInsyncReplicas: 2,
  clients: "both",
  bufferMemory: 33_554_432,
};

/**
 * Records left out of the producers' steady-state figures: `warmupRecords`,
 * else a fifth of the run (the JVM compiles its hot code meanwhile).
 *
 * @example
 * ```ts
 * import { DEFAULT_BENCH, warmupOf } from "./clients.ts";
 * console.log(warmupOf({ ...DEFAULT_BENCH, records: 1000 })); // 200
 * ```
 */
export function warmupOf(s: BenchSettings): number {
  return s.warmupRecords ?? Math.floor(s.records / 5);
}

/**
 * A flag value the benchmark cannot use; the message names the flag and the fix.
 *
 * @example
 * ```ts
 * import { benchSettings, BenchSettingsError } from "./clients.ts";
 * try {
 *   benchSettings({ acks: "2" });
 * } catch (e) {
 *   if (e instanceof BenchSettingsError) console.error(e.message); // --acks "2": use 0, 1 or all (-1)
 * }
 * ```
 */
export class BenchSettingsError extends Error {
  /** The flag, its bad value, and how to fix it. */
  constructor(flag: string, value: unknown, fix: string) {
    super(`--${flag} ${JSON.stringify(value)}: ${fix}`);
    this.name = "BenchSettingsError";
  }
}

/** Bytes a record adds to its value in a record batch (headers of the record, varints), roughly. */
const RECORD_OVERHEAD = 30;
/** What one record batch may hold: a little under Kafka's default `message.max.bytes`. */
const MAX_BATCH_BYTES = 1_000_000;

const COMPRESSIONS = ["none", "gzip", "snappy", "lz4", "zstd"] as const;

/**
 * Validates command-line flag values (strings, as parsed) over the defaults.
 *
 * @example
 * ```ts
 * import { benchSettings } from "./clients.ts";
 * const s = benchSettings({ records: "50000", acks: "1", compression: "gzip" });
 * console.log(s.records, s.acks, s.recordSize); // 50000 "1" 512
 * ```
 */
export function benchSettings(
  flags: Record<string, string | undefined>,
  defaults: BenchSettings = DEFAULT_BENCH,
): BenchSettings {
  const int = (flag: string, fallback: number, min: number): number => {
    const raw = flags[flag];
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) {
      throw new BenchSettingsError(flag, raw, `use a whole number >= ${min}`);
    }
    return n;
  };
  const acks = flags.acks ?? defaults.acks;
  const normalAcks = acks === "-1" ? "all" : acks;
  if (normalAcks !== "0" && normalAcks !== "1" && normalAcks !== "all") {
    throw new BenchSettingsError("acks", acks, "use 0, 1 or all (-1)");
  }
  const compression = flags.compression ?? defaults.compression;
  if (!(COMPRESSIONS as readonly string[]).includes(compression)) {
    throw new BenchSettingsError(
      "compression",
      compression,
      `use one of ${COMPRESSIONS.join(", ")}`,
    );
  }
  const clients = flags.clients ?? defaults.clients;
  if (clients !== "both" && clients !== "java" && clients !== "ours") {
    throw new BenchSettingsError("clients", clients, "use both, java or ours");
  }
  const s: BenchSettings = {
    records: int("records", defaults.records, 1),
    recordSize: int("record-size", defaults.recordSize, 1),
    acks: normalAcks,
    batchSize: int("batch-size", defaults.batchSize, 1),
    lingerMs: int("linger-ms", defaults.lingerMs, 0),
    compression: compression as BenchSettings["compression"],
    partitions: int("partitions", defaults.partitions, 1),
    replicationFactor: int("replication-factor", defaults.replicationFactor, 1),
    minInsyncReplicas: int("min-insync-replicas", defaults.minInsyncReplicas, 1),
    clients,
    bufferMemory: int("buffer-memory", defaults.bufferMemory, 1),
  };
  if (flags["warmup-records"] !== undefined) {
    s.warmupRecords = int("warmup-records", 0, 0);
    if (s.warmupRecords >= s.records) {
      throw new BenchSettingsError(
        "warmup-records",
        s.warmupRecords,
        `must be below --records ${s.records}`,
      );
    }
  }
  const perBatch = Math.max(1, Math.floor(s.batchSize / s.recordSize));
  if (perBatch * (s.recordSize + RECORD_OVERHEAD) > MAX_BATCH_BYTES) {
    throw new BenchSettingsError(
      "batch-size",
      s.batchSize,
      `a batch of ${perBatch} records of ${s.recordSize} B would exceed the broker's ` +
        `message.max.bytes (1 MiB by default); use at most ${
          Math.floor(MAX_BATCH_BYTES / (s.recordSize + RECORD_OVERHEAD)) * s.recordSize
        }`,
    );
  }
  if (s.minInsyncReplicas > s.replicationFactor) {
    throw new BenchSettingsError(
      "min-insync-replicas",
      s.minInsyncReplicas,
      `must not exceed --replication-factor ${s.replicationFactor}`,
    );
  }
  return s;
}

/** Options of {@linkcode runClientBench}. */
export interface RunBenchOptions {
  /** Progress lines (default: none). */
  log?: (line: string) => void;
  /** Keep the benchmark topics instead of deleting them. */
  keepTopics?: boolean;
}

const ACKS: Record<BenchSettings["acks"], Acks> = { "0": 0, "1": 1, all: -1 };

/** CPU time of this process since `since` as a share of one core over `seconds`, in %. */
function cpuPercent(since: ReturnType<typeof process.cpuUsage>, seconds: number): number {
  const used = process.cpuUsage(since);
  return Math.round((used.user + used.system) / 1e4 / seconds);
}

/** How many distinct payloads our producer cycles through (more than fit in gzip's 32 KiB window). */
const PAYLOADS = 1024;

/**
 * Values like ProducerPerformance's: random uppercase letters, a fresh draw per record there;
 * here a pool of {@linkcode PAYLOADS} drawn up front so drawing does not cost during the run.
 */
function payloads(size: number): Buffer[] {
  const bytes = Buffer.alloc(size * PAYLOADS);
  for (let i = 0; i < bytes.length; i += 65536) {
    crypto.getRandomValues(bytes.subarray(i, Math.min(bytes.length, i + 65536)));
  }
  for (let i = 0; i < bytes.length; i++) bytes[i] = 65 + (bytes[i] % 26);
  return Array.from({ length: PAYLOADS }, (_, i) => bytes.subarray(i * size, (i + 1) * size));
}

/**
 * Our producer flat out: `records` keyless records into `topic` through
 * {@linkcode TopicProducer.enqueue} (sticky keyless partitioning, batches of
 * `batchSize / recordSize` records, `lingerMs`), waiting on `ready()` once
 * `bufferMemory` bytes are unacknowledged, like Java's `buffer.memory`.
 * Latency is the producer's own histogram: enqueue to acknowledgement.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { createKafka } from "../kafka/client.ts";
 * import { DEFAULT_BENCH, ourProducerPerf } from "./clients.ts";
 * const r = await ourProducerPerf(createKafka(loadConfig()), "bench.t", DEFAULT_BENCH);
 * ```
 */
export async function ourProducerPerf(
  kafka: Kafka,
  topic: string,
  s: BenchSettings,
): Promise<PerfResult> {
  const warmup = warmupOf(s);
  if (warmup >= s.records) {
    throw new BenchSettingsError("warmup-records", warmup, `must be below ${s.records}`);
  }
  const batchSize = Math.max(1, Math.floor(s.batchSize / s.recordSize));
  const producer = new TopicProducer(kafka, {
    topic,
    acks: ACKS[s.acks],
    idempotent: s.acks === "all",
    compression: s.compression,
    lingerMs: s.lingerMs,
    batchSize,
    maxBuffered: Math.max(batchSize, Math.floor(s.bufferMemory / s.recordSize)),
    // Java's max.request.size is 1 MiB: what Java keeps in flight as several batches of a
    // partition, ours (one request per partition at a time) sends as one request.
    carryPiledUp: true,
    maxRequestBytes: MAX_BATCH_BYTES,
  });
  await producer.connect();
  try {
    const values = payloads(s.recordSize);
    producer.resetMetrics();
    let cpu = process.cpuUsage();
    let started = performance.now();
    for (let i = 0; i < s.records; i++) {
      if (i === warmup && warmup > 0) {
        // Steady state from here, as ProducerPerformance's --warmup-records counts it.
        producer.resetMetrics();
        cpu = process.cpuUsage();
        started = performance.now();
      }
      if (producer.buffered >= producer.maxBuffered) await producer.ready();
      producer.enqueue({ value: values[i % PAYLOADS] });
    }
    await producer.flush();
    const seconds = (performance.now() - started) / 1000;
    const cpuShare = cpuPercent(cpu, seconds);
    const m = producer.metrics(); // flush() threw if any record was not acknowledged
    const measured = s.records - warmup;
    return perfResult("ours", "producer", measured, measured * s.recordSize, seconds, {
      p50Ms: m.latencyP50Ms,
      p99Ms: m.latencyP99Ms,
      note: `this Deno process used ${cpuShare}% of one core`,
    });
  } finally {
    await producer.disconnect();
  }
}

/**
 * Our consumer: a {@linkcode GroupConsumer} in a fresh group reads `records`
 * records of `topic` from the beginning with eachBatch; the clock runs from
 * the end of the group join to the last record (the join itself is reported
 * as `setupMs`), as ConsumerPerformance's fetch time does.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { createKafka } from "../kafka/client.ts";
 * import { ourConsumerPerf } from "./clients.ts";
 * const r = await ourConsumerPerf(createKafka(loadConfig()), "bench.t", 200_000, "bench-g");
 * ```
 */
export async function ourConsumerPerf(
  kafka: Kafka,
  topic: string,
  records: number,
  group: string,
  timeoutMs = 60_000,
): Promise<PerfResult> {
  let joined = 0;
  const consumer = new GroupConsumer(kafka, {
    groupId: group,
    topics: [topic],
    fromBeginning: true,
    autoCommit: false,
    onRebalance: () => {
      if (joined === 0) joined = performance.now();
    },
  });
  const started = performance.now();
  await consumer.connect();
  try {
    let count = 0;
    let bytes = 0;
    let last = 0;
    let redelivered = 0;
    let cpu: ReturnType<typeof process.cpuUsage> | undefined;
    // Records are counted once: a rebalance can hand a partition back from an older position.
    const next = new Map<number, bigint>();
    const { promise: done, resolve: finish } = Promise.withResolvers<void>();
    await consumer.run({
      eachBatch: ({ batch }) => {
        if (joined === 0) joined = performance.now();
        cpu ??= process.cpuUsage();
        let from = next.get(batch.partition) ?? -1n;
        for (const m of batch.messages) {
          const offset = BigInt(m.offset);
          if (offset < from) {
            redelivered++;
            continue;
          }
          from = offset + 1n;
          bytes += m.value?.length ?? 0;
          count++;
        }
        next.set(batch.partition, from);
        if (count >= records && last === 0) {
          last = performance.now();
          finish();
        }
        return Promise.resolve();
      },
    });
    await withDeadline(
      done,
      timeoutMs,
      () => `our consumer read ${count} of ${records} records in ${timeoutMs} ms`,
    );
    const rebalances = consumer.rebalances.length;
    const seconds = Math.max(1e-3, (last - joined) / 1000);
    const notes = [
      cpu ? `this Deno process used ${cpuPercent(cpu, seconds)}% of one core` : "",
      rebalances > 1 ? `${rebalances - 1} rebalance(s) during the run` : "",
      redelivered > 0 ? `${redelivered} record(s) delivered again, counted once` : "",
    ].filter(Boolean);
    return perfResult("ours", "consumer", count, bytes, seconds, {
      setupMs: joined - started,
      ...(notes.length ? { note: notes.join("; ") } : {}),
    });
  } finally {
    await consumer.disconnect();
  }
}

function uniqueTopic(what: string): string {
  return `bench.clients.${what}.${Date.now().toString(36)}${
    Math.random().toString(36).slice(2, 6)
  }`;
}

/**
 * Creates the topics, runs the producers (Java, then ours), then both
 * consumers on the Java producer's topic, and deletes the topics.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { DEFAULT_BENCH, runClientBench } from "./clients.ts";
 * const results = await runClientBench(loadConfig(), { ...DEFAULT_BENCH, records: 10_000 }, {
 *   log: console.log,
 * });
 * ```
 */
export async function runClientBench(
  config: Config,
  s: BenchSettings,
  options: RunBenchOptions = {},
): Promise<PerfResult[]> {
  const log = options.log ?? (() => {});
  const kafka = createKafka(config, { clientId: "bench-clients" });
  const bootstrap = config.kafka.brokers.join(",");
  const runJava = s.clients !== "ours";
  const runOurs = s.clients !== "java";
  if (warmupOf(s) >= s.records) {
    throw new BenchSettingsError("warmup-records", warmupOf(s), `must be below ${s.records}`);
  }
  if (runOurs && s.compression !== "none" && s.compression !== "gzip") await registerCodecs();
  if (runOurs && !compressionAvailable(s.compression)) {
    throw new BenchSettingsError(
      "compression",
      s.compression,
      "kafkajs has no codec for it under Deno (see lib/kafka/codecs.ts); " +
        "use none, gzip, snappy or zstd, or --clients java",
    );
  }
  if (runJava && !(await javaAvailable())) {
    throw new BenchSettingsError(
      "clients",
      s.clients,
      "no `java` on this machine for Kafka's tools: install a JDK 17+, or use --clients ours",
    );
  }
  const libs = runJava ? await installKafka(config.stack.kafkaVersion, log) : "";
  const topics = { java: uniqueTopic("java"), ours: uniqueTopic("ours") };
  const admin = kafka.admin();
  await admin.connect();
  const results: PerfResult[] = [];
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: Object.values(topics).map((topic) => ({
        topic,
        numPartitions: s.partitions,
        replicationFactor: s.replicationFactor,
        configEntries: [{ name: "min.insync.replicas", value: String(s.minInsyncReplicas) }],
      })),
    });
    const settings = { ...s, bootstrap, libs, warmupRecords: warmupOf(s) };
    if (runJava) {
      log(`java producer: ${s.records} records of ${s.recordSize} B into ${topics.java}`);
      results.push(await javaProducerPerf({ ...settings, topic: topics.java }));
    }
    if (runOurs) {
      log(`our producer: ${s.records} records of ${s.recordSize} B into ${topics.ours}`);
      results.push(await ourProducerPerf(kafka, topics.ours, s));
    }
    // Both consumers read the same bytes: Java's topic when Java ran, else ours.
    const source = runJava ? topics.java : topics.ours;
    const group = (who: string) => `bench-clients-${who}-${source}`;
    if (runJava) {
      log(`java consumer: ${s.records} records from ${source}`);
      results.push(
        await javaConsumerPerf({ ...settings, topic: source, group: group("java") }),
      );
    }
    if (runOurs) {
      log(`our consumer: ${s.records} records from ${source}`);
      results.push(await ourConsumerPerf(kafka, source, s.records, group("ours")));
    }
    return results;
  } finally {
    if (!options.keepTopics) {
      const groups = [`bench-clients-java-`, `bench-clients-ours-`].flatMap((p) =>
        [topics.java, topics.ours].map((t) => p + t)
      );
      await admin.deleteGroups(groups).catch(() => {});
      await admin.deleteTopics({ topics: Object.values(topics) }).catch((e) =>
        log(`could not delete ${Object.values(topics).join(", ")}: ${(e as Error).message}`)
      );
    }
    await admin.disconnect();
  }
}
