/**
 * ShopStream's shop regions: how much of the traffic each one gets, the one
 * currency it sells in (with its minor-unit digits) and its time zone. The
 * generator draws regions by these weights, shaped by each region's local
 * hour of day; the lake partitions by the region code (`envelope.region`).
 *
 * @example
 * ```ts
 * import { REGIONS, regionInfo } from "./regions.ts";
 * for (const r of REGIONS) console.log(r.code, r.currency, r.timeZone);
 * console.log(regionInfo("APAC").currency); // JPY (no minor unit: see currency.ts)
 * ```
 *
 * @module
 */

/** A region code as written in `envelope.region`. */
export type RegionCode = "EU" | "US" | "APAC";

/** One shop region. */
export interface RegionInfo {
  /** Region code. */
  readonly code: RegionCode;
  /** Share of the traffic before the time-of-day shape, summing to 1 over all regions. */
  readonly weight: number;
  /** ISO 4217 code of the one currency the region sells in. */
  readonly currency: string;
  /** IANA time zone of the region's shoppers. */
  readonly timeZone: string;
  /** VAT rate applied to orders, as exact decimal text with 4 digits (order v2 `taxRate`). */
  readonly taxRate: string;
  /** Carriers that ship the region's parcels. */
  readonly carriers: readonly string[];
}

/**
 * The three regions, in a fixed order (the order draws are made in).
 *
 * @example
 * ```ts
 * import { REGIONS } from "./regions.ts";
 * console.log(REGIONS.map((r) => `${r.code}:${r.weight}`).join(" ")); // EU:0.45 US:0.35 APAC:0.2
 * ```
 */
export const REGIONS: readonly RegionInfo[] = Object.freeze(
  [
    {
      code: "EU",
      weight: 0.45,
      currency: "EUR",
      timeZone: "Europe/Berlin",
      taxRate: "0.1900",
      carriers: ["DHL", "DPD", "GLS"],
    },
    {
      code: "US",
      weight: 0.35,
      currency: "USD",
      timeZone: "America/New_York",
      taxRate: "0.0887",
      carriers: ["UPS", "FedEx", "USPS"],
    },
    {
      code: "APAC",
      weight: 0.2,
      currency: "JPY",
      timeZone: "Asia/Tokyo",
      taxRate: "0.1000",
      carriers: ["Yamato", "Sagawa", "Japan Post"],
    },
  ] as const,
);

/**
 * The region with code `code`; throws for an unknown code.
 *
 * @example
 * ```ts
 * import { regionInfo } from "./regions.ts";
 * console.log(regionInfo("US").currency); // USD
 * ```
 */
export function regionInfo(code: string): RegionInfo {
  const r = REGIONS.find((x) => x.code === code);
  if (!r) {
    throw new RangeError(
      `unknown region "${code}": use one of ${REGIONS.map((x) => x.code).join(", ")}`,
    );
  }
  return r;
}

const offsetCache = new Map<string, number>();

/**
 * The hour of day (0-23) in `timeZone` at the UTC instant `epochMs`. Offsets
 * are cached per zone and UTC hour, so calling this per event is cheap.
 *
 * @example
 * ```ts
 * import { localHour } from "./regions.ts";
 * console.log(localHour(Date.UTC(2026, 0, 15, 12), "Asia/Tokyo")); // 21
 * ```
 */
export function localHour(epochMs: number, timeZone: string): number {
  const utcHour = Math.floor(epochMs / 3_600_000);
  const key = `${timeZone}@${utcHour}`;
  let offset = offsetCache.get(key);
  if (offset === undefined) {
    const hour = Number(
      new Intl.DateTimeFormat("en-US", { timeZone, hour: "numeric", hourCycle: "h23" })
        .format(new Date(utcHour * 3_600_000)),
    );
    offset = ((hour - (utcHour % 24)) % 24 + 24) % 24;
    if (offsetCache.size > 10_000) offsetCache.clear();
    offsetCache.set(key, offset);
  }
  return (utcHour % 24 + offset) % 24;
}

/**
 * How busy shoppers are at a local hour, relative (night 0.25 ... evening 1.6).
 *
 * @example
 * ```ts
 * import { activityAt } from "./regions.ts";
 * console.log(activityAt(3) < activityAt(20)); // true
 * ```
 */
export function activityAt(hour: number): number {
  if (hour < 6) return 0.25;
  if (hour < 9) return 0.7;
  if (hour < 17) return 1;
  if (hour < 23) return 1.6;
  return 0.6;
}

/**
 * The weight of each region (in {@linkcode REGIONS} order) at `epochMs`: its
 * base weight times its shoppers' activity at their local hour, normalised to
 * sum 1. With `diurnal` false, the base weights.
 *
 * @example
 * ```ts
 * import { regionWeightsAt } from "./regions.ts";
 * console.log(regionWeightsAt(Date.UTC(2026, 0, 15, 12), false)); // [0.45, 0.35, 0.2]
 * ```
 */
export function regionWeightsAt(epochMs: number, diurnal = true): number[] {
  if (!diurnal) return REGIONS.map((r) => r.weight);
  const raw = REGIONS.map((r) => r.weight * activityAt(localHour(epochMs, r.timeZone)));
  const sum = raw.reduce((a, b) => a + b, 0);
  return raw.map((w) => w / sum);
}
