/**
 * The stream processor: reads the orders and payments topics, runs
 * {@linkcode StreamState} (windows, watermark, join) and writes its outputs
 * with exactly-once processing, on kafkajs and lib/kafka only.
 *
 * **Consume-transform-produce in transactions.** Each input batch is
 * processed at once; its outputs (window updates and finals, late events,
 * join outcomes, join changelog entries) and its next offset join the open
 * transaction's buffer. Every `commitIntervalMs` (100 ms, as Kafka Streams
 * does under exactly-once) the buffer goes out through the transactional
 * producer, the input offsets are sent in the same transaction
 * (`sendOffsets`, each with its partition's time in the offset metadata),
 * and the transaction commits. Either all of it becomes visible to
 * `read_committed` readers and the group moves on, or none of it and the
 * records are read again. A window updated several times within one
 * transaction is written once, with its latest result. Every send is a
 * verified send of one partition (`sendByPartition`; see the facts in
 * lib/kafka/mod.ts): a kafkajs send that spans leaders can leave a
 * partition out, or write one twice, when a leader moves, and inside a
 * transaction that would commit a result with records missing, or a
 * window's final result twice. (A
 * transaction per batch would cost too much: a new transaction waits for
 * the previous one's commit markers, about 100 ms on the course's
 * cluster.)
 *
 * **A restart rebuilds the state** from what the transactions committed:
 * `start()` first fences the previous incarnation (same transactional id:
 * Kafka aborts its open transaction), then reads the committed offsets and
 * their partition times (the watermark), the latest result of every window
 * (open windows are reopened; the end of the last closed one becomes the
 * watermark's floor) and the join's changelog. Processing resumes at the
 * committed offsets, so nothing is counted twice and nothing is missed.
 *
 * One instance owns every input partition (the group has one member): the
 * results are keyed by region, which spans every partition. Scaling out
 * would need the events re-keyed by region first (a repartition topic).
 *
 * Lifecycle: `start()`, then `drain()` to wait until the input's end is
 * processed and `finish()` to close every window (end of input), or `stop()`
 * to leave the windows open for the next run.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../../config.ts";
 * import { StreamProcessor } from "./processor.ts";
 * const processor = new StreamProcessor({ config: loadConfig() });
 * await processor.start();
 * await processor.drain(); // every record produced so far is processed
 * await processor.finish(); // end of input: every window closes
 * console.log(processor.snapshot().windowsClosed);
 * ```
 *
 * @module
 */
import { Buffer } from "node:buffer";
import type { Config } from "../../config.ts";
import { ClusterAdmin } from "../../kafka/admin.ts";
import { topicOffsets } from "../../kafka/topic_offsets.ts";
import { createKafka } from "../../kafka/client.ts";
import { retryRetriable } from "../../kafka/errors.ts";
import { javaPartition } from "../../kafka/partitioners.ts";
import type { Consumer, EachBatchPayload, Kafka, Producer } from "../../kafka/upstream.ts";
import { sendByPartition } from "../../kafka/verified.ts";
import { loadCatalog } from "../../schema/catalog.ts";
import { ContractDecoder } from "../../schema/decoder.ts";
import { AvroSerde } from "../../schema/serde.ts";
import { sleep } from "../../util/deadline.ts";
import { REGIONS } from "../regions.ts";
import { CONTRACT_RULES } from "../rules.ts";
import type { ShopTopics } from "../topics.ts";
import {
  decodeWindow,
  encodeJoined,
  encodeLate,
  encodeWindow,
  type KeyedValue,
} from "./records.ts";
import { latestByKey, readTopic } from "./reader.ts";
import type { JoinOutcome } from "./join.ts";
import {
  type LateEvent,
  type StepOutput,
  STREAM_DEFAULTS,
  type StreamCounters,
  type StreamEvent,
  StreamState,
} from "./state.ts";
import {
  deleteStreamTopics,
  ensureStreamTopics,
  streamGroupFor,
  type StreamTopics,
  streamTopicsFor,
} from "./topics.ts";
import { windowKey, type WindowResult } from "./windows.ts";

