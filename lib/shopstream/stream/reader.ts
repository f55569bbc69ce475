/**
 * Reading a whole topic, keys included, up to its end as of the call, with
 * `read_committed` (default) or `read_uncommitted`. The stream processor
 * rebuilds its state this way; tests and the notebook read the results the
 * same way, independently of the processor.
 *
 * Where the end is: the partitions' end offsets are fetched first. A
 * `read_committed` reader then sees every record of a committed
 * transaction, none of an aborted one, and advances over the transaction
 * markers too (kafkajs reports a batch that held only markers or aborted
 * records through its end-of-batch event), so a partition is done once its
 * position reaches its end offset. Works on compacted topics (no marker
 * records need to be written, unlike `readOutput` in lib/kafka).
 *
 * The end offsets kafkajs's admin lists are the *last stable* offsets: a
 * transaction still open, or committed but whose markers Kafka is still
 * writing (a few ms after the commit returns), lies beyond them in that
 * partition. So read after the writer is done: `StreamProcessor.finish()`
 * and `stop()` return only once their last transaction is complete.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../../config.ts";
 * import { createKafka } from "../../kafka/mod.ts";
 * import { latestByKey, readTopic } from "./reader.ts";
 * const records = await readTopic(createKafka(loadConfig()), "shopstream.stream.windows");
 * console.log(records.length, latestByKey(records).size); // records, distinct keys
 * ```
 *
 * @module
 */
import type { Config } from "../../config.ts";
import { createKafka } from "../../kafka/client.ts";
import type { Kafka } from "../../kafka/upstream.ts";
import { topicOffsets } from "../../kafka/topic_offsets.ts";
import { withDeadline } from "../../util/deadline.ts";
import type { JoinOutcome } from "./join.ts";
import { decodeJoined, decodeLate, decodeWindow, type LateRecord } from "./records.ts";
import type { StreamTopics } from "./topics.ts";
import { byStartRegion, type WindowResult } from "./windows.ts";

/** One record read back. */
export interface TopicRecord {
  /** Its partition. */
  partition: number;
  /** Its offset in the partition. */
  offset: string;
  /** The key as text (null for none). */
  key: string | null;
  /** The value as text (null for a tombstone). */
  value: string | null;
}

/** Options of {@linkcode readTopic}. */
export interface ReadTopicOptions {
  /** `read_committed` (default) skips aborted transactions; `read_uncommitted` shows them. */
  isolation?: "read_committed" | "read_uncommitted";
  /** Give up after this many ms (default 60 000). */
  timeoutMs?: number;
}

/**
 * Every record of `topic` up to its end offsets as of the call, in
 * per-partition offset order (partition 0 first). Uses a throwaway consumer
 * group, deleted afterwards.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../../config.ts";
 * import { createKafka } from "../../kafka/mod.ts";
 * import { readTopic } from "./reader.ts";
 * const kafka = createKafka(loadConfig());
 * const committed = await readTopic(kafka, "shopstream.stream.joined");
 * const all = await readTopic(kafka, "shopstream.stream.joined", { isolation: "read_uncommitted" });
 * console.log(all.length - committed.length); // records of aborted transactions
 * ```
 */
