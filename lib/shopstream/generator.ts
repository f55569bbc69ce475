/**
 * The ShopStream event generator: seeded, so the same seed gives the same
 * records byte for byte. Faker builds pools once (customers, products with a
 * price per region currency, search words, referrers, coupons); a fast
 * seeded generator ({@linkcode Rng}) then draws every event from them.
 *
 * Shoppers follow coherent journeys: clickstream views and clicks, maybe an
 * add-to-cart, maybe an order (`order.placed`), its payment
 * (`payment.authorized`, then `payment.captured` or `payment.failed` followed
 * by `order.cancelled`) and its shipment (`shipment.shipped`), all sharing
 * the session, customer and order ids. Many journeys run interleaved. Event
 * time comes from a simulated clock (`startAt`, advancing `meanStepMs` per
 * record on average), never the wall clock.
 *
 * Extras on request: a share of malformed records for the dead-letter path
 * (bytes without the magic byte, an unknown schema id, or orders that decode
 * but break a contract rule), and a share of duplicates (an earlier event
 * sent again with its eventId, as an upstream retry would).
 *
 * @example
 * ```ts
 * import { EventGenerator } from "./generator.ts";
 * const gen = new EventGenerator({ seed: 42, malformedShare: 0.01, duplicateShare: 0.01 });
 * for (const r of gen.take(5)) console.log(r.index, r.topic, r.key, r.kind, r.eventType);
 * ```
 *
 * @module
 */
import { en, Faker } from "@faker-js/faker";
import type { FamilyName } from "../schema/catalog.ts";
import { Decimal } from "../schema/decimal.ts";
import { type RegionCode, type RegionInfo, REGIONS, regionWeightsAt } from "./regions.ts";
import { Rng } from "./random.ts";
import { currencyInfo, REPORTING_CURRENCY } from "./currency.ts";
import { FAMILY_OF, TOPIC_KEYS, type TopicKey } from "./topics.ts";

export { FAMILY_OF, TOPIC_KEYS, type TopicKey } from "./topics.ts";

/** The newest schema version per family that the generator writes. */
const LATEST: Readonly<Record<TopicKey, 1 | 2>> = {
  orders: 2,
  payments: 2,
  shipments: 1,
  clickstream: 2,
};

/**
 * How a malformed record is broken: `no-magic` (bytes that are not in the
 * wire format: JSON text), `unknown-schema` (the magic byte and a schema id
 * the registry never issued), `contract` (an order that decodes but has a
 * line with qty 0 or a total that is not the sum of its lines).
 */
export type MalformedKind = "no-magic" | "unknown-schema" | "contract";

/**
 * The kinds of malformed records, in draw order.
 *
 * @example
 * ```ts
 * import { MALFORMED_KINDS } from "./generator.ts";
 * console.log(MALFORMED_KINDS.length); // 3
 * ```
 */
export const MALFORMED_KINDS: readonly MalformedKind[] = ["no-magic", "unknown-schema", "contract"];

/** Money in integer minor units (schemas/common/money.avsc). */
export interface Money {
  /** The amount in the currency's minor unit, e.g. 1999 for 19.99 EUR. */
  amountMinor: number;
  /** ISO 4217 code, e.g. EUR. */
  currency: string;
}

/** The envelope every event carries (schemas/common/envelope.avsc). */
export interface Envelope {
  /** A UUID, unique per event; consumers deduplicate on it. */
  eventId: string;
  /** The event's kind, e.g. `order.placed` or `payment.captured`. */
  eventType: string;
  /** When the event happened in the source system, not when it was sent. */
  occurredAt: Date;
  /** The shop region that produced the event; the lake partitions by it. */
  region: RegionCode;
  /** The version of this event's contract the producer wrote. */
  schemaVersion: number;
}

/** One order line. */
export interface LineItem {
  /** The product's stock keeping unit. */
  sku: string;
  /** How many units, at least 1. */
  qty: number;
  /** Price of one unit at the time of the order. */
  unitPrice: Money;
}