/** Options of {@linkcode StreamProcessor}. */
export interface StreamProcessorOptions {
  /** Brokers, registry and default topic names. */
  config: Config;
  /** A kafkajs client (default: one made from `config`, client id `shopstream-stream`). */
  kafka?: Kafka;
  /** The input topics (only `orders` and `payments` are read; default `config.topics`). */
  topics?: ShopTopics;
  /** The output topics (default {@linkcode streamTopicsFor} the input topics). */
  output?: StreamTopics;
  /** The consumer group (default {@linkcode streamGroupFor} the input topics). */
  groupId?: string;
  /** The transactional id (default `<groupId>.tx`); a restart must reuse it. */
  transactionalId?: string;
  /** Tumbling window size, ms (default one minute). */
  windowMs?: number;
  /** Allowed lateness, ms (default 10 s). */
  latenessMs?: number;
  /** Join bound, ms (default one minute). */
  joinBoundMs?: number;
  /**
   * How often the open transaction commits, ms (default 100, like Kafka
   * Streams under exactly-once): results become visible to `read_committed`
   * readers at that pace, and a longer interval makes fewer, larger
   * transactions.
   */
  commitIntervalMs?: number;
  /**
   * Most bytes of one partition per fetch (default 64 KiB): smaller batches
   * make the watermark move in smaller steps (kafkajs's default, 1 MiB, can
   * take a whole partition's backlog in one batch).
   */
  maxBytesPerPartition?: number;
  /**
   * Start from a clean slate: delete the output topics and move the group
   * to the end of the input topics (like a fresh pipeline's sink). Default
   * false: resume.
   */
  fresh?: boolean;
  /** Lines about what it does ("restored 12 open windows ..."). */
  log?: (line: string) => void;
}

/** What `start()` rebuilt from Kafka. */
export interface RestoreSummary {
  /** Open windows reopened from their latest (not final) result. */
  openWindows: number;
  /** Windows whose final result was already written. */
  closedWindows: number;
  /** Join entries read back from the changelog. */
  joinEntries: number;
  /** Input partitions with a committed offset (and a partition time). */
  committedPartitions: number;
  /** The watermark after the restore, epoch ms (-Infinity: not every partition has spoken). */
  watermark: number;
  /** How long the restore took, ms (fencing and reads). */
  ms: number;
}

/** What the processor did since `start()`, and where it stands. */
export interface StreamSnapshot extends StreamCounters {
  /** Input records read (every event type). */
  records: number;
  /** Records of other event types (cancellations, authorisations, ...), not used. */
  skipped: number;
  /**
   * Records that do not decode, break a contract rule, or have no place in
   * the lake ({@linkcode uncountable}): the lake does not count them either.
   */
  invalid: number;
  /** Input records already processed by this run and delivered again (not processed twice). */
  redelivered: number;
  /** Transactions committed. */
  transactions: number;
  /** Records written to the windows topic: per transaction, the latest result of each window touched. */
  windowRecords: number;
  /** The watermark now, epoch ms. */
  watermark: number;
  /** Windows open now. */
  openWindows: number;
  /** Milliseconds spent handling batches (decode, process, transaction), waits for input excluded. */
  busyMs: number;
  /** Input records per second of `busyMs`: what the processor can take, not the input's rate. */
  recordsPerSec: number;
  /** What `start()` rebuilt. */
  restored?: RestoreSummary;
}

/**
 * The processor could not write a transaction; its in-memory state is then
 * ahead of what Kafka holds, so it stops. Start a new processor: it rebuilds
 * the state from what was committed.
 *
 * @example
 * ```ts
 * import { StreamProcessorError } from "./processor.ts";
 * console.log(new StreamProcessorError("x").name); // StreamProcessorError
 * ```
 */
