/**
 * A micro-benchmark of the log: appends/s and reads/s for one record size,
 * batch size and fsync setting. `deno task bench log` runs a matrix of
 * cases and prints them; the notebook runs a small one.
 *
 * @example
 * ```ts
 * import { benchLog } from "./log.ts";
 * const dir = await Deno.makeTempDir();
 * const r = await benchLog(dir, { recordBytes: 100, batchRecords: 100, fsync: "never" }, { records: 2000, seconds: 1 });
 * console.log(r.records, Math.round(r.appendsPerSec));
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @module
 */
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { Log } from "../log/log.ts";
import type { RecordInput } from "../log/record.ts";

/** One benchmark case. */
export interface LogBenchCase {
  /** Value size in bytes. */
  recordBytes: number;
  /** Records per `appendBatch` call. */
  batchRecords: number;
  /** `"batch"`: fsync after every batch. */
  fsync: "batch" | "never";
}

/** When a case stops appending: whichever comes first. */
export interface LogBenchLimits {
  /** Stop after this many records. */
  records: number;
  /** Stop after this many seconds. */
  seconds: number;
}

/** The figures of one case. */
export interface LogBenchResult extends LogBenchCase {
  /** Records appended (and then read back). */
  records: number;
  /** Records appended per second. */
  appendsPerSec: number;
  /** Records read back per second. */
  readsPerSec: number;
  /** Megabytes of values appended per second. */
  appendMBPerSec: number;
  /** Segments the log ended with. */
  segments: number;
}

/**
 * Runs one case in a fresh log under `parentDir` and deletes that log
 * afterwards. Every record read back is counted, so a short read fails.
 *
 * @example
 * ```ts
 * import { benchLog } from "./log.ts";
 * const dir = await Deno.makeTempDir();
 * const c = { recordBytes: 1024, batchRecords: 1, fsync: "batch" as const };
 * const r = await benchLog(dir, c, { records: 200, seconds: 2 });
 * console.log(`${Math.round(r.appendsPerSec)} durable appends/s`);
 * ```
 */
export async function benchLog(
  parentDir: string,
  c: LogBenchCase,
  limits: LogBenchLimits,
): Promise<LogBenchResult> {
  const dir = join(
    parentDir,
    `bench-${c.recordBytes}-${c.batchRecords}-${c.fsync}-${crypto.randomUUID()}`,
  );
  const log = await Log.open(dir, { fsync: c.fsync, segmentBytes: 16 * 1024 * 1024 });
  try {
    const value = new Uint8Array(c.recordBytes);
    crypto.getRandomValues(value);
    const batch: RecordInput[] = Array.from(
      { length: c.batchRecords },
      (_, i) => ({ key: `key-${i % 100}`, value }),
    );
    const deadline = performance.now() + limits.seconds * 1000;
    const appendStart = performance.now();
    let appended = 0;
    while (appended < limits.records && performance.now() < deadline) {
      const n = Math.min(c.batchRecords, limits.records - appended);
      await log.appendBatch(n === batch.length ? batch : batch.slice(0, n));
      appended += n;
    }
    const appendSeconds = (performance.now() - appendStart) / 1000;
    const reader = log.reader({ name: "bench" });
    const readStart = performance.now();
    let read = 0;
    for (
      let got = await reader.poll(1024 * 1024);
      got.length > 0;
      got = await reader.poll(1024 * 1024)
    ) {
      read += got.length;
    }
    const readSeconds = (performance.now() - readStart) / 1000;
    if (read !== appended) throw new Error(`benchmark read ${read} of ${appended} records`);
    return {
      ...c,
      records: appended,
      appendsPerSec: appended / appendSeconds,
      readsPerSec: read / readSeconds,
      appendMBPerSec: (appended * c.recordBytes) / appendSeconds / 1e6,
      segments: log.segmentCount,
    };
  } finally {
    await log.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Every combination of record sizes, batch sizes and fsync settings.
 *
 * @example
 * ```ts
 * import { benchCases } from "./log.ts";
 * console.log(benchCases([100, 1024], [100], ["never", "batch"]).length); // 4
 * ```
 */
export function benchCases(
  recordBytes: readonly number[],
  batchRecords: readonly number[],
  fsync: readonly ("batch" | "never")[],
): LogBenchCase[] {
  return recordBytes.flatMap((size) =>
    batchRecords.flatMap((batch) =>
      fsync.map((f) => ({ recordBytes: size, batchRecords: batch, fsync: f }))
    )
  );
}