export async function readTopic(
  kafka: Kafka,
  topic: string,
  options: ReadTopicOptions = {},
): Promise<TopicRecord[]> {
  const admin = kafka.admin();
  await admin.connect();
  const groupId = `shopstream.read-topic.${crypto.randomUUID()}`;
  try {
    const offsets = await topicOffsets(kafka, admin, topic);
    const ends = new Map<number, bigint>();
    for (const o of offsets) {
      if (BigInt(o.high) > BigInt(o.low)) ends.set(o.partition, BigInt(o.high));
    }
    const byPartition = new Map<number, TopicRecord[]>(offsets.map((o) => [o.partition, []]));
    if (ends.size === 0) return [];
    const consumer = kafka.consumer({
      groupId,
      readUncommitted: options.isolation === "read_uncommitted",
      maxWaitTimeInMs: 100,
    });
    const done = Promise.withResolvers<void>();
    done.promise.catch(() => {}); // a crash before anyone awaits it is still reported below
    const reached = (partition: number, lastOffset: string) => {
      const end = ends.get(partition);
      if (end !== undefined && BigInt(lastOffset) + 1n >= end) ends.delete(partition);
      if (ends.size === 0) done.resolve();
    };
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      if (payload.topic === topic) reached(payload.partition, payload.lastOffset);
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => done.reject(payload.error));
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatch: ({ batch }) => {
          const out = byPartition.get(batch.partition)!;
          const end = offsets.find((o) => o.partition === batch.partition)!.high;
          for (const m of batch.messages) {
            if (BigInt(m.offset) >= BigInt(end)) break;
            out.push({
              partition: batch.partition,
              offset: m.offset,
              key: m.key?.toString() ?? null,
              value: m.value?.toString() ?? null,
            });
          }
          return Promise.resolve();
        },
      });
      const timeoutMs = options.timeoutMs ?? 60_000;
      await withDeadline(
        done.promise,
        timeoutMs,
        () =>
          `readTopic: ${topic} partitions [${[
            ...ends.keys(),
          ]}] not read to the end in ${timeoutMs} ms`,
      );
    } finally {
      await consumer.disconnect();
    }
    return [...byPartition.keys()].sort((a, b) => a - b).flatMap((p) => byPartition.get(p)!);
  } finally {
    await admin.deleteGroups([groupId]).catch(() => {});
    await admin.disconnect();
  }
}

/**
 * The latest value of every key (what compaction keeps), in first-seen key
 * order; a key whose latest value is a tombstone is left out.
 *
 * @example
 * ```ts
 * import { latestByKey } from "./reader.ts";
 * const m = latestByKey([
 *   { partition: 0, offset: "0", key: "a", value: "1" },
 *   { partition: 0, offset: "1", key: "b", value: "2" },
 *   { partition: 0, offset: "2", key: "a", value: "3" },
 *   { partition: 0, offset: "3", key: "b", value: null },
 * ]);
 * console.log([...m]); // [["a", "3"]]
 * ```
 */
export function latestByKey(records: readonly TopicRecord[]): Map<string, string> {
  const latest = new Map<string, string | null>();
  for (const r of records) if (r.key !== null) latest.set(r.key, r.value);
  const out = new Map<string, string>();
  for (const [k, v] of latest) if (v !== null) out.set(k, v);
  return out;
}

/** What the stream processor's topics hold, as {@linkcode readStreamOutput} reads it. */
export interface StreamOutput {
  /** The latest result of every window, oldest first (compaction's view of the topic). */
  windows: WindowResult[];
  /** Records in the windows topic: updates and finals. */
  windowRecords: number;
  /** Every late event. */
  late: LateRecord[];
  /** Every join outcome. */
  joined: JoinOutcome[];
}

/**
 * Reads the stream processor's output topics with `read_committed`, as any
 * downstream consumer would: the latest result per window, the late events
 * and the join outcomes.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../../config.ts";
 * import { readStreamOutput } from "./reader.ts";
 * import { streamTopicsFor } from "./topics.ts";
 * const config = loadConfig();
 * const out = await readStreamOutput(config, streamTopicsFor(config.topics));
 * console.log(out.windows.filter((w) => w.final).length, out.late.length, out.joined.length);
 * ```
 */
export async function readStreamOutput(
  config: Config,
  topics: StreamTopics,
  options: ReadTopicOptions = {},
): Promise<StreamOutput> {
  const kafka = createKafka(config, { clientId: "shopstream-stream-reader" });
  const windowRecords = await readTopic(kafka, topics.windows, options);
  const values = (t: string) =>
    readTopic(kafka, t, options).then((rs) =>
      rs.flatMap((r) => (r.value === null ? [] : [r.value]))
    );
  return {
    windows: [...latestByKey(windowRecords).values()].map(decodeWindow).sort(byStartRegion),
    windowRecords: windowRecords.length,
    late: (await values(topics.late)).map(decodeLate),
    joined: (await values(topics.joined)).map(decodeJoined),
  };
}
