/**
 * Money maths (lib/shopstream/currency.ts): half-even division for every sign
 * and tie, the fixed EUR rate table, minor digits per currency, exact
 * conversion to EUR cents rounded once, formatting. No services.
 */
import assert from "node:assert/strict";
import {
  CURRENCIES,
  currencyInfo,
  divideHalfEven,
  formatMoney,
  isKnownCurrency,
  toEurMinor,
  UnknownCurrencyError,
} from "../lib/shopstream/currency.ts";

Deno.test("currency: half-even division is exact for every sign and tie", () => {
  const cases: [bigint, bigint, bigint][] = [
    [0n, 7n, 0n],
    [1n, 2n, 0n], // 0.5 -> 0 (even)
    [3n, 2n, 2n], // 1.5 -> 2
    [5n, 2n, 2n], // 2.5 -> 2
    [7n, 2n, 4n], // 3.5 -> 4
    [-1n, 2n, 0n],
    [-3n, 2n, -2n],
    [-5n, 2n, -2n],
    [5n, -2n, -2n],
    [10n, 3n, 3n], // 3.33
    [11n, 3n, 4n], // 3.67
    [-11n, 3n, -4n],
    [25n, 10n, 2n],
    [35n, 10n, 4n],
    [26n, 10n, 3n],
    [24n, 10n, 2n],
    [10n ** 30n + 5n, 10n, 10n ** 29n], // tie on a huge even quotient
  ];
  for (const [n, d, want] of cases) assert.equal(divideHalfEven(n, d), want, `${n}/${d}`);
  assert.throws(() => divideHalfEven(1n, 0n), RangeError);
});

Deno.test("currency: minor digits and the fixed rate table", () => {
  assert.equal(currencyInfo("EUR").minorDigits, 2);
  assert.equal(currencyInfo("USD").minorDigits, 2);
  assert.equal(currencyInfo("JPY").minorDigits, 0);
  assert.equal(currencyInfo("EUR").eurPerUnit.toString(), "1");
  assert.ok(isKnownCurrency("USD"));
  assert.ok(!isKnownCurrency("usd") && !isKnownCurrency(undefined) && !isKnownCurrency("XYZ"));
  assert.throws(() => currencyInfo("XYZ"), UnknownCurrencyError);
  assert.throws(() => toEurMinor(1n, "XYZ"), /rate table/);
  for (const c of CURRENCIES.values()) assert.ok(c.eurPerUnit.unscaled > 0n, c.code);
});

Deno.test("currency: conversion to EUR cents is exact, rounding half-even once", () => {
  assert.equal(toEurMinor(1999n, "EUR"), 1999n);
  assert.equal(toEurMinor(-1999, "EUR"), -1999n);
  assert.equal(toEurMinor(100n, "USD"), 92n); // 1.00 USD = 0.92 EUR
  assert.equal(toEurMinor(1999n, "USD"), 1839n); // 18.3908
  assert.equal(toEurMinor(1n, "USD"), 1n); // 0.0092 EUR -> 0.92 cents -> 1
  assert.equal(toEurMinor(10_000n, "JPY"), 6100n); // 61.00 EUR
  assert.equal(toEurMinor(250n, "JPY"), 152n); // 1.525 EUR: 152.5 cents, tie -> 152
  assert.equal(toEurMinor(750n, "JPY"), 458n); // 4.575 EUR: 457.5 cents, tie -> 458
  assert.equal(toEurMinor(1n, "JPY"), 1n); // 0.61 cents -> 1
  assert.equal(toEurMinor(0n, "GBP"), 0n);
  // large amounts stay exact (beyond 2^53)
  assert.equal(toEurMinor(2n ** 60n, "USD"), divideHalfEven(2n ** 60n * 92n, 100n));
  // converting a sum is not the sum of conversions: the lake says which it does
  assert.equal(toEurMinor(1n, "USD") + toEurMinor(1n, "USD"), 2n);
  assert.equal(toEurMinor(2n, "USD"), 2n);
  assert.equal(toEurMinor(150n, "JPY") + toEurMinor(100n, "JPY"), 153n);
  assert.equal(toEurMinor(250n, "JPY"), 152n);
});

Deno.test("currency: formatting minor units", () => {
  assert.equal(formatMoney(1999n, "EUR"), "19.99 EUR");
  assert.equal(formatMoney(5, "USD"), "0.05 USD");
  assert.equal(formatMoney(-5n, "USD"), "-0.05 USD");
  assert.equal(formatMoney(1999n, "JPY"), "1999 JPY");
});
