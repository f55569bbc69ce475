/**
 * The ShopStream pipeline, end to end, for one bounded run (or until
 * stopped): generator -> producer service -> Kafka -> lake sink (bronze) ->
 * silver -> gold, then an independent read-back of the lake checked against
 * the generator's own tally.
 *
 * A fresh run (the default) starts from a clean slate for its topics: the
 * sink group is moved to the end of every event topic and the topics' bronze,
 * silver and gold folders are emptied, so what the lake holds afterwards is
 * exactly this run. The checks: each topic's log (Kafka's end offsets) holds at
 * least what was produced to it; bronze rows = produced - malformed per topic
 * (plus at most the copies the log holds beyond that, when a broker failure
 * made a retried send land twice); dead letters >= malformed (a re-read after
 * a rebalance dead-letters again; equal in a quiet run); silver rows =
 * distinct events; gold rows equal the tally's to the cent; no lag left.
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
import type { Config } from "../config.ts";
import { ClusterAdmin } from "../kafka/admin.ts";
import { createKafka } from "../kafka/client.ts";
import { layerPrefix } from "../lake/paths.ts";
import { LakeStore } from "../lake/store.ts";
import type { Row } from "../lake/table.ts";
import { withDeadline } from "../util/deadline.ts";
import { formatTable } from "../util/table.ts";
import type { BatchPolicy } from "./batcher.ts";
import { FAMILY_OF, type SchemaPlan, TOPIC_KEYS } from "./generator.ts";
import { GoldJob, ORDERS_HOURLY } from "./gold.ts";
import { LakeReader, type LakeSummaryRow } from "./lake_reader.ts";
import { ensureTopics, ShopStreamProducer } from "./producer.ts";
import { familyTopics, type ShopTopics } from "./topics.ts";
import { type LayerJobReport, SilverJob } from "./silver.ts";
import { type SinkHandle, sinkHealth, type SinkSnapshot, startSink } from "./sink_runner.ts";
import { drainSink } from "./drain.ts";
import { MetricsRegistry } from "../observe/prometheus.ts";
import { MetricsServer } from "../observe/metrics_server.ts";
import {
  exposeKafkaFacts,
  registerShopstreamMetrics,
  type ShopstreamMetrics,
} from "./monitoring.ts";
import type { GoldRow, Tally } from "./tally.ts";

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
  constructor(reason: string) {
    super(`pipeline aborted: ${reason}`);
    this.name = "PipelineAbortedError";
  }
}

/** Options of {@linkcode Pipeline}. */
export interface PipelineOptions {
  config: Config;
  /** Records to produce (events, duplicates and malformed together). */
  events?: number;
  /** Or: produce for this many milliseconds. Neither: until `stop()` (follow mode). */
  durationMs?: number;
  /** Records per second to aim at; 0 or absent: as fast as possible. */
  rate?: number;
  /** Generator seed (default 42). */
  seed?: number;
  /** Share of malformed records (default 0.01). */
  malformedShare?: number;
  /** Share of duplicates (default 0.01). */
  duplicateShare?: number;
  /** Schema versions (default: v2 from the middle of a counted run, else v1). */
  schema?: SchemaPlan;
  /**
   * Mean simulated time between events, ms (the generator's `meanStepMs`,
   * default 36: 100,000 events per hour). A small run spans several UTC hours
   * with a bigger step.
   */
  meanStepMs?: number;
  /** Topic names (default `config.topics`). */
  topics?: ShopTopics;
  /** The sink's consumer group (default `config.clients.sinkGroup`). */
  groupId?: string;
  /** Start from a clean slate for these topics (default true); see the module doc. */
  fresh?: boolean;
  /** The sink's batching policy (default the sink's). */
  policy?: BatchPolicy;
  /** Run the sink in a worker thread of its own (default true; false: in this thread). */
  sinkWorker?: boolean;
  /**
   * Port of the run's Prometheus `/metrics` and `/health` (default `config.metrics.port`;
   * 0: any free port; false: none). A port in use is reported and the run goes on without.
   */
  metricsPort?: number | false;
  /** How long to wait for the sink to catch up after producing (default 180 s). */
  drainTimeoutMs?: number;
  /** Called with progress about every `progressMs` (default 1000). */
  onProgress?: (p: PipelineProgress) => void;
  /** Milliseconds between progress calls. */
  progressMs?: number;
  /** Lines about the stages ("moving the sink group to the end ..."). */
  log?: (line: string) => void;
}