/** An order event (order v1; v2 adds `channel`, `couponCode`, `taxRate`). */
export interface OrderEvent {
  /** The shared envelope: id, type, time, region, schema version. */
  envelope: Envelope;
  /** The order's id, also the record key. */
  orderId: string;
  /** The customer who placed the order. */
  customerId: string;
  /** The order lines, at least one. */
  items: LineItem[];
  /** Sum of qty × unitPrice over the lines. */
  total: Money;
  /** The order's status after this event. */
  status: "PLACED" | "CANCELLED";
  /** v2: where the order came from (web, app or store). */
  channel?: string;
  /** v2: the coupon applied, if any. */
  couponCode?: string | null;
  /** v2: VAT rate applied to the total, as an exact decimal (0.2100 = 21 %). */
  taxRate?: Decimal;
}

/** A payment event (payment v1; v2 adds `settlementCurrency`, `fxRate`). */
export interface PaymentEvent {
  /** The shared envelope: id, type, time, region, schema version. */
  envelope: Envelope;
  /** The payment's id. */
  paymentId: string;
  /** The order paid for; the record key. */
  orderId: string;
  /** The amount charged, in the payment's currency. */
  amount: Money;
  /** How the customer paid. */
  method: "CARD" | "PAYPAL" | "BANK_TRANSFER";
  /** The payment's state after this event. */
  status: "AUTHORIZED" | "CAPTURED" | "FAILED";
  /** v2: the currency the shop is paid out in, when it differs from the charge currency. */
  settlementCurrency?: string | null;
  /** v2: exact rate from the charge to the settlement currency; null when they are the same. */
  fxRate?: Decimal | null;
}

/** A shipment event (shipment v1). */
export interface ShipmentEvent {
  /** The shared envelope: id, type, time, region, schema version. */
  envelope: Envelope;
  /** The parcel's id. */
  shipmentId: string;
  /** The order shipped; the record key. */
  orderId: string;
  /** The carrier handling the parcel, e.g. DHL. */
  carrier: string;
  /** When the carrier took the parcel. */
  shippedAt: Date;
  /** The carrier's delivery estimate, when it gave one. */
  estimatedDelivery: Date | null;
}

/** A clickstream event (clickstream v1; v2 widens `durationMs` and adds `referrer`). */
export interface ClickEvent {
  /** The shared envelope: id, type, time, region, schema version. */
  envelope: Envelope;
  /** The browsing session; the record key. */
  sessionId: string;
  /** The logged-in customer; null for anonymous visitors. */
  customerId: string | null;
  /** The page path, e.g. `/products/kb-01`. */
  page: string;
  /** What the visitor did. */
  action: "VIEW" | "CLICK" | "ADD_TO_CART";
  /** Time spent on the page before the action, ms. */
  durationMs: number;
  /** v2: the page or site the visitor came from, if known. */
  referrer?: string | null;
}

/** Any ShopStream event value, ready for Avro encoding with its family's schema version. */
export type EventValue = OrderEvent | PaymentEvent | ShipmentEvent | ClickEvent;

/** One record the generator emits. */
export interface GeneratedRecord {
  /** Position in the stream, from 0. */
  index: number;
  /** The topic it goes to. */
  topic: TopicKey;
  /** The record key: orderId for orders/payments/shipments, sessionId for clickstream. */
  key: string;
  /** `event`: a journey event; `duplicate`: an earlier event again; `malformed`: for the DLQ. */
  kind: "event" | "duplicate" | "malformed";
  /** How it is broken, for `malformed` records. */
  malformed?: MalformedKind;
  /** Schema family, e.g. `order`. */
  family: FamilyName;
  /** Schema version to encode `value` with (1 or 2). */
  version: 1 | 2;
  /** The event's type (`envelope.eventType`), or `malformed` for raw bytes. */
  eventType: string;
  /** The region; for raw malformed records the region it pretends to come from. */
  region: RegionCode;
  /** Event time (the simulated clock), epoch milliseconds UTC. */
  occurredAt: number;
  /** The Avro value (events, duplicates and `contract` malformed records). */
  value?: EventValue;
  /** The exact bytes to send, for `no-magic` and `unknown-schema` records. */
  raw?: Uint8Array;
}