export class StreamProcessorError extends Error {
  /** An error with this message and an optional cause. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "StreamProcessorError";
  }
}

/** The fields of a decoded order or payment that the processor reads. */
interface DecodedEvent {
  envelope: { eventId: string; eventType: string; occurredAt: Date | number; region: string };
  orderId: string;
  total?: { amountMinor: number | bigint; currency: string };
  amount?: { amountMinor: number | bigint; currency: string };
}

/**
 * A decoded order or payment as a {@linkcode StreamEvent}, or undefined for
 * the event types the processor does not use (`order.cancelled`,
 * `payment.authorized`, `payment.failed`).
 *
 * @example
 * ```ts
 * import { toStreamEvent } from "./processor.ts";
 * const value = { orderId: "o-1", total: { amountMinor: 1999, currency: "EUR" },
 *   envelope: { eventId: "e-1", eventType: "order.placed", occurredAt: new Date(0), region: "EU" } };
 * console.log(toStreamEvent(value, "orders/0", "42")?.amountMinor); // 1999n
 * ```
 */
export function toStreamEvent(
  value: unknown,
  source: string,
  offset?: string,
): StreamEvent | undefined {
  const v = value as DecodedEvent;
  const type = v.envelope.eventType;
  const money = type === "order.placed" ? v.total : type === "payment.captured" ? v.amount : null;
  if (!money) return undefined;
  return {
    type: type as StreamEvent["type"],
    source,
    offset,
    eventId: v.envelope.eventId,
    orderId: v.orderId,
    region: v.envelope.region,
    currency: money.currency,
    amountMinor: BigInt(money.amountMinor),
    time: v.envelope.occurredAt instanceof Date
      ? v.envelope.occurredAt.getTime()
      : Number(v.envelope.occurredAt),
  };
}

/** The first and last event times a lake key can hold (years 0000..9999, UTC). */
const FIRST_LAKE_TIME = Date.parse("0000-01-01T00:00:00.000Z");
const LAST_LAKE_TIME = Date.parse("9999-12-31T23:59:59.999Z");

/**
 * Why the lake would not count an event, so neither does the stream: a
 * region that is not one of `regions.ts` (the sink dead-letters an event
 * without one, silver drops `UNKNOWN`), or an event time outside the years
 * 0000..9999 (no lake key can hold it). Undefined for a countable event.
 *
 * @example
 * ```ts
 * import { uncountable } from "./processor.ts";
 * const e = { type: "order.placed", source: "o/0", eventId: "e", orderId: "o", region: "UNKNOWN",
 *   currency: "EUR", amountMinor: 1n, time: 0 } as const;
 * console.log(uncountable(e)); // region UNKNOWN is not a shop region
 * ```
 */
export function uncountable(event: StreamEvent): string | undefined {
  if (!REGIONS.some((r) => r.code === event.region)) {
    return `region ${event.region} is not a shop region`;
  }
  if (!(event.time >= FIRST_LAKE_TIME && event.time <= LAST_LAKE_TIME)) {
    return `event time ${event.time} is outside the years 0000..9999`;
  }
  return undefined;
}

/** The offset's metadata: the partition time after the batch. */
function offsetMetadata(partitionTime: number): string {
  return JSON.stringify({ partitionTime: Number.isFinite(partitionTime) ? partitionTime : null });
}

function partitionTimeOf(metadata: string | null | undefined): number | undefined {
  if (!metadata) return undefined;
  try {
    const t = JSON.parse(metadata).partitionTime;
    return typeof t === "number" && Number.isFinite(t) ? t : undefined;
  } catch {
    return undefined;
  }
}

/** A partition's next offset with its metadata, as kafkajs sends it in TxnOffsetCommit. */
interface OffsetWithMetadata {
  partition: number;
  offset: string;
  metadata: string;
}

/**
 * What the open transaction will hold: the latest result of each window and
 * the latest value of each changelog key (an earlier one in the same
 * transaction would never be seen on its own), every late event and join
 * outcome, and each input partition's next offset.
 */
class PendingOutput {
  readonly windows = new Map<string, WindowResult>();
  readonly late: LateEvent[] = [];
  readonly joined: JoinOutcome[] = [];
  readonly changes = new Map<string, string | null>();
  readonly offsets = new Map<string, OffsetWithMetadata & { topic: string }>();
  #since?: number;

