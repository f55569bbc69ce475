/**
 * The dead-letter contract: a record that cannot be processed is copied, key,
 * value and headers untouched, to the dead-letter topic with headers that say
 * why and where it came from. Nothing is dropped: the consumer commits the
 * original only after its dead letter is acknowledged.
 *
 * Every producer of dead letters (module 2's consumer, module 3's decoder,
 * module 4's sink) uses {@linkcode deadLetter} and {@linkcode sendDeadLetters};
 * every reader uses {@linkcode readDeadLetter}.
 *
 * @example
 * ```ts
 * import { deadLetter, readDeadLetter } from "./dlq.ts";
 * const dl = deadLetter(
 *   { topic: "orders", partition: 2, offset: "41", message: { key: null, value: null } },
 *   "deserialization",
 *   new Error("no magic byte"),
 * );
 * console.log(readDeadLetter(dl)?.reason); // "deserialization"
 * ```
 *
 * @module
 */
import { Buffer } from "node:buffer";
import type { IHeaders, Kafka, Message, Producer } from "./upstream.ts";
import { refusedForGood, sequenceLost } from "./errors.ts";
import { type PartitionedMessage, sendByPartition, type VerifiedResult } from "./verified.ts";

/** Why a record went to the dead-letter topic. */
export type DeadLetterReason =
  /** The bytes are not a record this consumer can decode (e.g. no Avro magic byte). */
  | "deserialization"
  /** The record names a schema id the registry does not know. */
  | "unknown-schema"
  /** Decoded, but the value breaks the contract (a field out of range, a missing id). */
  | "validation"
  /** The handler threw a non-retriable error for this record. */
  | "processing"
  /** The handler kept failing with a retriable error until retries ran out. */
  | "retries-exhausted";

/** The reasons in {@linkcode DeadLetterReason}, for validation and docs. */
export const DEAD_LETTER_REASONS: readonly DeadLetterReason[] = [
  "deserialization",
  "unknown-schema",
  "validation",
  "processing",
  "retries-exhausted",
];

/** Header names written on every dead letter. */
export const DLQ_HEADERS = {
  reason: "dlq.reason",
  error: "dlq.error",
  topic: "dlq.origin.topic",
  partition: "dlq.origin.partition",
  offset: "dlq.origin.offset",
  timestamp: "dlq.origin.timestamp",
  group: "dlq.consumer.group",
  failedAt: "dlq.failed.at",
} as const;

/** Where a failed record was read from (the shape of kafkajs's `eachMessage` payload). */
export interface DeadLetterOrigin {
  /** Topic the record was read from. */
  topic: string;
  /** Partition the record was read from. */
  partition: number;
  /** The record's offset. */
  offset: string;
  /** The record itself: key, value, timestamp and headers, all kept in the dead letter. */
  message: {
    key: Buffer | string | null;
    value: Buffer | string | null;
    timestamp?: string;
    headers?: IHeaders;
  };
  /** The consumer group that gave up on it, if any. */
  group?: string;
}

/** What {@linkcode readDeadLetter} recovers from a dead letter's headers. */
export interface DeadLetterInfo {
  /** Why the record was given up on. */
  reason: DeadLetterReason;
  /** The error, as text. */
  error: string;
  /** Topic the original was read from. */
  topic: string;
  /** Partition the original was read from. */
  partition: number;
  /** The original's offset. */
  offset: string;
  /** The original's timestamp, when it had one. */
  timestamp?: string;
  /** The consumer group that gave up on it, if any. */
  group?: string;
  /** When it was dead-lettered (ISO 8601). */
  failedAt: string;
}

const MAX_ERROR_CHARS = 2000;

/**
 * The dead letter for `origin`: same key, value and headers, plus the
 * `dlq.*` headers naming the reason, the error text and the origin.
 *
 * @example
 * ```ts
 * import { deadLetter, DLQ_HEADERS } from "./dlq.ts";
 * const origin = { topic: "t", partition: 0, offset: "7", message: { key: "k", value: "?" } };
 * const dl = deadLetter(origin, "validation", "qty: expected int");
 * console.log(String(dl.headers?.[DLQ_HEADERS.offset])); // "7"
 * ```
 */
export function deadLetter(
  origin: DeadLetterOrigin,
  reason: DeadLetterReason,
  error: unknown,
  now: Date = new Date(),
): Message {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  const headers: IHeaders = { ...(origin.message.headers ?? {}) };
  headers[DLQ_HEADERS.reason] = reason;
  headers[DLQ_HEADERS.error] = text.slice(0, MAX_ERROR_CHARS);
  headers[DLQ_HEADERS.topic] = origin.topic;
  headers[DLQ_HEADERS.partition] = String(origin.partition);
  headers[DLQ_HEADERS.offset] = origin.offset;
  if (origin.message.timestamp) headers[DLQ_HEADERS.timestamp] = origin.message.timestamp;
  if (origin.group) headers[DLQ_HEADERS.group] = origin.group;
  headers[DLQ_HEADERS.failedAt] = now.toISOString();
  return { key: origin.message.key, value: origin.message.value, headers };
}

