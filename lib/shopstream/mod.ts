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
export * from "./regions.ts";
export * from "./random.ts";
export * from "./generator.ts";
export * from "./tally.ts";
export * from "./currency.ts";
export * from "./rules.ts";
export * from "./producer.ts";