  add(out: StepOutput): void {
    this.#since ??= performance.now();
    for (const w of out.windows) this.windows.set(windowKey(w.start, w.region), w);
    this.late.push(...out.late);
    this.joined.push(...out.joined);
    for (const [k, v] of out.changes) this.changes.set(k, v);
  }

  /** Milliseconds since the first step was added (0 when empty). */
  age(): number {
    return this.#since === undefined ? 0 : performance.now() - this.#since;
  }

  isEmpty(): boolean {
    return this.#since === undefined;
  }
}

/**
 * The stream processor. See the module doc.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../../config.ts";
 * import { StreamProcessor } from "./processor.ts";
 * const processor = new StreamProcessor({ config: loadConfig(), windowMs: 60_000, latenessMs: 5_000 });
 * console.log(await processor.start()); // { openWindows, closedWindows, joinEntries, ... }
 * setTimeout(() => processor.stop(), 10_000); // windows stay open for the next run
 * ```
 */
export class StreamProcessor {
  /** The input topics. */
  readonly topics: ShopTopics;
  /** The output topics. */
  readonly output: StreamTopics;
  /** The consumer group. */
  readonly groupId: string;
  /** The transactional id. */
  readonly transactionalId: string;
  /** Tumbling window size, ms. */
  readonly windowMs: number;
  /** Allowed lateness, ms. */
  readonly latenessMs: number;
  /** Join bound, ms. */
  readonly joinBoundMs: number;
  /** How often the open transaction commits, ms. */
  readonly commitIntervalMs: number;
  readonly #o: StreamProcessorOptions;
  readonly #kafka: Kafka;
  #state?: StreamState;
  #producer?: Producer;
  #consumer?: Consumer;
  #decoders = new Map<string, ContractDecoder<unknown>>();
  #outPartitions = new Map<string, number>();
  /** Source -> the next offset to process (processed below it; committed with the next transaction). */
  readonly #positions = new Map<string, bigint>();
  #restored?: RestoreSummary;
  #crashed?: Error;
  #stopped = false;
  #busyMs = 0;
  #pending = new PendingOutput();
  #chain: Promise<void> = Promise.resolve();
  #timer?: ReturnType<typeof setInterval>;
  readonly #n = {
    records: 0,
    skipped: 0,
    invalid: 0,
    redelivered: 0,
    transactions: 0,
    windowRecords: 0,
  };

  /** A processor with these options; nothing connects before `start()`. */
  constructor(options: StreamProcessorOptions) {
    this.#o = options;
    this.topics = options.topics ?? options.config.topics;
    this.output = options.output ?? streamTopicsFor(this.topics);
    this.groupId = options.groupId ?? streamGroupFor(this.topics);
    this.transactionalId = options.transactionalId ?? `${this.groupId}.tx`;
    this.windowMs = options.windowMs ?? STREAM_DEFAULTS.windowMs;
    this.latenessMs = options.latenessMs ?? STREAM_DEFAULTS.latenessMs;
    this.joinBoundMs = options.joinBoundMs ?? STREAM_DEFAULTS.joinBoundMs;
    this.commitIntervalMs = options.commitIntervalMs ?? 100;
    this.#kafka = options.kafka ?? createKafka(options.config, { clientId: "shopstream-stream" });
  }

  /** The input topics read: orders and payments. */
  get inputs(): string[] {
    return [this.topics.orders, this.topics.payments];
  }

  /** Why the processor stopped on its own, if it did. */
  get crashed(): Error | undefined {
    return this.#crashed;
  }