/** Where a run stands. */
export interface PipelineProgress {
  stage: "produce" | "drain" | "silver" | "gold" | "read-back";
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

/** One check of a run against the tally. */
export interface PipelineCheck {
  name: string;
  expected: string;
  actual: string;
  ok: boolean;
}

/** What a run did and whether the lake agrees with the tally. */
export interface PipelineSummary {
  topics: ShopTopics;
  seed: number;
  produced: number;
  /** Records consumed by the sink (bronze rows + dead letters). */
  consumed: number;
  deadLetters: number;
  /** Records appended to the dead-letter topic during the run (its end offsets). */
  dlqAppended: number;
  /** Per layer and topic, read back from the lake. */
  lake: LakeSummaryRow[];
  silver: LayerJobReport[];
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
  flushP50Ms: number;
  flushP99Ms: number;
  /** Peak resident memory of the process, bytes. */
  peakRss: number;
  checks: PipelineCheck[];
  ok: boolean;
  tally: Tally;
}

function sum(values: Iterable<number>): number {
  let n = 0;
  for (const v of values) n += v;
  return n;
}

function goldKey(r: { region: string; date: string; hour: string }): string {
  return `${r.region}|${r.date}|${r.hour}`;
}

function goldText(r: Omit<GoldRow, "region" | "date" | "hour">): string {
  return [
    r.orders,
    r.revenue_minor,
    r.currency,
    r.revenue_eur_minor,
    r.avg_basket_minor,
    r.top_products,
  ].join(" ");
}

/**
 * Compares gold rows read from the lake with the tally's, to the cent;
 * returns one line per difference (empty when they agree).
 *
 * @example
 * ```ts
 * import { compareGold } from "./pipeline.ts";
 * console.log(compareGold([], [])); // []
 * ```
 */
export function compareGold(lake: readonly Row[], tally: readonly GoldRow[]): string[] {
  const problems: string[] = [];
  const want = new Map(tally.map((g) => [goldKey(g), goldText(g)]));
  const seen = new Set<string>();
  for (const r of lake) {
    const key = goldKey(r as unknown as GoldRow);
    const got = goldText({
      orders: BigInt(r.orders as bigint),
      revenue_minor: BigInt(r.revenue_minor as bigint),
      currency: String(r.currency),
      revenue_eur_minor: BigInt(r.revenue_eur_minor as bigint),
      avg_basket_minor: BigInt(r.avg_basket_minor as bigint),
      top_products: String(r.top_products),
    });
    if (seen.has(key)) problems.push(`${key}: two gold rows`);
    seen.add(key);
    const expected = want.get(key);
    if (expected === undefined) problems.push(`${key}: in the lake, not in the tally`);
    else if (expected !== got) problems.push(`${key}: lake "${got}" != tally "${expected}"`);
  }
  for (const key of want.keys()) if (!seen.has(key)) problems.push(`${key}: missing in the lake`);
  return problems;
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

function check(name: string, expected: unknown, actual: unknown): PipelineCheck {
  return { name, expected: String(expected), actual: String(actual), ok: expected === actual };
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
  readonly topics: ShopTopics;
  readonly groupId: string;
  readonly seed: number;
  readonly #options: PipelineOptions;
  #producer?: ShopStreamProducer;
  #stopped = false;
  #aborted?: PipelineAbortedError;
  readonly #abort = Promise.withResolvers<never>();
  #peakRss = 0;
  #metricsUrl?: string;

  constructor(options: PipelineOptions) {
    this.#options = options;
    this.topics = options.topics ?? options.config.topics;
    this.groupId = options.groupId ?? options.config.clients.sinkGroup;
    this.seed = options.seed ?? 42;
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

  #log(line: string): void {
    this.#options.log?.(line);
  }

  #rss(): number {
    const rss = Deno.memoryUsage().rss;
    if (rss > this.#peakRss) this.#peakRss = rss;
    return rss;
  }

  /** Runs the pipeline; see the module doc. Rejects soon after `abort()`. */
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
    const o = this.#options;
    const config = o.config;
    const topics = this.topics;
    const eventTopics = TOPIC_KEYS.map((k) => topics[k]);
    const kafka = createKafka(config, { clientId: config.clients.producer });
    const admin = new ClusterAdmin(kafka);
    const store = LakeStore.fromConfig(config);
    await admin.connect();
    let sink: SinkHandle | undefined;
    let producer: ShopStreamProducer | undefined;
    let ticker: ReturnType<typeof setInterval> | undefined;
    let server: MetricsServer | undefined;
    const registry = new MetricsRegistry();
    const metrics = registerShopstreamMetrics(registry);
    try {
      await store.ensureBucket();
      await ensureTopics(admin, config, topics);
      if (o.fresh ?? true) {
        this.#log(`fresh run: sink group ${this.groupId} to the end of the topics, lake emptied`);
        for (const t of eventTopics) await admin.resetOffsets(this.groupId, t, "latest");
        for (const t of eventTopics) {
          await store.removeAll(layerPrefix("bronze", t));
          await store.removeAll(layerPrefix("silver", t));
        }
        await store.removeAll(layerPrefix("gold", topics.orders));
      }
      const dlqBefore = await admin.recordsAppended(topics.deadLetter);
      const logBefore = new Map<string, number>();
      for (const t of eventTopics) logBefore.set(t, await admin.recordsAppended(t));

      const families = familyTopics(topics);
      sink = await startSink({
        config,
        groupId: this.groupId,
        topics: families,
        deadLetterTopic: topics.deadLetter,
        policy: o.policy,
      }, {
        worker: o.sinkWorker ?? true,
        onFlush: (f) => metrics.sinkFlushSeconds.observe({ topic: f.topic }, f.seconds),
      });

      const events = o.events;
      const schema = o.schema ??
        (events !== undefined ? { v2From: Math.floor(events / 2) } : "v1");
      producer = this.#producer = new ShopStreamProducer(kafka, config, {
        topics,
        events,
        durationMs: o.durationMs,
        rate: o.rate,
        generator: {
          seed: this.seed,
          malformedShare: o.malformedShare ?? 0.01,
          duplicateShare: o.duplicateShare ?? 0.01,
          schema,
          meanStepMs: o.meanStepMs,
        },
      });
      await producer.connect();
      if (this.#stopped) producer.stop();

      const port = o.metricsPort ?? config.metrics.port;
      if (port !== false) {
        exposeKafkaFacts(registry, metrics, admin, {
          group: this.groupId,
          topics: eventTopics,
          dlqTopic: topics.deadLetter,
        });
        registry.onScrape(() => mirror(metrics, producer, sink?.snapshot()));
        const running = sink;
        server = new MetricsServer(registry, {
          port,
          health: () => sinkHealth(running),
        });
        try {
          await server.start();
          this.#metricsUrl = server.url;
          this.#log(`metrics: ${server.url}/metrics (deno task monitor reads them)`);
        } catch (e) {
          this.#log(`metrics: not served (${(e as Error).message}); the run goes on`);
          server = undefined;
        }
      }

      const started = performance.now();
      let stage: PipelineProgress["stage"] = "produce";
      const progress = (): PipelineProgress => {
        const elapsedMs = performance.now() - started;
        const t = sink!.snapshot().totals;
        const acknowledged = sum(Object.values(producer!.counters().produced));
        return {
          stage,
          elapsedMs,
          produced: producer!.generator.emitted,
          acknowledged,
          bronze: t.records,
          deadLetters: t.deadLetters,
          buffered: t.buffered,
          producedPerSec: acknowledged / elapsedMs * 1000,
          sunkPerSec: (t.records + t.deadLetters) / elapsedMs * 1000,
          rss: this.#rss(),
        };
      };
      ticker = setInterval(() => o.onProgress?.(progress()), o.progressMs ?? 1000);

      this.#log("producing");
      const produced = await producer.run();
      const produceMs = produced.elapsedMs;
      const expected = producer.tally.totals();

      stage = "drain";
      this.#log(`draining: waiting for the sink to commit ${expected.produced} records`);
      await drainSink(sink, admin, {
        groupId: this.groupId,
        topics: eventTopics,
        timeoutMs: o.drainTimeoutMs,
        abandoned: () => this.#aborted?.message,
      });
      const final = await sink.stop();
      sink = undefined;
      mirror(metrics, producer, final);
      const pipelineMs = performance.now() - started;
      const totals = final.totals;
      clearInterval(ticker);
      ticker = undefined;

      let endLag = 0;
      for (const t of eventTopics) {
        endLag += sum((await admin.lag(this.groupId, t)).map((l) => l.lag));
      }
      const dlqAppended = (await admin.recordsAppended(topics.deadLetter)) - dlqBefore;
      // What each topic's log received during the run, from Kafka's end offsets (neither
      // the producer's nor the sink's bookkeeping). More than was produced means copies:
      // a send retried after a broker failure can land twice (at-least-once); bronze keeps
      // them, silver removes them by event id.
      const appended = new Map<string, number>();
      for (const t of eventTopics) {
        appended.set(t, (await admin.recordsAppended(t)) - logBefore.get(t)!);
      }

      stage = "silver";
      this.#log("silver");
      const silverJob = new SilverJob(store);
      const silver: LayerJobReport[] = [];
      for (const k of TOPIC_KEYS) silver.push(await silverJob.run(topics[k], FAMILY_OF[k]));
      stage = "gold";
      this.#log("gold");
      const gold = await new GoldJob(store).run(topics.orders);
      for (const r of silver) metrics.lakeObjects.inc({ layer: "silver" }, r.objectsWritten);
      metrics.lakeObjects.inc({ layer: "gold" }, gold.objectsWritten);

      stage = "read-back";
      this.#log("reading the lake back");
      const reader = new LakeReader(store);
      const lake = await reader.summary({ topics: eventTopics });
      const rowsOf = (layer: string, topic: string) =>
        sum(lake.filter((r) => r.layer === layer && r.topic === topic).map((r) => r.rows));
      const goldRows = await reader.rows("gold", `${topics.orders}/${ORDERS_HOURLY}`);

      const tally = producer.tally;
      const checks: PipelineCheck[] = [];
      for (const k of TOPIC_KEYS) {
        const t = tally.topic(k);
        const inLog = appended.get(topics[k])!;
        checks.push({
          ...check(`log holds every record sent to ${topics[k]}`, `>= ${t.produced}`, inLog),
          ok: inLog >= t.produced,
        });
      }
      for (const k of TOPIC_KEYS) {
        const t = tally.topic(k);
        const copies = appended.get(topics[k])! - t.produced;
        const rows = rowsOf("bronze", topics[k]);
        if (copies <= 0) {
          checks.push(check(`bronze rows ${topics[k]}`, t.bronze, rows));
        } else {
          checks.push({
            ...check(`bronze rows ${topics[k]}`, `${t.bronze} + <= ${copies} copies`, rows),
            ok: rows >= t.bronze && rows <= t.bronze + copies,
          });
        }
      }
      // A sink that re-reads records after a rebalance (a broker failure can move the group
      // coordinator) dead-letters their malformed ones again: copies, never fewer.
      const atLeast = (name: string, want: number, got: number): PipelineCheck => ({
        ...check(name, got === want ? want : `>= ${want}`, got),
        ok: got >= want,
      });
      checks.push(atLeast("dead letters (sink)", expected.malformed, totals.deadLetters));
      checks.push(atLeast(`dead letters (${topics.deadLetter})`, expected.malformed, dlqAppended));
      for (const k of TOPIC_KEYS) {
        const t = tally.topic(k);
        checks.push(check(`silver rows ${topics[k]}`, t.silver, rowsOf("silver", topics[k])));
      }
      const goldProblems = compareGold(goldRows, tally.gold());
      checks.push({
        name: "gold orders_hourly = tally",
        expected: `${tally.gold().length} rows`,
        actual: goldProblems.length === 0
          ? `${goldRows.length} rows`
          : `${goldProblems.length} differences: ${goldProblems.slice(0, 3).join("; ")}`,
        ok: goldProblems.length === 0,
      });
      checks.push(check("end lag", 0, endLag));

      this.#rss();
      return {
        topics,
        seed: this.seed,
        produced: produced.records,
        consumed: totals.records + totals.deadLetters,
        deadLetters: totals.deadLetters,
        dlqAppended,
        lake,
        silver,
        gold,
        endLag,
        pipelineMs,
        produceMs,
        producedPerSec: produced.eventsPerSec,
        endToEndPerSec: produced.records / pipelineMs * 1000,
        flushes: totals.flushes,
        flushP50Ms: final.flushP50Ms,
        flushP99Ms: final.flushP99Ms,
        peakRss: this.#peakRss,
        checks,
        ok: checks.every((c) => c.ok),
        tally,
      };
    } finally {
      if (ticker !== undefined) clearInterval(ticker);
      await server?.stop().catch(() => {});
      await producer?.disconnect().catch(() => {});
      // After a failure or an abort the sink gets a short bound: nothing more is committed past it.
      await sink?.stop(this.#aborted ? 2000 : 10_000).catch(() => {});
      await admin.disconnect();
    }
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
