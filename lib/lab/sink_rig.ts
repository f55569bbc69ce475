/**
 * The pipeline's middle, on a scenario's own topics: the producer service
 * writes generated events (`lab.<run>.orders`, `.payments`, ...), the lake
 * sink reads them into bronze, and its counters are served on the
 * scenario's `/metrics` under the pipeline's names. The MinIO and poison
 * scenarios run on it. Everything it creates (topics, group, subjects,
 * bronze objects) is removed when the scenario closes.
 *
 * @example
 * ```ts
 * import type { LabScenario } from "./scenario.ts";
 * import { SinkRig } from "./sink_rig.ts";
 * declare const scenario: LabScenario;
 * const rig = await SinkRig.start(scenario);
 * await rig.produce(500, 7);
 * await rig.waitCaughtUp();
 * console.log(await rig.countBronze());
 * ```
 *
 * @module
 */
import { withDeadline } from "../util/deadline.ts";
import { pollUntil } from "../util/probe.ts";
import { createObjectStoreClient } from "../lake/client.ts";
import { LakeStore } from "../lake/store.ts";
import { LakeReader } from "../shopstream/lake_reader.ts";
import { LakeSink } from "../shopstream/sink.ts";
import { ensureTopics, ShopStreamProducer } from "../shopstream/producer.ts";
import { familyTopics, type ShopTopics, TOPIC_KEYS, topicsUnder } from "../shopstream/topics.ts";
import type { Totals } from "../shopstream/tally.ts";
import type { ShopstreamMetrics } from "../shopstream/monitoring.ts";
import type { Config } from "../config.ts";
import { deleteTopicsIfPresent, type LabScenario, retrying } from "./scenario.ts";
import { type LabWatch, openWatch } from "./watch.ts";

/**
 * The lake with a bound on every upload and listing: a call that has not
 * answered within `boundMs` fails (and the sink retries it). Without a bound
 * a frozen MinIO would hold an upload forever and no failure would show.
 */
class BoundedStore extends LakeStore {
  constructor(config: Config, readonly boundMs: number) {
    super(createObjectStoreClient(config), config.s3.bucket);
  }

  override put(...args: Parameters<LakeStore["put"]>): ReturnType<LakeStore["put"]> {
    return timedOut(withDeadline(super.put(...args), this.boundMs, `upload of ${args[0]}`));
  }

  override list(...args: Parameters<LakeStore["list"]>): ReturnType<LakeStore["list"]> {
    return timedOut(withDeadline(super.list(...args), this.boundMs, `listing of ${args[0]}`));
  }
}

/**
 * A call past its bound fails as a network timeout (`ETIMEDOUT`), which the
 * sink treats as transient: it waits for MinIO and retries, as with a frozen
 * MinIO behind the store's own idle bound, instead of stopping.
 */
async function timedOut<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (e) {
    if ((e as { code?: string }).code !== undefined) throw e;
    throw Object.assign(new Error((e as Error).message, { cause: e }), { code: "ETIMEDOUT" });
  }
}

/** Bronze as read back from MinIO: rows and distinct Kafka positions per topic. */
export interface BronzeCount {
  /** Rows in every bronze object of the rig's topics. */
  readonly rows: number;
  /** Distinct (topic, partition, offset): a row written twice counts once. */
  readonly distinct: number;
  /** Rows per topic. */
  readonly byTopic: Readonly<Record<string, number>>;
}

/** Options of {@linkcode SinkRig.start}. */
export interface SinkRigOptions {
  /** Bound of one object store call, ms (default 2000). */
  storeBoundMs?: number;
}

