/**
 * The ShopStream producer service: makes sure the topics exist (RF 3, 6
 * partitions, dlq 3, min.insync.replicas 2), registers every schema version
 * under `<topic>-value`, then draws records from an {@linkcode EventGenerator}
 * and sends them: events Avro-encoded in the Confluent wire format (validated
 * before they are sent), keyed by orderId or sessionId so an order's events
 * keep their order, through one idempotent acks=all {@linkcode TopicProducer}
 * per topic (verified sends, batched with `enqueue`). Malformed records go out
 * as their raw bytes. Every record is counted in a {@linkcode Tally}.
 *
 * Lifecycle: `connect()`, `run()` (until the size is reached or `stop()`),
 * `disconnect()`.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { createKafka } from "../kafka/client.ts";
 * import { ShopStreamProducer } from "./producer.ts";
 * const config = loadConfig();
 * const service = new ShopStreamProducer(createKafka(config), config, {
 *   events: 10_000, generator: { seed: 42, malformedShare: 0.01 },
 * });
 * await service.connect();
 * const summary = await service.run();
 * console.log(summary.records, summary.eventsPerSec, service.tally.totals());
 * await service.disconnect();
 * ```
 *
 * @module
 */
import type { Kafka } from "kafkajs";
import type { Config } from "../config.ts";
import { ClusterAdmin } from "../kafka/admin.ts";
import {
  type DeliveryReport,
  TopicProducer,
  type TopicProducerOptions,
} from "../kafka/producer.ts";
import { loadCatalog } from "../schema/catalog.ts";
import { AvroSerde } from "../schema/serde.ts";
import { sleep } from "../util/deadline.ts";
import {
  EventGenerator,
  FAMILY_OF,
  type GeneratedRecord,
  type GeneratorOptions,
  TOPIC_KEYS,
  type TopicKey,
} from "./generator.ts";
import { Tally, type ToEur } from "./tally.ts";

import type { ShopTopics } from "./topics.ts";
export { familyTopics, type ShopTopics, topicsUnder } from "./topics.ts";

/** Options of {@linkcode ShopStreamProducer}. */
export interface ShopStreamProducerOptions {
  /** Topic names; default `config.topics` (tests pass unique names). */
  topics?: ShopTopics;
  /** A generator, or the options to build one. */
  generator?: EventGenerator | GeneratorOptions;
  /** Stop after this many records (events, duplicates and malformed together). */
  events?: number;
  /** Stop after this many milliseconds of wall-clock time. */
  durationMs?: number;
  /** Records per second to aim at (live runs); 0 or absent: as fast as possible. */
  rate?: number;
  /** Partitions of each event topic when it is created (default 6). */
  partitions?: number;
  /** Partitions of the dead-letter topic when it is created (default 3). */
  dlqPartitions?: number;
  /** Batching and compression of the per-topic producers. */
  producer?: Pick<TopicProducerOptions, "batchSize" | "lingerMs" | "maxInFlight" | "compression">;
  /** EUR conversion for the tally's gold rows (lake's `currency.ts`). */
  toEur?: ToEur;
  /** Called about every `progressEvery` records (default 10,000) and at the end. */
  onProgress?: (progress: ProduceProgress) => void;
  /** Records between progress calls (default 10,000). */
  progressEvery?: number;
}

/** Where a run stands. */
export interface ProduceProgress {
  /** Records handed to the producers so far. */
  records: number;
  /** Records acknowledged by the cluster so far. */
  acknowledged: number;
  /** Milliseconds since the run started. */
  elapsedMs: number;
  /** Acknowledged records per second so far. */
  eventsPerSec: number;
}

/** What `run()` did. */
export interface ProduceSummary extends ProduceProgress {
  /** true when `stop()` ended the run before its size. */
  stopped: boolean;
  /** Records per topic name. */
  byTopic: Record<string, number>;
}

/**
 * Counters matching the contract's metric names, labelled by topic name:
 * `shopstream_produced_total`, `shopstream_producer_resent_total`,
 * `shopstream_malformed_produced_total`.
 */
export interface ProducerCounters {
  /** `shopstream_produced_total`: records produced, by topic. */
  produced: Record<string, number>;
  /** `shopstream_producer_resent_total`: records sent again, by topic. */
  resent: Record<string, number>;
  /** `shopstream_malformed_produced_total`: malformed records produced, by topic. */
  malformedProduced: Record<string, number>;
}

/**
 * Creates the four event topics and the dead-letter topic when missing, with
 * the cluster's replication factor and min.insync.replicas; returns the names
 * created (existing topics are left as they are).
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { createKafka } from "../kafka/client.ts";
 * import { ClusterAdmin } from "../kafka/admin.ts";
 * import { ensureTopics } from "./producer.ts";
 * const config = loadConfig();
 * const admin = new ClusterAdmin(createKafka(config));
 * await admin.connect();
 * console.log(await ensureTopics(admin, config, config.topics));
 * await admin.disconnect();
 * ```
 */
