/**
 * The ShopStream pipeline, end to end, for one bounded run (or until
 * stopped): generator -> producer service -> Kafka -> lake sink (bronze) ->
 * silver -> gold, then an independent read-back of the lake checked against
 * the generator's own tally.
 *
 * A fresh run (the default) starts from a clean slate for its topics: the
 * sink group is moved to the end of every event topic and the topics' bronze,
 * silver and gold folders are emptied, so what the lake holds afterwards is
 * exactly this run. The checks (pure, in `checks.ts`): each topic's log
 * (Kafka's end offsets) holds at least what was produced to it; bronze rows =
 * produced - malformed per topic (plus at most the copies the log holds beyond
 * that, when a broker failure made a retried send land twice); dead letters >=
 * malformed (a re-read after a rebalance dead-letters again; equal in a quiet
 * run); silver rows = distinct events; gold rows equal the tally's to the
 * cent; no lag left.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { formatPipelineSummary, Pipeline } from "./pipeline.ts";
 * const summary = await new Pipeline({ config: loadConfig(), events: 20_000, seed: 42 }).run();
 * console.log(formatPipelineSummary(summary));
 * Deno.exit(summary.ok ? 0 : 1);
 * ```
 *
 * @module
 */
import type { Kafka } from "kafkajs";
import type { Config } from "../config.ts";
import { ClusterAdmin } from "../kafka/admin.ts";
import { createKafka } from "../kafka/client.ts";
import { layerPrefix } from "../lake/paths.ts";
import { LakeStore } from "../lake/store.ts";
import type { Row } from "../lake/table.ts";
import { MetricsServer } from "../observe/metrics_server.ts";
import { MetricsRegistry } from "../observe/prometheus.ts";
import { withDeadline } from "../util/deadline.ts";
import { formatTable } from "../util/table.ts";
import { type BatchPolicy, DEFAULT_BATCH_POLICY } from "./batcher.ts";
import { type PipelineCheck, pipelineChecks } from "./checks.ts";
import type { SchemaPlan } from "./generator.ts";
import { GoldJob, ORDERS_HOURLY } from "./gold.ts";
import { LakeReader, type LakeSummaryRow } from "./lake_reader.ts";
import {
  exposeKafkaFacts,
  registerShopstreamMetrics,
  type ShopstreamMetrics,
} from "./monitoring.ts";
import { ensureTopics, type ProduceSummary, ShopStreamProducer } from "./producer.ts";
import { type LayerJobReport, SilverJob } from "./silver.ts";
import { type SinkHandle, sinkHealth, type SinkSnapshot, startSink } from "./sink_runner.ts";
import { drainSink } from "./drain.ts";
import type { Tally } from "./tally.ts";
import { FAMILY_OF, familyTopics, type ShopTopics, TOPIC_KEYS } from "./topics.ts";

// The checks moved to checks.ts; named here too, where the pipeline's users look for them.
export { compareGold, type PipelineCheck } from "./checks.ts";

/**
 * The defaults of a run: {@linkcode Pipeline} falls back on them, and
 * `deno task pipeline --help` prints them. `events` is the size of the task's
 * default run; `Pipeline` itself, given neither `events` nor `durationMs`,
 * runs until `stop()`.
 *
 * @example
 * ```ts
 * import { DEFAULT_PIPELINE } from "./pipeline.ts";
 * console.log(DEFAULT_PIPELINE.events, DEFAULT_PIPELINE.drainTimeoutMs); // 200000 180000
 * ```
 */
export const DEFAULT_PIPELINE: Readonly<
  Required<
    Pick<
      PipelineOptions,
      | "events"
      | "rate"
      | "seed"
      | "malformedShare"
      | "duplicateShare"
      | "fresh"
      | "policy"
      | "sinkWorker"
      | "drainTimeoutMs"
      | "progressMs"
    >
  >
> = Object.freeze({
  events: 200_000,
  rate: 0,
  seed: 42,
  malformedShare: 0.01,
  duplicateShare: 0.01,
  fresh: true,
  policy: DEFAULT_BATCH_POLICY,
  sinkWorker: true,
  drainTimeoutMs: 180_000,
  progressMs: 1000,
});

/**
 * A run given up by {@linkcode Pipeline.abort}: the lake and the checks are
 * not complete; what was not uploaded is read again by the next run.
 *
 * @example
 * ```ts
 * import { PipelineAbortedError } from "./pipeline.ts";
 * console.log(new PipelineAbortedError("MinIO frozen").message); // pipeline aborted: MinIO frozen
 * ```
 */
