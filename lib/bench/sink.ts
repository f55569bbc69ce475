/**
 * The lake sink's benchmark: fill fresh topics with the generator, then time
 * the sink alone from `run()` until every record is in bronze or the
 * dead-letter topic, sampling the process's resident memory. Figures:
 * records/s over that whole time and from the sink's first record on (so a
 * slow group join or first fetch shows apart from the work), CPU per record,
 * flush latency, objects, peak RSS, and the CPU each component used over
 * the same time (the sink's process and threads, each broker, MinIO, the
 * registry: see {@linkcode benchCpu}), so the limit of the machine shows.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { benchSink } from "./sink.ts";
 * const r = await benchSink({ config: loadConfig(), events: 20_000 });
 * console.log(r.recordsPerSec, r.workingPerSec, r.peakRssMb);
 * ```
 *
 * @module
 */
import process from "node:process";
import type { Config } from "../config.ts";
import { ClusterAdmin } from "../kafka/admin.ts";
import { type AllocationSummary, sampleAllocations, summarizeAllocations } from "./alloc.ts";
import {
  benchComponents,
  type BenchCpu,
  benchCpu,
  benchSnapshot,
  type CpuSnapshot,
} from "./cpu.ts";
import { createKafka } from "../kafka/client.ts";
import { sleep } from "../util/deadline.ts";
import { LakeStore } from "../lake/store.ts";
import { type BatchPolicy, DEFAULT_BATCH_POLICY } from "../shopstream/batcher.ts";
import { familyTopics, type ShopTopics, topicsUnder } from "../shopstream/topics.ts";
import type { Totals } from "../shopstream/tally.ts";
import { LakeSink, sinkTotals } from "../shopstream/sink.ts";

/** Options of {@linkcode benchSink}. */
export interface SinkBenchOptions {
  /** Brokers, registry, lake and default names. */
  config: Config;
  /** Records to produce first (events, duplicates and malformed together). */
  events: number;
  /** Generator seed (default 42). */
  seed?: number;
  /** The sink's batching policy (default {@linkcode DEFAULT_BATCH_POLICY}). */
  policy?: BatchPolicy;
  /** Keep the topics and bronze objects afterwards (default false: deleted). */
  keep?: boolean;
  /** Progress lines. */
  log?: (line: string) => void;
  /** Give up after this long, ms (default 10 minutes). */
  timeoutMs?: number;
  /**
   * Fills the topics (default {@linkcode produceBenchRecords} in this process).
   * The task runs it in a child process, so the sink's RSS is its own.
   */
  produce?: (topics: ShopTopics, events: number, seed: number) => Promise<Totals>;
  /**
   * Sample what the sink allocates while it works (V8's sampling heap
   * profiler, see `alloc.ts`; it costs some speed, so the rates of such a run
   * are not the sink's).
   */
  allocations?: boolean;
}

/** What {@linkcode benchSink} measured. */
export interface SinkBenchResult {
  /** Records produced. */
  events: number;
  /** Rows written to bronze. */
  bronzeRows: number;
  /** Records sent to the dead-letter topic. */
  deadLetters: number;
  /** Bronze objects written. */
  objects: number;
  /** Flushes finished. */
  flushes: number;
  /** From `run()` until the last record was written, s. */
  seconds: number;
  /** Records (bronze rows + dead letters) per second over `seconds`. */
  recordsPerSec: number;
  /**
   * From `run()` until the sink held its first record, s: joining the group
   * and the first fetch (sampled every 10 ms).
   */
  startupSeconds: number;
  /** Records per second from the first record held to the last written: the sink at work. */
  workingPerSec: number;
  /** CPU time of the sink's process (user + system, every thread) over the same interval, s. */
  cpuSeconds: number;
  /** That CPU time per record, µs: what one record costs the sink, however busy the machine. */
  cpuUsPerRecord: number;
  /** Median flush latency, ms. */
  flushP50Ms: number;
  /** 95th percentile flush latency, ms. */
  flushP95Ms: number;
  /** Largest flush latency, ms. */
  flushMaxMs: number;
  /** Resident memory of the process before the sink started, MB (10^6 bytes). */
  baselineRssMb: number;
  /** Largest resident memory while the sink ran (sampled every 50 ms), MB. */
  peakRssMb: number;
  /** Largest V8 heap in use plus external (ArrayBuffer) memory at a sample, MB. */
  peakHeapMb: number;
  /** The batching policy the sink ran with. */
  policy: BatchPolicy;
  /**
   * CPU over `seconds` per record: by component (this process as
   * {@linkcode SINK_ROW}, each broker, MinIO, the registry), the sink's
   * thread and the runtime's helpers, the brokers by thread kind; undefined
   * when `/proc` could not be read (not Linux).
   */
  cpu?: BenchCpu;
  /** Bytes allocated per record and by whom, with `allocations: true`. */
  allocations?: AllocationSummary;
}

