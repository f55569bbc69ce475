/**
 * Lake object keys, built and parsed in one place. Three layers, each
 * partitioned by region and by the event's UTC date and hour:
 *
 * - bronze: `bronze/<topic>/region=<R>/date=<YYYY-MM-DD>/hour=<HH>/p<PPP>-<first>-<last>.parquet`
 *   (partition 3 digits, Kafka offsets 20 digits, zero-padded, so names sort by offset);
 * - silver: `silver/<topic>/region=<R>/date=<D>/hour=<H>/part-00000.parquet`;
 * - gold: `gold/<topic>/<table>/region=<R>/date=<D>/hour=<H>/part-00000.parquet`.
 *
 * @example
 * ```ts
 * import { bronzeKey, parseBronzeKey, utcDateHour } from "./paths.ts";
 * const { date, hour } = utcDateHour(Date.UTC(2026, 10, 26, 9, 30));
 * const key = bronzeKey({ topic: "shopstream.orders", region: "EU", date, hour, partition: 2, first: 10n, last: 41n });
 * console.log(key);
 * // bronze/shopstream.orders/region=EU/date=2026-11-26/hour=09/p002-00000000000000000010-00000000000000000041.parquet
 * console.log(parseBronzeKey(key)?.last); // 41n
 * ```
 *
 * @module
 */

/** The lake's layers, rawest first. */
export const LAYERS = ["bronze", "silver", "gold"] as const;

/** One of {@linkcode LAYERS}. */
export type Layer = typeof LAYERS[number];

/** A UTC date (`YYYY-MM-DD`) and hour (`HH`): the time part of a lake partition. */
export interface DateHour {
  /** `YYYY-MM-DD`, UTC. */
  readonly date: string;
  /** `HH`, UTC. */
  readonly hour: string;
}

/** Where an hour's data of one region lives: the partition folders below a topic. */
export interface HourPartition extends DateHour {
  /** The region, e.g. `EU`. */
  readonly region: string;
}

/** The parts of a bronze key. */
export interface BronzeKeyParts extends HourPartition {
  /** The Kafka topic the records came from. */
  readonly topic: string;
  /** The Kafka partition the records came from. */
  readonly partition: number;
  /** Smallest Kafka offset of the records in the object. */
  readonly first: bigint;
  /** Largest Kafka offset of the records in the object. */
  readonly last: bigint;
}

/** The parts of a silver key. */
export interface SilverKeyParts extends HourPartition {
  /** The Kafka topic the records came from. */
  readonly topic: string;
}

/** The parts of a gold key: `table` is the aggregate, e.g. `orders_hourly`. */
export interface GoldKeyParts extends HourPartition {
  /** The Kafka topic the aggregate was built from. */
  readonly topic: string;
  /** The aggregate, e.g. `orders_hourly`. */
  readonly table: string;
}

/**
 * A key that cannot be built: a part is empty or holds a character that
 * would change the folder structure.
 *
 * @example
 * ```ts
 * import { bronzeKey, LakeKeyError } from "./paths.ts";
 * try {
 *   bronzeKey({ topic: "a/b", region: "EU", date: "2026-01-01", hour: "00", partition: 0, first: 0n, last: 0n });
 * } catch (e) {
 *   console.log(e instanceof LakeKeyError); // true
 * }
 * ```
 */
export class LakeKeyError extends Error {
  /** An error with this message. */
  constructor(message: string) {
    super(message);
    this.name = "LakeKeyError";
  }
}

const OFFSET_DIGITS = 20;
const PARTITION_DIGITS = 3;
const PART_FILE = "part-00000.parquet";

function segment(what: string, value: string): string {
  if (value === "" || value.includes("/") || value.includes("=")) {
    throw new LakeKeyError(
      `${what} "${value}" cannot be part of a lake key: it must be non-empty, without "/" or "="`,
    );
  }
  return value;
}

function checkDateHour(date: string, hour: string): void {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) {
    throw new LakeKeyError(`date "${date}" must be YYYY-MM-DD (use utcDateHour)`);
  }
  if (!/^\d{2}$/.test(hour) || Number(hour) > 23) {
    throw new LakeKeyError(`hour "${hour}" must be 00..23 (use utcDateHour)`);
  }
}

/** The largest distance from the epoch a JavaScript `Date` can hold, ms (100 000 000 days). */
export const MAX_DATE_MS = 8.64e15;

/** The first instant a lake key can name: 0000-01-01T00:00:00Z, epoch ms. */
export const FIRST_LAKE_MS: number = -62_167_219_200_000;

/** The first instant past what a lake key can name: 10000-01-01T00:00:00Z, epoch ms. */
export const END_LAKE_MS = 253_402_300_800_000;