export class PipelineAbortedError extends Error {
  /** Says why the run was given up. */
  constructor(reason: string) {
    super(`pipeline aborted: ${reason}`);
    this.name = "PipelineAbortedError";
  }
}

/** Options of {@linkcode Pipeline}; defaults in {@linkcode DEFAULT_PIPELINE}. */
export interface PipelineOptions {
  /** Brokers, registry, lake and default names. */
  config: Config;
  /** Records to produce (events, duplicates and malformed together). */
  events?: number;
  /** Or: produce for this many milliseconds. Neither: until `stop()` (follow mode). */
  durationMs?: number;
  /** Records per second to aim at; 0: as fast as possible. */
  rate?: number;
  /** Generator seed. */
  seed?: number;
  /** Share of malformed records. */
  malformedShare?: number;
  /** Share of duplicates. */
  duplicateShare?: number;
  /** Schema versions (default: v2 from the middle of a counted run, else v1). */
  schema?: SchemaPlan;
  /**
   * Mean simulated time between events, ms (default the generator's
   * `meanStepMs`: 100,000 events per hour). A small run spans several UTC
   * hours with a bigger step.
   */
  meanStepMs?: number;
  /** Topic names (default `config.topics`). */
  topics?: ShopTopics;
  /** The sink's consumer group (default `config.clients.sinkGroup`). */
  groupId?: string;
  /** Start from a clean slate for these topics; see the module doc. */
  fresh?: boolean;
  /** The sink's batching policy. */
  policy?: BatchPolicy;
  /** Run the sink in a worker thread of its own (false: in this thread). */
  sinkWorker?: boolean;
  /**
   * Port of the run's Prometheus `/metrics` and `/health` (default `config.metrics.port`;
   * 0: any free port; false: none). A port in use is reported and the run goes on without.
   */
  metricsPort?: number | false;
  /** How long to wait for the sink to catch up after producing, ms. */
  drainTimeoutMs?: number;
  /** Called with progress about every `progressMs`. */
  onProgress?: (p: PipelineProgress) => void;
  /** Milliseconds between progress calls. */
  progressMs?: number;
  /** Lines about the stages ("moving the sink group to the end ..."). */
  log?: (line: string) => void;
}

/** Where a run stands. */
export interface PipelineProgress {
  /** The stage running. */
  stage: "produce" | "drain" | "silver" | "gold" | "read-back";
  /** Milliseconds since the run started. */
  elapsedMs: number;
  /** Records handed to the producers. */
  produced: number;
  /** Records acknowledged by the cluster. */
  acknowledged: number;
  /** Records written to bronze by the sink. */
  bronze: number;
  /** Records the sink sent to the dead-letter topic. */
  deadLetters: number;
  /** Records the sink holds in buffers or uploads. */
  buffered: number;
  /** Acknowledged records per second since the start. */
  producedPerSec: number;
  /** Bronze + dead-lettered records per second since the start. */
  sunkPerSec: number;
  /** Resident memory of this process, bytes. */
  rss: number;
}

/** What a run did and whether the lake agrees with the tally. */
export interface PipelineSummary {
  /** The topics used. */
  topics: ShopTopics;
  /** Generator seed. */
  seed: number;
  /** Records produced. */
  produced: number;
  /** Records consumed by the sink (bronze rows + dead letters). */
  consumed: number;
  /** Records the sink dead-lettered. */
  deadLetters: number;
  /** Records appended to the dead-letter topic during the run (its end offsets). */
  dlqAppended: number;
  /** Per layer and topic, read back from the lake. */
  lake: LakeSummaryRow[];
  /** The silver job's report per topic. */
  silver: LayerJobReport[];
  /** The gold job's report. */
  gold: LayerJobReport;
  /** Sum of the sink group's lag over the event topics after the run. */
  endLag: number;
  /** Wall-clock milliseconds from the first record to the sink's last commit. */
  pipelineMs: number;
  /** Wall-clock milliseconds of producing. */
  produceMs: number;
  /** Acknowledged records per second while producing. */
  producedPerSec: number;
  /** Records per second from generator to bronze (produced / pipelineMs). */
  endToEndPerSec: number;
  /** Sink flushes and the slowest-flush percentiles (ms, over topics). */
  flushes: number;
  /** Median flush time, ms (the slowest topic's). */
  flushP50Ms: number;
  /** 99th percentile flush time, ms (the slowest topic's). */
  flushP99Ms: number;
  /** Peak resident memory of the process, bytes. */
  peakRss: number;
  /** Each check of the lake against the tally. */
  checks: PipelineCheck[];
  /** true when every check passed. */
  ok: boolean;
  /** What the generator says the lake must hold. */
  tally: Tally;
}

