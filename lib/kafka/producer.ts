/**
 * A producer for one topic that teaches the settings that matter: acks,
 * idempotence, compression, retries with backoff, batching (linger and batch
 * size, several batches in flight), headers and delivery reports, with
 * counters and a latency histogram.
 *
 * Every record's partition is chosen here, before kafkajs sees it (Java's
 * murmur2 placement for keys, an explicit partition, or the keyless
 * strategy). Each kafkajs send carries one partition, because a send that
 * spans several leaders can drop a partition or write one twice when a
 * leader dies, and each goes through {@linkcode sendVerified} as a check
 * (see the facts in lib/kafka/mod.ts). A send whose outcome is unknown stops
 * an idempotent producer until it connects again
 * ({@linkcode ProducerPoisonedError}).
 *
 * Compression: `gzip` works out of the box (kafkajs ships it); `snappy` and
 * `zstd` work after `registerCodecs()` from `codecs.ts`; no `lz4` codec works
 * under Deno (see `codecs.ts`). The constructor refuses a codec that is not
 * registered.
 *
 * Ordering: a key always maps to one partition, and each partition has at
 * most one request in flight, so records of one key are written in the order
 * they were sent, with `send()` and `enqueue()` alike. (kafkajs does not keep
 * concurrent sends to one partition in order, even for an idempotent
 * producer: two requests can overtake each other before they reach the
 * broker. The tests caught it; this class serialises per partition instead.)
 * Throughput comes from batching and from several partitions' batches
 * travelling at once (up to `maxInFlight` requests).
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { createKafka } from "./client.ts";
 * import { TopicProducer } from "./producer.ts";
 * const producer = new TopicProducer(createKafka(loadConfig()), { topic: "orders" });
 * await producer.connect();
 * const [report] = await producer.send([{ key: "customer-7", value: "{}" }]);
 * console.log(report.partition, report.offset);
 * await producer.disconnect();
 * ```
 *
 * @module
 */
import { Buffer } from "node:buffer";
import {
  CompressionCodecs,
  type Kafka,
  type Message,
  type Producer,
  type ProducerConfig,
  type RecordMetadata,
} from "kafkajs";
import { CompressionTypes, type IHeaders } from "./upstream.ts";
import "./varint.ts"; // kafkajs writes varints without a Buffer per varint (see varint.ts)
import { linearProducer } from "./grouping.ts"; // groups a send by partition in linear time
import "./produce_encoder.ts"; // kafkajs encodes produce requests in one buffer (see produce_encoder.ts)
import { ClientMetrics, type MetricsSnapshot } from "./metrics.ts";
import { defaultPartitioner, type KeylessStrategy, type Partitioner } from "./partitioners.ts";
import { type PartitionedMessage, sendVerified } from "./verified.ts";
import { sleep } from "../util/deadline.ts";
import { brokerAnswerIn, causeChain, refusedForGood } from "./errors.ts";

/** How long a topic may stay unknown to the broker asked before `connect()` gives up. */
const UNKNOWN_TOPIC_GRACE_MS = 5_000;

/**
 * How long `connect()` keeps trying while brokers do not answer (a broker that
 * died a moment ago is still in the metadata until the controller fences it,
 * about 9 s with Kafka's default `broker.session.timeout.ms`).
 */
const CONNECT_GRACE_MS = 30_000;

/** kafkajs errors that say a broker did not answer (gone, frozen, or not yet known). */
const UNREACHABLE = new Set([
  "KafkaJSConnectionError",
  "KafkaJSConnectionClosedError",
  "KafkaJSRequestTimeoutError",
  "KafkaJSBrokerNotFound",
  "KafkaJSLockTimeout",
]);

/**
 * Whether `error` (or an error it was caused by) says a broker could not be
 * reached: worth another try once the metadata names a live one.
 *
 * @example
 * ```ts
 * import { brokerUnreachable } from "./producer.ts";
 * console.log(brokerUnreachable({ name: "KafkaJSConnectionError" })); // true
 * console.log(brokerUnreachable(new Error("topic t cannot be described"))); // false
 * ```
 */
export function brokerUnreachable(error: unknown): boolean {
  return causeChain(error).some((e) => UNREACHABLE.has(e.name ?? ""));
}

