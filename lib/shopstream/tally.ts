/**
 * The generator's own tally of what it emitted, kept independently of Kafka
 * and the lake so a run can be checked against it: records per topic, per
 * region, per UTC hour; malformed records (by kind) and duplicates; the rows
 * bronze and silver should hold; and the gold rows (orders per region and
 * UTC hour, revenue, average basket, top products) computed the way the
 * contract defines gold.
 *
 * @example
 * ```ts
 * import { EventGenerator } from "./generator.ts";
 * import { Tally } from "./tally.ts";
 * const gen = new EventGenerator({ seed: 42, malformedShare: 0.02 });
 * const tally = new Tally();
 * for (const r of gen.take(10_000)) tally.add(r);
 * console.log(tally.totals(), tally.gold().length);
 * ```
 *
 * @module
 */
import type { GeneratedRecord, MalformedKind, OrderEvent, TopicKey } from "./generator.ts";
import { MALFORMED_KINDS, TOPIC_KEYS } from "./generator.ts";
import type { RegionCode } from "./regions.ts";
import { utcDateHour } from "../lake/paths.ts";
import { divideHalfEven, toEurMinor } from "./currency.ts";

/** Converts an amount in minor units of `currency` to EUR cents (default: `toEurMinor` of `currency.ts`). */
export type ToEur = (amountMinor: bigint, currency: string) => bigint;

/** Counts for one topic. */
export interface TopicCounts {
  /** Every record sent to the topic (events, duplicates, malformed). */
  produced: number;
  /** Records that should reach bronze: produced - malformed (duplicates included). */
  bronze: number;
  /** Distinct events silver should keep: bronze - duplicates. */
  silver: number;
  /** Records that re-send an earlier event. */
  duplicates: number;
  /** Malformed records (they go to the dead-letter topic). */
  malformed: number;
  /** Malformed records by kind. */
  malformedByKind: Record<MalformedKind, number>;
}

/** Bronze and silver rows expected in one lake partition (topic, region, UTC date and hour). */
export interface HourCounts {
  /** The topic. */
  topic: TopicKey;
  /** The region. */
  region: RegionCode;
  /** `YYYY-MM-DD` (UTC). */
  date: string;
  /** `HH` (UTC, two digits). */
  hour: string;
  /** Bronze rows expected. */
  bronze: number;
  /** Silver rows expected. */
  silver: number;
}

/** One gold row: orders of one region in one UTC hour (see the delivery contract in lib/shopstream/mod.ts). */
export interface GoldRow {
  /** The region. */
  region: RegionCode;
  /** `YYYY-MM-DD` (UTC). */
  date: string;
  /** `HH` (UTC, two digits). */
  hour: string;
  /** Distinct `order.placed` events. */
  orders: bigint;
  /** Sum of `total.amountMinor` in the region's currency. */
  revenue_minor: bigint;
  /** The region's currency. */
  currency: string;
  /** revenue_minor converted to EUR cents at the fixed rate (the sum converted once, half-even). */
  revenue_eur_minor: bigint;
  /** revenue_minor / orders, rounded half to even. */
  avg_basket_minor: bigint;
  /** JSON `[{"sku":..,"qty":..}]`: the top 3 SKUs by quantity, ties by SKU ascending. */
  top_products: string;
}

/** The whole run's totals. */
export interface Totals {
  /** Every record sent. */
  produced: number;
  /** Records that should reach bronze. */
  bronze: number;
  /** Distinct events silver should keep. */
  silver: number;
  /** Records that re-send an earlier event. */
  duplicates: number;
  /** Malformed records. */
  malformed: number;
  /** Distinct `order.placed` events that reach gold. */
  orders: number;
}

interface GoldAcc {
  region: RegionCode;
  hourStart: number;
  orders: number;
  revenue: bigint;
  currency: string;
  skus: Map<string, number>;
}

function emptyTopic(): TopicCounts {
  return {
    produced: 0,
    bronze: 0,
    silver: 0,
    duplicates: 0,
    malformed: 0,
    malformedByKind: Object.fromEntries(MALFORMED_KINDS.map((k) => [k, 0])) as Record<
      MalformedKind,
      number
    >,
  };
}

/**
 * Counts generated records as they are produced. Feed it every record
 * (`add`), then read the counts and the gold rows.
 *
 * @example
 * ```ts
 * import { EventGenerator } from "./generator.ts";
 * import { Tally } from "./tally.ts";
 * const tally = new Tally();
 * for (const r of new EventGenerator({ seed: 3 }).take(5000)) tally.add(r);
 * console.log(tally.topic("orders").produced, tally.hours().length);
 * ```
 */