function sum(values: Iterable<number>): number {
  let n = 0;
  for (const v of values) n += v;
  return n;
}

/** Copies the producer's and the sink's counts into the contract's metrics. */
function mirror(
  metrics: ShopstreamMetrics,
  producer: ShopStreamProducer | undefined,
  sink: SinkSnapshot | undefined,
): void {
  if (producer) {
    const c = producer.counters();
    for (const [topic, n] of Object.entries(c.produced)) metrics.produced.advanceTo({ topic }, n);
    for (const [topic, n] of Object.entries(c.resent)) {
      metrics.producerResent.advanceTo({ topic }, n);
    }
    for (const [topic, n] of Object.entries(c.malformedProduced)) {
      metrics.malformedProduced.advanceTo({ topic }, n);
    }
  }
  if (sink) {
    const l = sink.labelled;
    for (const [topic, byRegion] of Object.entries(l.records)) {
      for (const [region, n] of Object.entries(byRegion)) {
        metrics.sinkRecords.advanceTo({ topic, region }, n);
      }
    }
    for (const [topic, byReason] of Object.entries(l.deadLetters)) {
      for (const [reason, n] of Object.entries(byReason)) {
        metrics.sinkDeadLetters.advanceTo({ topic, reason }, n);
      }
    }
    for (const [topic, byRegion] of Object.entries(l.flushes)) {
      for (const [region, n] of Object.entries(byRegion)) {
        metrics.sinkFlushes.advanceTo({ topic, region }, n);
      }
    }
    for (const [topic, n] of Object.entries(l.flushFailures)) {
      metrics.sinkFlushFailures.advanceTo({ topic }, n);
    }
    for (const [topic, n] of Object.entries(l.buffered)) metrics.sinkBuffered.set({ topic }, n);
    metrics.sinkConsumerRestarts.advanceTo({}, sink.consumerRestarts);
    metrics.sinkWaitingForStore.set({}, sink.waitingForStore ? 1 : 0);
    metrics.lakeObjects.advanceTo({ layer: "bronze" }, sink.totals.objects);
  }
}

/** One run's clients and what it started; `#close` stops whatever was started. */
interface RunContext {
  readonly kafka: Kafka;
  readonly admin: ClusterAdmin;
  readonly store: LakeStore;
  readonly registry: MetricsRegistry;
  readonly metrics: ShopstreamMetrics;
  /** The four event topics' names. */
  readonly eventTopics: string[];
  stage: PipelineProgress["stage"];
  sink?: SinkHandle;
  producer?: ShopStreamProducer;
  server?: MetricsServer;
  ticker?: ReturnType<typeof setInterval>;
}

/** Records in the logs of a run's topics (Kafka's end offsets), before or during the run. */
interface LogCounts {
  deadLetter: number;
  /** By event topic name. */
  events: Record<string, number>;
}

/** What the lake holds after the run. */
interface LakeReadBack {
  lake: LakeSummaryRow[];
  goldRows: Row[];
}

/** What the stages of a run gathered, for its summary. */
interface RunFigures {
  produced: ProduceSummary;
  /** The sink's last snapshot, after it stopped. */
  sunk: SinkSnapshot;
  pipelineMs: number;
  appended: LogCounts;
  endLag: number;
  silver: LayerJobReport[];
  gold: LayerJobReport;
  lake: LakeSummaryRow[];
  checks: PipelineCheck[];
  tally: Tally;
}

/**
 * One pipeline run. Lifecycle: `run()` (resolves with the summary), `stop()`
 * to end an unbounded or long run early (it still drains, builds silver and
 * gold, and checks).
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { Pipeline } from "./pipeline.ts";
 * const pipeline = new Pipeline({ config: loadConfig(), onProgress: (p) => console.log(p.bronze) });
 * setTimeout(() => pipeline.stop(), 10_000);
 * console.log((await pipeline.run()).ok);
 * ```
 */