  /**
   * Prepares the topics (a fresh start deletes the outputs and moves the
   * group to the inputs' end), fences the previous incarnation, rebuilds
   * the state, and starts consuming. Resolves once consuming has started.
   */
  async start(): Promise<RestoreSummary> {
    const started = performance.now();
    const admin = new ClusterAdmin(this.#kafka);
    await admin.connect();
    let sources: string[];
    try {
      const existing = new Set(await admin.listTopics());
      const missing = this.inputs.filter((t) => !existing.has(t));
      if (missing.length) {
        throw new StreamProcessorError(
          `input topic(s) ${missing.join(", ")} do not exist: produce first ` +
            "(deno task pipeline), or create them (ensureTopics)",
        );
      }
      if (this.#o.fresh) await this.#clear(admin);
      await ensureStreamTopics(admin, this.#o.config, this.output);
      sources = [];
      for (const topic of [...this.inputs, ...Object.values(this.output)]) {
        const n = (await admin.describeTopic(topic)).partitions.length;
        this.#outPartitions.set(topic, n);
        if (this.inputs.includes(topic)) {
          for (let p = 0; p < n; p++) sources.push(`${topic}/${p}`);
        }
      }
    } finally {
      await admin.disconnect();
    }
    await this.#loadDecoders();
    this.#state = new StreamState({
      sources,
      windowMs: this.windowMs,
      latenessMs: this.latenessMs,
      joinBoundMs: this.joinBoundMs,
    });
    await this.#connectProducer();
    if (this.#o.fresh) await this.#commitEnds();
    this.#restored = await this.#restore(started);
    this.#log(
      `restored ${this.#restored.openWindows} open and ${this.#restored.closedWindows} closed ` +
        `windows, ${this.#restored.joinEntries} join entries, ${this.#restored.committedPartitions}` +
        ` committed partitions in ${this.#restored.ms.toFixed(0)} ms`,
    );
    await this.#startConsumer();
    return this.#restored;
  }

  /** Deletes the output topics (a fresh start); the group's offsets move in `#commitEnds`. */
  async #clear(admin: ClusterAdmin): Promise<void> {
    this.#log(`fresh start: ${Object.values(this.output).join(", ")} deleted, group at the end`);
    await deleteStreamTopics(admin, this.output);
  }

  /**
   * A fresh start's group position: the inputs' end offsets, committed in a
   * transaction of their own (quicker than kafkajs's `setOffsets`, which
   * joins the group with a throwaway consumer), with no partition time.
   */
  async #commitEnds(): Promise<void> {
    const admin = this.#kafka.admin();
    await admin.connect();
    const topics = [];
    try {
      for (const topic of this.inputs) {
        const ends = await topicOffsets(this.#kafka, admin, topic);
        topics.push({
          topic,
          partitions: ends.map((o) => ({
            partition: o.partition,
            offset: o.high,
            metadata: offsetMetadata(-Infinity),
          })),
        });
      }
    } finally {
      await admin.disconnect();
    }
    const tx = await this.#producer!.transaction();
    try {
      await tx.sendOffsets({ consumerGroupId: this.groupId, topics });
      await tx.commit();
    } catch (e) {
      await tx.abort().catch(() => {});
      throw e;
    }
  }

  async #loadDecoders(): Promise<void> {
    const catalog = await loadCatalog();
    const serde = new AvroSerde({ url: this.#o.config.schemaRegistry.url });
    for (
      const [topic, family] of [[this.topics.orders, "order"], [
        this.topics.payments,
        "payment",
      ]] as const
    ) {
      this.#decoders.set(
        topic,
        new ContractDecoder(serde, catalog.family(family).latest.type, CONTRACT_RULES[family]),
      );
    }
  }

