/**
 * An exact decimal number: an unscaled `bigint` and a scale, the way Avro's
 * `decimal` logical type stores it (`value = unscaled × 10^-scale`). No floats
 * anywhere, so `"19.99"` stays `19.99`.
 *
 * @example
 * ```ts
 * import { Decimal } from "./decimal.ts";
 * const price = Decimal.parse("19.99");
 * console.log(price.unscaled, price.scale, price.toString()); // 1999n 2 "19.99"
 * console.log(price.rescale(4).toString()); // "19.9900"
 * ```
 *
 * @module
 */

/**
 * Thrown for a string that is not a decimal number, or a rescale that would lose digits.
 *
 * @example
 * ```ts
 * import { Decimal, DecimalError } from "./decimal.ts";
 * try { Decimal.parse("1,5"); } catch (e) { console.log(e instanceof DecimalError); } // true
 * ```
 */
export class DecimalError extends Error {
  /** An error with this message. */
  constructor(message: string) {
    super(message);
    this.name = "DecimalError";
  }
}

/**
 * An exact decimal value.
 *
 * @example
 * ```ts
 * import { Decimal } from "./decimal.ts";
 * console.log(new Decimal(-5n, 2).toString()); // "-0.05"
 * ```
 */
export class Decimal {
  /** The value `unscaled` × 10^-`scale`. */
  constructor(
    /** The digits as an integer. */
    readonly unscaled: bigint,
    /** How many of those digits are after the point. */
    readonly scale: number,
  ) {
    if (!Number.isInteger(scale) || scale < 0) {
      throw new DecimalError(`Decimal scale must be a non-negative integer, got ${scale}`);
    }
  }

  /**
   * Parses `"-12.340"` style text; the scale is the number of digits after the point.
   *
   * @example
   * ```ts
   * import { Decimal } from "./decimal.ts";
   * console.log(Decimal.parse("-12.340").scale); // 3
   * ```
   */
  static parse(text: string): Decimal {
    const m = /^([+-]?)(\d+)(?:\.(\d+))?$/.exec(text.trim());
    if (!m) {
      throw new DecimalError(
        `"${text}" is not a decimal number: write digits with an optional point, e.g. "19.99"`,
      );
    }
    const frac = m[3] ?? "";
    const digits = BigInt(m[2] + frac);
    return new Decimal(m[1] === "-" ? -digits : digits, frac.length);
  }

  /**
   * The same value with `scale` digits after the point; throws rather than round.
   *
   * @example
   * ```ts
   * import { Decimal } from "./decimal.ts";
   * console.log(Decimal.parse("1.5").rescale(2).unscaled); // 150n
   * ```
   */
  rescale(scale: number): Decimal {
    if (scale === this.scale) return this;
    if (scale > this.scale) {
      return new Decimal(this.unscaled * 10n ** BigInt(scale - this.scale), scale);
    }
    const factor = 10n ** BigInt(this.scale - scale);
    if (this.unscaled % factor !== 0n) {
      throw new DecimalError(
        `${this} has more than ${scale} digits after the point; round it explicitly first`,
      );
    }
    return new Decimal(this.unscaled / factor, scale);
  }

  /**
   * Number of significant digits (Avro's precision counts these).
   *
   * @example
   * ```ts
   * import { Decimal } from "./decimal.ts";
   * console.log(Decimal.parse("-123.45").precision()); // 5
   * ```
   */
  precision(): number {
    const abs = this.unscaled < 0n ? -this.unscaled : this.unscaled;
    return abs === 0n ? 1 : abs.toString().length;
  }

  /**
   * Equal values, whatever their scale (`1.50` equals `1.5`).
   *
   * @example
   * ```ts
   * import { Decimal } from "./decimal.ts";
   * console.log(Decimal.parse("1.50").equals(Decimal.parse("1.5"))); // true
   * ```
   */
  equals(other: Decimal): boolean {
    const scale = Math.max(this.scale, other.scale);
    return this.rescale(scale).unscaled === other.rescale(scale).unscaled;
  }

  /** The exact text, e.g. `"19.99"`. */
  toString(): string {
    const negative = this.unscaled < 0n;
    let digits = (negative ? -this.unscaled : this.unscaled).toString();
    if (this.scale > 0) {
      digits = digits.padStart(this.scale + 1, "0");
      digits = `${digits.slice(0, -this.scale)}.${digits.slice(-this.scale)}`;
    }
    return negative ? `-${digits}` : digits;
  }

  /** JSON carries the exact text. */
  toJSON(): string {
    return this.toString();
  }
}
