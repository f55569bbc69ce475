/**
 * A send that checks kafkajs's answer. kafkajs can resolve a `send()` whose
 * RecordMetadata omits a partition whose leader died mid-request, although those
 * records were never written (see the facts in lib/kafka/mod.ts). So every
 * record here names its partition, the partitions in the answer are compared
 * with the partitions targeted, and the missing ones are sent again.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { createKafka } from "./client.ts";
 * import { sendVerified } from "./verified.ts";
 * const producer = createKafka(loadConfig()).producer({ idempotent: true });
 * await producer.connect();
 * const { resent } = await sendVerified(producer, {
 *   topic: "demo",
 *   acks: -1,
 *   messages: [{ partition: 0, key: "a", value: "1" }],
 * });
 * await producer.disconnect();
 * ```
 *
 * @module
 */
import type { Message, ProducerRecord, RecordMetadata, Sender } from "./upstream.ts";

/** A message whose partition is fixed before sending. */
export type PartitionedMessage = Message & { partition: number };

/** A {@linkcode ProducerRecord} whose every message names its partition. */
export type VerifiedRecord = Omit<ProducerRecord, "messages"> & { messages: PartitionedMessage[] };

/** The outcome of {@linkcode sendVerified}. */
export interface VerifiedResult {
  /** One entry per partition, from the send that finally covered it. */
  readonly metadata: RecordMetadata[];
  /** Records sent again because the client's answer left their partition out. */
  readonly resent: number;
  /** Sends it took (1 when kafkajs answered for every partition at once). */
  readonly attempts: number;
}

/** Records kafkajs did not acknowledge even after re-sending. */
export class UnacknowledgedError extends Error {
  /** The topic, the partitions left unacknowledged, and how many records they held. */
  constructor(readonly topic: string, readonly partitions: number[], readonly records: number) {
    super(
      `${records} record(s) for ${topic} partitions [${
        partitions.join(", ")
      }] were not acknowledged ` +
        `after re-sending; nothing was written for them. Check broker health (deno task health).`,
    );
    this.name = "UnacknowledgedError";
  }
}

/**
 * Partitions of `topic` that were targeted but are absent from `metadata`.
 *
 * @example
 * ```ts
 * import { missingPartitions } from "./verified.ts";
 * const meta = [{ topicName: "t", partition: 1, errorCode: 0 }];
 * console.log(missingPartitions("t", [0, 1, 2], meta)); // [0, 2]
 * ```
 */
export function missingPartitions(
  topic: string,
  targeted: Iterable<number>,
  metadata: readonly RecordMetadata[],
): number[] {
  const answered = new Set(
    metadata.filter((m) => m.topicName === topic && m.errorCode === 0).map((m) => m.partition),
  );
  return [...new Set(targeted)].filter((p) => !answered.has(p)).sort((a, b) => a - b);
}

/**
 * Sends `record`, then re-sends the messages of every partition the answer
 * omits, up to `maxAttempts` sends in all; throws {@linkcode UnacknowledgedError}
 * if some are still missing. Use an idempotent producer: a re-send can repeat
 * a partition whose first request did land. `producer` may also be an open
 * kafkajs transaction (anything with kafkajs's `send`).
 *
 * @example
 * ```ts
 * import { sendVerified } from "./verified.ts";
 * declare const producer: import("kafkajs").Producer;
 * await sendVerified(producer, { topic: "t", acks: -1, messages: [{ partition: 2, value: "x" }] });
 * ```
 */
export async function sendVerified(
  producer: Sender,
  record: VerifiedRecord,
  options: { maxAttempts?: number; onResend?: (partitions: number[], records: number) => void } =
    {},
): Promise<VerifiedResult> {
  for (const m of record.messages) {
    if (!Number.isInteger(m.partition) || m.partition < 0) {
      throw new TypeError(
        `sendVerified: every message needs an explicit partition (got ${m.partition})`,
      );
    }
  }
  const maxAttempts = options.maxAttempts ?? 5;
  const covered = new Map<number, RecordMetadata>();
  let pending = record.messages;
  let resent = 0;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const metadata = await producer.send({ ...record, messages: pending });
    for (const m of metadata) {
      if (m.topicName === record.topic && m.errorCode === 0) covered.set(m.partition, m);
    }
    const missing = missingPartitions(record.topic, pending.map((m) => m.partition), metadata);
    if (missing.length === 0) return { metadata: [...covered.values()], resent, attempts: attempt };
    pending = pending.filter((m) => missing.includes(m.partition));
    if (attempt < maxAttempts) {
      resent += pending.length;
      options.onResend?.(missing, pending.length);
    }
  }
  const missing = [...new Set(pending.map((m) => m.partition))].sort((a, b) => a - b);
  throw new UnacknowledgedError(record.topic, missing, pending.length);
}

/**
 * {@linkcode sendVerified} with one kafkajs send per partition, all at once:
 * each send has one leader, so neither hole of kafkajs's bookkeeping across
 * several leaders in one send can open (a partition dropped, or written
 * twice, when a leader moves mid-send; see the facts in lib/kafka/mod.ts).
 * A duplicate matters wherever a reader does not count by id: a
 * transaction's outputs, a compacted topic's last value per key. The
 * answers are merged: `resent` summed, `attempts` the most any partition
 * took. Order within a partition is kept (one send each).
 *
 * @example
 * ```ts
 * import { sendByPartition } from "./verified.ts";
 * declare const tx: import("kafkajs").Transaction;
 * await sendByPartition(tx, { topic: "t", messages: [{ partition: 0, value: "a" }, { partition: 1, value: "b" }] });
 * ```
 */
export async function sendByPartition(
  producer: Sender,
  record: VerifiedRecord,
  options: { maxAttempts?: number; onResend?: (partitions: number[], records: number) => void } =
    {},
): Promise<VerifiedResult> {
  const byPartition = new Map<number, PartitionedMessage[]>();
  for (const m of record.messages) {
    const list = byPartition.get(m.partition);
    if (list) list.push(m);
    else byPartition.set(m.partition, [m]);
  }
  if (byPartition.size <= 1) return await sendVerified(producer, record, options);
  const results = await Promise.all(
    [...byPartition.values()].map((messages) =>
      sendVerified(producer, { ...record, messages }, options)
    ),
  );
  return {
    metadata: results.flatMap((r) => r.metadata),
    resent: results.reduce((n, r) => n + r.resent, 0),
    attempts: Math.max(...results.map((r) => r.attempts)),
  };
}
