/**
 * Gold: `orders_hourly`, one row per region and UTC hour, from silver orders,
 * at `gold/<orders topic>/orders_hourly/region=<R>/date=<D>/hour=<H>/part-00000.parquet`.
 *
 * Columns: `region`, `date` (YYYY-MM-DD), `hour` (HH), `hour_start`
 * timestamp[ms, UTC], `orders` int64 (distinct `order.placed` events),
 * `revenue_minor` int64 + `currency` (sum of their `total`, in the region's
 * currency), `revenue_eur_minor` int64 (the revenue converted once, half-even,
 * by lib/shopstream/currency.ts: not a sum of per-order conversions),
 * `avg_basket_minor` int64 (revenue / orders, half-even), `top_products` (JSON
 * text: up to three `{"sku","qty"}` with the largest quantity over the hour's
 * placed orders, ties by sku ascending, e.g. `[{"sku":"kb-01","qty":12}]`).
 * Hours without a placed order have no gold row.
 *
 * Gold never aborts on what silver let through: a placed order whose
 * `total_currency` is not its region's currency (the contract gives each
 * region one, see `regions.ts`) is left out of the row and counted in the
 * job's report (`invalid`, reason `currency differs from its region`), and
 * a second row of one event id (silver removes those) is left out and
 * counted as a duplicate. Rejecting beats converting: an order in the wrong
 * currency is a producer's bug, converting it at the fixed rate would invent
 * a revenue the shop never booked, and the sink and silver already refuse
 * it by the same contract rule, so here it can only come from an older lake.
 *
 * @example
 * ```ts
 * import { ordersHourlyRow } from "./gold.ts";
 * const order = (total: bigint, items: string) => ({
 *   event_id: String(total), event_type: "order.placed", total_amount_minor: total,
 *   total_currency: "USD", items_json: items,
 * });
 * const row = ordersHourlyRow({ region: "US", date: "2026-01-01", hour: "07" }, [
 *   order(1000n, '[{"sku":"a","qty":2,"unitPrice":{"amountMinor":500,"currency":"USD"}}]'),
 *   order(501n, '[{"sku":"b","qty":1,"unitPrice":{"amountMinor":501,"currency":"USD"}}]'),
 * ]);
 * console.log(row?.orders, row?.revenue_minor, row?.avg_basket_minor, row?.top_products);
 * // 2n 1501n 750n [{"sku":"a","qty":2},{"sku":"b","qty":1}]
 * ```
 *
 * @module
 */
import { decodeParquet, encodeParquet } from "../lake/parquet.ts";
import {
  goldKey,
  type HourPartition,
  layerPrefix,
  parseGoldKey,
  parseSilverKey,
} from "../lake/paths.ts";
import type { LakeStore } from "../lake/store.ts";
import { type ColumnSpec, type Row, tableFromRows, tableRows } from "../lake/table.ts";
import { divideHalfEven, toEurMinor } from "./currency.ts";
import { REGIONS } from "./regions.ts";
import { emptyReport, type LayerJobReport, LayerOutput } from "./silver.ts";

/** The gold table this module writes. */
export const ORDERS_HOURLY = "orders_hourly";

/** The event type gold counts as an order. */
export const ORDER_PLACED = "order.placed";

/**
 * The columns of `orders_hourly`.
 *
 * @example
 * ```ts
 * import { ORDERS_HOURLY_COLUMNS } from "./gold.ts";
 * console.log(ORDERS_HOURLY_COLUMNS.map((c) => c.name).join(","));
 * ```
 */
export const ORDERS_HOURLY_COLUMNS: readonly ColumnSpec[] = [
  { name: "region", type: "utf8" },
  { name: "date", type: "utf8" },
  { name: "hour", type: "utf8" },
  { name: "hour_start", type: "timestamp" },
  { name: "orders", type: "int64" },
  { name: "revenue_minor", type: "int64" },
  { name: "currency", type: "utf8" },
  { name: "revenue_eur_minor", type: "int64" },
  { name: "avg_basket_minor", type: "int64" },
  { name: "top_products", type: "utf8" },
];

