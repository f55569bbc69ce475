/**
 * The entry module of the lake sink's worker (see `sink_runner.ts`): a
 * {@linkcode LakeSink} in a thread of its own, driven by messages.
 *
 * @example
 * ```ts
 * const worker = new Worker(new URL("./sink_worker.ts", import.meta.url), { type: "module" });
 * worker.terminate();
 * ```
 *
 * @module
 */
import { serveSinkWorker } from "./sink_runner.ts";

serveSinkWorker(self as unknown as Parameters<typeof serveSinkWorker>[0]);
