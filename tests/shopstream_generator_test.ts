/**
 * Unit tests of the ShopStream generator, regions, rules and tally (no
 * services): same seed, same bytes; a journey's events share their ids;
 * region weights and currencies; the malformed and duplicate shares; the v2
 * switch; the tally equals a recount.
 */
import assert from "node:assert/strict";
import { type FamilyName, loadCatalog } from "../lib/schema/catalog.ts";
import { validate } from "../lib/schema/validate.ts";
import {
  type ClickEvent,
  CONTRACT_RULES,
  divideHalfEven,
  EventGenerator,
  type GeneratedRecord,
  localHour,
  type OrderEvent,
  type PaymentEvent,
  regionInfo,
  REGIONS,
  regionWeightsAt,
  Rng,
  type ShipmentEvent,
  Tally,
  toEurMinor,
} from "../lib/shopstream/mod.ts";

const catalog = await loadCatalog();

function violations(family: FamilyName, value: unknown): string[] {
  return CONTRACT_RULES[family].flatMap((rule) => rule(value));
}

function schemaOf(r: GeneratedRecord) {
  return catalog.family(r.family).versions[r.version - 1];
}

/** Every record as bytes: Avro body for values, raw bytes otherwise, with topic/key/kind. */
function fingerprint(records: GeneratedRecord[]): string[] {
  return records.map((r) => {
    const body = r.raw ?? schemaOf(r).type.toBuffer(r.value);
    return `${r.index}|${r.topic}|${r.key}|${r.kind}|${r.malformed ?? ""}|${r.version}|` +
      Array.from(body, (b) => b.toString(16).padStart(2, "0")).join("");
  });
}

Deno.test("Rng is seeded and uniform enough", () => {
  const a = new Rng(9), b = new Rng(9), c = new Rng(10);
  const xs = Array.from({ length: 1000 }, () => a.u32());
  assert.deepEqual(xs, Array.from({ length: 1000 }, () => b.u32()));
  assert.notDeepEqual(xs.slice(0, 10), Array.from({ length: 10 }, () => c.u32()));
  const counts = [0, 0, 0, 0];
  for (let i = 0; i < 40_000; i++) counts[a.int(4)]++;
  for (const n of counts) assert.ok(Math.abs(n - 10_000) < 500, `bucket ${n}`);
  assert.match(a.uuid(), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
});

Deno.test("regions: currencies, time zones, weights", () => {
  assert.deepEqual(REGIONS.map((r) => [r.code, r.currency, r.timeZone]), [
    ["EU", "EUR", "Europe/Berlin"],
    ["US", "USD", "America/New_York"],
    ["APAC", "JPY", "Asia/Tokyo"],
  ]);
  assert.equal(REGIONS.reduce((s, r) => s + r.weight, 0), 1);
  assert.throws(() => regionInfo("MARS"), /unknown region "MARS"/);
  // Winter: Berlin UTC+1, New York UTC-5, Tokyo UTC+9; summer: Berlin +2, New York -4.
  const jan = Date.UTC(2026, 0, 15, 12);
  assert.deepEqual(REGIONS.map((r) => localHour(jan, r.timeZone)), [13, 7, 21]);
  const jul = Date.UTC(2026, 6, 15, 12);
  assert.deepEqual(REGIONS.map((r) => localHour(jul, r.timeZone)), [14, 8, 21]);
  const w = regionWeightsAt(jan);
  assert.ok(Math.abs(w.reduce((a, b) => a + b, 0) - 1) < 1e-12);
  // 12:00 UTC is Tokyo's evening peak and New York's early morning.
  assert.ok(w[2] > REGIONS[2].weight && w[1] < REGIONS[1].weight);
});

Deno.test("same seed, byte-identical records; another seed differs", () => {
  const opts = { malformedShare: 0.05, duplicateShare: 0.05, schema: { v2From: 1500 } };
  const a = fingerprint(new EventGenerator({ seed: 7, ...opts }).take(3000));
  const b = fingerprint(new EventGenerator({ seed: 7, ...opts }).take(3000));
  const c = fingerprint(new EventGenerator({ seed: 8, ...opts }).take(3000));
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.slice(0, 50), c.slice(0, 50));
});

