/**
 * Kafka's own Java performance tools, `ProducerPerformance` and
 * `ConsumerPerformance` (the classes behind `kafka-producer-perf-test.sh` and
 * `kafka-consumer-perf-test.sh`), run from the same jars as the brokers, with
 * their output parsed into {@linkcode PerfResult}s.
 *
 * @example
 * ```ts
 * import { javaProducerPerf } from "./perf_java.ts";
 * const result = await javaProducerPerf({
 *   libs: ".cache/kafka/4.4.0/libs",
 *   bootstrap: "127.0.0.1:9092",
 *   topic: "bench.java",
 *   records: 10_000,
 *   recordSize: 512,
 *   acks: "all",
 *   batchSize: 262_144,
 *   lingerMs: 20,
 *   compression: "none",
 * });
 * console.log(result.recordsPerSec);
 * ```
 *
 * @module
 */
import { JavaToolError, runJavaTool } from "../util/java.ts";
import type { PerfResult } from "./perf.ts";

// The runner moved to lib/util (the quorum check needs it too); re-exported for old importers.
export { javaAvailable, JavaToolError, runJavaTool } from "../util/java.ts";

/** Settings shared by both producers of a benchmark. */
export interface ProducerPerfSettings {
  /** Topic to produce to. */
  topic: string;
  /** Records to send. */
  records: number;
  /** Bytes per record value. */
  recordSize: number;
  /** Producer `acks`. */
  acks: "0" | "1" | "all";
  /** Producer `batch.size` in bytes. */
  batchSize: number;
  /** Producer `linger.ms`. */
  lingerMs: number;
  /** Producer `compression.type`. */
  compression: "none" | "gzip" | "snappy" | "lz4" | "zstd";
  /** The first records, left out of the steady-state figures (JIT warm-up); default 0. */
  warmupRecords?: number;
}

/** Where and how to run a Java tool. */
export interface JavaToolTarget {
  /** The folder holding Kafka's jars (`kafka-tools-<version>.jar` among them). */
  libs: string;
  /** `host:port,...` */
  bootstrap: string;
}

/** Settings of one `ConsumerPerformance` run. */
export interface ConsumerPerfSettings {
  /** Topic to consume. */
  topic: string;
  /** Records to read. */
  records: number;
  /** Consumer group. */
  group: string;
  /** Give up when no record arrives for this long (ms). */
  timeoutMs?: number;
}

/**
 * Fully qualified main classes of the tools (Kafka 4.x moved them to `org.apache.kafka.tools`).
 *
 * @example
 * ```ts
 * import { JAVA_TOOLS } from "./perf_java.ts";
 * console.log(JAVA_TOOLS.producer); // org.apache.kafka.tools.ProducerPerformance
 * ```
 */
export const JAVA_TOOLS = {
  producer: "org.apache.kafka.tools.ProducerPerformance",
  consumer: "org.apache.kafka.tools.ConsumerPerformance",
} as const;

/** The flags both Java perf tools take: where, which topic, how many records. */
function commonPerfArgs(bootstrap: string, s: { topic: string; records: number }): string[] {
  return ["--bootstrap-server", bootstrap, "--topic", s.topic, "--num-records", String(s.records)];
}

/**
 * The command-line arguments of `ProducerPerformance` for `settings`. Idempotence is
 * set explicitly (on exactly when acks=all), so both clients in a comparison agree.
 *
 * @example
 * ```ts
 * import { producerPerfArgs } from "./perf_java.ts";
 * const args = producerPerfArgs("127.0.0.1:9092", {
 *   topic: "t", records: 100, recordSize: 512, acks: "all",
 *   batchSize: 16384, lingerMs: 5, compression: "gzip",
 * });
 * console.log(args.includes("compression.type=gzip")); // true
 * ```
 */
export function producerPerfArgs(bootstrap: string, s: ProducerPerfSettings): string[] {
  return [
    ...commonPerfArgs(bootstrap, s),
    "--record-size",
    String(s.recordSize),
    "--throughput",
    "-1",
    "--reporting-interval",
    "60000",
    ...(s.warmupRecords ? ["--warmup-records", String(s.warmupRecords)] : []),
    "--command-property",
    `acks=${s.acks}`,
    `batch.size=${s.batchSize}`,
    `linger.ms=${s.lingerMs}`,
    `compression.type=${s.compression}`,
    `enable.idempotence=${s.acks === "all"}`,
  ];
}

/**
 * The command-line arguments of `ConsumerPerformance` for `settings`.
 *
 * @example
 * ```ts
 * import { consumerPerfArgs } from "./perf_java.ts";
 * console.log(consumerPerfArgs("127.0.0.1:9092", { topic: "t", records: 10, group: "g" }));
 * ```
 */
export function consumerPerfArgs(bootstrap: string, s: ConsumerPerfSettings): string[] {
  return [
    ...commonPerfArgs(bootstrap, s),
    "--group",
    s.group,
    "--timeout",
    String(s.timeoutMs ?? 15_000),
  ];
}

