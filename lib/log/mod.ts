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
export * from "./compaction.ts";
export * from "./crc32c.ts";
export * from "./errors.ts";
export * from "./index.ts";
export * from "./log.ts";
export * from "./queue.ts";
export * from "./reader.ts";
export * from "./record.ts";
export * from "./retention.ts";
export * from "./segment.ts";
