/**
 * Small helpers at the bottom of the library, importing nothing else of it:
 * deadlines and sleeps, polling, flag parsing for tasks, aligned tables,
 * seeded randomness, the repository root, the test summary line, the
 * runner of Kafka's own Java tools and a bound on a task's shutdown.
 *
 * @example
 * ```ts
 * import { formatTable, withDeadline } from "./mod.ts";
 * const rows = await withDeadline(Promise.resolve([["kafka", "812"]]), 1000, "rows");
 * console.log(formatTable(["service", "ms"], rows));
 * ```
 *
 * @module
 */
export * from "./cli.ts";
export * from "./deadline.ts";
export * from "./format.ts";
export * from "./java.ts";
export * from "./probe.ts";
export * from "./random.ts";
export * from "./repo.ts";
export * from "./shutdown.ts";
export * from "./table.ts";
export * from "./test_summary.ts";