const PRODUCER_SUMMARY =
  /(\d+) (?:steady state )?records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\), ([\d.]+) ms avg latency, ([\d.]+) ms max latency, (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th, (\d+) ms 99\.9th/g;

/**
 * Parses the final summary line of `ProducerPerformance` (the one with
 * percentiles; progress lines have none): with `--warmup-records`, the
 * steady-state line printed last. Throws when there is none.
 *
 * @example
 * ```ts
 * import { parseProducerPerformance } from "./perf_java.ts";
 * const r = parseProducerPerformance(
 *   "1000 records sent, 5000.0 records/sec (2.44 MB/sec), 12.5 ms avg latency, " +
 *     "40.00 ms max latency, 11 ms 50th, 30 ms 95th, 38 ms 99th, 40 ms 99.9th.",
 *   512,
 * );
 * console.log(r.p99Ms); // 38
 * ```
 */
export function parseProducerPerformance(output: string, recordSize: number): PerfResult {
  const matches = [...output.matchAll(PRODUCER_SUMMARY)];
  const m = matches.at(-1);
  if (!m) throw new JavaToolError("ProducerPerformance", "no summary line found", output);
  const records = Number(m[1]);
  const recordsPerSec = Number(m[2]);
  return {
    tool: "java",
    role: "producer",
    records,
    bytes: records * recordSize,
    seconds: recordsPerSec > 0 ? records / recordsPerSec : 0,
    recordsPerSec,
    mbPerSec: Number(m[3]),
    p50Ms: Number(m[6]),
    p99Ms: Number(m[8]),
  };
}

/**
 * Parses `ConsumerPerformance`'s CSV header and summary row. The figures are
 * the *fetch* ones (after the group join), which is what our consumer's clock
 * measures too; the join time is kept in `setupMs`. Throws when the tool read
 * fewer records than `expected`.
 *
 * @example
 * ```ts
 * import { parseConsumerPerformance } from "./perf_java.ts";
 * const r = parseConsumerPerformance([
 *   "start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, " +
 *   "rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec",
 *   "2026-01-01 00:00:00:000, 2026-01-01 00:00:01:000, 4.8828, 4.8828, 10000, 10000.0, " +
 *   "200, 800, 6.1035, 12500.0",
 * ].join("\n"), 10000);
 * console.log(r.recordsPerSec); // 12500
 * ```
 */
export function parseConsumerPerformance(output: string, expected: number): PerfResult {
  const lines = output.split("\n").map((l) => l.trim());
  const at = lines.findIndex((l) => l.startsWith("start.time,"));
  const names = at < 0 ? [] : lines[at].split(",").map((s) => s.trim());
  // A warning (e.g. the timeout) may sit between the header and the row.
  const row = lines.slice(at + 1).find((l) => l.split(",").length === names.length);
  if (at < 0 || row === undefined) {
    throw new JavaToolError("ConsumerPerformance", "no summary row found", output);
  }
  const values = row.split(",").map((s) => s.trim());
  const field = (name: string): number => {
    const i = names.indexOf(name);
    const v = Number(values[i]);
    if (i < 0 || !Number.isFinite(v)) {
      throw new JavaToolError("ConsumerPerformance", `no numeric column ${name}`, output);
    }
    return v;
  };
  const records = field("data.consumed.in.nMsg");
  if (records < expected) {
    throw new JavaToolError(
      "ConsumerPerformance",
      `read ${records} of ${expected} records before its timeout`,
      output,
    );
  }
  const mb = field("data.consumed.in.MB");
  return {
    tool: "java",
    role: "consumer",
    records,
    bytes: Math.round(mb * 1024 * 1024),
    seconds: field("fetch.time.ms") / 1000,
    recordsPerSec: field("fetch.nMsg.sec"),
    mbPerSec: field("fetch.MB.sec"),
    setupMs: field("rebalance.time.ms"),
  };
}

/**
 * Runs `ProducerPerformance` (no throttling) and returns its summary.
 *
 * @example
 * ```ts
 * import { javaProducerPerf } from "./perf_java.ts";
 * const r = await javaProducerPerf({
 *   libs: ".cache/kafka/4.4.0/libs", bootstrap: "127.0.0.1:9092", topic: "t",
 *   records: 1000, recordSize: 512, acks: "all", batchSize: 16384, lingerMs: 5, compression: "none",
 * });
 * ```
 */
export async function javaProducerPerf(
  s: JavaToolTarget & ProducerPerfSettings,
): Promise<PerfResult> {
  const out = await runJavaTool(s.libs, JAVA_TOOLS.producer, producerPerfArgs(s.bootstrap, s));
  return parseProducerPerformance(out, s.recordSize);
}

/**
 * Runs `ConsumerPerformance` in a fresh group from the earliest offset and
 * returns its fetch throughput.
 *
 * @example
 * ```ts
 * import { javaConsumerPerf } from "./perf_java.ts";
 * const r = await javaConsumerPerf({
 *   libs: ".cache/kafka/4.4.0/libs", bootstrap: "127.0.0.1:9092", topic: "t",
 *   records: 1000, group: "bench-java-1",
 * });
 * ```
 */
export async function javaConsumerPerf(
  s: JavaToolTarget & ConsumerPerfSettings,
): Promise<PerfResult> {
  const out = await runJavaTool(s.libs, JAVA_TOOLS.consumer, consumerPerfArgs(s.bootstrap, s));
  return parseConsumerPerformance(out, s.records);
}
