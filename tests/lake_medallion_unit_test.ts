/**
 * Silver and gold on hand-made rows (no services): silver's EUR columns,
 * deduplication by event id (the smallest partition/offset wins), the rules
 * that drop and count invalid rows; gold `orders_hourly` maths (orders,
 * revenue, EUR revenue, average basket, top products).
 */
import assert from "node:assert/strict";
import { loadCatalog } from "../lib/schema/catalog.ts";
import type { Row } from "../lib/lake/table.ts";
import { BronzeLayout } from "../lib/shopstream/bronze.ts";
import { silverColumns, silverProblem, toSilverRows } from "../lib/shopstream/silver.ts";
import {
  CURRENCY_REJECT,
  ordersHourly,
  ordersHourlyRow,
  topProducts,
} from "../lib/shopstream/gold.ts";
import { orderRules } from "../lib/shopstream/rules.ts";

const where = { region: "US", date: "2026-11-26", hour: "09" };
const at = Date.UTC(2026, 10, 26, 9, 30);

function orderRow(over: Partial<Row> = {}): Row {
  return {
    _partition: 0,
    _offset: 1n,
    _kafka_timestamp: at,
    _schema_id: 1,
    event_id: "e-1",
    event_type: "order.placed",
    occurred_at: at,
    region: "US",
    schema_version: 1,
    order_id: "o-1",
    customer_id: "c-1",
    items_json: JSON.stringify([
      { sku: "kb-01", qty: 2, unitPrice: { amountMinor: 1999, currency: "USD" } },
      { sku: "ms-02", qty: 1, unitPrice: { amountMinor: 500, currency: "USD" } },
    ]),
    total_amount_minor: 4498n,
    total_currency: "USD",
    status: "PLACED",
    channel: null,
    coupon_code: null,
    tax_rate: null,
    ...over,
  };
}

async function orderColumns() {
  return BronzeLayout.forFamily((await loadCatalog()).family("order")).columns;
}

Deno.test("silver: columns add <money>_eur_minor after each money pair", async () => {
  const cols = silverColumns(await orderColumns()).map((c) => c.name);
  const i = cols.indexOf("total_currency");
  assert.equal(cols[i + 1], "total_eur_minor");
  assert.equal(cols.filter((c) => c.endsWith("_eur_minor")).length, 1);
  const payment = BronzeLayout.forFamily((await loadCatalog()).family("payment")).columns;
  assert.ok(silverColumns(payment).some((c) => c.name === "amount_eur_minor"));
});

Deno.test("silver: duplicates by event_id keep the smallest partition/offset", async () => {
  const columns = await orderColumns();
  const rows = [
    orderRow({ _offset: 9n, event_id: "e-1", customer_id: "retry" }),
    orderRow({ _offset: 3n, event_id: "e-1" }),
    orderRow({ _offset: 4n, event_id: "e-2", occurred_at: at - 1000 }),
    orderRow({ _offset: 7n, event_id: "e-1", customer_id: "retry-2" }),
    orderRow({ _partition: 1, _offset: 0n, event_id: "e-2" }),
  ];
  const out = toSilverRows(rows, columns, where);
  assert.equal(out.duplicates, 3);
  assert.deepEqual(out.invalidReasons, {});
  // sorted by occurred_at, then partition/offset
  assert.deepEqual(out.rows.map((r) => [r.event_id, r._partition, r._offset, r.customer_id]), [
    ["e-2", 0, 4n, "c-1"],
    ["e-1", 0, 3n, "c-1"],
  ]);
  assert.equal(out.rows[0].total_eur_minor, 4138n); // 44.98 USD * 0.92 = 41.3816 EUR
  // the input order does not matter
  assert.deepEqual(toSilverRows([...rows].reverse(), columns, where), out);
});

Deno.test("silver: rules drop and count invalid rows", async () => {
  const columns = await orderColumns();
  const items = (qty: number, price: number, currency = "USD") =>
    JSON.stringify([{ sku: "kb-01", qty, unitPrice: { amountMinor: price, currency } }]);
  const bad: [string, Partial<Row>][] = [
    ["missing event_id", { event_id: null }],
    ["missing occurred_at", { occurred_at: null }],
    ["occurred_at outside its hour folder", { occurred_at: at + 3600_000 }],
    ["unknown region", { region: "UNKNOWN" }],
    ["region differs from its folder", { region: "EU" }],
    ["total: unknown currency", { total_currency: "XYZ" }],
    ["total: negative amount", { total_amount_minor: -1n }],
    ["total: missing amount", { total_amount_minor: null }],
    ["rule items[].qty", { items_json: items(0, 100), total_amount_minor: 0n }],
    ["rule total.amountMinor", { items_json: items(2, 100), total_amount_minor: 201n }],
    ["rule items[].unitPrice.currency", {
      items_json: items(1, 100, "EUR"),
      total_amount_minor: 100n,
    }],
    ["rule items", { items_json: "[]" }],
    ["rule total.currency", {
      items_json: items(1, 100, "EUR"),
      total_amount_minor: 100n,
      total_currency: "EUR",
    }],
    ["items_json is not JSON", { items_json: "[{" }],
  ];
  const money = ["total"];
  for (const [reason, over] of bad) {
    assert.equal(silverProblem(orderRow(over), where, money, orderRules), reason);
  }
  assert.equal(silverProblem(orderRow(), where, money, orderRules), undefined);
  // without rules only the row's own checks apply
  assert.equal(silverProblem(orderRow({ items_json: "[]" }), where, money), undefined);
  const rows = bad.map(([, over], i) => orderRow({ ...over, _offset: BigInt(i) }));
  rows.push(orderRow({ _offset: 100n }));
  const out = toSilverRows(rows, columns, where, orderRules);
  assert.equal(out.rows.length, 1);
  assert.equal(Object.values(out.invalidReasons).reduce((a, b) => a + b, 0), bad.length);
  // an invalid copy does not hide a valid one with the same event id
  const both = toSilverRows(
    [orderRow({ _offset: 1n, region: "EU" }), orderRow({ _offset: 2n })],
    columns,
    where,
    orderRules,
  );
  assert.equal(both.rows.length, 1);
  assert.equal(both.rows[0]._offset, 2n);
  assert.equal(both.duplicates, 0);
});