/** One `orders_hourly` row. */
export interface OrdersHourlyRow {
  /** Region code. */
  region: string;
  /** `YYYY-MM-DD`, UTC. */
  date: string;
  /** `HH`, UTC. */
  hour: string;
  /** Start of the hour, epoch ms UTC. */
  hour_start: number;
  /** Distinct `order.placed` events. */
  orders: bigint;
  /** Sum of their totals, in minor units of `currency`. */
  revenue_minor: bigint;
  /** The region's currency. */
  currency: string;
  /** The revenue converted to EUR once (half-even), in cents. */
  revenue_eur_minor: bigint;
  /** Revenue / orders, half-even. */
  avg_basket_minor: bigint;
  /** JSON: up to three `{"sku","qty"}` with the largest quantity, ties by sku. */
  top_products: string;
}

/** What {@linkcode ordersHourly} made of one hour's silver rows. */
export interface OrdersHourly {
  /** The gold row; undefined when no valid placed order is left. */
  readonly row?: OrdersHourlyRow;
  /** Placed orders left out, by reason. */
  readonly rejected: Record<string, number>;
  /** Placed orders left out as second copies of an event id. */
  readonly duplicates: number;
}

/** The reason gold gives for a placed order not in its region's currency. */
export const CURRENCY_REJECT = "currency differs from its region";

/**
 * The top `n` skus by total quantity (ties by sku), from line-item JSON texts.
 *
 * @example
 * ```ts
 * import { topProducts } from "./gold.ts";
 * console.log(topProducts(['[{"sku":"b","qty":2},{"sku":"a","qty":2},{"sku":"c","qty":1}]'], 2));
 * // [{ sku: "a", qty: 2 }, { sku: "b", qty: 2 }]
 * ```
 */
export function topProducts(itemsJson: readonly string[], n = 3): { sku: string; qty: number }[] {
  const qty = new Map<string, number>();
  for (const text of itemsJson) {
    for (const item of JSON.parse(text) as { sku: string; qty: number }[]) {
      qty.set(item.sku, (qty.get(item.sku) ?? 0) + item.qty);
    }
  }
  return [...qty]
    .map(([sku, q]) => ({ sku, qty: q }))
    .sort((a, b) => b.qty - a.qty || (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0))
    .slice(0, n);
}

/**
 * The `orders_hourly` row of one region and hour from its silver order rows,
 * with what was left out (see the module doc: never throws on a row).
 *
 * @example
 * ```ts
 * import { ordersHourly } from "./gold.ts";
 * const order = (id: string, currency: string) => ({
 *   event_id: id, event_type: "order.placed", total_amount_minor: 100n, total_currency: currency,
 *   items_json: '[{"sku":"a","qty":1}]',
 * });
 * const out = ordersHourly({ region: "EU", date: "2026-01-01", hour: "07" }, [order("a", "EUR"), order("b", "USD")]);
 * console.log(out.row?.orders, out.rejected); // 1n { "currency differs from its region": 1 }
 * ```
 */