export async function ensureTopics(
  admin: ClusterAdmin,
  config: Config,
  topics: ShopTopics,
  partitions = 6,
  dlqPartitions = 3,
): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  const created: string[] = [];
  const configs = { "min.insync.replicas": String(config.kafka.minInsyncReplicas) };
  for (const key of [...TOPIC_KEYS, "deadLetter"] as const) {
    const name = topics[key];
    if (existing.has(name)) continue;
    const made = await admin.createTopic(name, {
      partitions: key === "deadLetter" ? dlqPartitions : partitions,
      replicationFactor: config.kafka.replicationFactor,
      configs,
    });
    if (made) created.push(name);
  }
  return created;
}

/**
 * The producer service. See the module doc.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { createKafka } from "../kafka/client.ts";
 * import { ShopStreamProducer } from "./producer.ts";
 * const config = loadConfig();
 * const service = new ShopStreamProducer(createKafka(config), config, { durationMs: 5000, rate: 2000 });
 * await service.connect();
 * setTimeout(() => service.stop(), 1000);
 * console.log((await service.run()).stopped); // true
 * await service.disconnect();
 * ```
 */
export class ShopStreamProducer {
  /** The topic names written to. */
  readonly topics: ShopTopics;
  /** The generator the records come from. */
  readonly generator: EventGenerator;
  /** What was produced, counted for the lake checks. */
  readonly tally: Tally;
  /** Encodes the events in the registry's wire format. */
  readonly serde: AvroSerde;
  readonly #kafka: Kafka;
  readonly #config: Config;
  readonly #options: ShopStreamProducerOptions;
  readonly #producers = new Map<TopicKey, TopicProducer>();
  readonly #malformed = new Map<TopicKey, number>();
  readonly #encoders = new Map<string, (value: unknown) => Uint8Array>();
  #stopping = false;
  #connected = false;

  /** A producer over `kafka` for `config`'s topics and registry; call `connect()` first. */
  constructor(kafka: Kafka, config: Config, options: ShopStreamProducerOptions = {}) {
    this.#kafka = kafka;
    this.#config = config;
    this.#options = options;
    this.topics = options.topics ?? config.topics;
    this.generator = options.generator instanceof EventGenerator
      ? options.generator
      : new EventGenerator(options.generator);
    this.tally = new Tally({ toEur: options.toEur });
    this.serde = new AvroSerde({ url: config.schemaRegistry.url });
    for (const [name, v] of [["events", options.events], ["durationMs", options.durationMs]]) {
      if (v !== undefined && !(Number.isInteger(v) && (v as number) >= 0)) {
        throw new RangeError(`${name} must be a non-negative integer, got ${v}`);
      }
    }
    if (options.rate !== undefined && !(options.rate >= 0)) {
      throw new RangeError(`rate must be >= 0 (0 = as fast as possible), got ${options.rate}`);
    }
  }

