/**
 * The operations lab behind notebook 05: break-and-fix scenarios injected
 * into the live stack (a broker down, consumer lag growing, MinIO
 * unreachable, an incompatible schema, a poison record), each diagnosed
 * with the course's own tools and undone on close, plus the run sampler and
 * recovery self-checks.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { OperationsLab } from "./mod.ts";
 * await using lab = await OperationsLab.open(loadConfig());
 * await using s = await lab.lagGrowing();
 * await s.scaleTo(5);
 * await s.waitDrained();
 * console.log(await s.verify());
 * ```
 *
 * @module
 */
export * from "./broker_down.ts";
export * from "./faults.ts";
export * from "./lab.ts";
export * from "./lag.ts";
export * from "./minio_down.ts";
export * from "./poison.ts";
export * from "./read.ts";
export * from "./sampler.ts";
export * from "./scenario.ts";
export * from "./schema_change.ts";
export * from "./sink_rig.ts";
export * from "./watch.ts";