export class Pipeline {
  /** The topics used. */
  readonly topics: ShopTopics;
  /** The sink's consumer group. */
  readonly groupId: string;
  /** Generator seed. */
  readonly seed: number;
  readonly #options: PipelineOptions;
  #producer?: ShopStreamProducer;
  #stopped = false;
  #peakRss = 0;
  #metricsUrl?: string;

  /** A pipeline with these options; nothing starts before `run()`. */
  constructor(options: PipelineOptions) {
    this.#options = options;
    this.topics = options.topics ?? options.config.topics;
    this.groupId = options.groupId ?? options.config.clients.sinkGroup;
    this.seed = options.seed ?? DEFAULT_PIPELINE.seed;
  }

  /** Where the run serves `/metrics` and `/health` while it runs, once it does. */
  get metricsUrl(): string | undefined {
    return this.#metricsUrl;
  }

  /** Ends producing now; `run()` then drains, builds silver and gold, and checks. */
  stop(): void {
    this.#stopped = true;
    this.#producer?.stop();
  }

  #aborted?: PipelineAbortedError;
  readonly #abort = Promise.withResolvers<never>();

  /**
   * Gives the run up now (e.g. a stop that could not finish in time: MinIO
   * frozen): `run()` rejects with {@linkcode PipelineAbortedError} within a
   * few seconds, the sink stops without committing anything more (what was
   * not uploaded is read again by the next run), no lake job runs.
   */
  abort(reason: string): void {
    if (this.#aborted) return;
    this.#aborted = new PipelineAbortedError(reason);
    this.stop();
    this.#abort.reject(this.#aborted);
  }

  /**
   * Runs the pipeline (see the module doc): prepare the topics and the lake,
   * start the sink, the producer and the metrics server, produce, drain the
   * sink, build silver and gold, read the lake back and check it. Rejects
   * soon after {@linkcode Pipeline.abort}.
   */
  async run(): Promise<PipelineSummary> {
    this.#abort.promise.catch(() => {});
    const work = this.#run();
    try {
      return await Promise.race([work, this.#abort.promise]);
    } catch (e) {
      // Aborted: the run's own cleanup (sink stopped, clients closed) gets a short bound.
      if (this.#aborted) await withDeadline(work, 3000, "cleanup").catch(() => {});
      throw e;
    }
  }

  async #run(): Promise<PipelineSummary> {
    const run = this.#open();
    await run.admin.connect();
    try {
      const before = await this.#prepare(run);
      run.sink = await this.#startSink(run);
      const producer = run.producer = this.#producer = await this.#startProducer(run);
      run.server = await this.#serveMetrics(run);
      const started = performance.now();
      run.ticker = this.#startProgress(run, started);
      this.#log("producing");
      const produced = await producer.run();
      const sunk = await this.#drain(run, producer.tally.totals().produced);
      const pipelineMs = performance.now() - started;
      clearInterval(run.ticker);
      run.ticker = undefined;
      const appended = await this.#appendedSince(run, before);
      const endLag = await this.#endLag(run);
      const { silver, gold } = await this.#buildLayers(run);
      const { lake, goldRows } = await this.#readBack(run);
      const tally = producer.tally;
      const checks = pipelineChecks({
        topics: this.topics,
        tally,
        appended: appended.events,
        sinkDeadLetters: sunk.totals.deadLetters,
        dlqAppended: appended.deadLetter,
        lake,
        goldRows,
        endLag,
      });
      this.#rss();
      return this.#summary({
        produced,
        sunk,
        pipelineMs,
        appended,
        endLag,
        silver,
        gold,
        lake,
        checks,
        tally,
      });
    } finally {
      await this.#close(run);
    }
  }

  /** The run's clients, metrics registry and topic names; nothing started yet. */
  #open(): RunContext {
    const config = this.#options.config;
    const kafka = createKafka(config, { clientId: config.clients.producer });
    const registry = new MetricsRegistry();
    return {
      kafka,
      admin: new ClusterAdmin(kafka),
      store: LakeStore.fromConfig(config),
      registry,
      metrics: registerShopstreamMetrics(registry),
      eventTopics: TOPIC_KEYS.map((k) => this.topics[k]),
      stage: "produce",
    };
  }