  /**
   * Ensures the topics, registers every schema version (oldest first) under
   * each topic's subject, and connects one producer per topic.
   */
  async connect(): Promise<void> {
    const admin = new ClusterAdmin(this.#kafka);
    await admin.connect();
    try {
      await ensureTopics(
        admin,
        this.#config,
        this.topics,
        this.#options.partitions,
        this.#options.dlqPartitions,
      );
    } finally {
      await admin.disconnect();
    }
    const catalog = await loadCatalog();
    for (const key of TOPIC_KEYS) {
      const family = catalog.family(FAMILY_OF[key]);
      // Registers every version, oldest first; a topic's family is fixed, so key@version names one.
      for (const schema of family.versions) {
        this.#encoders.set(
          `${key}@${schema.version}`,
          await this.serde.encoderFor(this.topics[key], schema),
        );
      }
    }
    try {
      for (const key of TOPIC_KEYS) {
        const p = new TopicProducer(this.#kafka, {
          topic: this.topics[key],
          acks: -1,
          idempotent: true,
          // Big batches: the brokers' cost is per request and per batch more than per
          // record (bench pipeline: 50 ms / 5000 records use less broker CPU than 10 ms / 2000).
          batchSize: 5000,
          lingerMs: 50,
          ...this.#options.producer,
        });
        await p.connect();
        this.#producers.set(key, p);
      }
    } catch (e) {
      await this.#closeProducers();
      throw e;
    }
    this.#connected = true;
  }

  /**
   * The bytes a record is sent as: raw for broken framing, else Avro in the
   * wire format (validated; throws `SchemaValidationError`).
   */
  encode(record: GeneratedRecord): Uint8Array {
    if (record.raw) return record.raw;
    const encoder = this.#encoders.get(`${record.topic}@${record.version}`);
    if (!encoder) {
      throw new Error(`no schema ${record.family} v${record.version}: call connect() first`);
    }
    return encoder(record.value);
  }

  /**
   * Sends these records now, in order (each encoded and validated as `run()`
   * does, keyed the same way), counts them in the tally, and returns where
   * each landed: one delivery report per record, in input order. For a
   * handful of records looked at one by one; `run()` is the fast path.
   *
   * @example
   * ```ts
   * import { loadConfig } from "../config.ts";
   * import { createKafka } from "../kafka/client.ts";
   * import { EventGenerator } from "./generator.ts";
   * import { ShopStreamProducer } from "./producer.ts";
   * const config = loadConfig();
   * const service = new ShopStreamProducer(createKafka(config), config);
   * await service.connect();
   * const reports = await service.sendRecords(new EventGenerator({ seed: 1 }).take(3));
   * console.log(reports.map((r) => `${r.topic}/${r.partition}@${r.offset}`));
   * await service.disconnect();
   * ```
   */
  async sendRecords(records: readonly GeneratedRecord[]): Promise<DeliveryReport[]> {
    if (!this.#connected) {
      throw new Error("ShopStreamProducer: call connect() before sendRecords()");
    }
    const reports: DeliveryReport[] = [];
    for (const record of records) {
      const value = this.encode(record);
      const [report] = await this.#producers.get(record.topic)!.send([{ key: record.key, value }]);
      if (record.kind === "malformed") {
        this.#malformed.set(record.topic, (this.#malformed.get(record.topic) ?? 0) + 1);
      }
      this.tally.add(record);
      reports.push(report);
    }
    return reports;
  }

  /**
   * Asks `run()` to stop after the record in hand (or, called before `run()`, to
   * produce nothing); it then flushes and returns.
   */
  stop(): void {
    this.#stopping = true;
  }

  /**
   * Produces until the run's size (`events` or `durationMs`; neither: until
   * `stop()`), paced to `rate`, then flushes and waits for every
   * acknowledgement. Throws `DeliveryError` when records could not be written.
   */
  async run(): Promise<ProduceSummary> {
    if (!this.#connected) throw new Error("ShopStreamProducer: call connect() before run()");
    const { events, durationMs, rate = 0 } = this.#options;
    const every = this.#options.progressEvery ?? 10_000;
    const started = performance.now();
    let lastYield = started;
    let count = 0;
    const byTopic: Record<string, number> = {};
    const progress = (): ProduceProgress => {
      const elapsedMs = performance.now() - started;
      const acknowledged = this.#acknowledged();
      return {
        records: count,
        acknowledged,
        elapsedMs,
        eventsPerSec: elapsedMs > 0 ? acknowledged / elapsedMs * 1000 : 0,
      };
    };
    while (!this.#stopping) {
      if (events !== undefined && count >= events) break;
      const now = performance.now();
      if (durationMs !== undefined && now - started >= durationMs) break;
      if (rate > 0) {
        const due = started + count * 1000 / rate;
        if (due - now > 1) {
          await sleep(due - now);
          lastYield = performance.now();
          continue;
        }
      }
      const record = this.generator.next();
      const producer = this.#producers.get(record.topic)!;
      const value = this.encode(record);
      if (producer.buffered >= producer.maxBuffered) await producer.ready();
      const sent = producer.enqueue({ key: record.key, value });
      if (record.kind === "malformed") {
        // A failure is counted by the producer and thrown by flush() as DeliveryError;
        // here it only must not become an unhandled rejection.
        sent.then(
          () => this.#malformed.set(record.topic, (this.#malformed.get(record.topic) ?? 0) + 1),
          () => {},
        );
      }
      this.tally.add(record);
      count++;
      const name = this.topics[record.topic];
      byTopic[name] = (byTopic[name] ?? 0) + 1;
      if (every > 0 && count % every === 0) this.#options.onProgress?.(progress());
      // Let timers (linger) and socket reads run now and then: encoding alone never yields.
      if (performance.now() - lastYield > 20) {
        await sleep(0);
        lastYield = performance.now();
      }
    }
    const stopped = this.#stopping;
    this.#stopping = false; // a later run() starts afresh; a stop() before run() ends that run at once
    await Promise.all([...this.#producers.values()].map((p) => p.flush()));
    await sleep(0); // let the malformed acknowledgements' callbacks run
    const done = progress();
    this.#options.onProgress?.(done);
    return { ...done, stopped, byTopic };
  }

  #acknowledged(): number {
    let n = 0;
    for (const p of this.#producers.values()) n += p.metrics().records;
    return n;
  }

  /** Counters by topic name, matching the contract's metric names. */
  counters(): ProducerCounters {
    const out: ProducerCounters = { produced: {}, resent: {}, malformedProduced: {} };
    for (const key of TOPIC_KEYS) {
      const name = this.topics[key];
      const m = this.#producers.get(key)?.metrics();
      out.produced[name] = m?.records ?? 0;
      out.resent[name] = m?.resent ?? 0;
      out.malformedProduced[name] = this.#malformed.get(key) ?? 0;
    }
    return out;
  }

  async #closeProducers(): Promise<void> {
    const errors: unknown[] = [];
    for (const p of this.#producers.values()) {
      await p.disconnect().catch((e) => errors.push(e));
    }
    this.#producers.clear();
    if (errors.length > 0) throw errors[0];
  }

  /** Flushes and disconnects every producer. */
  async disconnect(): Promise<void> {
    this.#connected = false;
    await this.#closeProducers();
  }
}
