/**
 * Repeatable fault drills against the running cluster: kill a partition
 * leader under a produce stream, kill a consumer mid-batch, and count the
 * outcome with an independent reader.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { brokerKillDrill, brokerKillTable, openDrill } from "./mod.ts";
 * const drill = await openDrill(loadConfig());
 * const report = await brokerKillDrill(drill, { runs: 1 });
 * console.log(brokerKillTable(report.rows));
 * await drill.close();
 * ```
 *
 * @module
 */
export * from "./broker_freeze.ts";
export * from "./broker_kill.ts";
export * from "./consumer_kill.ts";
export * from "./context.ts";
export * from "./freeze.ts";
export * from "./lake_drill.ts";
export * from "./minio_freeze.ts";
export * from "./offsets.ts";
export * from "./pipeline_kill.ts";
export * from "./poison.ts";
export * from "./producer_task.ts";
export * from "./repeat.ts";
export * from "./report.ts";
export * from "./seeded.ts";
export * from "./task_process.ts";
export * from "./verdict.ts";
