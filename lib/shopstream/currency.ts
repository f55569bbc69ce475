/**
 * Money maths for the lake: the currencies ShopStream knows, their minor
 * digits, a fixed rate table to EUR, and exact conversion with half-even
 * (banker's) rounding. Everything is integer (`bigint`) arithmetic: a float
 * never touches an amount.
 *
 * The rates are fixed on purpose (a course needs reproducible numbers): the
 * lake's `*_eur_minor` columns and the generator's tally use the same table.
 *
 * @example
 * ```ts
 * import { formatMoney, toEurMinor } from "./currency.ts";
 * console.log(toEurMinor(10_000n, "JPY")); // 6100n: 10,000 JPY = 61.00 EUR at 0.0061
 * console.log(formatMoney(toEurMinor(1999n, "USD"), "EUR")); // "18.39 EUR"
 * ```
 *
 * @module
 */
import { Decimal } from "../schema/decimal.ts";

/** What the lake knows about one currency. */
export interface CurrencyInfo {
  /** ISO 4217 code, e.g. `USD`. */
  readonly code: string;
  /** Minor units per major unit as a power of ten: 2 for cents, 0 for JPY. */
  readonly minorDigits: number;
  /** The fixed rate: how many EUR one major unit is worth, exactly. */
  readonly eurPerUnit: Decimal;
}

function currency(code: string, minorDigits: number, eurPerUnit: string): CurrencyInfo {
  return Object.freeze({ code, minorDigits, eurPerUnit: Decimal.parse(eurPerUnit) });
}

/**
 * The fixed rate table, by code.
 *
 * @example
 * ```ts
 * import { CURRENCIES } from "./currency.ts";
 * console.log(CURRENCIES.get("USD")?.eurPerUnit.toString()); // "0.92"
 * ```
 */
export const CURRENCIES: ReadonlyMap<string, CurrencyInfo> = new Map(
  [
    currency("EUR", 2, "1"),
    currency("USD", 2, "0.92"),
    currency("JPY", 0, "0.0061"),
    currency("GBP", 2, "1.17"),
  ].map((c) => [c.code, c]),
);

/** The lake's reporting currency. */
export const REPORTING_CURRENCY = "EUR";

/**
 * A currency code the rate table does not have.
 *
 * @example
 * ```ts
 * import { currencyInfo, UnknownCurrencyError } from "./currency.ts";
 * try { currencyInfo("XYZ"); } catch (e) { console.log(e instanceof UnknownCurrencyError); } // true
 * ```
 */
export class UnknownCurrencyError extends Error {
  /** The unknown code. */
  constructor(readonly code: string) {
    super(
      `unknown currency "${code}": the rate table in lib/shopstream/currency.ts has ${
        [...CURRENCIES.keys()].join(", ")
      }; add it there`,
    );
    this.name = "UnknownCurrencyError";
  }
}

/**
 * Whether the rate table has `code`.
 *
 * @example
 * ```ts
 * import { isKnownCurrency } from "./currency.ts";
 * console.log(isKnownCurrency("JPY"), isKnownCurrency("jpy")); // true false
 * ```
 */
export function isKnownCurrency(code: unknown): code is string {
  return typeof code === "string" && CURRENCIES.has(code);
}

/**
 * The table's entry for `code`; throws {@linkcode UnknownCurrencyError} without one.
 *
 * @example
 * ```ts
 * import { currencyInfo } from "./currency.ts";
 * console.log(currencyInfo("JPY").minorDigits); // 0
 * ```
 */
export function currencyInfo(code: string): CurrencyInfo {
  const info = CURRENCIES.get(code);
  if (!info) throw new UnknownCurrencyError(code);
  return info;
}

/**
 * `n / d` rounded half to even (ties go to the even neighbour), exactly.
 *
 * @example
 * ```ts
 * import { divideHalfEven } from "./currency.ts";
 * console.log(divideHalfEven(5n, 2n), divideHalfEven(7n, 2n), divideHalfEven(-5n, 2n)); // 2n 4n -2n
 * console.log(divideHalfEven(10n, 3n)); // 3n
 * ```
 */
export function divideHalfEven(n: bigint, d: bigint): bigint {
  if (d === 0n) throw new RangeError("divideHalfEven: division by zero");
  if (d < 0n) return divideHalfEven(-n, -d);
  const q = n / d; // truncated toward zero
  const r = n % d; // same sign as n
  const twice = 2n * (r < 0n ? -r : r);
  if (twice < d) return q;
  const away = n < 0n ? q - 1n : q + 1n;
  if (twice > d) return away;
  return q % 2n === 0n ? q : away;
}

/**
 * An amount in `currency`'s minor units, converted to EUR cents at the fixed
 * rate, rounded half-even once at the end.
 *
 * @example
 * ```ts
 * import { toEurMinor } from "./currency.ts";
 * console.log(toEurMinor(1999, "EUR"), toEurMinor(1999n, "USD")); // 1999n 1839n (18.3908)
 * console.log(toEurMinor(250n, "JPY")); // 152n (1.525 EUR: a tie, to even)
 * ```
 */
export function toEurMinor(amountMinor: bigint | number, currency: string): bigint {
  const from = currencyInfo(currency);
  const to = currencyInfo(REPORTING_CURRENCY);
  const amount = BigInt(amountMinor);
  const rate = from.eurPerUnit;
  // eur_minor = amount / 10^from * rate.unscaled / 10^rate.scale * 10^to
  const numerator = amount * rate.unscaled * 10n ** BigInt(to.minorDigits);
  const denominator = 10n ** BigInt(from.minorDigits + rate.scale);
  return divideHalfEven(numerator, denominator);
}

/**
 * An amount in minor units as text with its currency, e.g. `"19.99 EUR"`.
 *
 * @example
 * ```ts
 * import { formatMoney } from "./currency.ts";
 * console.log(formatMoney(-5n, "USD"), formatMoney(1999, "JPY")); // "-0.05 USD" "1999 JPY"
 * ```
 */
export function formatMoney(amountMinor: bigint | number, currency: string): string {
  return `${new Decimal(BigInt(amountMinor), currencyInfo(currency).minorDigits)} ${currency}`;
}