/** How many replicas must have a record before the send is acknowledged. */
export type Acks = 0 | 1 | -1;

/** Record-batch compression codecs Kafka knows. */
export type Compression = "none" | "gzip" | "snappy" | "lz4" | "zstd";

/** The kafkajs codec id for each {@linkcode Compression}. */
export const COMPRESSION_TYPES: Record<Compression, CompressionTypes> = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
  lz4: CompressionTypes.LZ4,
  zstd: CompressionTypes.ZSTD,
};

/**
 * Whether kafkajs can use `codec` right now (gzip and none always; the others
 * only once a codec is registered in `CompressionCodecs`).
 *
 * @example
 * ```ts
 * import { compressionAvailable } from "./producer.ts";
 * console.log(compressionAvailable("gzip"), compressionAvailable("zstd")); // true false
 * ```
 */
export function compressionAvailable(codec: Compression): boolean {
  if (codec === "none") return true;
  const factory = (CompressionCodecs as Record<number, (() => unknown) | undefined>)[
    COMPRESSION_TYPES[codec]
  ];
  if (!factory) return false;
  try {
    return Boolean(factory());
  } catch {
    return false;
  }
}

/** One record to produce. */
export interface ProducerMessage {
  /** Decides the partition (Java's murmur2) unless `partition` is given. */
  key?: string | Uint8Array | null;
  /** The payload; null is a tombstone. */
  value: string | Uint8Array | null;
  /** An explicit partition wins over the key. */
  partition?: number;
  /** Headers of this record. */
  headers?: IHeaders;
  /** Milliseconds since the epoch, as a string (kafkajs's convention). */
  timestamp?: string;
}

/** Where an acknowledged record landed. */
export interface DeliveryReport {
  /** Topic written. */
  topic: string;
  /** Partition written. */
  partition: number;
  /** The record's offset; `"-1"` with acks=0, where the broker answers nothing. */
  offset: string;
}

/** Options for {@linkcode TopicProducer}. */
export interface TopicProducerOptions {
  /** Topic to produce to (it must exist). */
  topic: string;
  /** 0: fire and forget; 1: the leader has it; -1 (all, default): every in-sync replica has it. */
  acks?: Acks;
  /** Idempotent producer (no duplicates from retries); default true with acks=-1. Needs acks=-1. */
  idempotent?: boolean;
  /** Default `none`. */
  compression?: Compression;
  /** Retries of a failed request (default 10). */
  retries?: number;
  /** First retry delay in ms; it doubles (with jitter) each retry (default 100). */
  retryBackoffMs?: number;
  /** How long a partial batch waits for more records before it is sent (default 5 ms). */
  lingerMs?: number;
  /** Records per partition in one request for `enqueue` (default 1000; Java's `batch.size` is per partition too, in bytes). */
  batchSize?: number;
  /** Requests `enqueue` keeps in flight at once, one partition each (default 8). */
  maxInFlight?: number;
  /** Records buffered or in flight before {@linkcode TopicProducer.ready} waits (default 4 batches more than in flight). */
  maxBuffered?: number;
  /**
   * Bytes one request may carry at most: its records' keys, values and
   * headers plus 64 B each for their framing (default 1,000,000). The broker
   * refuses a record batch larger than the topic's `max.message.bytes`
   * (`message.max.bytes`, 1 MiB + 12 B by default) with MESSAGE_TOO_LARGE, so
   * `batchSize` records of large values leave as several requests. Should the
   * broker still refuse a request of several records as too large, it is
   * split in halves and sent again, as Java's producer does; a single record
   * that is too large fails alone.
   */
  maxRequestBytes?: number;
  /**
   * When more than `batchSize` records of a partition piled up while its
   * previous request travelled, send them in one request, up to
   * `maxRequestBytes` (default false: at most `batchSize` records per
   * request). Java's producer keeps several batches of a partition in flight
   * instead; this producer keeps one request per partition (for order), so it
   * sends them together.
   */
  carryPiledUp?: boolean;
  /** A custom partitioner for records without an explicit partition. */
  partitioner?: Partitioner;
  /** How keyless records are spread by the default partitioner (default `sticky`). */
  keyless?: KeylessStrategy;
  /** Headers added to every record (a record's own headers win). */
  headers?: IHeaders;
  /** How long the broker may take to reach `acks` replicas (default 30 000 ms). */
  ackTimeoutMs?: number;
}