export function ordersHourly(where: HourPartition, silverRows: readonly Row[]): OrdersHourly {
  const currency = REGIONS.find((r) => r.code === where.region)?.currency;
  const rejected: Record<string, number> = {};
  const ids = new Set<unknown>();
  let duplicates = 0;
  const placed: Row[] = [];
  for (const r of silverRows) {
    if (r.event_type !== ORDER_PLACED) continue;
    if (r.total_currency !== currency || typeof r.total_amount_minor !== "bigint") {
      const reason = r.total_currency !== currency ? CURRENCY_REJECT : "missing total";
      rejected[reason] = (rejected[reason] ?? 0) + 1;
      continue;
    }
    if (ids.has(r.event_id)) {
      duplicates++;
      continue;
    }
    ids.add(r.event_id);
    placed.push(r);
  }
  if (placed.length === 0 || currency === undefined) return { rejected, duplicates };
  const revenue = placed.reduce((sum, r) => sum + (r.total_amount_minor as bigint), 0n);
  const orders = BigInt(placed.length);
  return {
    rejected,
    duplicates,
    row: {
      region: where.region,
      date: where.date,
      hour: where.hour,
      hour_start: Date.parse(`${where.date}T${where.hour}:00:00Z`),
      orders,
      revenue_minor: revenue,
      currency,
      revenue_eur_minor: toEurMinor(revenue, currency),
      avg_basket_minor: divideHalfEven(revenue, orders),
      top_products: JSON.stringify(topProducts(placed.map((r) => r.items_json as string))),
    },
  };
}

/**
 * The `orders_hourly` row of one region and hour from its silver order rows
 * (already deduplicated); undefined when none is a valid `order.placed`
 * event. Rows left out are not reported here: see {@linkcode ordersHourly}.
 *
 * @example
 * ```ts
 * import { ordersHourlyRow } from "./gold.ts";
 * console.log(ordersHourlyRow({ region: "EU", date: "2026-01-01", hour: "00" }, [])); // undefined
 * ```
 */
export function ordersHourlyRow(
  where: HourPartition,
  silverRows: readonly Row[],
): OrdersHourlyRow | undefined {
  return ordersHourly(where, silverRows).row;
}

/**
 * Recomputes `orders_hourly` from the silver objects of an orders topic.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { LakeStore } from "../lake/store.ts";
 * import { GoldJob } from "./gold.ts";
 * const config = loadConfig();
 * const report = await new GoldJob(LakeStore.fromConfig(config)).run(config.topics.orders);
 * console.log(report.rowsOut);
 * ```
 */
export class GoldJob {
  /** A job reading silver from and writing gold to `store`. */
  constructor(readonly store: LakeStore) {}

  /**
   * Reads every silver object of `ordersTopic`, writes one gold object per
   * region and hour with placed orders (only when its bytes change), removes
   * gold objects whose hour has none any more, and says what it did.
   *
   * @example
   * ```ts
   * import { loadConfig } from "../config.ts";
   * import { LakeStore } from "../lake/store.ts";
   * import { GoldJob } from "./gold.ts";
   * console.log(await new GoldJob(LakeStore.fromConfig(loadConfig())).run("shopstream.orders"));
   * ```
   */
  async run(ordersTopic: string): Promise<LayerJobReport> {
    const started = performance.now();
    const report = emptyReport("gold", ordersTopic);
    const goldPrefix = layerPrefix("gold", `${ordersTopic}/${ORDERS_HOURLY}`);
    const output = await LayerOutput.open(this.store, goldPrefix, parseGoldKey, report);
    for (const o of await this.store.list(layerPrefix("silver", ordersTopic))) {
      const parsed = parseSilverKey(o.key);
      if (!parsed) continue;
      const where = { region: parsed.region, date: parsed.date, hour: parsed.hour };
      const rows = tableRows(decodeParquet(await this.store.get(o.key)));
      report.objectsRead++;
      report.rowsIn += rows.length;
      const { row, rejected, duplicates } = ordersHourly(where, rows);
      report.duplicates += duplicates;
      for (const [reason, n] of Object.entries(rejected)) {
        report.invalidReasons[reason] = (report.invalidReasons[reason] ?? 0) + n;
        report.invalid += n;
      }
      if (!row) continue;
      report.rowsOut++;
      const key = goldKey({ topic: ordersTopic, table: ORDERS_HOURLY, ...where });
      await output.put(
        key,
        encodeParquet(tableFromRows(ORDERS_HOURLY_COLUMNS, [row as unknown as Row])),
      );
    }
    await output.finish();
    report.seconds = (performance.now() - started) / 1000;
    return report;
  }
}