Deno.test("every event is valid Avro for its schema version, keyed as promised", () => {
  const gen = new EventGenerator({ seed: 1, duplicateShare: 0.02, schema: { v2From: 2000 } });
  for (const r of gen.take(4000)) {
    assert.ok(r.value, `record ${r.index} has a value`);
    assert.deepEqual(validate(schemaOf(r).type, r.value), [], `record ${r.index}`);
    const v = r.value as unknown as Record<string, unknown>;
    assert.equal(r.key, r.topic === "clickstream" ? v.sessionId : v.orderId);
    assert.equal((v.envelope as { schemaVersion: number }).schemaVersion, r.version);
    assert.equal((v.envelope as { occurredAt: Date }).occurredAt.getTime(), r.occurredAt);
    assert.deepEqual(violations(r.family, r.value), [], `record ${r.index} breaks a rule`);
  }
});

Deno.test("journeys are coherent: views -> cart -> order -> payment -> shipment share ids", () => {
  const gen = new EventGenerator({ seed: 3 });
  const records = gen.take(20_000);
  const sessions = new Map<string, ClickEvent[]>();
  const orders = new Map<string, OrderEvent[]>();
  const payments = new Map<string, PaymentEvent[]>();
  const shipments = new Map<string, ShipmentEvent[]>();
  const push = <T>(m: Map<string, T[]>, k: string, v: T) => m.set(k, [...(m.get(k) ?? []), v]);
  let lastTime = 0;
  for (const r of records) {
    assert.ok(r.occurredAt >= lastTime, "the simulated clock never goes back");
    lastTime = r.occurredAt;
    if (r.topic === "clickstream") push(sessions, r.key, r.value as ClickEvent);
    if (r.topic === "orders") push(orders, r.key, r.value as OrderEvent);
    if (r.topic === "payments") push(payments, r.key, r.value as PaymentEvent);
    if (r.topic === "shipments") push(shipments, r.key, r.value as ShipmentEvent);
  }
  assert.ok(orders.size > 500, `orders: ${orders.size}`);
  // Each order's customer added something to a cart in a session of the same region before.
  const carts = new Map<string, ClickEvent[]>();
  for (const clicks of sessions.values()) {
    assert.equal(clicks[0].action, "VIEW", "a journey starts with a view");
    for (const c of clicks) {
      assert.equal(c.envelope.region, clicks[0].envelope.region);
      if (c.action === "ADD_TO_CART") {
        assert.ok(c.customerId, "a cart needs a customer");
        push(carts, c.customerId!, c);
      }
    }
  }
  let complete = 0;
  for (const [orderId, events] of orders) {
    const placed = events[0];
    assert.equal(placed.envelope.eventType, "order.placed");
    const cart = (carts.get(placed.customerId) ?? []).filter((c) =>
      c.envelope.occurredAt <= placed.envelope.occurredAt &&
      c.envelope.region === placed.envelope.region
    );
    assert.ok(cart.length > 0, `order ${orderId} has an earlier add-to-cart of its customer`);
    assert.equal(placed.total.currency, regionInfo(placed.envelope.region).currency);
    const pays = payments.get(orderId) ?? [];
    const ships = shipments.get(orderId) ?? [];
    if (pays.length > 0) {
      assert.equal(pays[0].status, "AUTHORIZED");
      for (const p of pays) {
        assert.equal(p.paymentId, pays[0].paymentId);
        assert.deepEqual(p.amount, placed.total);
        assert.ok(p.envelope.occurredAt >= placed.envelope.occurredAt);
      }
    }
    if (pays.some((p) => p.status === "FAILED")) {
      assert.equal(ships.length, 0, "no shipment after a failed payment");
      if (events.length > 1) assert.equal(events[1].status, "CANCELLED");
    }
    if (ships.length > 0) {
      assert.ok(pays.some((p) => p.status === "CAPTURED"), "shipped orders were paid");
      assert.ok(ships[0].envelope.occurredAt >= pays.at(-1)!.envelope.occurredAt);
      assert.ok(regionInfo(placed.envelope.region).carriers.includes(ships[0].carrier));
      complete++;
    }
  }
  assert.ok(complete > 300, `complete journeys: ${complete}`);
});