function header(headers: IHeaders | undefined, name: string): string | undefined {
  const v = headers?.[name];
  if (v === undefined) return undefined;
  const one = Array.isArray(v) ? v[0] : v;
  return one === undefined ? undefined : one.toString();
}

/**
 * Reads the `dlq.*` headers of a record from the dead-letter topic;
 * `undefined` when it carries no dead-letter reason.
 *
 * @example
 * ```ts
 * import { readDeadLetter } from "./dlq.ts";
 * console.log(readDeadLetter({ headers: {} })); // undefined
 * ```
 */
export function readDeadLetter(
  message: { headers?: IHeaders },
): DeadLetterInfo | undefined {
  const h = message.headers;
  const reason = header(h, DLQ_HEADERS.reason);
  if (!reason) return undefined;
  if (!DEAD_LETTER_REASONS.includes(reason as DeadLetterReason)) {
    throw new Error(`dead letter with unknown reason "${reason}"`);
  }
  return {
    reason: reason as DeadLetterReason,
    error: header(h, DLQ_HEADERS.error) ?? "",
    topic: header(h, DLQ_HEADERS.topic) ?? "",
    partition: Number(header(h, DLQ_HEADERS.partition) ?? -1),
    offset: header(h, DLQ_HEADERS.offset) ?? "",
    timestamp: header(h, DLQ_HEADERS.timestamp),
    group: header(h, DLQ_HEADERS.group),
    failedAt: header(h, DLQ_HEADERS.failedAt) ?? "",
  };
}

/**
 * Sends dead letters with {@linkcode sendByPartition} (acks=all). Each goes to
 * partition `origin partition % partitions` so one source partition's failures
 * stay in order; pass the dead-letter topic's partition count.
 *
 * @example
 * ```ts
 * import { deadLetter, sendDeadLetters } from "./dlq.ts";
 * declare const producer: import("kafkajs").Producer;
 * const origin = { topic: "t", partition: 4, offset: "1", message: { key: null, value: "x" } };
 * await sendDeadLetters(producer, "shopstream.dlq", [deadLetter(origin, "processing", "boom")], 3);
 * ```
 */
export function sendDeadLetters(
  producer: Producer,
  topic: string,
  letters: Message[],
  partitions: number,
): Promise<VerifiedResult> {
  if (!Number.isInteger(partitions) || partitions < 1) {
    throw new RangeError(
      `sendDeadLetters: partitions must be a positive integer, got ${partitions}`,
    );
  }
  const messages: PartitionedMessage[] = letters.map((m) => {
    const origin = Number(header(m.headers, DLQ_HEADERS.partition));
    if (!Number.isInteger(origin) || origin < 0) {
      throw new TypeError("sendDeadLetters: build each message with deadLetter() first");
    }
    return { ...m, partition: origin % partitions };
  });
  return sendByPartition(producer, { topic, acks: -1, messages });
}

/** Options of a {@linkcode DeadLetterWriter}. */
export interface DeadLetterWriterOptions {
  /**
   * Makes the writer's idempotent producer, now and after a send that left
   * the old one unusable (default: `kafka.producer({ idempotent: true })`).
   */
  producer?: () => Producer;
  /**
   * How many fresh producers one write may take when the broker refuses its
   * producer's sequence numbers (default 3); then the write fails.
   */
  renewals?: number;
  /** Called each time the writer drops its producer for a fresh one, with the reason. */
  onRenew?: (error: unknown) => void;
}

/**
 * The writing end of a dead-letter topic, for consumers: `connect()` checks
 * that the topic exists (a consumer that could not keep its bad records must
 * not start) and connects an idempotent producer; `write()` sends one dead
 * letter and resolves once it is acknowledged, so the caller may then commit
 * the original.
 *
 * Writes go one at a time (kafkajs can reorder concurrent sends to one
 * partition, and a failed one rolls back sequence numbers the other may
 * already use). A write whose outcome is unknown retires the producer: its
 * sequence numbers may no longer match the broker's (see
 * {@linkcode sequenceLost}), so the next write makes a fresh one, with a new
 * producer id. A write the broker refused for its sequence numbers is sent
 * again at once with a fresh producer: that is how the writer gets past a
 * broker failure without losing the letter. A letter whose first attempt
 * did land may then be in the topic twice; readers count by origin.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { createKafka } from "./client.ts";
 * import { DeadLetterWriter } from "./dlq.ts";
 * const writer = new DeadLetterWriter(createKafka(loadConfig()), "shopstream.dlq");
 * await writer.connect();
 * const origin = { topic: "orders", partition: 0, offset: "9", message: { key: null, value: "?" } };
 * await writer.write(origin, "deserialization", "no magic byte");
 * await writer.disconnect();
 * ```
 */
