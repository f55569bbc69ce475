/**
 * Module 4, the ShopStream pipeline: regions, the seeded event generator and
 * its independent tally, and the producer service; the lake's
 * currency maths, bronze layout and the sink's building blocks.
 *
 * @example
 * ```ts
 * import { EventGenerator, Tally } from "./mod.ts";
 * const tally = new Tally();
 * for (const r of new EventGenerator({ seed: 42 }).take(1000)) tally.add(r);
 * console.log(tally.totals().produced); // 1000
 * ```
 *
 * @module
 */
export * from "./batcher.ts";
export * from "./bronze.ts";
export * from "./checks.ts";
export * from "./currency.ts";
export * from "./generator.ts";
export * from "./gold.ts";
export * from "./lake_reader.ts";
export * from "./monitor.ts";
export * from "./monitoring.ts";
export * from "./offsets.ts";
export * from "./pipeline.ts";
export * from "./producer.ts";
export * from "./random.ts";
export * from "./regions.ts";
export * from "./rules.ts";
export * from "./silver.ts";
export * from "./sink.ts";
export * from "./sink_runner.ts";
export * from "./tally.ts";
export * from "./topics.ts";