Deno.test("region shares follow the weights (without the time-of-day shape)", () => {
  const gen = new EventGenerator({ seed: 5, diurnal: false });
  const counts: Record<string, number> = {};
  const n = 60_000;
  for (const r of gen.take(n)) counts[r.region] = (counts[r.region] ?? 0) + 1;
  for (const r of REGIONS) {
    const share = counts[r.code] / n;
    assert.ok(Math.abs(share - r.weight) < 0.03, `${r.code}: ${share} vs ${r.weight}`);
  }
});

Deno.test("malformed and duplicate shares; malformed records are what they claim", () => {
  const n = 40_000;
  const gen = new EventGenerator({ seed: 11, malformedShare: 0.03, duplicateShare: 0.02 });
  const records = gen.take(n);
  const malformed = records.filter((r) => r.kind === "malformed");
  const duplicates = records.filter((r) => r.kind === "duplicate");
  assert.ok(Math.abs(malformed.length / n - 0.03) < 0.005, `malformed ${malformed.length}`);
  assert.ok(Math.abs(duplicates.length / n - 0.02) < 0.005, `duplicates ${duplicates.length}`);
  const kinds: Record<string, number> = {};
  for (const r of malformed) {
    kinds[r.malformed!] = (kinds[r.malformed!] ?? 0) + 1;
    if (r.malformed === "no-magic") {
      assert.ok(r.raw && r.raw[0] !== 0, "no magic byte");
      JSON.parse(new TextDecoder().decode(r.raw));
    } else if (r.malformed === "unknown-schema") {
      assert.ok(r.raw && r.raw[0] === 0 && r.raw.length > 5);
      const id = new DataView(r.raw.buffer, r.raw.byteOffset).getInt32(1);
      assert.ok(id >= 2_000_000_000, `unknown id ${id}`);
    } else {
      assert.equal(r.topic, "orders");
      assert.deepEqual(validate(schemaOf(r).type, r.value), [], "it is valid Avro");
      assert.ok(violations("order", r.value).length > 0, "but breaks a contract rule");
    }
  }
  for (const k of ["no-magic", "unknown-schema", "contract"]) assert.ok(kinds[k] > 200, k);
  const seen = new Map<string, GeneratedRecord>();
  for (const r of records) {
    if (r.kind === "malformed") continue;
    const id = (r.value as OrderEvent).envelope.eventId;
    if (r.kind === "duplicate") {
      const first = seen.get(id);
      assert.ok(first, "a duplicate repeats an earlier event");
      assert.deepEqual(
        fingerprint([{ ...r, index: 0, kind: "event" }]),
        fingerprint([{ ...first, index: 0 }]),
      );
    } else {
      assert.ok(!seen.has(id), "fresh events have fresh ids");
      seen.set(id, r);
    }
  }
});

Deno.test("schema plans: v1 only, v2 only, v2 from an index", () => {
  const versions = (schema: "v1" | "v2" | { v2From: number }) =>
    new EventGenerator({ seed: 2, schema }).take(3000).map((r) => [r.topic, r.version] as const);
  assert.ok(versions("v1").every(([, v]) => v === 1));
  assert.ok(versions("v2").every(([t, v]) => v === (t === "shipments" ? 1 : 2)));
  const mixed = versions({ v2From: 1000 });
  assert.ok(mixed.slice(0, 1000).every(([, v]) => v === 1));
  assert.ok(mixed.slice(1000).every(([t, v]) => v === (t === "shipments" ? 1 : 2)));
  const v2Order = new EventGenerator({ seed: 2, schema: "v2" }).take(3000)
    .find((r) => r.topic === "orders")!.value as OrderEvent;
  assert.equal(v2Order.taxRate!.toString(), regionInfo(v2Order.envelope.region).taxRate);
  assert.ok(["web", "app", "store"].includes(v2Order.channel!));
});

