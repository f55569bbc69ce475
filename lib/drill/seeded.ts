/**
 * Seeded choices for fault drills: the same seed gives the same kill points
 * and victims, so a drill that found a problem can be run again exactly.
 *
 * @example
 * ```ts
 * import { seededRandom, spreadPoints } from "./seeded.ts";
 * const random = seededRandom(42);
 * console.log(spreadPoints(random, 10, 100)); // ten points, one in each tenth of 15..85
 * ```
 *
 * @module
 */
import { randomInt } from "../util/random.ts";

export { randomInt, seededRandom } from "../util/random.ts";

/**
 * `count` points in `0..length-1`, spread over the middle of the stream
 * (from 15% to 85% of `length`, so there are records before and after each
 * kill): the span is cut into `count` equal strata and one point is drawn in
 * each, then the order is shuffled. Every point is strictly inside the stream.
 *
 * @example
 * ```ts
 * import { seededRandom, spreadPoints } from "./seeded.ts";
 * const points = spreadPoints(seededRandom(3), 4, 40);
 * console.log(points.every((p) => p > 0 && p < 39)); // true
 * ```
 */
export function spreadPoints(random: () => number, count: number, length: number): number[] {
  if (!Number.isInteger(length) || length < 3) {
    throw new RangeError(`a stream of ${length} steps is too short to kill in the middle of`);
  }
  const lo = Math.max(1, Math.floor(length * 0.15));
  const hi = Math.min(length - 2, Math.ceil(length * 0.85));
  const span = hi - lo + 1;
  const points = Array.from({ length: count }, (_, i) => {
    const from = lo + Math.floor((i * span) / count);
    const to = Math.max(from, lo + Math.floor(((i + 1) * span) / count) - 1);
    return randomInt(random, from, to);
  });
  for (let i = points.length - 1; i > 0; i--) {
    const j = randomInt(random, 0, i);
    [points[i], points[j]] = [points[j], points[i]];
  }
  return points;
}
