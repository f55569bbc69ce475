/**
 * The business rules of the ShopStream contracts that Avro cannot express.
 * A record that decodes but breaks one goes to the dead-letter topic with the
 * reason `validation` (see `lib/schema/decoder.ts`), never into the lake.
 *
 * - orders: at least one line, every `qty >= 1`, every line in the total's
 *   currency, `total = sum(qty x unitPrice)` exactly (integer minor units),
 *   and the total in the currency of the order's region (a region sells in
 *   one currency: gold sums revenue per region and hour);
 * - payments: `amount > 0`.
 *
 * @example
 * ```ts
 * import { CONTRACT_RULES } from "./rules.ts";
 * const order = {
 *   items: [{ sku: "A", qty: 2, unitPrice: { amountMinor: 150, currency: "EUR" } }],
 *   total: { amountMinor: 301, currency: "EUR" },
 * };
 * console.log(CONTRACT_RULES.order.flatMap((rule) => rule(order)));
 * // [ "total.amountMinor: 301 != sum of qty x unitPrice (300)" ]
 * ```
 *
 * @module
 */
import type { ContractRule } from "../schema/decoder.ts";
import type { FamilyName } from "../schema/catalog.ts";
import { REGIONS } from "./regions.ts";

/** Money as the contract writes it: integer minor units and an ISO currency. */
interface Money {
  amountMinor: number | bigint;
  currency: string;
}

/** The parts of an order event the rules look at. */
interface OrderLike {
  envelope?: { region?: unknown };
  items?: { qty: number; unitPrice: Money }[];
  total?: Money;
}

/** The parts of a payment event the rules look at. */
interface PaymentLike {
  amount?: Money;
}

/**
 * Order rules: lines present, `qty >= 1`, one currency, exact total, the
 * region's currency (checked for the regions of `regions.ts`; an order of
 * another region, `UNKNOWN`, is left to silver, which drops it by region).
 *
 * @example
 * ```ts
 * import { orderRules } from "./rules.ts";
 * const bad = { items: [{ qty: 0, unitPrice: { amountMinor: 5, currency: "USD" } }], total: { amountMinor: 0, currency: "USD" } };
 * console.log(orderRules.flatMap((r) => r(bad))); // [ "items[0].qty: 0 < 1" ]
 * ```
 */
export const orderRules: readonly ContractRule<unknown>[] = [
  (value) => {
    const items = (value as OrderLike).items ?? [];
    return items.length === 0 ? ["items: an order needs at least one line"] : [];
  },
  (value) =>
    ((value as OrderLike).items ?? []).flatMap((item, i) =>
      item.qty >= 1 ? [] : [`items[${i}].qty: ${item.qty} < 1`]
    ),
  (value) => {
    const { items = [], total } = value as OrderLike;
    if (!total) return [];
    return items.flatMap((item, i) =>
      item.unitPrice.currency === total.currency ? [] : [
        `items[${i}].unitPrice.currency: ${item.unitPrice.currency} != total.currency ${total.currency}`,
      ]
    );
  },
  (value) => {
    const { items = [], total } = value as OrderLike;
    if (!total) return [];
    let sum = 0n;
    for (const item of items) sum += BigInt(item.qty) * BigInt(item.unitPrice.amountMinor);
    const stated = BigInt(total.amountMinor);
    return stated === sum
      ? []
      : [`total.amountMinor: ${stated} != sum of qty x unitPrice (${sum})`];
  },
  (value) => {
    const { envelope, total } = value as OrderLike;
    const region = REGIONS.find((r) => r.code === envelope?.region);
    if (!total || !region || total.currency === region.currency) return [];
    return [
      `total.currency: ${total.currency} is not the currency of region ${region.code} (${region.currency})`,
    ];
  },
];

/**
 * Payment rules: a positive amount.
 *
 * @example
 * ```ts
 * import { paymentRules } from "./rules.ts";
 * console.log(paymentRules.flatMap((r) => r({ amount: { amountMinor: 0, currency: "JPY" } })));
 * // [ "amount.amountMinor: 0 <= 0" ]
 * ```
 */
export const paymentRules: readonly ContractRule<unknown>[] = [
  (value) => {
    const amount = (value as PaymentLike).amount;
    if (!amount) return [];
    return BigInt(amount.amountMinor) > 0n
      ? []
      : [`amount.amountMinor: ${amount.amountMinor} <= 0`];
  },
];

/**
 * The rules of every event family (empty for shipments and clickstream).
 *
 * @example
 * ```ts
 * import { CONTRACT_RULES } from "./rules.ts";
 * console.log(Object.keys(CONTRACT_RULES)); // [ "order", "payment", "shipment", "clickstream" ]
 * ```
 */
export const CONTRACT_RULES: Readonly<Record<FamilyName, readonly ContractRule<unknown>[]>> = {
  order: orderRules,
  payment: paymentRules,
  shipment: [],
  clickstream: [],
};