Deno.test("the tally equals a recount of the emitted records, gold included", () => {
  const gen = new EventGenerator({
    seed: 21,
    malformedShare: 0.02,
    duplicateShare: 0.02,
    meanStepMs: 200,
  });
  const tally = new Tally();
  const records = gen.take(30_000);
  for (const r of records) tally.add(r);
  // Recount, the slow obvious way.
  const ids = new Set<string>();
  const perHour = new Map<string, { bronze: number; silver: number }>();
  const gold = new Map<string, { orders: OrderEvent[] }>();
  for (const r of records) {
    if (r.kind === "malformed") continue;
    const v = r.value as OrderEvent;
    const iso = new Date(v.envelope.occurredAt).toISOString();
    const key = `${r.topic}|${v.envelope.region}|${iso.slice(0, 10)}|${iso.slice(11, 13)}`;
    const h = perHour.get(key) ?? { bronze: 0, silver: 0 };
    h.bronze++;
    if (!ids.has(v.envelope.eventId)) {
      ids.add(v.envelope.eventId);
      h.silver++;
      if (v.envelope.eventType === "order.placed") {
        const gk = `${v.envelope.region}|${iso.slice(0, 10)}|${iso.slice(11, 13)}`;
        const g = gold.get(gk) ?? { orders: [] };
        g.orders.push(v);
        gold.set(gk, g);
      }
    }
    perHour.set(key, h);
  }
  assert.deepEqual(
    tally.hours().map((h) => [`${h.topic}|${h.region}|${h.date}|${h.hour}`, h.bronze, h.silver]),
    [...perHour].map(([k, v]) => [k, v.bronze, v.silver]).sort((a, b) =>
      String(a[0]).localeCompare(String(b[0]))
    ),
  );
  assert.ok(tally.hours().length > 12, "the run spans several hours");
  const totals = tally.totals();
  assert.equal(totals.produced, 30_000);
  assert.equal(totals.malformed, records.filter((r) => r.kind === "malformed").length);
  assert.equal(totals.duplicates, records.filter((r) => r.kind === "duplicate").length);
  assert.equal(totals.bronze, totals.produced - totals.malformed);
  assert.equal(totals.silver, ids.size);
  for (const t of ["orders", "payments", "shipments", "clickstream"] as const) {
    const mine = records.filter((r) => r.topic === t);
    assert.equal(tally.topic(t).produced, mine.length);
    for (const r of REGIONS) {
      assert.equal(
        tally.region(t, r.code),
        mine.filter((x) => x.kind !== "malformed" && x.region === r.code).length,
      );
    }
  }
  const expected = [...gold].map(([k, g]) => {
    const [region, date, hour] = k.split("|");
    let revenue = 0n;
    const skus: Record<string, number> = {};
    for (const o of g.orders) {
      revenue += BigInt(o.total.amountMinor);
      for (const l of o.items) skus[l.sku] = (skus[l.sku] ?? 0) + l.qty;
    }
    const top = Object.entries(skus).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, 3).map(([sku, qty]) => ({ sku, qty }));
    return {
      region,
      date,
      hour,
      orders: BigInt(g.orders.length),
      revenue_minor: revenue,
      currency: regionInfo(region).currency,
      revenue_eur_minor: toEurMinor(revenue, regionInfo(region).currency),
      avg_basket_minor: divideHalfEven(revenue, BigInt(g.orders.length)),
      top_products: JSON.stringify(top),
    };
  }).sort((a, b) =>
    a.region.localeCompare(b.region) || a.date.localeCompare(b.date) ||
    a.hour.localeCompare(b.hour)
  );
  assert.deepEqual(tally.gold(), expected);
  assert.equal(BigInt(totals.orders), expected.reduce((s, g) => s + g.orders, 0n));
});

Deno.test("bad options are refused with a clear message", () => {
  assert.throws(() => new EventGenerator({ malformedShare: 1.5 }), /malformedShare must be/);
  assert.throws(
    () => new EventGenerator({ malformedShare: 0.6, duplicateShare: 0.6 }),
    /must not exceed 1/,
  );
  assert.throws(() => new EventGenerator({ seed: 1.5 }), /seed must be an integer/);
});
