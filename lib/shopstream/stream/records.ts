/**
 * The stream processor's output records: JSON values with readable times
 * (ISO-8601 UTC) and money as integer minor units in strings (exact; a float
 * never carries an amount). Each encoder has its decoder, used to rebuild
 * state after a restart and by readers (tests, the notebook).
 *
 * - windows (compacted): key `<window start>|<region>`, a {@linkcode WindowResult};
 * - late: key the order id, a {@linkcode LateRecord};
 * - joined: key the order id, a {@linkcode JoinOutcome};
 * - state (compacted): keys `order|<id>` and `payment|<id>`, the join's state.
 *
 * @example
 * ```ts
 * import { decodeWindow, encodeWindow } from "./records.ts";
 * const r = { start: 0, end: 60_000, region: "EU", currency: "EUR", orders: 2,
 *   revenueMinor: 3001n, avgBasketMinor: 1500n, paid: 1, final: true };
 * const { key, value } = encodeWindow(r);
 * console.log(key, value); // 1970-01-01T00:00:00.000Z|EU {"windowStart":"1970-01-01T00:00:00.000Z",...}
 * console.log(decodeWindow(value).revenueMinor); // 3001n
 * ```
 *
 * @module
 */
import type { JoinOutcome } from "./join.ts";
import type { LateEvent } from "./state.ts";
import { windowKey, type WindowResult } from "./windows.ts";

/** A record to write: key and JSON value (null: a tombstone). */
export interface KeyedValue {
  /** The record key. */
  key: string;
  /** The JSON value, or null to delete the key from a compacted topic. */
  value: string | null;
}

/** A window result as JSON. */
interface WindowJson {
  windowStart: string;
  windowEnd: string;
  region: string;
  currency: string;
  orders: number;
  revenueMinor: string;
  avgBasketMinor: string;
  paid: number;
  final: boolean;
}

const iso = (ms: number) => new Date(ms).toISOString();

function time(text: unknown, field: string): number {
  const ms = typeof text === "string" ? Date.parse(text) : NaN;
  if (!Number.isFinite(ms)) throw new SyntaxError(`${field}: not an ISO time: ${text}`);
  return ms;
}

/**
 * A window result as a record of the windows topic.
 *
 * @example
 * ```ts
 * import { encodeWindow } from "./records.ts";
 * const r = { start: 60_000, end: 120_000, region: "US", currency: "USD", orders: 0,
 *   revenueMinor: 0n, avgBasketMinor: 0n, paid: 3, final: false };
 * console.log(encodeWindow(r).key); // 1970-01-01T00:01:00.000Z|US
 * ```
 */
export function encodeWindow(r: WindowResult): KeyedValue & { value: string } {
  const json: WindowJson = {
    windowStart: iso(r.start),
    windowEnd: iso(r.end),
    region: r.region,
    currency: r.currency,
    orders: r.orders,
    revenueMinor: String(r.revenueMinor),
    avgBasketMinor: String(r.avgBasketMinor),
    paid: r.paid,
    final: r.final,
  };
  return { key: windowKey(r.start, r.region), value: JSON.stringify(json) };
}

/**
 * A windows-topic value back as a {@linkcode WindowResult}.
 *
 * @example
 * ```ts
 * import { decodeWindow } from "./records.ts";
 * const w = decodeWindow('{"windowStart":"1970-01-01T00:00:00.000Z","windowEnd":"1970-01-01T00:01:00.000Z",' +
 *   '"region":"EU","currency":"EUR","orders":1,"revenueMinor":"999","avgBasketMinor":"999","paid":0,"final":true}');
 * console.log(w.end, w.revenueMinor); // 60000 999n
 * ```
 */
export function decodeWindow(value: string): WindowResult {
  const j = JSON.parse(value) as WindowJson;
  return {
    start: time(j.windowStart, "windowStart"),
    end: time(j.windowEnd, "windowEnd"),
    region: String(j.region),
    currency: String(j.currency),
    orders: Number(j.orders),
    revenueMinor: BigInt(j.revenueMinor),
    avgBasketMinor: BigInt(j.avgBasketMinor),
    paid: Number(j.paid),
    final: j.final === true,
  };
}

