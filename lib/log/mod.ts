/**
 * Module 1's log: a persistent, segmented, append-only log on disk, with
 * recovery, retention and compaction, plus a work queue to compare it with.
 *
 * @example
 * ```ts
 * import { Log, text } from "./mod.ts";
 * const log = await Log.open(await Deno.makeTempDir());
 * await log.append({ key: "customer-1", value: "order created" });
 * const reader = log.reader({ name: "billing" });
 * for (const r of await reader.poll()) console.log(r.offset, text(r.value));
 * await log.close();
 * ```
 *
 * @module
 */
export {
  Log,
  type LogOptions,
  type ReadResult,
  type RecoveryReport,
  type RetentionReport,
  type SegmentInfo,
} from "./log.ts";
export { LogReader, type StartPosition } from "./reader.ts";
export { type Header, type LogRecord, type RecordInput, text } from "./record.ts";
export {
  CorruptRecordError,
  InvalidArgumentError,
  LogClosedError,
  LogError,
  OffsetOutOfRangeError,
  RecordTooLargeError,
} from "./errors.ts";
export type { CompactionReport } from "./compaction.ts";
export { crc32c } from "./crc32c.ts";
export { WorkQueue } from "./queue.ts";
export { benchCases, benchLog, type LogBenchCase, type LogBenchResult } from "./bench.ts";
