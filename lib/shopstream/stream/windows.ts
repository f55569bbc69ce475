/**
 * Event-time tumbling windows and the watermark that closes them: pure logic,
 * no Kafka, so every rule can be tried on a handful of events.
 *
 * - A **tumbling window** of size `W` holds the events whose event time `t`
 *   satisfies `start <= t < start + W`, with `start` a multiple of `W` since
 *   the epoch. An event exactly on a boundary belongs to the window that
 *   starts there. A window that receives no event does not exist: it has no
 *   result and nothing to close.
 * - The **watermark** says "no event older than this is still expected". Each
 *   input partition keeps its own partition time (the largest event time seen
 *   on it, since a partition is read in order); the watermark is the smallest
 *   partition time minus the allowed lateness. Taking the smallest keeps a
 *   partition that is read ahead of the others (a catch-up after a restart
 *   fetches one partition's backlog at a time) from declaring the others'
 *   events late. A partition with no event yet holds the watermark at minus
 *   infinity.
 * - An event is **late** when its time is below the watermark; a window
 *   **closes** once the watermark reaches its end (`end <= watermark`), and
 *   from then on every event that would fall in it is late.
 *
 * @example
 * ```ts
 * import { TumblingWindows, Watermark } from "./windows.ts";
 * const wm = new Watermark(["orders/0"], 10_000);
 * const windows = new TumblingWindows(60_000);
 * for (const t of [5_000, 61_000, 55_000, 75_000, 40_000]) {
 *   if (wm.isLate(t)) console.log(t, "late; watermark", wm.value);
 *   else windows.addOrder(t, "EU", "EUR", 1000n);
 *   wm.observe("orders/0", t);
 * }
 * console.log(windows.closeUpTo(wm.value).map((w) => [w.start, w.orders])); // [[0, 2]]
 * // 40 000 was late: the watermark was 65 000 at that point
 * ```
 *
 * @module
 */
import { divideHalfEven } from "../currency.ts";

/**
 * One minute in milliseconds, the default window size.
 *
 * @example
 * ```ts
 * import { MINUTE_MS } from "./windows.ts";
 * console.log(60 * MINUTE_MS); // 3600000: an hour holds 60 windows
 * ```
 */
export const MINUTE_MS = 60_000;

function checkSize(sizeMs: number): number {
  if (!Number.isInteger(sizeMs) || sizeMs <= 0) {
    throw new RangeError(`window size must be a whole number of ms > 0, got ${sizeMs}`);
  }
  return sizeMs;
}

/**
 * The start of the tumbling window of `sizeMs` that holds event time `time`:
 * the largest multiple of `sizeMs` that is `<= time`.
 *
 * @example
 * ```ts
 * import { windowStartOf } from "./windows.ts";
 * console.log(windowStartOf(119_999, 60_000), windowStartOf(120_000, 60_000)); // 60000 120000
 * ```
 */
export function windowStartOf(time: number, sizeMs: number): number {
  checkSize(sizeMs);
  return Math.floor(time / sizeMs) * sizeMs;
}

/**
 * The key of a window's results in the result topic: the window start in
 * ISO-8601 UTC and the region, e.g. `2026-03-02T00:01:00.000Z|EU`. Keys
 * sort by time within a region.
 *
 * @example
 * ```ts
 * import { windowKey } from "./windows.ts";
 * console.log(windowKey(Date.UTC(2026, 2, 2, 0, 1), "EU")); // 2026-03-02T00:01:00.000Z|EU
 * ```
 */
export function windowKey(start: number, region: string): string {
  return `${new Date(start).toISOString()}|${region}`;
}

/**
 * The window start and region of a {@linkcode windowKey}; undefined for
 * anything else.
 *
 * @example
 * ```ts
 * import { parseWindowKey } from "./windows.ts";
 * console.log(parseWindowKey("1970-01-01T00:01:00.000Z|US")); // { start: 60000, region: "US" }
 * ```
 */
export function parseWindowKey(key: string): { start: number; region: string } | undefined {
  const bar = key.indexOf("|");
  if (bar < 0) return undefined;
  const start = Date.parse(key.slice(0, bar));
  const region = key.slice(bar + 1);
  return Number.isFinite(start) && region !== "" ? { start, region } : undefined;
}