  /** Stops, in order, whatever the run started (each stop's failure ignored but the admin's). */
  async #close(run: RunContext): Promise<void> {
    if (run.ticker !== undefined) clearInterval(run.ticker);
    await run.server?.stop().catch(() => {});
    await run.producer?.disconnect().catch(() => {});
    // After a failure or an abort the sink gets a short bound: nothing more is committed past it.
    await run.sink?.stop(this.#aborted ? 2000 : 10_000).catch(() => {});
    await run.admin.disconnect();
  }

  /**
   * Makes the bucket and the topics exist; a fresh run moves the sink group to
   * the end of the event topics and empties their lake folders. Returns the
   * logs' counts before the run.
   */
  async #prepare(run: RunContext): Promise<LogCounts> {
    const { admin, store } = run;
    await store.ensureBucket();
    await ensureTopics(admin, this.#options.config, this.topics);
    if (this.#options.fresh ?? DEFAULT_PIPELINE.fresh) {
      this.#log(`fresh run: sink group ${this.groupId} to the end of the topics, lake emptied`);
      for (const t of run.eventTopics) await admin.resetOffsets(this.groupId, t, "latest");
      for (const t of run.eventTopics) {
        await store.removeAll(layerPrefix("bronze", t));
        await store.removeAll(layerPrefix("silver", t));
      }
      await store.removeAll(layerPrefix("gold", this.topics.orders));
    }
    return await this.#logCounts(run);
  }