/** When the generator switches from schema v1 to v2: never, always, or from a record index on. */
export type SchemaPlan = "v1" | "v2" | { v2From: number };

/** Options of {@linkcode EventGenerator}. */
export interface GeneratorOptions {
  /** Seed of Faker's pools and of every draw (default 42). */
  seed?: number;
  /** Simulated clock start, epoch ms UTC (default 2026-03-02T00:00:00Z). */
  startAt?: number;
  /** Mean simulated milliseconds between records (default 36: about 100,000 records per hour). */
  meanStepMs?: number;
  /** Schema versions to write (default `v1`). */
  schema?: SchemaPlan;
  /** Share of records that are malformed, 0..1 (default 0). */
  malformedShare?: number;
  /** Share of records that re-send an earlier event, 0..1 (default 0). */
  duplicateShare?: number;
  /** Journeys running at once (default 64). */
  concurrentJourneys?: number;
  /** Shape region weights by the local hour in each region's time zone (default true). */
  diurnal?: boolean;
  /** Sizes of the Faker pools (defaults: 5000 customers, 250 products). */
  customers?: number;
  /** Products in the catalogue. */
  products?: number;
}

/** A product of the catalogue, priced in each region's currency (REGIONS order). */
export interface Product {
  /** Stock keeping unit. */
  sku: string;
  /** Product name. */
  name: string;
  /** Unit price in minor units of REGIONS[i].currency. */
  prices: readonly number[];
}

type Step =
  | "view"
  | "click"
  | "add"
  | "order"
  | "pay_auth"
  | "pay_capture"
  | "pay_fail"
  | "cancel"
  | "ship";

interface Journey {
  region: RegionInfo;
  regionIndex: number;
  sessionId: string;
  customerId: string;
  loggedIn: boolean;
  steps: Step[];
  pos: number;
  referrer: string | null;
  products: Product[];
  orderId?: string;
  paymentId?: string;
  items?: LineItem[];
  total?: Money;
  channel?: string;
  coupon?: string | null;
  method?: PaymentEvent["method"];
}

/** Minor units of REGIONS[i].currency per EUR cent, for regional list prices (not an FX table). */
const PRICE_FACTORS = [1, 1.08, 1.62];
const CHANNELS = ["web", "web", "web", "app", "app", "store"];
const METHODS: PaymentEvent["method"][] = ["CARD", "CARD", "CARD", "PAYPAL", "BANK_TRANSFER"];
const STATIC_PAGES = ["/", "/deals", "/new", "/help"];
const DEFAULT_START = Date.UTC(2026, 2, 2, 0, 0, 0);
const UNKNOWN_SCHEMA_ID_BASE = 2_000_000_000;
const encoder = new TextEncoder();

function checkShare(name: string, v: number): number {
  if (!(v >= 0 && v <= 1)) throw new RangeError(`${name} must be within 0..1, got ${v}`);
  return v;
}

/**
 * Builds the seeded pools of names and products with Faker (the slow part,
 * done once per generator).
 */