/**
 * Some enqueued records could not be delivered; thrown by `flush()`.
 *
 * @example
 * ```ts
 * import { DeliveryError } from "./producer.ts";
 * declare const producer: import("./producer.ts").TopicProducer;
 * try {
 *   await producer.flush();
 * } catch (e) {
 *   if (e instanceof DeliveryError) console.error(`${e.failed} records not written`);
 * }
 * ```
 */
export class DeliveryError extends Error {
  /** The topic, how many records failed, and the last failure. */
  constructor(readonly topic: string, readonly failed: number, cause: unknown) {
    super(
      `${failed} record(s) to ${topic} were not delivered: ${
        (cause as Error)?.message ?? cause
      }. ` +
        `Check the cluster (deno task health) and the topic (deno task admin topics describe ${topic}).`,
      { cause },
    );
    this.name = "DeliveryError";
  }
}

/**
 * The producer was used before `connect()` or after `disconnect()`.
 *
 * @example
 * ```ts
 * import { ProducerStateError } from "./producer.ts";
 * console.log(new ProducerStateError("call connect() before producing").message);
 * ```
 */
export class ProducerStateError extends Error {
  /** Says what was wrong, e.g. "call connect() before producing". */
  constructor(what: string) {
    super(`TopicProducer: ${what}`);
    this.name = "ProducerStateError";
  }
}

/**
 * An idempotent producer refuses to send after a send whose outcome is
 * unknown (its retries ran out, it timed out, or its connection broke): the
 * records of that send may be in the log or not, and kafkajs has rolled their
 * sequence numbers back, so the next batch to that partition would reuse them
 * and the broker could acknowledge it as a duplicate without writing it.
 * Every later `send()`/`enqueue()` fails with this error until the producer is
 * recreated: `disconnect()`, then `connect()` (a new producer id, fresh
 * sequence numbers).
 *
 * @example
 * ```ts
 * import { ProducerPoisonedError } from "./producer.ts";
 * declare const producer: import("./producer.ts").TopicProducer;
 * try {
 *   await producer.send([{ key: "k", value: "v" }]);
 * } catch (e) {
 *   if (e instanceof ProducerPoisonedError) {
 *     await producer.disconnect().catch(() => {});
 *     await producer.connect(); // a fresh producer id; sends work again
 *   }
 * }
 * ```
 */
export class ProducerPoisonedError extends Error {
  /** Builds the error and its message. */
  constructor(readonly topic: string, cause: unknown) {
    super(
      `the producer for ${topic} stopped sending after a send whose outcome is unknown ` +
        `(${(cause as Error)?.message ?? cause}): its records may or may not be in the log, ` +
        `and reusing their sequence numbers could get later records acknowledged without ` +
        `being written. Disconnect and connect again to get a fresh producer.`,
      { cause },
    );
    this.name = "ProducerPoisonedError";
  }
}

interface Pending {
  message: PartitionedMessage;
  /** Key and value bytes (what the metrics count). */
  bytes: number;
  /** What the record counts against `maxRequestBytes`. */
  framed: number;
  at: number;
  resolve: (r: DeliveryReport) => void;
  reject: (e: unknown) => void;
}

const noop = () => {};

/** What `maxRequestBytes` allows per record beyond its key, value and headers (framing). */
const REQUEST_BYTES_PER_RECORD = 64;
/** Default `maxRequestBytes`: a little under the broker's default `message.max.bytes`. */
const DEFAULT_MAX_REQUEST_BYTES = 1_000_000;
/** The broker's answers that a request's record batch is too large for it. */
const TOO_LARGE = new Set(["MESSAGE_TOO_LARGE", "RECORD_LIST_TOO_LARGE"]);

function headerBytes(headers: IHeaders | undefined): number {
  if (!headers) return 0;
  let bytes = 0;
  for (const [k, v] of Object.entries(headers)) {
    bytes += Buffer.byteLength(k) + 8;
    for (const x of Array.isArray(v) ? v : [v]) {
      if (x !== undefined) bytes += typeof x === "string" ? Buffer.byteLength(x) : x.byteLength;
    }
  }
  return bytes;
}