  /** Records appended so far to the dead-letter topic and to each event topic. */
  async #logCounts(run: RunContext): Promise<LogCounts> {
    const deadLetter = await run.admin.recordsAppended(this.topics.deadLetter);
    const events: Record<string, number> = {};
    for (const t of run.eventTopics) events[t] = await run.admin.recordsAppended(t);
    return { deadLetter, events };
  }

  /** Starts the lake sink (in a worker of its own unless `sinkWorker` is false). */
  #startSink(run: RunContext): Promise<SinkHandle> {
    const o = this.#options;
    return startSink({
      config: o.config,
      groupId: this.groupId,
      topics: familyTopics(this.topics),
      deadLetterTopic: this.topics.deadLetter,
      policy: o.policy ?? DEFAULT_PIPELINE.policy,
    }, {
      worker: o.sinkWorker ?? DEFAULT_PIPELINE.sinkWorker,
      onFlush: (f) => run.metrics.sinkFlushSeconds.observe({ topic: f.topic }, f.seconds),
    });
  }

  /** Connects the producer service (stopped at once if `stop()` came first). */
  async #startProducer(run: RunContext): Promise<ShopStreamProducer> {
    const o = this.#options;
    const d = DEFAULT_PIPELINE;
    const producer = new ShopStreamProducer(run.kafka, o.config, {
      topics: this.topics,
      events: o.events,
      durationMs: o.durationMs,
      rate: o.rate ?? d.rate,
      generator: {
        seed: this.seed,
        malformedShare: o.malformedShare ?? d.malformedShare,
        duplicateShare: o.duplicateShare ?? d.duplicateShare,
        schema: o.schema ?? (o.events !== undefined ? { v2From: Math.floor(o.events / 2) } : "v1"),
        meanStepMs: o.meanStepMs,
      },
    });
    await producer.connect();
    if (this.#stopped) producer.stop();
    return producer;
  }

  /**
   * Serves `/metrics` (the contract's names, the Kafka facts) and `/health`
   * unless `metricsPort` is false; a port that cannot be had is logged and
   * the run goes on without.
   */
  async #serveMetrics(run: RunContext): Promise<MetricsServer | undefined> {
    const port = this.#options.metricsPort ?? this.#options.config.metrics.port;
    if (port === false) return undefined;
    const { registry, metrics } = run;
    exposeKafkaFacts(registry, metrics, run.admin, {
      group: this.groupId,
      topics: run.eventTopics,
      dlqTopic: this.topics.deadLetter,
    });
    registry.onScrape(() => mirror(metrics, run.producer, run.sink?.snapshot()));
    const sink = run.sink!;
    const server = new MetricsServer(registry, {
      port,
      health: () => sinkHealth(sink),
    });
    try {
      await server.start();
    } catch (e) {
      this.#log(`metrics: not served (${(e as Error).message}); the run goes on`);
      return undefined;
    }
    this.#metricsUrl = server.url;
    this.#log(`metrics: ${server.url}/metrics (deno task monitor reads them)`);
    return server;
  }

  /** Calls `onProgress` every `progressMs` from now on. */
  #startProgress(run: RunContext, started: number): ReturnType<typeof setInterval> {
    const sink = run.sink!, producer = run.producer!;
    const progress = (): PipelineProgress => {
      const elapsedMs = performance.now() - started;
      const t = sink.snapshot().totals;
      const acknowledged = sum(Object.values(producer.counters().produced));
      return {
        stage: run.stage,
        elapsedMs,
        produced: producer.generator.emitted,
        acknowledged,
        bronze: t.records,
        deadLetters: t.deadLetters,
        buffered: t.buffered,
        producedPerSec: acknowledged / elapsedMs * 1000,
        sunkPerSec: (t.records + t.deadLetters) / elapsedMs * 1000,
        rss: this.#rss(),
      };
    };
    const every = this.#options.progressMs ?? DEFAULT_PIPELINE.progressMs;
    return setInterval(() => this.#options.onProgress?.(progress()), every);
  }

  /**
   * Waits until the sink has committed every record of the event topics
   * (asking it to upload what it buffers once everything is read; see
   * `drain.ts`), then stops it: every buffer flushed, offsets committed.
   * Returns its last snapshot.
   */
  async #drain(run: RunContext, produced: number): Promise<SinkSnapshot> {
    run.stage = "drain";
    this.#log(`draining: waiting for the sink to commit ${produced} records`);
    const sink = run.sink!;
    await drainSink(sink, run.admin, {
      groupId: this.groupId,
      topics: run.eventTopics,
      timeoutMs: this.#options.drainTimeoutMs ?? DEFAULT_PIPELINE.drainTimeoutMs,
      abandoned: () => this.#aborted?.message,
    });
    const final = await sink.stop();
    run.sink = undefined;
    mirror(run.metrics, run.producer, final);
    return final;
  }

  /**
   * What the logs received during the run, from Kafka's end offsets (neither
   * the producer's nor the sink's bookkeeping). More than was produced to a
   * topic means copies: a send retried after a broker failure can land twice.
   */
  async #appendedSince(run: RunContext, before: LogCounts): Promise<LogCounts> {
    const now = await this.#logCounts(run);
    const events: Record<string, number> = {};
    for (const t of run.eventTopics) events[t] = now.events[t] - before.events[t];
    return { deadLetter: now.deadLetter - before.deadLetter, events };
  }

  /** Sum of the sink group's lag over the event topics. */
  async #endLag(run: RunContext): Promise<number> {
    let endLag = 0;
    for (const t of run.eventTopics) {
      endLag += sum((await run.admin.lag(this.groupId, t)).map((l) => l.lag));
    }
    return endLag;
  }

  /** Builds silver for every event topic, then gold from the orders' silver. */
  async #buildLayers(run: RunContext): Promise<{ silver: LayerJobReport[]; gold: LayerJobReport }> {
    run.stage = "silver";
    this.#log("silver");
    const silverJob = new SilverJob(run.store);
    const silver: LayerJobReport[] = [];
    for (const k of TOPIC_KEYS) silver.push(await silverJob.run(this.topics[k], FAMILY_OF[k]));
    run.stage = "gold";
    this.#log("gold");
    const gold = await new GoldJob(run.store).run(this.topics.orders);
    for (const r of silver) run.metrics.lakeObjects.inc({ layer: "silver" }, r.objectsWritten);
    run.metrics.lakeObjects.inc({ layer: "gold" }, gold.objectsWritten);
    return { silver, gold };
  }

  /** Reads the lake back on its own: rows per layer and topic, and the gold rows. */
  async #readBack(run: RunContext): Promise<LakeReadBack> {
    run.stage = "read-back";
    this.#log("reading the lake back");
    const reader = new LakeReader(run.store);
    const lake = await reader.summary({ topics: run.eventTopics });
    const goldRows = await reader.rows("gold", `${this.topics.orders}/${ORDERS_HOURLY}`);
    return { lake, goldRows };
  }

  /** The run's summary from the figures the stages gathered. */
  #summary(figures: RunFigures): PipelineSummary {
    const { produced, sunk, pipelineMs, checks } = figures;
    return {
      topics: this.topics,
      seed: this.seed,
      produced: produced.records,
      consumed: sunk.totals.records + sunk.totals.deadLetters,
      deadLetters: sunk.totals.deadLetters,
      dlqAppended: figures.appended.deadLetter,
      lake: figures.lake,
      silver: figures.silver,
      gold: figures.gold,
      endLag: figures.endLag,
      pipelineMs,
      produceMs: produced.elapsedMs,
      producedPerSec: produced.eventsPerSec,
      endToEndPerSec: produced.records / pipelineMs * 1000,
      flushes: sunk.totals.flushes,
      flushP50Ms: sunk.flushP50Ms,
      flushP99Ms: sunk.flushP99Ms,
      peakRss: this.#peakRss,
      checks,
      ok: checks.every((c) => c.ok),
      tally: figures.tally,
    };
  }

  #log(line: string): void {
    this.#options.log?.(line);
  }

  #rss(): number {
    const rss = Deno.memoryUsage().rss;
    if (rss > this.#peakRss) this.#peakRss = rss;
    return rss;
  }
}

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/**
 * The run summary as aligned tables: the pipeline's figures, the lake per
 * layer, and the checks.
 *
 * @example
 * ```ts
 * import { formatPipelineSummary, type PipelineSummary } from "./pipeline.ts";
 * declare const summary: PipelineSummary;
 * console.log(formatPipelineSummary(summary));
 * ```
 */
