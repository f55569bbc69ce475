/**
 * Seeded pseudo-random numbers (mulberry32): tiny, fast and replayable, for
 * drills, model tests and benchmarks whose failing seed must be run again.
 * Not for anything secret.
 *
 * @example
 * ```ts
 * import { randomInt, seededRandom } from "./random.ts";
 * const random = seededRandom(42);
 * console.log(random() < 1, randomInt(random, 1, 6));
 * ```
 *
 * @module
 */

/**
 * A small deterministic generator (mulberry32) of floats in [0, 1).
 *
 * @example
 * ```ts
 * import { seededRandom } from "./random.ts";
 * const a = seededRandom(7), b = seededRandom(7);
 * console.log(a() === b()); // true
 * ```
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * An integer in `[min, max]` (inclusive) drawn from `random`.
 *
 * @example
 * ```ts
 * import { randomInt, seededRandom } from "./random.ts";
 * console.log(randomInt(seededRandom(1), 0, 2)); // a partition of three
 * ```
 */
export function randomInt(random: () => number, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}