/**
 * The UTC date and hour of a timestamp (epoch milliseconds or a Date).
 * Throws {@linkcode LakeKeyError} for an invalid Date, NaN, or a time outside
 * the years 0000..9999 (a key's date has four digits).
 *
 * @example
 * ```ts
 * import { utcDateHour } from "./paths.ts";
 * console.log(utcDateHour(new Date("2026-03-29T01:59:59.999Z"))); // { date: "2026-03-29", hour: "01" }
 * ```
 */
export function utcDateHour(time: number | Date): DateHour {
  const ms = time instanceof Date ? time.getTime() : time;
  if (!Number.isFinite(ms)) {
    throw new LakeKeyError(
      `not a timestamp: ${time} (a Date holds ±${MAX_DATE_MS} ms around 1970-01-01)`,
    );
  }
  if (ms < FIRST_LAKE_MS || ms >= END_LAKE_MS) {
    const when = Math.abs(ms) <= MAX_DATE_MS ? new Date(ms).toISOString() : `${ms} ms`;
    throw new LakeKeyError(
      `${when} is outside the years 0000..9999 a lake key can hold (date=YYYY-MM-DD)`,
    );
  }
  // The sink asks once per record and records come in hour runs: format each hour once.
  const hourIndex = Math.floor(ms / 3_600_000);
  if (hourIndex !== lastHour.index) {
    const iso = new Date(hourIndex * 3_600_000).toISOString(); // 2026-03-29T01:00:00.000Z (years 0..9999)
    lastHour = {
      index: hourIndex,
      value: Object.freeze({ date: iso.slice(0, 10), hour: iso.slice(11, 13) }),
    };
  }
  return lastHour.value;
}

let lastHour: { index: number; value: DateHour } = { index: NaN, value: { date: "", hour: "" } };

/**
 * Zero-pads a non-negative integer (number or bigint) to `digits` digits.
 *
 * @example
 * ```ts
 * import { zeroPad } from "./paths.ts";
 * console.log(zeroPad(7, 3), zeroPad(42n, 5)); // 007 00042
 * ```
 */
export function zeroPad(value: number | bigint, digits: number): string {
  const big = BigInt(value);
  if (big < 0n) throw new LakeKeyError(`cannot zero-pad a negative number (${value})`);
  const text = big.toString();
  if (text.length > digits) throw new LakeKeyError(`${value} has more than ${digits} digits`);
  return text.padStart(digits, "0");
}

function hourFolders(p: HourPartition): string {
  checkDateHour(p.date, p.hour);
  return `region=${segment("region", p.region)}/date=${p.date}/hour=${p.hour}`;
}

/**
 * The prefix of a layer's topic folder, optionally narrowed to a region, date
 * and hour (give them in that order); ends with `/`, ready for listing.
 *
 * @example
 * ```ts
 * import { layerPrefix } from "./paths.ts";
 * console.log(layerPrefix("bronze", "shopstream.orders", { region: "US" }));
 * // bronze/shopstream.orders/region=US/
 * console.log(layerPrefix("gold", "shopstream.orders/orders_hourly")); // gold/shopstream.orders/orders_hourly/
 * ```
 */
export function layerPrefix(
  layer: Layer,
  topic: string,
  narrow: Partial<HourPartition> = {},
): string {
  let prefix = `${layer}/${topic.split("/").map((s) => segment("topic", s)).join("/")}/`;
  if (narrow.region === undefined) return prefix;
  prefix += `region=${segment("region", narrow.region)}/`;
  if (narrow.date === undefined) return prefix;
  prefix += `date=${narrow.date}/`;
  if (narrow.hour === undefined) return prefix;
  checkDateHour(narrow.date, narrow.hour);
  return `${prefix}hour=${narrow.hour}/`;
}

/**
 * The key of a bronze object.
 *
 * @example
 * ```ts
 * import { bronzeKey } from "./paths.ts";
 * console.log(bronzeKey({
 *   topic: "t", region: "APAC", date: "2026-01-02", hour: "23", partition: 5, first: 0n, last: 9n,
 * }));
 * // bronze/t/region=APAC/date=2026-01-02/hour=23/p005-00000000000000000000-00000000000000000009.parquet
 * ```
 */
export function bronzeKey(k: BronzeKeyParts): string {
  if (!Number.isInteger(k.partition)) throw new LakeKeyError(`partition ${k.partition}`);
  if (k.first > k.last) {
    throw new LakeKeyError(`first offset ${k.first} is after last offset ${k.last}`);
  }
  return `bronze/${segment("topic", k.topic)}/${hourFolders(k)}/p${
    zeroPad(k.partition, PARTITION_DIGITS)
  }-${zeroPad(k.first, OFFSET_DIGITS)}-${zeroPad(k.last, OFFSET_DIGITS)}.parquet`;
}