export class Tally {
  readonly #toEur: ToEur;
  readonly #topics = new Map<TopicKey, TopicCounts>(TOPIC_KEYS.map((t) => [t, emptyTopic()]));
  readonly #regions = new Map<string, number>();
  readonly #hours = new Map<string, HourCounts>();
  readonly #gold = new Map<string, GoldAcc>();

  /** An empty tally; `toEur` converts gold revenue (default the fixed rates of currency.ts). */
  constructor(options: { toEur?: ToEur } = {}) {
    this.#toEur = options.toEur ?? toEurMinor;
  }

  /** Counts one record. */
  add(record: GeneratedRecord): void {
    const t = this.#topics.get(record.topic)!;
    t.produced++;
    if (record.kind === "malformed") {
      t.malformed++;
      t.malformedByKind[record.malformed!]++;
      return;
    }
    t.bronze++;
    const regionKey = `${record.topic}|${record.region}`;
    this.#regions.set(regionKey, (this.#regions.get(regionKey) ?? 0) + 1);
    const hourStart = Math.floor(record.occurredAt / 3_600_000) * 3_600_000;
    const hourKey = `${record.topic}|${record.region}|${hourStart}`;
    let h = this.#hours.get(hourKey);
    if (!h) {
      h = {
        topic: record.topic,
        region: record.region,
        ...utcDateHour(hourStart),
        bronze: 0,
        silver: 0,
      };
      this.#hours.set(hourKey, h);
    }
    h.bronze++;
    if (record.kind === "duplicate") {
      t.duplicates++;
      return;
    }
    t.silver++;
    h.silver++;
    if (record.eventType === "order.placed") this.#addOrder(record.value as OrderEvent, hourStart);
  }

  #addOrder(order: OrderEvent, hourStart: number): void {
    const region = order.envelope.region;
    const key = `${region}|${hourStart}`;
    let g = this.#gold.get(key);
    if (!g) {
      g = {
        region,
        hourStart,
        orders: 0,
        revenue: 0n,
        currency: order.total.currency,
        skus: new Map(),
      };
      this.#gold.set(key, g);
    }
    g.orders++;
    const total = BigInt(order.total.amountMinor);
    g.revenue += total;
    for (const line of order.items) g.skus.set(line.sku, (g.skus.get(line.sku) ?? 0) + line.qty);
  }

  /** Counts of one topic. */
  topic(topic: TopicKey): TopicCounts {
    const t = this.#topics.get(topic)!;
    return { ...t, malformedByKind: { ...t.malformedByKind } };
  }

  /** Bronze rows (duplicates included) of `topic` in `region`. */
  region(topic: TopicKey, region: RegionCode): number {
    return this.#regions.get(`${topic}|${region}`) ?? 0;
  }

  /** Expected bronze and silver rows per lake partition, sorted by topic, region, date, hour. */
  hours(): HourCounts[] {
    return [...this.#hours.values()].map((h) => ({ ...h })).sort((a, b) =>
      a.topic.localeCompare(b.topic) || a.region.localeCompare(b.region) ||
      a.date.localeCompare(b.date) || a.hour.localeCompare(b.hour)
    );
  }

  /** Totals over every topic. */
  totals(): Totals {
    const out: Totals = {
      produced: 0,
      bronze: 0,
      silver: 0,
      duplicates: 0,
      malformed: 0,
      orders: 0,
    };
    for (const t of this.#topics.values()) {
      out.produced += t.produced;
      out.bronze += t.bronze;
      out.silver += t.silver;
      out.duplicates += t.duplicates;
      out.malformed += t.malformed;
    }
    for (const g of this.#gold.values()) out.orders += g.orders;
    return out;
  }

  /** The gold rows, sorted by region, date and hour. */
  gold(): GoldRow[] {
    return [...this.#gold.values()]
      .sort((a, b) => a.region.localeCompare(b.region) || a.hourStart - b.hourStart)
      .map((g) => {
        const top = [...g.skus]
          .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
          .slice(0, 3)
          .map(([sku, qty]) => ({ sku, qty }));
        return {
          region: g.region,
          ...utcDateHour(g.hourStart),
          orders: BigInt(g.orders),
          revenue_minor: g.revenue,
          currency: g.currency,
          revenue_eur_minor: this.#toEur(g.revenue, g.currency),
          avg_basket_minor: divideHalfEven(g.revenue, BigInt(g.orders)),
          top_products: JSON.stringify(top),
        };
      });
  }
}