export class DeadLetterWriter {
  #producer?: Producer;
  #connected = false;
  #closed = false;
  #partitions = 0;
  #queue: Promise<unknown> = Promise.resolve();
  #renewed = 0;
  readonly #options: DeadLetterWriterOptions;

  /** A writer to `topic` over `kafka`; call `connect()` first. */
  constructor(
    readonly kafka: Kafka,
    readonly topic: string,
    options: DeadLetterWriterOptions = {},
  ) {
    this.#options = options;
  }

  /** Times the writer replaced its producer with a fresh one (0 in a healthy run). */
  get renewed(): number {
    return this.#renewed;
  }

  /** Checks the topic exists and learns its partition count; connects the producer. */
  async connect(): Promise<void> {
    this.#closed = false;
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const meta = await admin.fetchTopicMetadata({ topics: [this.topic] }).catch(() => {
        throw new Error(
          `dead-letter topic ${this.topic} does not exist: ` +
            `create it first (deno task admin topics create ${this.topic} --partitions 3)`,
        );
      });
      this.#partitions = meta.topics[0].partitions.length;
    } finally {
      await admin.disconnect();
    }
    await this.#ready();
    this.#connected = true;
  }

  /** Sends the dead letter for `origin` (see {@linkcode deadLetter}); resolves once acknowledged. */
  async write(origin: DeadLetterOrigin, reason: DeadLetterReason, error: unknown): Promise<void> {
    if (!this.#connected) throw new Error("DeadLetterWriter.write(): call connect() first");
    await this.#serial([deadLetter(origin, reason, error)]);
  }

  /**
   * Sends one dead letter per entry in one verified send (acks=all); resolves
   * once every one is acknowledged. For consumers that handle whole batches.
   *
   * @example
   * ```ts
   * import { loadConfig } from "../config.ts";
   * import { createKafka } from "./client.ts";
   * import { DeadLetterWriter } from "./dlq.ts";
   * const writer = new DeadLetterWriter(createKafka(loadConfig()), "shopstream.dlq");
   * await writer.connect();
   * const message = { key: null, value: "?" };
   * await writer.writeAll([
   *   { origin: { topic: "orders", partition: 0, offset: "9", message }, reason: "deserialization", error: "no magic byte" },
   *   { origin: { topic: "orders", partition: 0, offset: "12", message }, reason: "validation", error: "qty: 0 < 1" },
   * ]);
   * await writer.disconnect();
   * ```
   */
  async writeAll(
    entries: readonly { origin: DeadLetterOrigin; reason: DeadLetterReason; error: unknown }[],
  ): Promise<void> {
    if (!this.#connected) throw new Error("DeadLetterWriter.writeAll(): call connect() first");
    if (entries.length === 0) return;
    await this.#serial(entries.map((e) => deadLetter(e.origin, e.reason, e.error)));
  }

  /**
   * Disconnects the producer (safe to call twice). A write still under way
   * fails (its caller commits nothing for it); one queued behind it is not sent.
   */
  async disconnect(): Promise<void> {
    this.#connected = false;
    this.#closed = true;
    const producer = this.#producer;
    this.#producer = undefined;
    await producer?.disconnect();
  }

  /** Runs `#send(letters)` after every write queued before it. */
  #serial(letters: Message[]): Promise<void> {
    const run = this.#queue.then(() => this.#send(letters));
    this.#queue = run.catch(() => {});
    return run;
  }

  async #send(letters: Message[]): Promise<void> {
    const renewals = this.#options.renewals ?? 3;
    for (let renewed = 0;; renewed++) {
      if (this.#closed) {
        throw new Error("DeadLetterWriter: disconnected before the letters were sent");
      }
      const producer = await this.#ready();
      try {
        await sendDeadLetters(producer, this.topic, letters, this.#partitions);
        return;
      } catch (e) {
        if (!refusedForGood(e)) await this.#retire(e);
        if (!sequenceLost(e) || renewed >= renewals) throw e;
      }
    }
  }

  /** The current producer, or a fresh connected one. */
  async #ready(): Promise<Producer> {
    if (this.#producer) return this.#producer;
    const producer = this.#options.producer?.() ?? this.kafka.producer({ idempotent: true });
    await producer.connect();
    if (this.#closed) {
      await producer.disconnect();
      throw new Error("DeadLetterWriter: disconnected while a producer was connecting");
    }
    this.#producer = producer;
    return producer;
  }

  /** Drops the producer after a send whose outcome is unknown; the next send makes a new one. */
  async #retire(error: unknown): Promise<void> {
    const producer = this.#producer;
    if (!producer) return;
    this.#producer = undefined;
    this.#renewed++;
    this.#options.onRenew?.(error);
    await producer.disconnect().catch(() => {});
  }
}
