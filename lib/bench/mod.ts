/**
 * Benchmarks: the course's clients against Kafka's own Java tools, the log,
 * the lake writer, the sink and the whole pipeline. Each prints figures and
 * ratios; none is a timed test.
 *
 * @example
 * ```ts
 * import { benchLog } from "./mod.ts";
 * const dir = await Deno.makeTempDir();
 * const r = await benchLog(dir, { recordBytes: 100, batchRecords: 100, fsync: "never" }, { records: 2000, seconds: 1 });
 * console.log(r.records, Math.round(r.appendsPerSec));
 * ```
 *
 * @module
 */
export * from "./alloc.ts";
export * from "./clients.ts";
export * from "./cpu.ts";
export * from "./decode.ts";
export * from "./lake.ts";
export * from "./log.ts";
export * from "./partitions.ts";
export * from "./perf.ts";
export * from "./perf_java.ts";
export * from "./pipeline.ts";
export * from "./sink.ts";
export * from "./sink_child.ts";