function toBuffer(v: string | Uint8Array | null | undefined): string | Buffer | null {
  if (v === undefined || v === null) return null;
  if (typeof v === "string" || Buffer.isBuffer(v)) return v as string | Buffer;
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

function sizeOf(v: string | Uint8Array | null | undefined): number {
  if (v === undefined || v === null) return 0;
  return typeof v === "string" ? Buffer.byteLength(v) : v.byteLength;
}

function bytesOf(messages: readonly ProducerMessage[]): number {
  let bytes = 0;
  for (const m of messages) bytes += sizeOf(m.key) + sizeOf(m.value);
  return bytes;
}

/** Inside `TopicProducer`: some partitions of a send failed; the others have their reports. */
class PartialDeliveryError extends Error {
  constructor(
    readonly failed: number[],
    readonly reports: DeliveryReport[],
    override readonly cause: unknown,
  ) {
    super(`partitions ${failed.join(", ")} failed`);
  }
}

/**
 * A producer bound to one topic. Lifecycle: `connect()`, then `send()` /
 * `enqueue()`, `flush()`, `disconnect()`.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { createKafka } from "./client.ts";
 * import { TopicProducer } from "./producer.ts";
 * const p = new TopicProducer(createKafka(loadConfig()), { topic: "clicks", lingerMs: 10 });
 * await p.connect();
 * for (let i = 0; i < 10_000; i++) {
 *   await p.ready(); // back-pressure: waits while the buffer is full
 *   p.enqueue({ key: `user-${i % 100}`, value: "click" });
 * }
 * await p.flush();
 * console.log(p.metrics().recordsPerSec);
 * await p.disconnect();
 * ```
 */
export class TopicProducer {
  /** Topic produced to. */
  readonly topic: string;
  /** The acks setting in use. */
  readonly acks: Acks;
  /** Whether the producer is idempotent. */
  readonly idempotent: boolean;
  /** The compression codec in use. */
  readonly compression: Compression;
  /** How long a partial batch waits for more records, ms. */
  readonly lingerMs: number;
  /** Records per partition in one `enqueue` request. */
  readonly batchSize: number;
  /** Requests `enqueue` keeps in flight at once. */
  readonly maxInFlight: number;
  /** Records buffered or in flight before `ready()` waits. */
  readonly maxBuffered: number;
  /** Bytes one request may carry at most (keys, values, headers, 64 B framing per record). */
  readonly maxRequestBytes: number;
  /** Whether records that piled up beyond `batchSize` leave in one request. */
  readonly carryPiledUp: boolean;
  readonly #kafka: Kafka;
  readonly #producerConfig: ProducerConfig;
  #producer: Producer;
  #poisoned: ProducerPoisonedError | undefined;
  readonly #partitioner: Partitioner;
  readonly #defaultHeaders?: IHeaders;
  readonly #ackTimeoutMs: number;
  #partitions = 0;
  #connected = false;
  #metrics = new ClientMetrics();
  /** Records waiting, per partition, in enqueue order. */
  #queues = new Map<number, Pending[]>();
  #queued = 0;
  /** Partitions with a request in flight: at most one each, to keep order. */
  #busy = new Set<number>();
  #inFlight = 0;
  #inFlightRecords = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #lingerDue = false;
  #flushing = 0;
  #failures = 0;
  #lastError: unknown;
  #waiters: (() => void)[] = [];

  /** A producer for `options.topic` over `kafka`; call `connect()` before producing. */
  constructor(kafka: Kafka, options: TopicProducerOptions) {
    this.topic = options.topic;
    this.acks = options.acks ?? -1;
    if (![0, 1, -1].includes(this.acks)) {
      throw new RangeError(`acks must be 0, 1 or -1 (all), got ${options.acks}`);
    }
    this.idempotent = options.idempotent ?? this.acks === -1;
    if (this.idempotent && this.acks !== -1) {
      throw new RangeError(
        `an idempotent producer needs acks=-1 (all), got acks=${this.acks}: set idempotent: false`,
      );
    }
    this.compression = options.compression ?? "none";
    if (!(this.compression in COMPRESSION_TYPES)) {
      throw new RangeError(`unknown compression "${this.compression}": use none, gzip, ...`);
    }
    if (!compressionAvailable(this.compression)) {
      throw new RangeError(
        this.compression === "lz4"
          ? `compression "lz4": no lz4 codec works under Deno (see lib/kafka/codecs.ts); ` +
            `use gzip, snappy or zstd`
          : `compression "${this.compression}" has no codec registered in kafkajs: ` +
            `await registerCodecs() from lib/kafka/codecs.ts first, or use gzip`,
      );
    }
    this.lingerMs = options.lingerMs ?? 5;
    this.batchSize = options.batchSize ?? 1000;
    this.maxInFlight = options.maxInFlight ?? 8;
    this.maxBuffered = options.maxBuffered ?? this.batchSize * (this.maxInFlight + 4);
    this.maxRequestBytes = options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
    this.carryPiledUp = options.carryPiledUp ?? false;
    for (
      const [name, v, min] of [
        ["lingerMs", this.lingerMs, 0],
        ["batchSize", this.batchSize, 1],
        ["maxInFlight", this.maxInFlight, 1],
        ["maxBuffered", this.maxBuffered, 1],
        ["maxRequestBytes", this.maxRequestBytes, 1],
      ] as const
    ) {
      if (!Number.isInteger(v) || v < min) {
        throw new RangeError(`${name} must be an integer >= ${min}, got ${v}`);
      }
    }
    this.#ackTimeoutMs = options.ackTimeoutMs ?? 30_000;
    this.#kafka = kafka;
    this.#partitioner = options.partitioner ??
      defaultPartitioner(options.keyless ?? "sticky", this.batchSize);
    this.#defaultHeaders = options.headers;
    this.#producerConfig = {
      idempotent: this.idempotent,
      // Several sends share one producer; kafkajs serialises an idempotent
      // producer's requests per broker itself.
      maxInFlightRequests: this.idempotent ? undefined : this.maxInFlight,
      allowAutoTopicCreation: false,
      // Bounded on purpose, so a send fails in bounded time (about 80 s of backoff with the
      // defaults). kafkajs warns that this can invalidate idempotence; what makes it safe
      // here is that a send that exhausts them poisons the producer (ProducerPoisonedError).
      retry: {
        retries: options.retries ?? 10,
        initialRetryTime: options.retryBackoffMs ?? 100,
      },
    };
    this.#producer = linearProducer(kafka, this.#producerConfig);
  }

  /** Partitions of the topic, as of `connect()` or the last `refreshPartitions()`. */
  get partitions(): number {
    return this.#partitions;
  }

  /**
   * The error that stopped this producer, if a send's outcome became unknown
   * (see {@linkcode ProducerPoisonedError}); `connect()` after `disconnect()` clears it.
   */
  get poisoned(): ProducerPoisonedError | undefined {
    return this.#poisoned;
  }

  /**
   * Connects and reads the topic's partition count (the topic must exist).
   * After a poisoned producer's `disconnect()`, makes a fresh kafkajs producer
   * (a new producer id).
   */
  async connect(): Promise<void> {
    if (this.#poisoned) {
      this.#producer = linearProducer(this.#kafka, this.#producerConfig);
      this.#poisoned = undefined;
    }
    // kafkajs gives up at once when the broker it picks for the producer id is down (the
    // metadata still names a broker that died a moment ago): try again for a while.
    const deadline = Date.now() + CONNECT_GRACE_MS;
    for (let attempt = 1;; attempt++) {
      try {
        await this.#producer.connect();
        await this.refreshPartitions();
        break;
      } catch (e) {
        if (!brokerUnreachable(e) || Date.now() > deadline) {
          await this.#producer.disconnect().catch(() => {});
          throw e;
        }
        await sleep(Math.min(2_000, 200 * attempt));
      }
    }
    this.#connected = true;
    this.#metrics.reset();
  }

  /** Re-reads the partition count, e.g. after `ClusterAdmin.addPartitions`. */
  async refreshPartitions(): Promise<number> {
    const admin = this.#kafka.admin();
    try {
      await admin.connect();
      // A topic created a moment ago can be unknown to the broker asked (its metadata lags
      // behind, seen right after a broker restart): ask again for a few seconds before
      // saying it does not exist.
      const deadline = Date.now() + UNKNOWN_TOPIC_GRACE_MS;
      let meta;
      for (;;) {
        try {
          meta = await admin.fetchTopicMetadata({ topics: [this.topic] });
          break;
        } catch (e) {
          const unknown = (e as { type?: string }).type === "UNKNOWN_TOPIC_OR_PARTITION";
          if (unknown && Date.now() < deadline) {
            await sleep(250);
            continue;
          }
          if (brokerUnreachable(e)) throw e;
          throw new Error(
            `topic ${this.topic} cannot be described (${(e as Error).message}): ` +
              `create it first, e.g. deno task admin topics create ${this.topic} --partitions 3`,
          );
        }
      }
      this.#partitions = meta.topics[0].partitions.length;
      return this.#partitions;
    } finally {
      await admin.disconnect().catch(() => {});
    }
  }

  /** The partition this producer would choose for `message`. */
  partitionFor(message: ProducerMessage): number {
    if (!this.#connected) throw new ProducerStateError("call connect() before producing");
    if (message.partition !== undefined) {
      if (
        !Number.isInteger(message.partition) || message.partition < 0 ||
        message.partition >= this.#partitions
      ) {
        throw new RangeError(
          `partition ${message.partition} does not exist: ${this.topic} has ${this.#partitions}`,
        );
      }
      return message.partition;
    }
    const p = this.#partitioner(message, this.#partitions);
    if (!Number.isInteger(p) || p < 0 || p >= this.#partitions) {
      throw new RangeError(`the partitioner chose ${p}, outside 0..${this.#partitions - 1}`);
    }
    return p;
  }

  #toKafka(message: ProducerMessage): PartitionedMessage {
    const out: Message & { partition: number } = {
      key: toBuffer(message.key),
      value: toBuffer(message.value),
      partition: this.partitionFor(message),
    };
    if (this.#defaultHeaders || message.headers) {
      out.headers = { ...this.#defaultHeaders, ...message.headers };
    }
    if (message.timestamp !== undefined) out.timestamp = message.timestamp;
    return out;
  }

  /**
   * Sends `messages` and returns their delivery reports in the same order.
   * One kafkajs send per partition, so each send has one leader: kafkajs's
   * bookkeeping across several brokers in one send can drop a partition or
   * send one twice when a leader dies (see the facts in lib/kafka/mod.ts).
   * Each partition's outcome is its own; the first failure is thrown after
   * every partition has settled, with `failed` listing the partitions that
   * failed.
   */
  async #deliver(messages: PartitionedMessage[]): Promise<DeliveryReport[]> {
    const groups = new Map<number, number[]>();
    messages.forEach((m, i) => {
      const group = groups.get(m.partition);
      if (group) group.push(i);
      else groups.set(m.partition, [i]);
    });
    const reports: DeliveryReport[] = new Array(messages.length);
    const outcomes = await Promise.allSettled(
      [...groups.values()].map(async (indices) => {
        const out = await this.#deliverPartition(indices.map((i) => messages[i]));
        indices.forEach((i, k) => reports[i] = out[k]);
      }),
    );
    const failed = outcomes.find((o) => o.status === "rejected");
    if (failed) {
      throw new PartialDeliveryError(
        [...groups.keys()].filter((_, g) => outcomes[g].status === "rejected"),
        reports,
        failed.reason,
      );
    }
    return reports;
  }

  /** One partition's records in one verified kafkajs send. */
  async #deliverPartition(messages: PartitionedMessage[]): Promise<DeliveryReport[]> {
    if (this.#poisoned) throw this.#poisoned;
    const partition = messages[0].partition;
    const record = {
      topic: this.topic,
      acks: this.acks,
      timeout: this.#ackTimeoutMs,
      compression: COMPRESSION_TYPES[this.compression],
      messages,
    };
    if (this.acks === 0) {
      // No answer comes back, so there is nothing to verify: acks=0 can lose records.
      await this.#producer.send(record);
      return messages.map(() => ({ topic: this.topic, partition, offset: "-1" }));
    }
    let metadata: RecordMetadata[];
    try {
      const sent = await sendVerified(this.#producer, record);
      this.#metrics.resent += sent.resent;
      metadata = sent.metadata;
    } catch (e) {
      if (messages.length > 1 && brokerAnswerIn(e, TOO_LARGE)) {
        // Nothing of a refused request was written (kafkajs takes its sequence numbers back).
        const half = Math.ceil(messages.length / 2);
        const head = await this.#deliverPartition(messages.slice(0, half));
        return head.concat(await this.#deliverPartition(messages.slice(half)));
      }
      if (this.idempotent && !this.#poisoned && !refusedForGood(e)) {
        this.#poisoned = new ProducerPoisonedError(this.topic, e);
      }
      throw e;
    }
    const m = metadata.find((x) => x.partition === partition);
    const base = BigInt(m?.baseOffset ?? m?.offset ?? "-1");
    return messages.map((_, i) => ({
      topic: this.topic,
      partition,
      offset: String(base < 0n ? -1n : base + BigInt(i)),
    }));
  }

  /**
   * Synchronous send: resolves once every record is acknowledged (per
   * `acks`), with one delivery report per record in input order.
   */
  async send(messages: ProducerMessage[]): Promise<DeliveryReport[]> {
    if (messages.length === 0) return [];
    const started = performance.now();
    const out = messages.map((m) => this.#toKafka(m));
    try {
      const reports = await this.#deliver(out);
      this.#metrics.recordSent(messages.length, bytesOf(messages));
      this.#metrics.latency.record(performance.now() - started, messages.length);
      return reports;
    } catch (e) {
      const failed = e instanceof PartialDeliveryError ? e.failed : undefined;
      const lost = failed ? messages.filter((_, i) => failed.includes(out[i].partition)) : messages;
      const kept = failed ? messages.filter((_, i) => !failed.includes(out[i].partition)) : [];
      if (kept.length) this.#metrics.recordSent(kept.length, bytesOf(kept));
      this.#metrics.recordError(lost.length);
      throw e instanceof PartialDeliveryError ? e.cause : e;
    }
  }

  /**
   * Asynchronous send: buffers the record and resolves with its delivery
   * report once its batch is acknowledged. A partition's batch leaves when it
   * holds `batchSize` records or the oldest waiting record has waited
   * `lingerMs`; up to `maxInFlight` requests travel at once, one partition each. Ignoring the returned promise is
   * fine: failures are also counted and thrown by {@linkcode flush}.
   */
  enqueue(message: ProducerMessage): Promise<DeliveryReport> {
    const kafkaMessage = this.#toKafka(message);
    const { promise, resolve, reject } = Promise.withResolvers<DeliveryReport>();
    promise.catch(noop); // a caller that ignores the promise learns of failures from flush()
    const partition = kafkaMessage.partition;
    let queue = this.#queues.get(partition);
    if (!queue) this.#queues.set(partition, queue = []);
    const bytes = sizeOf(message.key) + sizeOf(message.value);
    queue.push({
      message: kafkaMessage,
      bytes,
      framed: bytes + headerBytes(kafkaMessage.headers) + REQUEST_BYTES_PER_RECORD,
      at: performance.now(),
      resolve,
      reject,
    });
    this.#queued++;
    if (queue.length >= this.batchSize && !this.#busy.has(partition)) this.#pump();
    else if (this.#timer === undefined) this.#armLinger();
    return promise;
  }

  #armLinger(): void {
    if (this.lingerMs === 0) {
      this.#lingerDue = true;
      queueMicrotask(() => this.#pump());
      return;
    }
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#lingerDue = true;
      this.#pump();
    }, this.lingerMs);
  }

  /**
   * Sends what may leave now: while fewer than `maxInFlight` requests travel,
   * a partition with no request in flight leaves when its batch is full, or
   * when the linger time is up or a flush waits: one request (one kafkajs
   * send) with up to `batchSize` of its records. A partition that just left
   * goes to the back of the line, so every partition gets its turn.
   */
  #pump(): void {
    while (this.#inFlight < this.maxInFlight && this.#queued > 0) {
      const urgent = this.#lingerDue || this.#flushing > 0;
      let chosen: number | undefined;
      for (const [partition, queue] of this.#queues) {
        if (queue.length === 0 || this.#busy.has(partition)) continue;
        if (urgent || queue.length >= this.batchSize) {
          chosen = partition;
          break;
        }
      }
      if (chosen === undefined) break;
      const partition = chosen;
      const queue = this.#queues.get(partition)!;
      this.#queues.delete(partition);
      this.#queues.set(partition, queue);
      const take = this.#requestSize(queue);
      const batch = queue.length > take ? queue.splice(0, take) : queue.splice(0);
      this.#busy.add(partition);
      this.#queued -= batch.length;
      if (this.#queued === 0) {
        this.#lingerDue = false;
        if (this.#timer !== undefined) clearTimeout(this.#timer);
        this.#timer = undefined;
      }
      this.#inFlight++;
      this.#inFlightRecords += batch.length;
      this.#dispatch(batch).finally(() => {
        this.#inFlight--;
        this.#inFlightRecords -= batch.length;
        this.#busy.delete(partition);
        this.#pump();
        this.#wake();
      });
    }
    if (this.#queued > 0 && this.#timer === undefined && !this.#lingerDue) this.#armLinger();
  }

  /** How many of `queue`'s records the next request carries: `batchSize` (or all that piled up, with `carryPiledUp`) within `maxRequestBytes`, at least one. */
  #requestSize(queue: Pending[]): number {
    const most = this.carryPiledUp ? queue.length : Math.min(this.batchSize, queue.length);
    let bytes = queue[0].framed;
    let n = 1;
    for (; n < most; n++) {
      bytes += queue[n].framed;
      if (bytes > this.maxRequestBytes) break;
    }
    return n;
  }

  async #dispatch(batch: Pending[]): Promise<void> {
    let failed: number[] | undefined;
    let error: unknown;
    let reports: DeliveryReport[] | undefined;
    try {
      reports = await this.#deliver(batch.map((p) => p.message));
    } catch (e) {
      failed = e instanceof PartialDeliveryError ? e.failed : undefined;
      reports = e instanceof PartialDeliveryError ? e.reports : undefined;
      error = e instanceof PartialDeliveryError ? e.cause : e;
    }
    const now = performance.now();
    let sent = 0;
    let bytes = 0;
    let errors = 0;
    for (let i = 0; i < batch.length; i++) {
      const p = batch[i];
      if (reports === undefined || failed?.includes(p.message.partition)) {
        errors++;
        p.reject(error);
        continue;
      }
      sent++;
      bytes += p.bytes;
      this.#metrics.latency.record(now - p.at);
      p.resolve(reports[i]);
    }
    if (sent > 0) this.#metrics.recordSent(sent, bytes);
    if (errors > 0) {
      this.#failures += errors;
      this.#lastError = error;
      this.#metrics.recordError(errors);
    }
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  /** Records buffered and not yet acknowledged. */
  get buffered(): number {
    return this.#queued + this.#inFlightRecords;
  }

  /** Resolves when fewer than `maxBuffered` records are buffered or in flight (back-pressure). */
  async ready(): Promise<void> {
    while (this.buffered >= this.maxBuffered) {
      await new Promise<void>((r) => this.#waiters.push(r));
    }
  }

  /**
   * Sends everything buffered and waits for it; throws {@linkcode DeliveryError}
   * if any enqueued record failed since the last flush.
   */
  async flush(): Promise<void> {
    this.#flushing++;
    try {
      this.#pump();
      while (this.buffered > 0) {
        await new Promise<void>((r) => this.#waiters.push(r));
      }
    } finally {
      this.#flushing--;
    }
    if (this.#failures > 0) {
      const failed = this.#failures;
      this.#failures = 0;
      throw new DeliveryError(this.topic, failed, this.#lastError);
    }
  }

  /** Counters and latency percentiles since `connect()` (or the last reset). */
  metrics(): MetricsSnapshot {
    return this.#metrics.snapshot();
  }

  /** Zeroes the counters and restarts the clock (e.g. after a warm-up). */
  resetMetrics(): void {
    this.#metrics.reset();
  }

  /** Flushes what is buffered, then disconnects. */
  async disconnect(): Promise<void> {
    try {
      if (this.#connected) await this.flush();
    } finally {
      this.#connected = false;
      if (this.#timer !== undefined) clearTimeout(this.#timer);
      this.#timer = undefined;
      await this.#producer.disconnect();
    }
  }
}