function buildPools(seed: number, customers: number, products: number) {
  const faker = new Faker({ locale: [en] });
  faker.seed(seed);
  const customerIds = Array.from({ length: customers }, () => `c-${faker.string.uuid()}`);
  const skus = new Set<string>();
  const catalogue: Product[] = [];
  while (catalogue.length < products) {
    const dept = faker.commerce.department().replace(/[^A-Za-z]/g, "").slice(0, 3).toUpperCase();
    const sku = `${dept}-${faker.string.numeric(5)}`;
    if (skus.has(sku)) continue;
    skus.add(sku);
    const eurCents = Math.round(Number(faker.commerce.price({ min: 2, max: 400 })) * 100);
    catalogue.push({
      sku,
      name: faker.commerce.productName(),
      // Minor units: cents for EUR/USD, whole yen for JPY (162 yen per EUR = 1.62 per cent).
      prices: REGIONS.map((_, i) => Math.max(1, Math.round(eurCents * PRICE_FACTORS[i]))),
    });
  }
  const words = Array.from({ length: 200 }, () => faker.word.noun());
  const referrers = Array.from({ length: 50 }, () => faker.internet.url());
  const coupons = Array.from(
    { length: 20 },
    () => faker.string.alphanumeric({ length: 8, casing: "upper" }),
  );
  return { customerIds, catalogue, words, referrers, coupons };
}

/**
 * The seeded event generator. Call {@linkcode EventGenerator.next} for each
 * record; it never runs out (the caller decides the size).
 *
 * @example
 * ```ts
 * import { EventGenerator } from "./generator.ts";
 * const gen = new EventGenerator({ seed: 1, schema: { v2From: 1000 } });
 * const records = gen.take(2000);
 * console.log(records[0].version, records[1999].version); // 1 2 (shipments stay v1)
 * ```
 */
export class EventGenerator {
  /** The seed in use. */
  readonly seed: number;
  /** Simulated clock start, epoch ms UTC. */
  readonly startAt: number;
  /** Mean simulated milliseconds between records. */
  readonly meanStepMs: number;
  /** Share of records that are malformed. */
  readonly malformedShare: number;
  /** Share of records that re-send an earlier event. */
  readonly duplicateShare: number;
  /** Whether region weights follow each region's local hour. */
  readonly diurnal: boolean;
  readonly #v2From: number;
  readonly #rng: Rng;
  readonly #pools: ReturnType<typeof buildPools>;
  readonly #journeys: Journey[] = [];
  readonly #recent: GeneratedRecord[] = [];
  #recentPos = 0;
  #clock: number;
  #index = 0;
  #weightsHour = -1;
  #weights: number[] = [];