/** The row of the sink's process in {@linkcode SinkBenchResult.cpu}. */
export const SINK_ROW = "sink (this process)";

/**
 * The bench's records: `events` from the generator (`malformedShare`, 1% by
 * default, malformed; 1% duplicates; v2 from the middle on) into `topics`;
 * the generator's tally. The sink tests produce their records with it too.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { produceBenchRecords } from "./sink.ts";
 * const config = loadConfig();
 * const totals = await produceBenchRecords(config, config.topics, 1000, 42);
 * console.log(totals.bronze + totals.malformed); // 1000
 * ```
 */
export async function produceBenchRecords(
  config: Config,
  topics: ShopTopics,
  events: number,
  seed: number,
  malformedShare = 0.01,
): Promise<Totals> {
  // Loaded on use: the generator's Faker pools would count in the sink's memory otherwise.
  const { ShopStreamProducer } = await import("../shopstream/producer.ts");
  const producer = new ShopStreamProducer(createKafka(config), config, {
    topics,
    events,
    generator: {
      seed,
      malformedShare,
      duplicateShare: 0.01,
      schema: { v2From: Math.floor(events / 2) },
    },
  });
  await producer.connect();
  try {
    await producer.run();
  } finally {
    await producer.disconnect();
  }
  return producer.tally.totals();
}

/**
 * Runs the benchmark (needs the stack). See the module doc.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { benchSink } from "./sink.ts";
 * const r = await benchSink({ config: loadConfig(), events: 5000, log: console.log });
 * console.log(r.bronzeRows + r.deadLetters === r.events); // true
 * ```
 */