  /**
   * Connects the transactional producer and fences: the first transaction
   * call registers the transactional id with a new epoch, which aborts the
   * previous incarnation's open transaction (and waits until it is aborted).
   */
  async #connectProducer(): Promise<void> {
    const producer = this.#kafka.producer({
      transactionalId: this.transactionalId,
      idempotent: true,
      maxInFlightRequests: 1,
      // A transaction that starts while the previous one's markers are still being written gets
      // CONCURRENT_TRANSACTIONS for a few ms: retry after 20 ms, not kafkajs's default 300 ms.
      retry: { initialRetryTime: 20, maxRetryTime: 1000, retries: 10 },
    });
    await producer.connect();
    await (await producer.transaction()).abort();
    this.#producer = producer;
  }

  /** Reads the committed offsets, the windows topic and the join's changelog back into the state. */
  async #restore(started: number): Promise<RestoreSummary> {
    const state = this.#state!;
    const admin = this.#kafka.admin();
    await admin.connect();
    const partitionTimes: Record<string, number> = {};
    let committedPartitions = 0;
    try {
      for (const topic of this.inputs) {
        const low = new Map(
          (await topicOffsets(this.#kafka, admin, topic)).map((o) => [o.partition, BigInt(o.low)]),
        );
        const committed = await retryRetriable(() =>
          admin.fetchOffsets({ groupId: this.groupId, topics: [topic] })
        );
        for (const p of committed[0]?.partitions ?? []) {
          const source = `${topic}/${p.partition}`;
          if (p.offset !== "-1") {
            committedPartitions++;
            this.#positions.set(source, BigInt(p.offset));
          }
          const t = partitionTimeOf(p.metadata);
          if (t !== undefined) partitionTimes[source] = t;
        }
        for (const [partition, offset] of low) {
          const source = `${topic}/${partition}`;
          if (!this.#positions.has(source)) this.#positions.set(source, offset);
        }
      }
    } finally {
      await admin.disconnect();
    }
    const windows = [...latestByKey(await readTopic(this.#kafka, this.output.windows)).values()]
      .map(decodeWindow);
    const join = latestByKey(await readTopic(this.#kafka, this.output.state));
    state.restore({ windows, join, partitionTimes });
    return {
      openWindows: windows.filter((w) => !w.final).length,
      closedWindows: windows.filter((w) => w.final).length,
      joinEntries: join.size,
      committedPartitions,
      watermark: state.watermark,
      ms: performance.now() - started,
    };
  }

  async #startConsumer(): Promise<void> {
    const consumer = this.#kafka.consumer({
      groupId: this.groupId,
      readUncommitted: false,
      maxWaitTimeInMs: 200,
      maxBytesPerPartition: this.#o.maxBytesPerPartition ?? 64 * 1024,
      maxBytes: 1024 * 1024,
      // A killed processor's member stays in the group until its session times out, and a
      // restarted one waits for that in its first rebalance: 10 s, not kafkajs's 30 s.
      sessionTimeout: 10_000,
      heartbeatInterval: 1000,
      // A failed batch must not be retried on top of a state it already changed: stop instead.
      retry: { retries: 0, restartOnFailure: () => Promise.resolve(false) },
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (!payload.restart) this.#fail(payload.error);
    });
    await consumer.connect();
    this.#consumer = consumer;
    for (const topic of this.inputs) await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: (payload) => this.#onBatch(payload),
    });
    // Commits what is buffered when no batch comes to do it (the input went quiet).
    this.#timer = setInterval(() => {
      if (this.#crashed || this.#pending.age() < this.commitIntervalMs) return;
      this.#serial(() => this.#flush()).catch(() => {});
    }, Math.max(10, this.commitIntervalMs / 2));
  }

  #fail(error: Error): void {
    if (this.#crashed) return;
    this.#crashed = error instanceof StreamProcessorError
      ? error
      : new StreamProcessorError(`stream processor stopped: ${error.message}`, { cause: error });
    this.#log(this.#crashed.message);
  }

  /**
   * One input batch: decode, process, add the output and the batch's next
   * offset to the open transaction's buffer; commit when the interval is up.
   */
  #onBatch(payload: EachBatchPayload): Promise<void> {
    return this.#serial(async () => {
      const { batch } = payload;
      if (this.#crashed || this.#stopped || !payload.isRunning() || payload.isStale()) return;
      const began = performance.now();
      const source = `${batch.topic}/${batch.partition}`;
      const position = this.#positions.get(source) ?? 0n;
      const events: StreamEvent[] = [];
      for (const m of batch.messages) {
        if (BigInt(m.offset) < position) {
          this.#n.redelivered++; // processed already (a rebalance re-fetched it): never twice
          continue;
        }
        this.#n.records++;
        const e = await this.#decode(batch.topic, m.value, source, m.offset);
        if (e) events.push(e);
      }
      const next = BigInt(batch.lastOffset()) + 1n;
      if (next <= position) {
        payload.resolveOffset(batch.lastOffset()); // else kafkajs fetches the same batch again
        return;
      }
      const state = this.#state!;
      this.#pending.add(state.process(events));
      this.#pending.offsets.set(source, {
        topic: batch.topic,
        partition: batch.partition,
        offset: String(next),
        metadata: offsetMetadata(state.partitionTime(source)),
      });
      this.#positions.set(source, next);
      payload.resolveOffset(batch.lastOffset());
      if (this.#pending.age() >= this.commitIntervalMs) await this.#flush();
      this.#busyMs += performance.now() - began;
      await payload.heartbeat();
    });
  }

  /** Runs `work` after every earlier one: batches and timer flushes never overlap. */
  #serial(work: () => Promise<void>): Promise<void> {
    const run = this.#chain.then(work);
    this.#chain = run.catch(() => {});
    return run;
  }

  async #decode(
    topic: string,
    value: Buffer | null,
    source: string,
    offset: string,
  ): Promise<StreamEvent | undefined> {
    const decoder = this.#decoders.get(topic)!;
    const outcome = decoder.decodeSync(value) ?? await decoder.decode(value);
    if (!outcome.ok) {
      this.#n.invalid++;
      return undefined;
    }
    const event = toStreamEvent(outcome.value, source, offset);
    if (!event) this.#n.skipped++;
    else if (uncountable(event)) {
      this.#n.invalid++;
      return undefined;
    }
    return event;
  }

  /**
   * Writes the buffer in one transaction: its records, then the input
   * offsets (with their partition times), then the commit. A failure stops
   * the processor (its state is then ahead of what Kafka holds).
   */
  async #flush(): Promise<void> {
    const pending = this.#pending;
    if (pending.isEmpty()) return;
    this.#pending = new PendingOutput();
    const o = this.output;
    const batches: [string, KeyedValue[]][] = [
      [o.windows, [...pending.windows.values()].map(encodeWindow)],
      [o.late, pending.late.map(encodeLate)],
      [o.joined, pending.joined.map(encodeJoined)],
      [o.state, [...pending.changes].map(([key, value]) => ({ key, value }))],
    ];
    const tx = await this.#producer!.transaction();
    try {
      for (const [topic, records] of batches) {
        if (records.length === 0) continue;
        const n = this.#outPartitions.get(topic)!;
        await sendByPartition(tx, {
          topic,
          messages: records.map((r) => ({
            key: r.key,
            value: r.value,
            partition: javaPartition(r.key, n),
          })),
        });
      }
      const byTopic = new Map<string, OffsetWithMetadata[]>();
      for (const { topic, ...offset } of pending.offsets.values()) {
        byTopic.set(topic, [...(byTopic.get(topic) ?? []), offset]);
      }
      if (byTopic.size > 0) {
        await tx.sendOffsets({
          consumerGroupId: this.groupId,
          // kafkajs sends each partition's metadata as given; its types omit the field.
          topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })),
        });
      }
      await tx.commit();
      this.#n.transactions++;
      this.#n.windowRecords += pending.windows.size;
    } catch (e) {
      await tx.abort().catch(() => {});
      this.#fail(
        new StreamProcessorError(
          `a transaction failed (${(e as Error).message}); start a new processor: it rebuilds ` +
            "the state from what was committed",
          { cause: e },
        ),
      );
      throw this.#crashed;
    }
  }

  /**
   * Waits until every record in the inputs as of now is processed and
   * committed (each partition's position at its end offset); throws if the
   * processor stops or `timeoutMs` passes first.
   */
  async drain(timeoutMs = 120_000): Promise<void> {
    const admin = this.#kafka.admin();
    await admin.connect();
    const ends = new Map<string, bigint>();
    try {
      for (const topic of this.inputs) {
        for (const o of await topicOffsets(this.#kafka, admin, topic)) {
          ends.set(`${topic}/${o.partition}`, BigInt(o.high));
        }
      }
    } finally {
      await admin.disconnect();
    }
    const deadline = Date.now() + timeoutMs;
    const behind = () => [...ends].filter(([s, end]) => (this.#positions.get(s) ?? 0n) < end);
    while (behind().length > 0) {
      if (this.#crashed) throw this.#crashed;
      if (Date.now() > deadline) {
        throw new StreamProcessorError(
          `not caught up after ${timeoutMs} ms: ${
            behind().map(([s, end]) => `${s} at ${this.#positions.get(s) ?? 0n} of ${end}`)
              .join(", ")
          }`,
        );
      }
      await sleep(50);
    }
    await this.#serial(() => this.#flush());
  }

  /**
   * End of input: stops consuming, then closes every window and decides
   * every order still waiting (unpaid), committed with what is buffered.
   * Call `drain()` first so that nothing produced is left unread (a record
   * read later into a closed window counts as late). Returns once the last
   * transaction is complete (see `stop()`).
   */
  async finish(): Promise<void> {
    await this.#stopConsumer();
    try {
      await this.#serial(async () => {
        if (this.#crashed) throw this.#crashed;
        this.#pending.add(this.#state!.finish());
        await this.#flush();
      });
    } finally {
      await this.#disconnectProducer();
    }
    await this.#settle();
  }

  /**
   * Stops without closing windows, committing what is processed: the next
   * `start()` resumes the open windows. Returns once the last transaction is
   * complete: a commit returns when the transaction is decided, and Kafka
   * writes its commit markers to the partitions just after; a
   * `read_committed` reader (whose end offsets are the last stable offsets)
   * could miss a partition's share until then.
   */
  async stop(): Promise<void> {
    await this.#stopConsumer();
    try {
      await this.#serial(async () => {
        if (!this.#crashed) await this.#flush();
      });
    } finally {
      await this.#disconnectProducer();
    }
    if (!this.#crashed) await this.#settle();
  }

  /**
   * Waits until the last transaction's markers are written: registering the
   * transactional id again (as a restart does) is answered only once the
   * previous transaction is complete.
   */
  async #settle(): Promise<void> {
    if (this.#n.transactions === 0) return;
    const producer = this.#kafka.producer({
      transactionalId: this.transactionalId,
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await producer.connect();
    try {
      await (await producer.transaction()).abort();
    } finally {
      await producer.disconnect();
    }
  }

  async #stopConsumer(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    const consumer = this.#consumer;
    this.#consumer = undefined;
    await consumer?.disconnect();
  }

  async #disconnectProducer(): Promise<void> {
    const producer = this.#producer;
    this.#producer = undefined;
    await producer?.disconnect();
  }

  /** What it did so far (see {@linkcode StreamSnapshot}). */
  snapshot(): StreamSnapshot {
    const state = this.#state;
    const counters = state?.counters ?? new StreamState({ sources: ["-"] }).counters;
    const busyMs = this.#busyMs;
    return {
      ...counters,
      ...this.#n,
      watermark: state?.watermark ?? -Infinity,
      openWindows: state?.held.windows ?? 0,
      busyMs,
      recordsPerSec: busyMs > 0 ? this.#n.records / busyMs * 1000 : 0,
      restored: this.#restored,
    };
  }

  #log(line: string): void {
    this.#o.log?.(line);
  }
}