  /** A generator with these options (defaults in {@linkcode GeneratorOptions}). */
  constructor(options: GeneratorOptions = {}) {
    this.seed = options.seed ?? 42;
    if (!Number.isInteger(this.seed)) {
      throw new RangeError(`seed must be an integer, got ${this.seed}`);
    }
    this.startAt = options.startAt ?? DEFAULT_START;
    this.meanStepMs = options.meanStepMs ?? 36;
    if (!(this.meanStepMs >= 0)) throw new RangeError(`meanStepMs must be >= 0`);
    this.malformedShare = checkShare("malformedShare", options.malformedShare ?? 0);
    this.duplicateShare = checkShare("duplicateShare", options.duplicateShare ?? 0);
    if (this.malformedShare + this.duplicateShare > 1) {
      throw new RangeError("malformedShare + duplicateShare must not exceed 1");
    }
    this.diurnal = options.diurnal ?? true;
    const plan = options.schema ?? "v1";
    this.#v2From = plan === "v1" ? Infinity : plan === "v2" ? 0 : plan.v2From;
    if (!(this.#v2From >= 0)) throw new RangeError(`schema v2From must be >= 0`);
    this.#rng = new Rng(this.seed);
    this.#pools = buildPools(this.seed, options.customers ?? 5000, options.products ?? 250);
    this.#clock = this.startAt;
    const concurrent = options.concurrentJourneys ?? 64;
    for (let i = 0; i < concurrent; i++) this.#journeys.push(this.#newJourney());
  }

  /** The product catalogue (SKUs, names, prices per region). */
  get products(): readonly Product[] {
    return this.#pools.catalogue;
  }

  /** Records emitted so far (the index of the next one). */
  get emitted(): number {
    return this.#index;
  }

  /** The simulated clock now, epoch ms UTC. */
  get clock(): number {
    return this.#clock;
  }

  /** The schema version records at `index` are written with, for a family whose newest is `latest`. */
  versionAt(index: number, latest: 1 | 2 = 2): 1 | 2 {
    return latest === 2 && index >= this.#v2From ? 2 : 1;
  }

  /** The next `n` records, as an array. */
  take(n: number): GeneratedRecord[] {
    const out = new Array<GeneratedRecord>(n);
    for (let i = 0; i < n; i++) out[i] = this.next();
    return out;
  }

  /** The next record. */
  next(): GeneratedRecord {
    const rng = this.#rng;
    this.#clock += this.meanStepMs === 0 ? 0 : rng.int(2 * this.meanStepMs + 1);
    const u = rng.float();
    let rec: GeneratedRecord;
    if (u < this.malformedShare) {
      rec = this.#malformed();
    } else if (u < this.malformedShare + this.duplicateShare && this.#recent.length > 0) {
      const original = rng.pick(this.#recent);
      rec = { ...original, index: this.#index, kind: "duplicate" };
    } else {
      rec = this.#event();
      if (this.#recent.length < 256) this.#recent.push(rec);
      else {
        this.#recent[this.#recentPos] = rec;
        this.#recentPos = (this.#recentPos + 1) & 255;
      }
    }
    this.#index++;
    return rec;
  }

  #regionIndex(): number {
    const hour = Math.floor(this.#clock / 3_600_000);
    if (hour !== this.#weightsHour) {
      this.#weights = regionWeightsAt(this.#clock, this.diurnal);
      this.#weightsHour = hour;
    }
    return this.#rng.weighted(this.#weights);
  }

  #newJourney(): Journey {
    const rng = this.#rng;
    const regionIndex = this.#regionIndex();
    const steps: Step[] = ["view"];
    const browse = rng.range(0, 4);
    for (let i = 0; i < browse; i++) steps.push(rng.chance(0.6) ? "view" : "click");
    if (rng.chance(0.45)) {
      steps.push("add");
      if (rng.chance(0.3)) steps.push("view", "add");
      if (rng.chance(0.7)) {
        steps.push("order", "pay_auth");
        if (rng.chance(0.94)) steps.push("pay_capture", "ship");
        else steps.push("pay_fail", "cancel");
      }
    }
    const pool = this.#pools;
    const products: Product[] = [];
    const n = rng.range(1, 3);
    while (products.length < n) {
      const p = rng.pick(pool.catalogue);
      if (!products.includes(p)) products.push(p);
    }
    return {
      region: REGIONS[regionIndex],
      regionIndex,
      sessionId: `s-${rng.uuid()}`,
      customerId: rng.pick(pool.customerIds),
      loggedIn: rng.chance(0.6),
      steps,
      pos: 0,
      referrer: rng.chance(0.5) ? rng.pick(pool.referrers) : null,
      products,
    };
  }

  #envelope(eventType: string, region: RegionCode, version: number): Envelope {
    return {
      eventId: this.#rng.uuid(),
      eventType,
      occurredAt: new Date(this.#clock),
      region,
      schemaVersion: version,
    };
  }

  #record(
    topic: TopicKey,
    key: string,
    eventType: string,
    region: RegionCode,
    version: 1 | 2,
    value: EventValue,
  ): GeneratedRecord {
    return {
      index: this.#index,
      topic,
      key,
      kind: "event",
      family: FAMILY_OF[topic],
      version,
      eventType,
      region,
      occurredAt: this.#clock,
      value,
    };
  }

  #event(): GeneratedRecord {
    const rng = this.#rng;
    const slot = rng.int(this.#journeys.length);
    let j = this.#journeys[slot];
    if (j.pos >= j.steps.length) {
      j = this.#journeys[slot] = this.#newJourney();
    }
    const step = j.steps[j.pos++];
    switch (step) {
      case "view":
      case "click":
      case "add":
        return this.#click(j, step);
      case "order":
      case "cancel":
        return this.#order(j, step);
      case "pay_auth":
      case "pay_capture":
      case "pay_fail":
        return this.#payment(j, step);
      case "ship":
        return this.#shipment(j);
    }
  }

  #click(j: Journey, step: "view" | "click" | "add"): GeneratedRecord {
    const rng = this.#rng;
    const version = this.versionAt(this.#index, LATEST.clickstream);
    if (step === "add") j.loggedIn = true; // a cart needs a login
    const action = step === "view" ? "VIEW" : step === "click" ? "CLICK" : "ADD_TO_CART";
    const eventType = step === "view"
      ? "click.page_viewed"
      : step === "click"
      ? "click.link_clicked"
      : "click.added_to_cart";
    let page: string;
    if (step === "add") page = `/cart/add/${rng.pick(j.products).sku}`;
    else if (rng.chance(0.6)) page = `/products/${rng.pick(j.products).sku}`;
    else if (rng.chance(0.5)) page = `/search?q=${rng.pick(this.#pools.words)}`;
    else page = rng.pick(STATIC_PAGES);
    let durationMs = rng.range(200, 90_000);
    // v2 widened durationMs to long because tabs left open overflowed int: show one now and then.
    if (version === 2 && rng.chance(0.001)) durationMs = 2_147_483_648 + rng.int(1_000_000_000);
    const value: ClickEvent = {
      envelope: this.#envelope(eventType, j.region.code, version),
      sessionId: j.sessionId,
      customerId: j.loggedIn ? j.customerId : null,
      page,
      action,
      durationMs,
    };
    if (version === 2) value.referrer = j.pos === 1 ? j.referrer : null;
    return this.#record("clickstream", j.sessionId, eventType, j.region.code, version, value);
  }

  #lines(j: Journey): { items: LineItem[]; total: Money } {
    const rng = this.#rng;
    const currency = j.region.currency;
    let sum = 0;
    const items = j.products.map((p) => {
      const qty = rng.range(1, 3);
      const unit = p.prices[j.regionIndex];
      sum += qty * unit;
      return { sku: p.sku, qty, unitPrice: { amountMinor: unit, currency } };
    });
    return { items, total: { amountMinor: sum, currency } };
  }

  #orderValue(
    j: Journey,
    eventType: string,
    status: OrderEvent["status"],
    version: 1 | 2,
  ): OrderEvent {
    const value: OrderEvent = {
      envelope: this.#envelope(eventType, j.region.code, version),
      orderId: j.orderId!,
      customerId: j.customerId,
      items: j.items!,
      total: j.total!,
      status,
    };
    if (version === 2) {
      value.channel = j.channel!;
      value.couponCode = j.coupon ?? null;
      value.taxRate = Decimal.parse(j.region.taxRate);
    }
    return value;
  }

  #order(j: Journey, step: "order" | "cancel"): GeneratedRecord {
    const rng = this.#rng;
    const version = this.versionAt(this.#index, LATEST.orders);
    if (step === "order") {
      j.orderId = `o-${rng.uuid()}`;
      const { items, total } = this.#lines(j);
      j.items = items;
      j.total = total;
      j.channel = rng.pick(CHANNELS);
      j.coupon = rng.chance(0.15) ? rng.pick(this.#pools.coupons) : null;
    }
    const eventType = step === "order" ? "order.placed" : "order.cancelled";
    const value = this.#orderValue(
      j,
      eventType,
      step === "order" ? "PLACED" : "CANCELLED",
      version,
    );
    return this.#record("orders", j.orderId!, eventType, j.region.code, version, value);
  }

  #payment(j: Journey, step: "pay_auth" | "pay_capture" | "pay_fail"): GeneratedRecord {
    const rng = this.#rng;
    const version = this.versionAt(this.#index, LATEST.payments);
    if (step === "pay_auth") {
      j.paymentId = `p-${rng.uuid()}`;
      j.method = rng.pick(METHODS);
    }
    const [eventType, status] = step === "pay_auth"
      ? ["payment.authorized", "AUTHORIZED"] as const
      : step === "pay_capture"
      ? ["payment.captured", "CAPTURED"] as const
      : ["payment.failed", "FAILED"] as const;
    const value: PaymentEvent = {
      envelope: this.#envelope(eventType, j.region.code, version),
      paymentId: j.paymentId!,
      orderId: j.orderId!,
      amount: j.total!,
      method: j.method!,
      status,
    };
    if (version === 2) {
      // Shops are paid out in EUR at the lake's fixed rate (currency.ts).
      const foreign = j.region.currency !== REPORTING_CURRENCY;
      value.settlementCurrency = foreign ? REPORTING_CURRENCY : null;
      value.fxRate = foreign ? currencyInfo(j.region.currency).eurPerUnit.rescale(8) : null;
    }
    return this.#record("payments", j.orderId!, eventType, j.region.code, version, value);
  }

  #shipment(j: Journey): GeneratedRecord {
    const rng = this.#rng;
    const eta = rng.chance(0.8) ? new Date(this.#clock + rng.range(1, 5) * 86_400_000) : null;
    const value: ShipmentEvent = {
      envelope: this.#envelope("shipment.shipped", j.region.code, 1),
      shipmentId: `sh-${rng.uuid()}`,
      orderId: j.orderId!,
      carrier: rng.pick(j.region.carriers),
      shippedAt: new Date(this.#clock),
      estimatedDelivery: eta,
    };
    return this.#record("shipments", j.orderId!, "shipment.shipped", j.region.code, 1, value);
  }

  #malformed(): GeneratedRecord {
    const rng = this.#rng;
    const kind = MALFORMED_KINDS[rng.int(MALFORMED_KINDS.length)];
    const region = REGIONS[this.#regionIndex()];
    const base = {
      index: this.#index,
      kind: "malformed" as const,
      malformed: kind,
      region: region.code,
      occurredAt: this.#clock,
    };
    if (kind === "contract") {
      const version = this.versionAt(this.#index, LATEST.orders);
      const j = this.#newJourney();
      j.region = region;
      j.regionIndex = REGIONS.indexOf(region);
      j.orderId = `o-${rng.uuid()}`;
      const { items, total } = this.#lines(j);
      if (rng.chance(0.5)) items[rng.int(items.length)].qty = 0;
      else total.amountMinor += rng.range(1, 99);
      j.items = items;
      j.total = total;
      j.channel = "web";
      j.coupon = null;
      const value = this.#orderValue(j, "order.placed", "PLACED", version);
      return {
        ...base,
        topic: "orders",
        key: j.orderId,
        family: "order",
        version,
        eventType: "order.placed",
        value,
      };
    }
    const topic = TOPIC_KEYS[rng.int(TOPIC_KEYS.length)];
    const key = topic === "clickstream" ? `s-${rng.uuid()}` : `o-${rng.uuid()}`;
    let raw: Uint8Array;
    if (kind === "no-magic") {
      raw = encoder.encode(
        JSON.stringify({ id: key, region: region.code, note: "JSON where Avro was expected" }),
      );
    } else {
      const body = new Uint8Array(5 + 16);
      const id = UNKNOWN_SCHEMA_ID_BASE + rng.int(100_000_000);
      new DataView(body.buffer).setInt32(1, id, false);
      for (let i = 5; i < body.length; i++) body[i] = rng.int(256);
      raw = body;
    }
    return {
      ...base,
      topic,
      key,
      family: FAMILY_OF[topic],
      version: 1,
      eventType: "malformed",
      raw,
    };
  }
}