/** See the module doc. */
export class SinkRig {
  /** The rig's topics: four event topics and the dead-letter topic. */
  readonly topics: ShopTopics;
  /** The sink's consumer group. */
  readonly group: string;
  /** The running sink. */
  readonly sink: LakeSink;
  /** The metrics endpoint, the monitor and the run's samples. */
  readonly watch: LabWatch;
  readonly #scenario: LabScenario;
  readonly #totals: Totals = {
    produced: 0,
    bronze: 0,
    silver: 0,
    duplicates: 0,
    malformed: 0,
    orders: 0,
  };

  private constructor(scenario: LabScenario, sink: LakeSink, watch: LabWatch, topics: ShopTopics) {
    this.#scenario = scenario;
    this.sink = sink;
    this.watch = watch;
    this.topics = topics;
    this.group = sink.groupId;
  }

  /** The four event topics. */
  get eventTopics(): string[] {
    return TOPIC_KEYS.map((k) => this.topics[k]);
  }

  /** What every wave produced so far, by the generator's own tally. */
  get totals(): Totals {
    return { ...this.#totals };
  }

  /** Creates the topics, starts the sink and the scenario's watch. */
  static async start(scenario: LabScenario, options: SinkRigOptions = {}): Promise<SinkRig> {
    const { lab } = scenario;
    const topics = topicsUnder(scenario.name("shop"));
    const all = [...TOPIC_KEYS.map((k) => topics[k]), topics.deadLetter];
    scenario.defer("delete the rig's topics", () => deleteTopicsIfPresent(lab.admin, all));
    scenario.defer("delete the rig's subjects", async () => {
      for (const key of TOPIC_KEYS) await lab.registry.deleteSubject(`${topics[key]}-value`);
    });
    scenario.defer("delete the rig's bronze objects", async () => {
      for (const key of TOPIC_KEYS) await lab.store.removeAll(`bronze/${topics[key]}/`);
    });
    await ensureTopics(lab.admin, lab.config, topics, 3, 1);
    for (const t of all) {
      await pollUntil(`${t} in sync`, () => lab.admin.inSync(t), 30_000, { intervalMs: 300 });
    }
    const group = scenario.name("lake-sink");
    scenario.defer(`delete group ${group}`, () => lab.admin.deleteGroups([group]));
    const running: { sink?: LakeSink } = {};
    const watch = await openWatch(scenario, {
      group,
      topics: TOPIC_KEYS.map((k) => topics[k]),
      dlqTopic: topics.deadLetter,
    }, (m) => running.sink && mirrorSink(m, running.sink));
    const sink = new LakeSink({
      config: lab.config,
      kafka: lab.kafka,
      store: new BoundedStore(lab.config, options.storeBoundMs ?? 2000),
      groupId: group,
      topics: familyTopics(topics),
      deadLetterTopic: topics.deadLetter,
      policy: { maxRecords: 250, maxBytes: 256 * 1024, maxAgeMs: 500 },
      retryBackoffMs: { initial: 250, max: 1000 },
      onFlush: (f) => watch.metrics.sinkFlushSeconds.observe({ topic: f.topic }, f.seconds),
    });
    // A broker may not know a topic created a moment ago yet: connecting again a moment later works.
    await retrying(() => sink.connect(), 20_000);
    scenario.defer("stop the sink", () => sink.stop(10_000));
    await sink.run();
    running.sink = sink;
    return new SinkRig(scenario, sink, watch, topics);
  }

  /**
   * Produces `events` generated events (seeded: the same seed, the same
   * events) with `malformedShare` of them malformed; adds the generator's
   * tally to {@linkcode totals} and returns this wave's.
   */
  async produce(events: number, seed: number, malformedShare = 0): Promise<Totals> {
    const producer = new ShopStreamProducer(this.#scenario.lab.kafka, this.#scenario.lab.config, {
      topics: this.topics,
      events,
      partitions: 3,
      dlqPartitions: 1,
      generator: { seed, malformedShare, duplicateShare: 0 },
    });
    await producer.connect();
    try {
      await producer.run();
    } finally {
      await producer.disconnect();
    }
    const t = producer.tally.totals();
    for (const k of Object.keys(this.#totals) as (keyof Totals)[]) this.#totals[k] += t[k];
    return t;
  }

  /**
   * Starts a steady stream of generated events, `rate` per second, until
   * `stop()`, which resolves with the stream's tally once every record is
   * acknowledged (and adds it to {@linkcode totals}). Stopped on close too.
   */
  stream(rate: number, seed: number): { stop(): Promise<Totals> } {
    const { kafka, config } = this.#scenario.lab;
    const producer = new ShopStreamProducer(kafka, config, {
      topics: this.topics,
      rate,
      partitions: 3,
      dlqPartitions: 1,
      generator: { seed, malformedShare: 0, duplicateShare: 0 },
    });
    const running = (async () => {
      await producer.connect();
      try {
        await producer.run();
      } finally {
        await producer.disconnect();
      }
    })();
    running.catch(() => {}); // awaited by stop()
    let result: Promise<Totals> | undefined;
    const stop = () =>
      result ??= (async () => {
        producer.stop();
        await running;
        const t = producer.tally.totals();
        for (const k of Object.keys(this.#totals) as (keyof Totals)[]) this.#totals[k] += t[k];
        return t;
      })();
    this.#scenario.defer("stop the stream", () => stop());
    return { stop };
  }

  /** Lag of the sink's group, summed over the event topics. */
  async lag(): Promise<number> {
    let total = 0;
    for (const t of this.eventTopics) {
      const rows = await this.#scenario.lab.admin.lag(this.group, t);
      if (rows.length === 0) return Infinity; // nothing committed yet
      total += rows.reduce((a, r) => a + r.lag, 0);
    }
    return total;
  }

  /** Waits until the sink has committed every event topic to its end. */
  async waitCaughtUp(timeoutMs = 60_000): Promise<void> {
    await pollUntil(
      `the lake sink (${this.group}) at lag 0`,
      async () => {
        if (this.sink.crashed) throw this.sink.crashed;
        return (await this.lag()) === 0;
      },
      timeoutMs,
      { intervalMs: 500 },
    );
  }

  /** Reads every bronze object of the rig's topics back from MinIO and counts rows. */
  async countBronze(): Promise<BronzeCount> {
    const reader = new LakeReader(this.#scenario.lab.store);
    const byTopic: Record<string, number> = {};
    const positions = new Set<string>();
    let rows = 0;
    for (const topic of this.eventTopics) {
      const found = await reader.rows("bronze", topic);
      byTopic[topic] = found.length;
      rows += found.length;
      for (const r of found) positions.add(`${topic}:${r._partition}:${r._offset}`);
    }
    return { rows, distinct: positions.size, byTopic };
  }
}

/** Copies the sink's counts into the contract's metrics (what the pipeline serves). */
function mirrorSink(metrics: ShopstreamMetrics, sink: LakeSink): void {
  const m = sink.metrics();
  for (const [topic, byRegion] of Object.entries(m.records)) {
    for (const [region, n] of Object.entries(byRegion)) {
      metrics.sinkRecords.advanceTo({ topic, region }, n);
    }
  }
  for (const [topic, byReason] of Object.entries(m.deadLetters)) {
    for (const [reason, n] of Object.entries(byReason)) {
      metrics.sinkDeadLetters.advanceTo({ topic, reason }, n);
    }
  }
  for (const [topic, byRegion] of Object.entries(m.flushes)) {
    for (const [region, n] of Object.entries(byRegion)) {
      metrics.sinkFlushes.advanceTo({ topic, region }, n);
    }
  }
  // Every topic's failure counter exists from the start (at 0), so increase() sees the first one.
  for (const topic of Object.values(sink.topics)) {
    metrics.sinkFlushFailures.advanceTo({ topic: topic! }, m.flushFailures[topic!] ?? 0);
  }
  for (const [topic, n] of Object.entries(m.buffered)) metrics.sinkBuffered.set({ topic }, n);
}
