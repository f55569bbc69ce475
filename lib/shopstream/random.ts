/**
 * A small, fast, seeded pseudo-random generator (sfc32, seeded through
 * splitmix32) for the event generator: Faker builds the pools once, and this
 * draws from them per event, which is far cheaper than a Faker call.
 *
 * @example
 * ```ts
 * import { Rng } from "./random.ts";
 * const a = new Rng(42), b = new Rng(42);
 * console.log(a.u32() === b.u32(), a.int(6) < 6); // true true
 * ```
 *
 * @module
 */

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/**
 * Seeded generator: the same seed gives the same sequence on every machine.
 *
 * @example
 * ```ts
 * import { Rng } from "./random.ts";
 * const rng = new Rng(7);
 * console.log(rng.pick(["EU", "US", "APAC"]), rng.uuid().length); // e.g. "US" 36
 * ```
 */
export class Rng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  /** A generator whose sequence is fixed by `seed`. */
  constructor(seed: number) {
    let s = seed >>> 0;
    const next = () => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.#a = next();
    this.#b = next();
    this.#c = next();
    this.#d = next();
    for (let i = 0; i < 12; i++) this.u32();
  }

  /** A uniform unsigned 32-bit integer. */
  u32(): number {
    const a = this.#a, b = this.#b, c = this.#c, d = this.#d;
    const t = (((a + b) | 0) + d) | 0;
    this.#d = (d + 1) | 0;
    this.#a = b ^ (b >>> 9);
    this.#b = (c + (c << 3)) | 0;
    const r = (c << 21) | (c >>> 11);
    this.#c = (r + t) | 0;
    return t >>> 0;
  }

  /** A uniform float in [0, 1). */
  float(): number {
    return this.u32() / 4294967296;
  }

  /** A uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** A uniform integer in [min, max]. */
  range(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }

  /** true with probability `p`. */
  chance(p: number): boolean {
    return this.float() < p;
  }

  /** A uniformly chosen element of `items` (non-empty). */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  /** The index drawn by `weights` (non-negative, summing to about 1). */
  weighted(weights: readonly number[]): number {
    let u = this.float();
    for (let i = 0; i < weights.length - 1; i++) {
      u -= weights[i];
      if (u < 0) return i;
    }
    return weights.length - 1;
  }

  /** A version-4 UUID built from this generator (deterministic, unlike `crypto.randomUUID`). */
  uuid(): string {
    const a = this.u32(), b = this.u32(), c = this.u32(), d = this.u32();
    return HEX[a >>> 24] + HEX[(a >>> 16) & 255] + HEX[(a >>> 8) & 255] + HEX[a & 255] + "-" +
      HEX[b >>> 24] + HEX[(b >>> 16) & 255] + "-" +
      HEX[0x40 | ((b >>> 8) & 15)] + HEX[b & 255] + "-" +
      HEX[0x80 | ((c >>> 24) & 63)] + HEX[(c >>> 16) & 255] + "-" +
      HEX[(c >>> 8) & 255] + HEX[c & 255] +
      HEX[d >>> 24] + HEX[(d >>> 16) & 255] + HEX[(d >>> 8) & 255] + HEX[d & 255];
  }
}
