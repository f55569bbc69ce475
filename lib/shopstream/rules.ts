/**
 * ShopStream's contract rules beyond the Avro types: what a value must also
 * satisfy to enter the lake. An order needs at least one line, every
 * quantity at least 1, one currency (its region's), and a total equal to the
 * sum of quantity x unit price; money elsewhere must be in the region's
 * currency. Each rule returns the problems it finds (empty = fine), the shape
 * `ContractDecoder` in `lib/schema` takes.
 *
 * @example
 * ```ts
 * import { ruleViolations } from "./rules.ts";
 * const order = {
 *   envelope: { region: "EU" }, items: [{ sku: "A", qty: 0, unitPrice: { amountMinor: 100, currency: "EUR" } }],
 *   total: { amountMinor: 0, currency: "EUR" },
 * };
 * console.log(ruleViolations("order", order)); // [ "items[0].qty is 0, must be >= 1" ]
 * ```
 *
 * @module
 */
import { REGIONS } from "./regions.ts";

interface MoneyLike {
  amountMinor: number | bigint;
  currency: string;
}

interface EventLike {
  envelope?: { region?: string };
  items?: { sku: string; qty: number; unitPrice: MoneyLike }[];
  total?: MoneyLike;
  amount?: MoneyLike;
}

function regionCurrency(value: EventLike): string | undefined {
  const region = value.envelope?.region;
  return REGIONS.find((r) => r.code === region)?.currency;
}

/**
 * Problems with an order value (family `order`, any version).
 *
 * @example
 * ```ts
 * import { orderViolations } from "./rules.ts";
 * const line = { sku: "A", qty: 2, unitPrice: { amountMinor: 150, currency: "USD" } };
 * console.log(orderViolations({ envelope: { region: "US" }, items: [line],
 *   total: { amountMinor: 301, currency: "USD" } })); // [ "total 301 != sum of lines 300" ]
 * ```
 */
export function orderViolations(value: unknown): string[] {
  const order = value as EventLike;
  const out: string[] = [];
  const items = order.items ?? [];
  if (items.length === 0) out.push("items is empty, an order needs at least one line");
  const currency = regionCurrency(order);
  let sum = 0n;
  items.forEach((line, i) => {
    if (!(line.qty >= 1)) out.push(`items[${i}].qty is ${line.qty}, must be >= 1`);
    if (line.unitPrice.currency !== order.total?.currency) {
      out.push(
        `items[${i}].unitPrice.currency ${line.unitPrice.currency} != total.currency ${order.total?.currency}`,
      );
    }
    sum += BigInt(line.qty) * BigInt(line.unitPrice.amountMinor);
  });
  if (order.total && BigInt(order.total.amountMinor) !== sum) {
    out.push(`total ${order.total.amountMinor} != sum of lines ${sum}`);
  }
  if (currency && order.total && order.total.currency !== currency) {
    out.push(`total.currency ${order.total.currency} is not the region's currency ${currency}`);
  }
  return out;
}

/**
 * Problems with a payment value: the charged amount must be non-negative and
 * in the region's currency.
 *
 * @example
 * ```ts
 * import { paymentViolations } from "./rules.ts";
 * console.log(paymentViolations({ envelope: { region: "APAC" },
 *   amount: { amountMinor: 1200, currency: "JPY" } })); // []
 * ```
 */
export function paymentViolations(value: unknown): string[] {
  const payment = value as EventLike;
  const out: string[] = [];
  const currency = regionCurrency(payment);
  if (payment.amount) {
    if (BigInt(payment.amount.amountMinor) < 0n) {
      out.push(`amount ${payment.amount.amountMinor} is negative`);
    }
    if (currency && payment.amount.currency !== currency) {
      out.push(
        `amount.currency ${payment.amount.currency} is not the region's currency ${currency}`,
      );
    }
  }
  return out;
}

/**
 * The rule problems of a decoded value of schema family `family` (`order`,
 * `payment`, `shipment`, `clickstream`); families without rules give [].
 *
 * @example
 * ```ts
 * import { ruleViolations } from "./rules.ts";
 * console.log(ruleViolations("clickstream", {})); // []
 * ```
 */
export function ruleViolations(family: string, value: unknown): string[] {
  if (family === "order") return orderViolations(value);
  if (family === "payment") return paymentViolations(value);
  return [];
}
