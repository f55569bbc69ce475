/**
 * Batch versus stream: the stream's minute windows rolled up to gold's grain
 * (region and UTC hour) and compared with gold's `orders_hourly` to the cent.
 *
 * Rolling up is exact because every measure is additive or derived from
 * additive ones: orders and revenue add up over the hour's windows; the EUR
 * revenue is the hour's revenue converted once and the average basket is
 * revenue / orders (both half-even, as gold computes them), never a sum or
 * mean of per-window figures. So once every window has closed, and with no
 * event late, the stream's totals equal batch gold exactly.
 *
 * @example
 * ```ts
 * import { compareWithGold, rollupHourly } from "./compare.ts";
 * const w = (start: number, orders: number, revenue: bigint) => ({ start, end: start + 60_000,
 *   region: "EU", currency: "EUR", orders, revenueMinor: revenue, avgBasketMinor: 0n, paid: 0, final: true });
 * const hourly = rollupHourly([w(0, 1, 1000n), w(60_000, 2, 2001n)]);
 * console.log(hourly[0].orders, hourly[0].revenue_minor, hourly[0].avg_basket_minor); // 3n 3001n 1000n
 * console.log(compareWithGold([{ region: "EU", date: "1970-01-01", hour: "00", orders: 3n,
 *   revenue_minor: 3001n, currency: "EUR", revenue_eur_minor: 3001n, avg_basket_minor: 1000n }], hourly)); // []
 * ```
 *
 * @module
 */
import { utcDateHour } from "../../lake/paths.ts";
import { divideHalfEven, toEurMinor } from "../currency.ts";
import type { WindowResult } from "./windows.ts";

const HOUR_MS = 3_600_000;

/** One region-hour of the stream, in gold's columns (plus what only the stream has). */
export interface HourlyRollup {
  /** Region code. */
  region: string;
  /** `YYYY-MM-DD`, UTC. */
  date: string;
  /** `HH`, UTC. */
  hour: string;
  /** Orders placed in the hour. */
  orders: bigint;
  /** Their revenue, minor units of `currency`. */
  revenue_minor: bigint;
  /** The region's currency. */
  currency: string;
  /** The hour's revenue converted to EUR cents once, half-even. */
  revenue_eur_minor: bigint;
  /** revenue / orders, half-even. */
  avg_basket_minor: bigint;
  /** Orders paid in the hour (the join; gold has no such column). */
  paid: number;
  /** Minute windows rolled into the row. */
  windows: number;
}

/**
 * Rolls window results up to one row per region and UTC hour, sorted by
 * region, date and hour; hours without an order are left out (gold has no
 * row for them either). The window size must divide an hour.
 *
 * @example
 * ```ts
 * import { rollupHourly } from "./compare.ts";
 * console.log(rollupHourly([])); // []
 * ```
 */
export function rollupHourly(windows: Iterable<WindowResult>): HourlyRollup[] {
  const rows = new Map<string, HourlyRollup & { start: number }>();
  for (const w of windows) {
    const size = w.end - w.start;
    if (HOUR_MS % size !== 0) {
      throw new RangeError(
        `a ${size} ms window does not divide an hour: it cannot roll up to gold`,
      );
    }
    const start = Math.floor(w.start / HOUR_MS) * HOUR_MS;
    const key = `${w.region}|${start}`;
    let row = rows.get(key);
    if (!row) {
      row = {
        start,
        region: w.region,
        ...utcDateHour(start),
        orders: 0n,
        revenue_minor: 0n,
        currency: w.currency,
        revenue_eur_minor: 0n,
        avg_basket_minor: 0n,
        paid: 0,
        windows: 0,
      };
      rows.set(key, row);
    }
    row.orders += BigInt(w.orders);
    row.revenue_minor += w.revenueMinor;
    row.paid += w.paid;
    row.windows++;
  }
  return [...rows.values()]
    .filter((r) => r.orders > 0n)
    .sort((a, b) => (a.region < b.region ? -1 : a.region > b.region ? 1 : a.start - b.start))
    .map(({ start: _, ...r }) => ({
      ...r,
      revenue_eur_minor: toEurMinor(r.revenue_minor, r.currency),
      avg_basket_minor: divideHalfEven(r.revenue_minor, r.orders),
    }));
}