/**
 * The watermark over a fixed set of input partitions ("sources", e.g.
 * `orders/0`): the smallest partition time minus the allowed lateness, never
 * going back. See the module doc.
 *
 * @example
 * ```ts
 * import { Watermark } from "./windows.ts";
 * const wm = new Watermark(["p0", "p1"], 5_000);
 * wm.observe("p0", 100_000);
 * console.log(wm.value); // -Infinity: p1 has not spoken yet
 * wm.observe("p1", 90_000);
 * console.log(wm.value, wm.isLate(84_999), wm.isLate(85_000)); // 85000 true false
 * ```
 */
export class Watermark {
  /** How far behind the slowest partition's time an event may still arrive, ms. */
  readonly latenessMs: number;
  readonly #times = new Map<string, number>();
  #floor = -Infinity;
  #ended = false;

  /** A watermark over `sources` (none seen yet), allowing `latenessMs` of lateness. */
  constructor(sources: Iterable<string>, latenessMs: number) {
    if (!Number.isFinite(latenessMs) || latenessMs < 0) {
      throw new RangeError(`allowed lateness must be >= 0 ms, got ${latenessMs}`);
    }
    this.latenessMs = latenessMs;
    for (const s of sources) this.#times.set(s, -Infinity);
    if (this.#times.size === 0) throw new RangeError("a watermark needs at least one source");
  }

  /** The sources (input partitions) it spans. */
  get sources(): string[] {
    return [...this.#times.keys()];
  }

  /** Records that `source` delivered an event of time `time` (its partition time only grows). */
  observe(source: string, time: number): void {
    const current = this.#times.get(source);
    if (current === undefined) {
      throw new RangeError(`unknown source "${source}": known are ${this.sources.join(", ")}`);
    }
    if (time > current) this.#times.set(source, time);
  }

  /** The largest event time seen on `source` (-Infinity before its first event). */
  partitionTime(source: string): number {
    return this.#times.get(source) ?? -Infinity;
  }

  /** Every source's partition time. */
  partitionTimes(): Record<string, number> {
    return Object.fromEntries(this.#times);
  }

  /** The watermark now: min partition time - lateness, at least the floor; +Infinity after `end()`. */
  get value(): number {
    if (this.#ended) return Infinity;
    let min = Infinity;
    for (const t of this.#times.values()) if (t < min) min = t;
    return Math.max(min - this.latenessMs, this.#floor);
  }

  /** Whether an event of time `time` arrives too late: `time < value`. */
  isLate(time: number): boolean {
    return time < this.value;
  }

  /**
   * Never lets the watermark fall below `time` again (a restart restores the
   * end of the last closed window this way: what closed stays closed).
   */
  raiseTo(time: number): void {
    if (time > this.#floor) this.#floor = time;
  }

  /** End of input: the watermark becomes +Infinity, every window can close. */
  end(): void {
    this.#ended = true;
  }
}

/** The results of one window for one region. */
export interface WindowResult {
  /** Window start, epoch ms UTC (inclusive). */
  start: number;
  /** Window end, epoch ms UTC (exclusive): `start + size`. */
  end: number;
  /** Region code. */
  region: string;
  /** The region's currency (the currency of every amount below). */
  currency: string;
  /** Distinct `order.placed` events in the window. */
  orders: number;
  /** Sum of their totals, minor units of `currency`. */
  revenueMinor: bigint;
  /** `revenueMinor / orders`, half-even; 0 without orders. */
  avgBasketMinor: bigint;
  /** Orders paid in the window: payments captured in it, each joined to its order. */
  paid: number;
  /** true once the window closed: this is its last result. */
  final: boolean;
}

interface Acc {
  start: number;
  region: string;
  currency: string;
  orders: number;
  revenue: bigint;
  paid: number;
}

function resultOf(a: Acc, size: number, final: boolean): WindowResult {
  return {
    start: a.start,
    end: a.start + size,
    region: a.region,
    currency: a.currency,
    orders: a.orders,
    revenueMinor: a.revenue,
    avgBasketMinor: a.orders === 0 ? 0n : divideHalfEven(a.revenue, BigInt(a.orders)),
    paid: a.paid,
    final,
  };
}

/**
 * Open tumbling windows per region: orders, revenue and paid orders add up
 * until `closeUpTo(watermark)` closes the windows that end at or before the
 * watermark and returns their final results. The caller decides what is late
 * (see {@linkcode Watermark}); this class only adds.
 *
 * @example
 * ```ts
 * import { TumblingWindows } from "./windows.ts";
 * const w = new TumblingWindows(60_000);
 * w.addOrder(59_999, "EU", "EUR", 1000n);
 * w.addOrder(60_000, "EU", "EUR", 3000n); // on the boundary: the next window
 * console.log(w.closeUpTo(60_000).map((r) => [r.start, r.orders])); // [[0, 1]]
 * console.log(w.open().map((r) => [r.start, r.revenueMinor])); // [[60000, 3000n]]
 * ```
 */
export class TumblingWindows {
  /** Window size, ms. */
  readonly sizeMs: number;
  readonly #open = new Map<string, Acc>();

  /** Empty windows of `sizeMs`. */
  constructor(sizeMs: number) {
    this.sizeMs = checkSize(sizeMs);
  }

  /** Windows open now (with at least one event). */
  get size(): number {
    return this.#open.size;
  }

  #acc(time: number, region: string, currency: string): Acc {
    const start = windowStartOf(time, this.sizeMs);
    const key = windowKey(start, region);
    let acc = this.#open.get(key);
    if (!acc) {
      acc = { start, region, currency, orders: 0, revenue: 0n, paid: 0 };
      this.#open.set(key, acc);
    }
    return acc;
  }

  /** Adds one order of `amountMinor` placed at `time`; returns the window's key. */
  addOrder(time: number, region: string, currency: string, amountMinor: bigint): string {
    const acc = this.#acc(time, region, currency);
    acc.orders++;
    acc.revenue += amountMinor;
    return windowKey(acc.start, region);
  }

  /** Adds one paid order, in the window of the payment's time; returns the window's key. */
  addPaid(time: number, region: string, currency: string): string {
    const acc = this.#acc(time, region, currency);
    acc.paid++;
    return windowKey(acc.start, region);
  }

  /** The current result of the open window `key` (undefined when it is not open). */
  result(key: string): WindowResult | undefined {
    const acc = this.#open.get(key);
    return acc && resultOf(acc, this.sizeMs, false);
  }

  /**
   * Closes every window with `end <= watermark` and returns their final
   * results, oldest first (then by region).
   */
  closeUpTo(watermark: number): WindowResult[] {
    const closed: WindowResult[] = [];
    for (const [key, acc] of this.#open) {
      if (acc.start + this.sizeMs <= watermark) {
        closed.push(resultOf(acc, this.sizeMs, true));
        this.#open.delete(key);
      }
    }
    return closed.sort(byStartRegion);
  }

  /** The open windows' current results, oldest first. */
  open(): WindowResult[] {
    return [...this.#open.values()].map((a) => resultOf(a, this.sizeMs, false)).sort(byStartRegion);
  }

  /** Reopens a window from its last (not final) result, after a restart. */
  restore(result: WindowResult): void {
    if (result.end - result.start !== this.sizeMs) {
      throw new RangeError(
        `window ${windowKey(result.start, result.region)} is ${
          result.end - result.start
        } ms long, these windows are ${this.sizeMs} ms: restart with the same window size`,
      );
    }
    this.#open.set(windowKey(result.start, result.region), {
      start: result.start,
      region: result.region,
      currency: result.currency,
      orders: result.orders,
      revenue: result.revenueMinor,
      paid: result.paid,
    });
  }
}

/**
 * Orders window results by start, then region.
 *
 * @example
 * ```ts
 * import { byStartRegion, type WindowResult } from "./windows.ts";
 * declare const results: WindowResult[];
 * results.sort(byStartRegion);
 * ```
 */
export function byStartRegion(a: WindowResult, b: WindowResult): number {
  return a.start - b.start || (a.region < b.region ? -1 : a.region > b.region ? 1 : 0);
}