Deno.test("gold: orders_hourly maths on hand-made rows", () => {
  const row = (
    id: string,
    total: bigint,
    items: [string, number][],
    type = "order.placed",
    currency = "JPY",
  ) =>
    orderRow({
      event_id: id,
      event_type: type,
      total_amount_minor: total,
      total_currency: currency,
      items_json: JSON.stringify(
        items.map(([sku, qty]) => ({ sku, qty, unitPrice: { amountMinor: 1, currency: "JPY" } })),
      ),
    });
  const rows = [
    row("a", 1000n, [["kb-01", 2], ["ms-02", 1]]),
    row("b", 1500n, [["ms-02", 1], ["hd-03", 3]]),
    row("c", 251n, [["zz-09", 2], ["aa-00", 1]]),
    row("d", 99999n, [["kb-01", 50]], "order.cancelled"), // not a placed order
  ];
  const gold = ordersHourlyRow({ region: "APAC", date: "2026-11-26", hour: "09" }, rows);
  assert.deepEqual(gold, {
    region: "APAC",
    date: "2026-11-26",
    hour: "09",
    hour_start: Date.UTC(2026, 10, 26, 9),
    orders: 3n,
    revenue_minor: 2751n,
    currency: "JPY",
    revenue_eur_minor: 1678n, // 2751 JPY * 0.0061 = 16.7811 EUR
    avg_basket_minor: 917n, // 2751 / 3 = 917
    // hd-03: 3; kb-01, ms-02, zz-09: 2 each -> ties by sku
    top_products: JSON.stringify([
      { sku: "hd-03", qty: 3 },
      { sku: "kb-01", qty: 2 },
      { sku: "ms-02", qty: 2 },
    ]),
  });
  // avg basket rounds half-even: 5 / 2 = 2.5 -> 2, 7 / 2 = 3.5 -> 4
  const usd = (id: string, total: bigint) => row(id, total, [["s", 1]], "order.placed", "USD");
  const two = (a: bigint, b: bigint) =>
    ordersHourlyRow(where, [usd("x", a), usd("y", b)])!.avg_basket_minor;
  assert.equal(two(2n, 3n), 2n);
  assert.equal(two(3n, 4n), 4n);
  assert.equal(ordersHourlyRow(where, [rows[3]]), undefined);
  assert.deepEqual(topProducts([], 3), []);
});

Deno.test("gold: never aborts on a silver row; an order in another currency is left out and counted", () => {
  const apac = { region: "APAC", date: "2026-11-26", hour: "09" };
  const order = (id: string, currency: string, total = 1000n) =>
    orderRow({
      event_id: id,
      total_amount_minor: total,
      total_currency: currency,
      items_json: JSON.stringify([{ sku: "s", qty: 1 }]),
    });
  const out = ordersHourly(apac, [order("a", "JPY"), order("b", "USD", 5n), order("c", "JPY")]);
  assert.deepEqual(out.rejected, { [CURRENCY_REJECT]: 1 });
  assert.equal(out.row?.orders, 2n);
  assert.equal(out.row?.revenue_minor, 2000n, "the USD order is not summed as yen");
  assert.equal(out.row?.currency, "JPY");
  // every order in the wrong currency: no row, all counted
  const none = ordersHourly(apac, [order("a", "EUR"), order("b", "USD")]);
  assert.equal(none.row, undefined);
  assert.deepEqual(none.rejected, { [CURRENCY_REJECT]: 2 });
  // a second copy of an event id (silver removes those) is counted, not summed
  const twice = ordersHourly(apac, [order("a", "JPY"), order("a", "JPY")]);
  assert.equal(twice.duplicates, 1);
  assert.equal(twice.row?.orders, 1n);
  // a region without a currency (UNKNOWN): no row
  assert.equal(ordersHourlyRow({ ...apac, region: "UNKNOWN" }, [order("a", "JPY")]), undefined);
});
