/**
 * An independent reader for the lab's recovery checks: a fresh consumer (its
 * own throwaway group) reads a topic from the beginning up to the end offsets
 * the brokers report at the start, and returns every record with its
 * coordinates and headers. It shares nothing with the producer or consumer
 * under test.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { createKafka } from "../kafka/client.ts";
 * import { readOutputMessages } from "./read.ts";
 * const kafka = createKafka(loadConfig());
 * console.log((await readOutputMessages(kafka, "shopstream.dlq")).length);
 * ```
 *
 * @module
 */
import type { Buffer } from "node:buffer";
import type { IHeaders, Kafka } from "../kafka/upstream.ts";
import { topicOffsets } from "../kafka/topic_offsets.ts";
import { withDeadline } from "../util/deadline.ts";

/** One record as read back. */
export interface ReadRecord {
  /** Its partition. */
  readonly partition: number;
  /** Its offset. */
  readonly offset: string;
  /** Its key bytes, if any. */
  readonly key: Buffer | null;
  /** Its value bytes (null: a tombstone). */
  readonly value: Buffer | null;
  /** Its headers. */
  readonly headers: IHeaders;
}

/**
 * Every record of `topic` up to the end offsets at the call, in partition
 * then offset order. Gives up after `timeoutMs` (default 30 s).
 */
export async function readOutputMessages(
  kafka: Kafka,
  topic: string,
  timeoutMs = 30_000,
): Promise<ReadRecord[]> {
  const raw = kafka.admin();
  await raw.connect();
  let ends: Map<number, { low: bigint; high: bigint }>;
  try {
    const offsets = await topicOffsets(kafka, raw, topic);
    ends = new Map(offsets.map((o) => [o.partition, { low: BigInt(o.low), high: BigInt(o.high) }]));
  } finally {
    await raw.disconnect();
  }
  const open = new Set([...ends].filter(([, o]) => o.high > o.low).map(([p]) => p));
  const out: ReadRecord[] = [];
  if (open.size === 0) return out;
  const groupId = `lab.reader.${crypto.randomUUID()}`;
  const consumer = kafka.consumer({
    groupId,
    readUncommitted: true,
    maxWaitTimeInMs: 200,
  });
  const done = Promise.withResolvers<void>();
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: ({ batch }) => {
        const end = ends.get(batch.partition)!.high;
        for (const m of batch.messages) {
          if (BigInt(m.offset) >= end) continue;
          out.push({
            partition: batch.partition,
            offset: m.offset,
            key: m.key,
            value: m.value,
            headers: m.headers ?? {},
          });
          if (BigInt(m.offset) === end - 1n) open.delete(batch.partition);
        }
        if (open.size === 0) done.resolve();
        return Promise.resolve();
      },
    });
    await withDeadline(done.promise, timeoutMs, `reading ${topic} to its end`);
  } finally {
    await consumer.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteGroups([groupId]).catch(() => {}); // a throwaway group: leave nothing behind
    await admin.disconnect();
  }
  return out.sort((a, b) =>
    a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset))
  );
}