export function formatPipelineSummary(s: PipelineSummary): string {
  const layers = new Map<string, { files: number; rows: number; bytes: number }>();
  for (const r of s.lake) {
    const l = layers.get(r.layer) ?? { files: 0, rows: 0, bytes: 0 };
    l.files += r.files;
    l.rows += r.rows;
    l.bytes += r.bytes;
    layers.set(r.layer, l);
  }
  const figures = formatTable(["figure", "value"], [
    ["produced", s.produced],
    ["consumed by the sink", s.consumed],
    ["dead letters", s.deadLetters],
    ...["bronze", "silver", "gold"].map((layer) => {
      const l = layers.get(layer) ?? { files: 0, rows: 0, bytes: 0 };
      return [`${layer} files / rows`, `${l.files} / ${l.rows} (${mb(l.bytes)})`];
    }),
    ["duplicates removed by silver", sum(s.silver.map((r) => r.duplicates))],
    ["end lag", s.endLag],
    ["produce throughput", `${Math.round(s.producedPerSec)} events/s`],
    ["end-to-end throughput", `${Math.round(s.endToEndPerSec)} events/s`],
    ["generator -> bronze time", `${(s.pipelineMs / 1000).toFixed(1)} s`],
    [
      "sink flushes",
      `${s.flushes} (p50 ${s.flushP50Ms.toFixed(0)} ms, p99 ${s.flushP99Ms.toFixed(0)} ms)`,
    ],
    ["peak memory (RSS)", mb(s.peakRss)],
  ]);
  const lake = formatTable(
    ["layer", "topic", "table", "regions", "partitions", "files", "rows"],
    s.lake.map((r) => [r.layer, r.topic, r.table, r.regions, r.partitions, r.files, r.rows]),
  );
  const checks = formatTable(
    ["check", "expected", "actual", "ok"],
    s.checks.map((c) => [c.name, c.expected, c.actual, c.ok ? "ok" : "FAIL"]),
  );
  return [
    figures,
    "",
    lake,
    "",
    checks,
    "",
    s.ok
      ? "consistent: the lake holds exactly what the generator tallied"
      : "INCONSISTENT: see the failed checks above",
  ].join("\n");
}

/**
 * One progress line for `--follow` and long runs.
 *
 * @example
 * ```ts
 * import { formatProgress } from "./pipeline.ts";
 * console.log(formatProgress({ stage: "produce", elapsedMs: 2000, produced: 40000, acknowledged: 39000,
 *   bronze: 30000, deadLetters: 300, buffered: 8000, producedPerSec: 19500, sunkPerSec: 15150, rss: 2e8 }));
 * ```
 */
export function formatProgress(p: PipelineProgress): string {
  return `${(p.elapsedMs / 1000).toFixed(1).padStart(6)} s  ${p.stage.padEnd(7)} produced ${
    String(p.acknowledged).padStart(9)
  } (${Math.round(p.producedPerSec)}/s)  bronze ${String(p.bronze).padStart(9)}  dlq ${
    String(p.deadLetters).padStart(6)
  }  buffered ${String(p.buffered).padStart(7)}  sunk ${Math.round(p.sunkPerSec)}/s  rss ${
    mb(p.rss)
  }`;
}
