/**
 * The verdict of a drill, from an independent reader: Kafka's own
 * `GetOffsetShell` says how many records the log holds, a fresh consumer
 * (`readOutput`) reads every one of them back, and the record ids are
 * compared with the ids the client was told were acknowledged. The writer's
 * own bookkeeping (its delivery reports, its counters) plays no part.
 *
 * @example
 * ```ts
 * import { tallyIds } from "./verdict.ts";
 * const t = tallyIds(["a", "b", "c"], ["a", "c", "c"]);
 * console.log(t.lost, t.duplicated); // 1 1
 * ```
 *
 * @module
 */
import type { Kafka } from "../kafka/upstream.ts";
import { readOutput } from "../kafka/semantics.ts";
import { logEndOffsets, type OffsetShellTarget } from "./offsets.ts";

/** Acknowledged ids against the ids found in the log. */
export interface IdTally {
  /** Records in the log (every copy counted). */
  readonly inLog: number;
  /** Distinct ids in the log. */
  readonly distinct: number;
  /** Acknowledged ids that are not in the log. */
  readonly lost: number;
  /** Extra copies: records in the log minus distinct ids. */
  readonly duplicated: number;
  /** Up to 5 of the lost ids, for the message. */
  readonly lostSample: readonly string[];
}

/**
 * Counts, by id, what `seen` (the log, in any order) holds of `acknowledged`.
 *
 * @example
 * ```ts
 * import { tallyIds } from "./verdict.ts";
 * console.log(tallyIds(["x", "y"], ["y", "x"]).lost); // 0
 * ```
 */
export function tallyIds(acknowledged: Iterable<string>, seen: readonly string[]): IdTally {
  const inLog = new Set(seen);
  const lost: string[] = [];
  for (const id of acknowledged) if (!inLog.has(id)) lost.push(id);
  return {
    inLog: seen.length,
    distinct: inLog.size,
    lost: lost.length,
    duplicated: seen.length - inLog.size,
    lostSample: lost.slice(0, 5),
  };
}

/** The reader counted a different number of records than the brokers report. */
export class ReaderMismatchError extends Error {
  /** The topic, the records the brokers report, and the records read. */
  constructor(readonly topic: string, readonly brokers: bigint, readonly read: number) {
    super(
      `${topic}: GetOffsetShell reports ${brokers} records but the reader got ${read}; ` +
        `the verdict cannot be trusted. Check the cluster (deno task health) and run again.`,
    );
    this.name = "ReaderMismatchError";
  }
}

/**
 * Reads the record ids of a fresh `topic` (log start 0) back and checks the
 * count against `GetOffsetShell`'s end offsets, taken first (the reader
 * appends end markers). Returns the ids in per-partition order.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { createKafka } from "../kafka/client.ts";
 * import { readLogIds } from "./verdict.ts";
 * const ids = await readLogIds(createKafka(loadConfig()), {
 *   mode: "native", libs: ".cache/kafka/4.4.0/libs", bootstrap: "127.0.0.1:9092",
 * }, "drill.topic");
 * ```
 */
export async function readLogIds(
  kafka: Kafka,
  offsets: OffsetShellTarget,
  topic: string,
): Promise<string[]> {
  const ends = await logEndOffsets(offsets, topic);
  const brokers = [...ends.values()].reduce((a, b) => a + b, 0n);
  const ids = await readOutput(kafka, topic, { isolation: "read_uncommitted" });
  if (BigInt(ids.length) !== brokers) throw new ReaderMismatchError(topic, brokers, ids.length);
  return ids;
}
