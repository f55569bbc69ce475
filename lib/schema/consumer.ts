/**
 * A small consumer for one contract topic: every record is decoded into the
 * reader shape by {@linkcode ContractDecoder} and handed to `onRecord`, or
 * copied to the dead-letter topic with its reason (`lib/kafka/dlq.ts`). The
 * offset is committed only after the handler returned or the dead letter was
 * acknowledged, so nothing is dropped silently.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { loadCatalog } from "./catalog.ts";
 * import { AvroSerde } from "./serde.ts";
 * import { ContractDecoder } from "./decoder.ts";
 * import { ContractConsumer } from "./consumer.ts";
 * const config = loadConfig();
 * const order = (await loadCatalog()).family("order").latest;
 * const decoder = new ContractDecoder(new AvroSerde({ url: config.schemaRegistry.url }), order.type);
 * const consumer = new ContractConsumer({
 *   config, topic: config.topics.orders, groupId: "orders-reader", decoder,
 *   onRecord: (value) => console.log(value),
 * });
 * await consumer.connect();
 * await consumer.run();
 * // ... later
 * await consumer.disconnect();
 * ```
 *
 * @module
 */
import type { Consumer } from "kafkajs";
import type { Config } from "../config.ts";
import { createKafka } from "../kafka/client.ts";
import { type DeadLetterReason, DeadLetterWriter } from "../kafka/dlq.ts";
import type { ContractDecoder } from "./decoder.ts";

/** Where a decoded record came from. */
export interface RecordMeta {
  /** Topic the record was read from. */
  topic: string;
  /** Partition the record was read from. */
  partition: number;
  /** The record's offset. */
  offset: string;
  /** The record's key as text; null when it has none. */
  key: string | null;
  /** Id of the schema that wrote the record. */
  schemaId: number;
}

/** Options of {@linkcode ContractConsumer}. */
export interface ContractConsumerOptions<T> {
  /** Where Kafka is; also the default dead-letter topic. */
  config: Config;
  /** Topic to consume. */
  topic: string;
  /** Consumer group. */
  groupId: string;
  /** Decodes and checks each record. */
  decoder: ContractDecoder<T>;
  /** Called for every record that decodes and passes the rules. */
  onRecord: (value: T, meta: RecordMeta) => void | Promise<void>;
  /** Called after a record's dead letter was acknowledged. */
  onDeadLetter?: (
    reason: DeadLetterReason,
    error: string,
    meta: Omit<RecordMeta, "schemaId">,
  ) => void;
  /** The dead-letter topic; `config.topics.deadLetter` by default. It must exist. */
  deadLetterTopic?: string;
  /** Read the topic from the start when the group has no committed offset (default true). */
  fromBeginning?: boolean;
}

/** Counts since {@linkcode ContractConsumer.run}. */
export interface ContractConsumerStats {
  /** Records decoded and passed to `onRecord`. */
  decoded: number;
  /** Records dead-lettered, per reason. */
  deadLettered: Record<string, number>;
}

/**
 * connect → run → disconnect.
 *
 * @example
 * ```ts
 * import type { ContractConsumer } from "./consumer.ts";
 * declare const consumer: ContractConsumer<unknown>;
 * console.log(consumer.stats.decoded, consumer.stats.deadLettered);
 * ```
 */
export class ContractConsumer<T = unknown> {
  /** Counts since `run()`. */
  readonly stats: ContractConsumerStats = { decoded: 0, deadLettered: {} };
  /** Where records that fail the contract go. */
  readonly deadLetterTopic: string;
  readonly #options: ContractConsumerOptions<T>;
  #consumer?: Consumer;
  #dlq?: DeadLetterWriter;

  /** A consumer with these options; `connect()` then `run()` starts it. */
  constructor(options: ContractConsumerOptions<T>) {
    this.#options = options;
    this.deadLetterTopic = options.deadLetterTopic ?? options.config.topics.deadLetter;
  }

  /** Connects the consumer and the dead-letter producer; checks the dead-letter topic exists. */
  async connect(): Promise<void> {
    const kafka = createKafka(this.#options.config, {
      clientId: `contract-${this.#options.groupId}`,
    });
    this.#dlq = new DeadLetterWriter(kafka, this.deadLetterTopic);
    await this.#dlq.connect();
    // A short fetch wait: kafkajs's stop() waits for the fetch in flight (5 s by default).
    this.#consumer = kafka.consumer({ groupId: this.#options.groupId, maxWaitTimeInMs: 500 });
    await this.#consumer.connect();
  }

  /** Subscribes and starts handling records (returns once the consumer is running). */
  async run(): Promise<void> {
    const consumer = this.#consumer;
    const dlq = this.#dlq;
    if (!consumer || !dlq) throw new Error("ContractConsumer.run(): call connect() first");
    const o = this.#options;
    await consumer.subscribe({ topic: o.topic, fromBeginning: o.fromBeginning ?? true });
    await consumer.run({
      eachMessage: async ({ topic, partition, message }) => {
        const outcome = await o.decoder.decode(message.value);
        const meta = {
          topic,
          partition,
          offset: message.offset,
          key: message.key?.toString() ?? null,
        };
        if (outcome.ok) {
          await o.onRecord(outcome.value, { ...meta, schemaId: outcome.schemaId });
          this.stats.decoded++;
          return;
        }
        await dlq.write(
          { topic, partition, offset: message.offset, message, group: o.groupId },
          outcome.reason,
          outcome.error,
        );
        this.stats.deadLettered[outcome.reason] = (this.stats.deadLettered[outcome.reason] ?? 0) +
          1;
        o.onDeadLetter?.(outcome.reason, outcome.error, meta);
      },
    });
  }

  /** Stops consuming and disconnects both clients. */
  async disconnect(): Promise<void> {
    await this.#consumer?.disconnect();
    await this.#dlq?.disconnect();
    this.#consumer = undefined;
    this.#dlq = undefined;
  }
}
