/**
 * A speed fix for kafkajs's `producer.send()`: before it builds requests,
 * kafkajs groups a send's records by partition with
 * `[...current, message]` for every record, copying the partition's list
 * each time, so a send of n records costs n²/2 copies and as much garbage
 * (a CPU profile of `TopicProducer` with 1,700-record requests put a
 * quarter of the process's time there). {@linkcode linearProducer} makes a
 * kafkajs producer whose grouping appends in place: the same groups in the
 * same order. Only producers made through it are affected.
 *
 * How: kafkajs's producer module captures its grouping function when it
 * loads, so this module loads a second copy of the three producer modules
 * (producer, message producer, send) with the grouping swapped, leaving
 * kafkajs's module cache as it was; every other kafkajs module (cluster,
 * brokers, the idempotence manager) is shared. {@linkcode linearProducer}
 * then does what `Kafka.producer()` does with that copy. If kafkajs is not
 * the expected shape, it is `kafka.producer(config)` unchanged.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { createKafka } from "./client.ts";
 * import { linearProducer } from "./grouping.ts";
 * const producer = linearProducer(createKafka(loadConfig()), { idempotent: true });
 * ```
 *
 * @module
 */
import { createRequire } from "node:module";
import type { Kafka, Producer, ProducerConfig } from "./upstream.ts";

/** What kafkajs's grouping receives. */
export interface GroupArgs {
  /** The topic of the send. */
  topic: string;
  /** The topic's partitions as kafkajs's metadata lists them. */
  partitionMetadata: unknown[];
  /** The send's records, in send order. */
  messages: unknown[];
  /** Picks a record's partition. */
  partitioner: (args: { topic: string; partitionMetadata: unknown[]; message: unknown }) => number;
}

/**
 * kafkajs's `groupMessagesPerPartition`, appending in place: records keyed
 * by the partition the partitioner picks, in send order.
 *
 * @example
 * ```ts
 * import { groupByPartition } from "./grouping.ts";
 * const groups = groupByPartition({
 *   topic: "t",
 *   partitionMetadata: [{}, {}],
 *   messages: [{ partition: 1 }, { partition: 0 }, { partition: 1 }],
 *   partitioner: ({ message }) => (message as { partition: number }).partition,
 * });
 * console.log(groups[1].length); // 2
 * ```
 */
export function groupByPartition(
  { topic, partitionMetadata, messages, partitioner }: GroupArgs,
): Record<number, unknown[]> {
  const result: Record<number, unknown[]> = {};
  if (partitionMetadata.length === 0) return result;
  for (const message of messages) {
    const partition = partitioner({ topic, partitionMetadata, message });
    const group = result[partition];
    if (group) group.push(message);
    else result[partition] = [message];
  }
  return result;
}

type CreateProducer = (options: Record<string, unknown>) => Producer;

/** kafkajs's producer factory loaded a second time, with {@linkcode groupByPartition}. */
const linearCreateProducer: CreateProducer | undefined = (() => {
  try {
    const require = createRequire(import.meta.resolve("kafkajs"));
    const fresh = [
      "kafkajs/src/producer/index.js",
      "kafkajs/src/producer/messageProducer.js",
      "kafkajs/src/producer/sendMessages.js",
    ].map((p) => require.resolve(p));
    const groupPath = require.resolve("kafkajs/src/producer/groupMessagesPerPartition.js");
    require(groupPath);
    const group = require.cache[groupPath];
    if (!group) return undefined;
    const saved = fresh.map((p) => require.cache[p]);
    const original = group.exports;
    for (const p of fresh) delete require.cache[p];
    group.exports = groupByPartition;
    try {
      return require(fresh[0]) as CreateProducer;
    } finally {
      group.exports = original;
      fresh.forEach((p, i) => {
        if (saved[i]) require.cache[p] = saved[i];
        else delete require.cache[p];
      });
    }
  } catch {
    return undefined;
  }
})();

const InstrumentationEmitter: (new () => unknown) | undefined = (() => {
  try {
    const require = createRequire(import.meta.resolve("kafkajs"));
    return require("kafkajs/src/instrumentation/emitter.js");
  } catch {
    return undefined;
  }
})();

const DEFAULT_METADATA_MAX_AGE = 300_000;

/**
 * A kafkajs producer like `kafka.producer(config)`, whose sends group
 * records by partition in linear time (see the module note); exactly
 * `kafka.producer(config)` when kafkajs is not the expected shape (or
 * `kafka` is not a kafkajs client).
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { createKafka } from "./client.ts";
 * import { linearProducer } from "./grouping.ts";
 * const producer = linearProducer(createKafka(loadConfig()), {});
 * await producer.connect();
 * await producer.disconnect();
 * ```
 */
export function linearProducer(kafka: Kafka, config: ProducerConfig): Producer {
  const own = Object.getOwnPropertySymbols(kafka);
  const find = (name: string) => own.find((s) => s.description === `private:Kafka:${name}`);
  const [createCluster, clusterRetry, logger] = ["createCluster", "clusterRetry", "logger"].map(
    find,
  );
  if (!linearCreateProducer || !InstrumentationEmitter || !createCluster || !logger) {
    return kafka.producer(config);
  }
  const k = kafka as unknown as Record<symbol, unknown>;
  const instrumentationEmitter = new InstrumentationEmitter();
  const cluster = (k[createCluster] as (o: Record<string, unknown>) => unknown)({
    metadataMaxAge: config.metadataMaxAge ?? DEFAULT_METADATA_MAX_AGE,
    allowAutoTopicCreation: config.allowAutoTopicCreation,
    maxInFlightRequests: config.maxInFlightRequests,
    instrumentationEmitter,
  });
  return linearCreateProducer({
    retry: { ...(clusterRetry ? k[clusterRetry] as object : {}), ...config.retry },
    logger: k[logger],
    cluster,
    createPartitioner: config.createPartitioner,
    idempotent: config.idempotent,
    transactionalId: config.transactionalId,
    transactionTimeout: config.transactionTimeout,
    instrumentationEmitter,
  });
}

/**
 * Whether {@linkcode linearProducer} makes its own producers (false: it
 * falls back to `kafka.producer()`).
 *
 * @example
 * ```ts
 * import { linearGroupingAvailable } from "./grouping.ts";
 * console.log(linearGroupingAvailable()); // true with the pinned kafkajs 2.2.4
 * ```
 */
export function linearGroupingAvailable(): boolean {
  return linearCreateProducer !== undefined && InstrumentationEmitter !== undefined;
}