/** A late event as the late topic holds it. */
export interface LateRecord {
  /** The input partition it came from, e.g. `shopstream.orders/3`. */
  source: string;
  /** Its offset there. */
  offset: string | null;
  /** The event's id. */
  eventId: string;
  /** `order.placed` or `payment.captured`. */
  eventType: string;
  /** The order it belongs to. */
  orderId: string;
  /** The region. */
  region: string;
  /** Its event time, epoch ms. */
  occurredAt: number;
  /** The watermark it arrived under, epoch ms. */
  watermark: number;
  /** How far below the watermark it was, ms. */
  behindMs: number;
}

/**
 * A late event as a record of the late topic (keyed by order id).
 *
 * @example
 * ```ts
 * import { encodeLate } from "./records.ts";
 * const event = { type: "order.placed", source: "orders/0", offset: "7", eventId: "e", orderId: "o-1",
 *   region: "EU", currency: "EUR", amountMinor: 5n, time: 1_000 } as const;
 * console.log(encodeLate({ event, watermark: 4_000 }).value); // {..."behindMs":3000}
 * ```
 */
export function encodeLate(late: LateEvent): KeyedValue & { value: string } {
  const e = late.event;
  return {
    key: e.orderId,
    value: JSON.stringify({
      source: e.source,
      offset: e.offset ?? null,
      eventId: e.eventId,
      eventType: e.type,
      orderId: e.orderId,
      region: e.region,
      occurredAt: iso(e.time),
      watermark: iso(late.watermark),
      behindMs: late.watermark - e.time,
    }),
  };
}

/**
 * A late-topic value back as a {@linkcode LateRecord}.
 *
 * @example
 * ```ts
 * import { decodeLate, encodeLate } from "./records.ts";
 * const event = { type: "payment.captured", source: "p/0", eventId: "e", orderId: "o",
 *   region: "US", currency: "USD", amountMinor: 5n, time: 0 } as const;
 * console.log(decodeLate(encodeLate({ event, watermark: 10 }).value).behindMs); // 10
 * ```
 */
export function decodeLate(value: string): LateRecord {
  const j = JSON.parse(value);
  return {
    source: String(j.source),
    offset: j.offset === null ? null : String(j.offset),
    eventId: String(j.eventId),
    eventType: String(j.eventType),
    orderId: String(j.orderId),
    region: String(j.region),
    occurredAt: time(j.occurredAt, "occurredAt"),
    watermark: time(j.watermark, "watermark"),
    behindMs: Number(j.behindMs),
  };
}

/**
 * A join outcome as a record of the joined topic (keyed by order id).
 *
 * @example
 * ```ts
 * import { encodeJoined } from "./records.ts";
 * const out = encodeJoined({ orderId: "o-1", region: "EU", placedAt: 0, paidAt: null, status: "unpaid" });
 * console.log(out.value); // {"orderId":"o-1","region":"EU","status":"unpaid","placedAt":"1970-...","paidAt":null}
 * ```
 */
export function encodeJoined(j: JoinOutcome): KeyedValue & { value: string } {
  return {
    key: j.orderId,
    value: JSON.stringify({
      orderId: j.orderId,
      region: j.region,
      status: j.status,
      placedAt: iso(j.placedAt),
      paidAt: j.paidAt === null ? null : iso(j.paidAt),
    }),
  };
}

/**
 * A joined-topic value back as a {@linkcode JoinOutcome}.
 *
 * @example
 * ```ts
 * import { decodeJoined, encodeJoined } from "./records.ts";
 * const j = { orderId: "o", region: "US", placedAt: 0, paidAt: 5, status: "paid" } as const;
 * console.log(decodeJoined(encodeJoined(j).value)); // { orderId: "o", ..., paidAt: 5, status: "paid" }
 * ```
 */
export function decodeJoined(value: string): JoinOutcome {
  const j = JSON.parse(value);
  const status = j.status === "paid" ? "paid" : j.status === "unpaid" ? "unpaid" : undefined;
  if (!status) throw new SyntaxError(`status: "${j.status}" is neither paid nor unpaid`);
  return {
    orderId: String(j.orderId),
    region: String(j.region),
    placedAt: time(j.placedAt, "placedAt"),
    paidAt: j.paidAt === null ? null : time(j.paidAt, "paidAt"),
    status,
  };
}