const BRONZE_RE =
  /^bronze\/([^/]+)\/region=([^/=]+)\/date=(\d{4}-\d{2}-\d{2})\/hour=(\d{2})\/p(\d{3})-(\d{20})-(\d{20})\.parquet$/;

/**
 * The parts of a bronze key; undefined for any other key.
 *
 * @example
 * ```ts
 * import { parseBronzeKey } from "./paths.ts";
 * const k = parseBronzeKey(
 *   "bronze/t/region=EU/date=2026-01-02/hour=03/p001-00000000000000000005-00000000000000000007.parquet",
 * );
 * console.log(k?.partition, k?.first, k?.last); // 1 5n 7n
 * ```
 */
export function parseBronzeKey(key: string): BronzeKeyParts | undefined {
  const m = BRONZE_RE.exec(key);
  if (!m) return undefined;
  return {
    topic: m[1],
    region: m[2],
    date: m[3],
    hour: m[4],
    partition: Number(m[5]),
    first: BigInt(m[6]),
    last: BigInt(m[7]),
  };
}

/**
 * The key of a silver object: one per topic, region and UTC hour.
 *
 * @example
 * ```ts
 * import { silverKey } from "./paths.ts";
 * console.log(silverKey({ topic: "t", region: "EU", date: "2026-01-02", hour: "03" }));
 * // silver/t/region=EU/date=2026-01-02/hour=03/part-00000.parquet
 * ```
 */
export function silverKey(k: SilverKeyParts): string {
  return `silver/${segment("topic", k.topic)}/${hourFolders(k)}/${PART_FILE}`;
}

const SILVER_RE =
  /^silver\/([^/]+)\/region=([^/=]+)\/date=(\d{4}-\d{2}-\d{2})\/hour=(\d{2})\/part-00000\.parquet$/;

/**
 * The parts of a silver key; undefined for any other key.
 *
 * @example
 * ```ts
 * import { parseSilverKey } from "./paths.ts";
 * console.log(parseSilverKey("silver/t/region=EU/date=2026-01-02/hour=03/part-00000.parquet")?.hour); // "03"
 * ```
 */
export function parseSilverKey(key: string): SilverKeyParts | undefined {
  const m = SILVER_RE.exec(key);
  return m ? { topic: m[1], region: m[2], date: m[3], hour: m[4] } : undefined;
}

/**
 * The key of a gold object: one per topic, aggregate table, region and UTC hour.
 *
 * @example
 * ```ts
 * import { goldKey } from "./paths.ts";
 * console.log(goldKey({ topic: "t", table: "orders_hourly", region: "US", date: "2026-01-02", hour: "03" }));
 * // gold/t/orders_hourly/region=US/date=2026-01-02/hour=03/part-00000.parquet
 * ```
 */
export function goldKey(k: GoldKeyParts): string {
  return `gold/${segment("topic", k.topic)}/${segment("table", k.table)}/${
    hourFolders(k)
  }/${PART_FILE}`;
}

const GOLD_RE =
  /^gold\/([^/]+)\/([^/]+)\/region=([^/=]+)\/date=(\d{4}-\d{2}-\d{2})\/hour=(\d{2})\/part-00000\.parquet$/;

/**
 * The parts of a gold key; undefined for any other key.
 *
 * @example
 * ```ts
 * import { parseGoldKey } from "./paths.ts";
 * console.log(parseGoldKey("gold/t/orders_hourly/region=US/date=2026-01-02/hour=03/part-00000.parquet")?.table);
 * // "orders_hourly"
 * ```
 */
export function parseGoldKey(key: string): GoldKeyParts | undefined {
  const m = GOLD_RE.exec(key);
  return m ? { topic: m[1], table: m[2], region: m[3], date: m[4], hour: m[5] } : undefined;
}

/** Any lake key, parsed, with its layer. */
export type LakeKey =
  | ({ readonly layer: "bronze" } & BronzeKeyParts)
  | ({ readonly layer: "silver" } & SilverKeyParts)
  | ({ readonly layer: "gold" } & GoldKeyParts);

/**
 * Parses a key of any layer; undefined when it is not a lake object key.
 *
 * @example
 * ```ts
 * import { parseLakeKey } from "./paths.ts";
 * console.log(parseLakeKey("silver/t/region=EU/date=2026-01-02/hour=03/part-00000.parquet")?.layer); // "silver"
 * console.log(parseLakeKey("notes.txt")); // undefined
 * ```
 */
export function parseLakeKey(key: string): LakeKey | undefined {
  const b = parseBronzeKey(key);
  if (b) return { layer: "bronze", ...b };
  const s = parseSilverKey(key);
  if (s) return { layer: "silver", ...s };
  const g = parseGoldKey(key);
  if (g) return { layer: "gold", ...g };
  return undefined;
}
