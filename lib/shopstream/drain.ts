/**
 * Waiting for the lake sink to catch up with a finished produce run, by
 * offsets rather than by counts. The sink's counters are not a count of
 * distinct records: after a rebalance it reads again from the committed
 * offsets, so a record can be dead-lettered twice, written once and skipped
 * once, or buffered twice; adding the counters up can reach the number
 * produced before every record was read. Offsets do not repeat: the drain
 * ends when the group's committed offset of every partition is the log's end
 * (everything uploaded or dead-lettered, then committed, as Kafka itself
 * says), and the last buffers are flushed at once when the sink's read
 * position has reached the end of every partition still lagging.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { ClusterAdmin } from "../kafka/admin.ts";
 * import { createKafka } from "../kafka/client.ts";
 * import { startSink } from "./sink_runner.ts";
 * import { drainSink } from "./drain.ts";
 * const config = loadConfig();
 * const admin = new ClusterAdmin(createKafka(config));
 * await admin.connect();
 * const sink = await startSink({ config }, { worker: false });
 * await drainSink(sink, admin, { groupId: config.clients.sinkGroup, topics: [config.topics.orders] });
 * await sink.stop();
 * await admin.disconnect();
 * ```
 *
 * @module
 */
import type { ClusterAdmin, PartitionLag } from "../kafka/admin.ts";
import { sleep } from "../util/deadline.ts";
import type { SinkSnapshot } from "./sink_runner.ts";

/** What {@linkcode drainSink} needs of a running sink. */
export interface DrainableSink {
  /** The sink's counters now. */
  snapshot(): SinkSnapshot;
  /** The crash, when the run crashed. */
  readonly crashed: Error | undefined;
  /** Asks the sink to upload what it buffers. */
  flushNow(): void;
}

/** Options of {@linkcode drainSink}. */
export interface DrainOptions {
  /** The sink's consumer group. */
  groupId: string;
  /** The topics the sink reads. */
  topics: readonly string[];
  /** Give up after this long, ms (default 180 000). */
  timeoutMs?: number;
  /** Checked every poll: a string ends the drain with that reason (e.g. a stop was forced). */
  abandoned?: () => string | undefined;
  /** How often the committed offsets are read, ms (default 500). */
  pollMs?: number;
}

/**
 * The partitions of `lag` not yet committed to their end, and whether the
 * sink has read each of them to its end (`read`: per topic, partition ->
 * next offset to read).
 *
 * @example
 * ```ts
 * import { drainState } from "./drain.ts";
 * const lag = [{ topic: "t", partition: 0, committed: "5", end: "9", lag: 4 }];
 * console.log(drainState(lag, { t: { "0": 9 } })); // { behind: 1, allRead: true }
 * ```
 */
export function drainState(
  lag: readonly PartitionLag[],
  read: Record<string, Record<string, number>>,
): { behind: number; allRead: boolean } {
  const behind = lag.filter((l) => l.lag > 0);
  const allRead = behind.every((l) => (read[l.topic]?.[l.partition] ?? -1) >= Number(l.end));
  return { behind: behind.length, allRead };
}

/**
 * Waits until `groupId` has committed every partition of `topics` to the
 * log's end (see the module doc); flushes the sink's buffers as soon as it
 * has read everything. Throws when the sink crashed, when `abandoned` says
 * so, or after `timeoutMs`.
 *
 * @example
 * ```ts
 * import { drainSink } from "./drain.ts";
 * declare const sink: import("./drain.ts").DrainableSink;
 * declare const admin: import("../kafka/admin.ts").ClusterAdmin;
 * await drainSink(sink, admin, { groupId: "g", topics: ["t"], timeoutMs: 60_000 });
 * ```
 */
export async function drainSink(
  sink: DrainableSink,
  admin: ClusterAdmin,
  options: DrainOptions,
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 180_000;
  const deadline = Date.now() + timeoutMs;
  let flushAsked = 0;
  let lag: PartitionLag[] = [];
  while (true) {
    if (sink.crashed) throw sink.crashed;
    const reason = options.abandoned?.();
    if (reason) throw new Error(`the drain was abandoned: ${reason}`);
    try {
      lag = (await Promise.all(options.topics.map((t) => admin.lag(options.groupId, t)))).flat();
    } catch {
      lag = []; // Kafka busy (a broker moving): ask again on the next poll
    }
    if (lag.length > 0) {
      const s = sink.snapshot();
      const { behind, allRead } = drainState(lag, s.read);
      if (behind === 0) return;
      // Everything read, some of it still buffered: upload it now, not after maxAgeMs.
      if (allRead && s.totals.buffered > 0 && Date.now() - flushAsked > 1000) {
        sink.flushNow();
        flushAsked = Date.now();
      }
    }
    if (Date.now() > deadline) {
      const left = lag.reduce((n, l) => n + l.lag, 0);
      throw new Error(
        `the sink has not committed ${left} records ${timeoutMs} ms after producing ended: ` +
          "check `deno task monitor` and the sink's log",
      );
    }
    await sleep(options.pollMs ?? 500);
  }
}
