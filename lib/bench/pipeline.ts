/**
 * The pipeline benchmark: how fast the generator is on its own, how fast it
 * is with Avro encoding through the registry's serde, and then a whole
 * {@linkcode Pipeline} run on fresh topics: end-to-end events/s from the
 * generator to bronze, sink flush latency and the process's peak memory
 * (producer and sink share the process, so the sink's share is at most that),
 * and the CPU each component used per event over the run: this process
 * (producer + sink worker), each broker, MinIO and the registry, and
 * everything else on the machine (see {@linkcode cpuReport}).
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { benchPipeline } from "./pipeline.ts";
 * const r = await benchPipeline({ config: loadConfig(), events: 50_000 });
 * console.log(r.generatorPerSec, r.encodePerSec, r.summary.endToEndPerSec);
 * ```
 *
 * @module
 */
import type { Config } from "../config.ts";
import { ClusterAdmin } from "../kafka/admin.ts";
import { benchComponents, type BenchCpu, benchCpu, benchSnapshot } from "./cpu.ts";
import { createKafka } from "../kafka/client.ts";
import { layerPrefix } from "../lake/paths.ts";
import { LakeStore } from "../lake/store.ts";
import { RegistryClient } from "../schema/rest.ts";
import type { BatchPolicy } from "../shopstream/batcher.ts";
import { EventGenerator, TOPIC_KEYS } from "../shopstream/generator.ts";
import { Pipeline, type PipelineSummary } from "../shopstream/pipeline.ts";
import { ShopStreamProducer } from "../shopstream/producer.ts";
import { type ShopTopics, topicsUnder } from "../shopstream/topics.ts";

/** Options of {@linkcode benchPipeline}. */
export interface PipelineBenchOptions {
  /** Brokers, registry, lake and default names. */
  config: Config;
  /** Records of the end-to-end run (default 300,000). */
  events?: number;
  /** Records for the generator and encoding figures (default 200,000). */
  sample?: number;
  /** Generator seed (default 42). */
  seed?: number;
  /** The sink's batching policy (default the sink's). */
  policy?: BatchPolicy;
  /** Keep the bench topics, subjects and lake folders (default false). */
  keep?: boolean;
  /** Progress lines. */
  log?: (line: string) => void;
}

/** What {@linkcode benchPipeline} measured. */
export interface PipelineBenchResult {
  /** Records per second of the generator alone, one core. */
  generatorPerSec: number;
  /** Records per second of the generator plus Avro encoding (validation, wire format). */
  encodePerSec: number;
  /** The end-to-end run. */
  summary: PipelineSummary;
  /**
   * CPU from the start of producing to the sink's last commit (the window of
   * `summary.endToEndPerSec`), per produced event: by component, this process
   * by thread (producer, sink worker, runtime helpers), the brokers by thread
   * kind; undefined when `/proc` could not be read (not Linux).
   */
  cpu?: BenchCpu;
}

/**
 * Runs the benchmark on fresh `bench.pipeline.*` topics (needs the stack).
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { benchPipeline } from "./pipeline.ts";
 * const { summary } = await benchPipeline({ config: loadConfig(), events: 20_000, log: console.log });
 * console.log(summary.ok, summary.peakRss);
 * ```
 */
export async function benchPipeline(options: PipelineBenchOptions): Promise<PipelineBenchResult> {
  const { config } = options;
  const log = options.log ?? (() => {});
  const seed = options.seed ?? 42;
  const sample = options.sample ?? 200_000;
  const events = options.events ?? 300_000;
  const id = `bench.pipeline.${Date.now().toString(36)}`;
  const topics: ShopTopics = topicsUnder(id);
  const kafka = createKafka(config);
  try {
    log(`generator alone: ${sample} records ...`);
    const gen = new EventGenerator({ seed, malformedShare: 0.01, duplicateShare: 0.01 });
    gen.take(20_000); // warm-up
    let t0 = performance.now();
    for (let i = 0; i < sample; i++) gen.next();
    const generatorPerSec = sample / (performance.now() - t0) * 1000;

    log(`generator + Avro encoding: ${sample} records ...`);
    const encoder = new ShopStreamProducer(kafka, config, {
      topics,
      generator: { seed, malformedShare: 0.01, duplicateShare: 0.01, schema: "v2" },
    });
    await encoder.connect();
    try {
      for (let i = 0; i < 20_000; i++) encoder.encode(encoder.generator.next());
      t0 = performance.now();
      for (let i = 0; i < sample; i++) encoder.encode(encoder.generator.next());
    } finally {
      await encoder.disconnect();
    }
    const encodePerSec = sample / (performance.now() - t0) * 1000;

    log(`end to end: ${events} records through ${id}.* ...`);
    const { components, notFound } = await benchComponents(config, PIPELINE_ROW);
    // The pipeline logs "producing" as it starts the clock and "silver" once the
    // sink has stopped: the CPU window is the end-to-end figure's.
    const snap = () => benchSnapshot(components).catch((e: Error) => e);
    let before: ReturnType<typeof snap> | undefined;
    let after: ReturnType<typeof snap> | undefined;
    const summary = await new Pipeline({
      config,
      topics,
      groupId: `${id}.sink`,
      fresh: false,
      metricsPort: false,
      events,
      seed,
      policy: options.policy,
      log: (line) => {
        if (line === "producing" && !before) before = snap();
        if (line === "silver" && before && !after) after = snap();
        log(line);
      },
    }).run();
    let cpu: BenchCpu | undefined;
    const [b, a] = [await before, await after];
    if (b instanceof Error || a instanceof Error) {
      log(`CPU by component: not measured (${(b instanceof Error ? b : a as Error).message})`);
    } else if (b && a) {
      cpu = benchCpu(components, notFound, b, a, summary.produced, {
        main: "producer (main thread)",
        workers: "sink (worker thread)",
        runtime: "V8 GC, compiler and I/O threads",
      });
    }
    return { generatorPerSec, encodePerSec, summary, cpu };
  } finally {
    if (!options.keep) {
      const admin = new ClusterAdmin(kafka);
      await admin.connect();
      try {
        await admin.deleteTopics(Object.values(topics)).catch(() => {});
        await admin.deleteGroups([`${id}.sink`]).catch(() => {});
      } finally {
        await admin.disconnect();
      }
      const registry = new RegistryClient(config.schemaRegistry.url);
      for (const k of TOPIC_KEYS) {
        await registry.deleteSubject(`${topics[k]}-value`).catch(() => {});
      }
      const store = LakeStore.fromConfig(config);
      for (const k of TOPIC_KEYS) {
        for (const layer of ["bronze", "silver", "gold"] as const) {
          await store.removeAll(layerPrefix(layer, topics[k])).catch(() => {});
        }
      }
    }
  }
}

/** The row of this process (producer and sink worker) in {@linkcode PipelineBenchResult.cpu}. */
export const PIPELINE_ROW = "pipeline (producer + sink worker)";