export async function benchSink(options: SinkBenchOptions): Promise<SinkBenchResult> {
  const { config, events } = options;
  const log = options.log ?? (() => {});
  const policy = options.policy ?? DEFAULT_BATCH_POLICY;
  const id = `bench.sink.${Date.now().toString(36)}`;
  const topics: ShopTopics = topicsUnder(id);
  const store = LakeStore.fromConfig(config);
  await store.ensureBucket();
  const groupId = `${id}.group`;
  try {
    log(`producing ${events} records to ${id}.* ...`);
    const produce = options.produce ??
      ((t: ShopTopics, n: number, seed: number) => produceBenchRecords(config, t, n, seed));
    const totals = await produce(topics, events, options.seed ?? 42);
    (globalThis as { gc?: () => void }).gc?.();
    const baseline = Deno.memoryUsage().rss;
    let peak = baseline;
    let peakHeap = 0;
    log(`sink: reading ${totals.produced} records (policy ${JSON.stringify(policy)}) ...`);
    const sink = new LakeSink({
      config,
      groupId,
      policy,
      topics: familyTopics(topics),
      deadLetterTopic: topics.deadLetter,
    });
    await sink.connect();
    let seconds = 0;
    let startupSeconds = 0;
    let cpu = { user: 0, system: 0 };
    const { components, notFound } = await benchComponents(config, SINK_ROW);
    const snap = () => benchSnapshot(components).catch((e: Error) => e);
    let snaps: (CpuSnapshot | Error)[] = [];
    let allocations: AllocationSummary | undefined;
    const stopSampling = options.allocations ? await sampleAllocations() : undefined;
    try {
      const snapBefore = snap();
      const started = performance.now();
      const cpuStart = process.cpuUsage();
      await sink.run();
      const deadline = Date.now() + (options.timeoutMs ?? 600_000);
      while (true) {
        const mem = Deno.memoryUsage();
        peak = Math.max(peak, mem.rss);
        peakHeap = Math.max(peakHeap, mem.heapUsed + mem.external);
        const t = sinkTotals(sink.metrics());
        if (!startupSeconds && t.records + t.buffered + t.deadLetters > 0) {
          startupSeconds = (performance.now() - started) / 1000;
        }
        if (t.records >= totals.bronze && t.deadLetters >= totals.malformed) break;
        // Everything read, some of it buffered: upload it now, not after maxAgeMs.
        if (t.records + t.buffered >= totals.bronze && t.buffered > 0) sink.flushNow();
        if (sink.crashed) throw sink.crashed;
        if (Date.now() > deadline) {
          throw new Error(
            `sink bench: timed out with ${t.records}/${totals.bronze} rows written`,
          );
        }
        await sleep(startupSeconds ? 50 : 10);
      }
      seconds = (performance.now() - started) / 1000;
      cpu = process.cpuUsage(cpuStart);
      snaps = [await snapBefore, await snap()];
      if (stopSampling) allocations = summarizeAllocations(await stopSampling(), totals.produced);
    } finally {
      await sink.stop();
    }
    const m = sink.metrics();
    const t = sinkTotals(m);
    if (t.records < totals.bronze) {
      throw new Error(`sink bench: ${t.records} of ${totals.bronze} rows written after stop()`);
    }
    const [b, a] = snaps;
    if (b instanceof Error || a instanceof Error) {
      log(`CPU by component: not measured (${(b instanceof Error ? b : a as Error).message})`);
    }
    const cpuByComponent = b && a && !(b instanceof Error) && !(a instanceof Error)
      ? benchCpu(components, notFound, b, a, totals.produced, {
        main: "sink (main thread)",
        runtime: "V8 GC, compiler and I/O threads",
      })
      : undefined;
    const latency = Object.values(m.flushLatencyMs);
    const merged = latency[0];
    for (const h of latency.slice(1)) merged.merge(h);
    return {
      events: totals.produced,
      bronzeRows: t.records,
      deadLetters: t.deadLetters,
      objects: t.objects,
      flushes: t.flushes,
      seconds,
      recordsPerSec: totals.produced / seconds,
      startupSeconds,
      workingPerSec: totals.produced / (seconds - startupSeconds),
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      cpuUsPerRecord: (cpu.user + cpu.system) / totals.produced,
      flushP50Ms: merged.percentile(50),
      flushP95Ms: merged.percentile(95),
      flushMaxMs: merged.max,
      baselineRssMb: baseline / 1e6,
      peakRssMb: peak / 1e6,
      peakHeapMb: peakHeap / 1e6,
      policy,
      cpu: cpuByComponent,
      allocations,
    };
  } finally {
    if (!options.keep) {
      for (const key of ["orders", "payments", "shipments", "clickstream"] as const) {
        await store.removeAll(`bronze/${topics[key]}/`).catch(() => {});
      }
      const admin = new ClusterAdmin(createKafka(config));
      await admin.connect();
      try {
        await admin.deleteGroups([groupId]).catch(() => {});
        const existing = new Set(await admin.listTopics());
        await admin.deleteTopics(Object.values(topics).filter((t) => existing.has(t)));
      } finally {
        await admin.disconnect();
      }
    }
  }
}