/** A gold row, read from the lake (`orders_hourly`) or computed by the tally. */
export interface GoldLike {
  /** Region code. */
  readonly region?: unknown;
  /** `YYYY-MM-DD`, UTC. */
  readonly date?: unknown;
  /** `HH`, UTC. */
  readonly hour?: unknown;
  /** Orders placed. */
  readonly orders?: unknown;
  /** Revenue, minor units of `currency`. */
  readonly revenue_minor?: unknown;
  /** The region's currency. */
  readonly currency?: unknown;
  /** Revenue in EUR cents. */
  readonly revenue_eur_minor?: unknown;
  /** Average basket, minor units. */
  readonly avg_basket_minor?: unknown;
}

/** The compared columns, in order. */
const COLUMNS = [
  "orders",
  "revenue_minor",
  "currency",
  "revenue_eur_minor",
  "avg_basket_minor",
] as const;

function text(row: GoldLike | HourlyRollup): string {
  const r = row as Record<string, unknown>;
  return COLUMNS.map((c) => String(r[c])).join(" ");
}

const keyOf = (r: GoldLike | HourlyRollup) => {
  const x = r as Record<string, unknown>;
  return `${x.region} ${x.date} ${x.hour}`;
};

/**
 * Compares gold rows with the stream's hourly rollup on orders, revenue,
 * currency, EUR revenue and average basket; one line per difference (empty
 * when they agree to the cent).
 *
 * @example
 * ```ts
 * import { compareWithGold } from "./compare.ts";
 * console.log(compareWithGold([{ region: "EU", date: "2026-03-02", hour: "00", orders: 1n }], []));
 * // ["EU 2026-03-02 00: in gold, not in the stream"]
 * ```
 */
export function compareWithGold(
  gold: readonly GoldLike[],
  stream: readonly HourlyRollup[],
): string[] {
  const problems: string[] = [];
  const mine = new Map(stream.map((r) => [keyOf(r), r]));
  for (const g of gold) {
    const key = keyOf(g);
    const s = mine.get(key);
    if (!s) problems.push(`${key}: in gold, not in the stream`);
    else if (text(g) !== text(s)) problems.push(`${key}: gold "${text(g)}" != stream "${text(s)}"`);
    mine.delete(key);
  }
  for (const key of mine.keys()) problems.push(`${key}: in the stream, not in gold`);
  return problems;
}

/** One line of the batch-versus-stream table. */
export interface BatchStreamRow {
  /** Region code. */
  region: string;
  /** `YYYY-MM-DD HH` (UTC). */
  hour: string;
  /** Gold's orders. */
  batchOrders: bigint | null;
  /** The stream's orders. */
  streamOrders: bigint | null;
  /** Gold's EUR revenue, cents. */
  batchEurMinor: bigint | null;
  /** The stream's EUR revenue, cents. */
  streamEurMinor: bigint | null;
  /** Whether every compared column agrees. */
  equal: boolean;
}

/**
 * Gold and the stream side by side, one line per region-hour present in
 * either, sorted by region and hour.
 *
 * @example
 * ```ts
 * import { batchVsStream } from "./compare.ts";
 * const gold = [{ region: "US", date: "2026-03-02", hour: "01", orders: 2n, revenue_minor: 10n,
 *   currency: "USD", revenue_eur_minor: 9n, avg_basket_minor: 5n }];
 * console.log(batchVsStream(gold, [])[0]); // { region: "US", hour: "2026-03-02 01", batchOrders: 2n, streamOrders: null, ..., equal: false }
 * ```
 */
export function batchVsStream(
  gold: readonly GoldLike[],
  stream: readonly HourlyRollup[],
): BatchStreamRow[] {
  const rows = new Map<string, BatchStreamRow>();
  const row = (r: GoldLike | HourlyRollup) => {
    const x = r as Record<string, unknown>;
    const key = keyOf(r);
    let out = rows.get(key);
    if (!out) {
      out = {
        region: String(x.region),
        hour: `${x.date} ${x.hour}`,
        batchOrders: null,
        streamOrders: null,
        batchEurMinor: null,
        streamEurMinor: null,
        equal: false,
      };
      rows.set(key, out);
    }
    return out;
  };
  const goldText = new Map<string, string>();
  for (const g of gold) {
    const r = row(g);
    r.batchOrders = BigInt(String(g.orders));
    r.batchEurMinor = BigInt(String(g.revenue_eur_minor));
    goldText.set(keyOf(g), text(g));
  }
  for (const s of stream) {
    const r = row(s);
    r.streamOrders = s.orders;
    r.streamEurMinor = s.revenue_eur_minor;
    r.equal = goldText.get(keyOf(s)) === text(s);
  }
  return [...rows.values()].sort((a, b) =>
    a.region < b.region ? -1 : a.region > b.region ? 1 : a.hour < b.hour ? -1 : 1
  );
}
