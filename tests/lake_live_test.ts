/**
 * The lake against the live MinIO: the store, then bronze objects written as
 * the sink writes them, silver and gold computed from them, and everything
 * read back independently with LakeReader: v1/v2 nulls, a rerun writes
 * nothing, and the silver and gold of a removed hour are removed.
 */
import assert from "node:assert/strict";
import { loadCatalog } from "../lib/schema/catalog.ts";
import { Decimal } from "../lib/schema/decimal.ts";
import { LakeStore } from "../lib/lake/store.ts";
import { layerPrefix } from "../lib/lake/paths.ts";
import {
  BronzeLayout,
  bronzeObjectKey,
  type BronzeRecord,
  encodeBronze,
  groupBronze,
} from "../lib/shopstream/bronze.ts";
import { SilverJob } from "../lib/shopstream/silver.ts";
import { GoldJob } from "../lib/shopstream/gold.ts";
import { LakeReader } from "../lib/shopstream/lake_reader.ts";
import { divideHalfEven, toEurMinor } from "../lib/shopstream/currency.ts";
import { config, requireMinio, uniqueName } from "./support.ts";

async function cleanup(store: LakeStore, topic: string) {
  for (const layer of ["bronze", "silver", "gold"] as const) {
    await store.removeAll(layerPrefix(layer, topic));
  }
}

Deno.test("lake live: the store puts, gets, lists, skips unchanged bytes and removes", async () => {
  await requireMinio();
  const store = LakeStore.fromConfig(config);
  await store.ensureBucket();
  const prefix = `${uniqueName("test.lake-store")}/`;
  try {
    const big = new Uint8Array(3 * 1024 * 1024).map((_, i) => i % 251);
    await store.put(`${prefix}a/one.bin`, big);
    await store.put(`${prefix}a/b/two.bin`, new Uint8Array([1, 2]));
    await store.put(`${prefix}three.bin`, new Uint8Array(0));
    assert.deepEqual(await store.get(`${prefix}a/one.bin`), big);
    assert.deepEqual(await store.get(`${prefix}three.bin`), new Uint8Array(0));
    assert.deepEqual((await store.list(prefix)).map((o) => [o.key.slice(prefix.length), o.size]), [
      ["a/b/two.bin", 2],
      ["a/one.bin", big.length],
      ["three.bin", 0],
    ]);
    assert.deepEqual(
      (await store.list(prefix, { recursive: false })).map((o) => o.key.slice(prefix.length)),
      ["three.bin"],
    );
    assert.deepEqual(await store.folders(prefix), [`${prefix}a/`]);
    assert.ok(await store.exists(`${prefix}three.bin`));
    assert.ok(!(await store.exists(`${prefix}nothing`)));
    await assert.rejects(() => store.get(`${prefix}nothing`));
    assert.equal(await store.putIfChanged(`${prefix}a/b/two.bin`, new Uint8Array([1, 2])), false);
    assert.equal(await store.putIfChanged(`${prefix}a/b/two.bin`, new Uint8Array([1, 3])), true);
    assert.deepEqual(await store.get(`${prefix}a/b/two.bin`), new Uint8Array([1, 3]));
    assert.equal(await store.putIfChanged(`${prefix}new.bin`, new Uint8Array([9])), true);
    await store.remove(`${prefix}new.bin`);
    await store.remove(`${prefix}new.bin`); // removing twice is fine
    assert.equal(await store.removeAll(prefix), 3);
    assert.deepEqual(await store.list(prefix), []);
  } finally {
    await store.removeAll(prefix);
  }
});

interface OrderSpec {
  id: string;
  region: "EU" | "US" | "APAC";
  at: string;
  version: 1 | 2;
  items: [string, number, number][]; // sku, qty, unit price (minor)
  type?: string;
  badTotal?: boolean;
}

const CURRENCY = { EU: "EUR", US: "USD", APAC: "JPY" } as const;

async function orderRecords(specs: OrderSpec[]): Promise<BronzeRecord[]> {
  const order = (await loadCatalog()).family("order");
  let offset = 0;
  return specs.map((s) => {
    const currency = CURRENCY[s.region];
    const items = s.items.map(([sku, qty, price]) => ({
      sku,
      qty,
      unitPrice: { amountMinor: price, currency },
    }));
    const total = s.items.reduce((sum, [, q, p]) => sum + q * p, 0) + (s.badTotal ? 1 : 0);
    const value: Record<string, unknown> = {
      envelope: {
        eventId: s.id,
        eventType: s.type ?? "order.placed",
        occurredAt: new Date(s.at),
        region: s.region,
        schemaVersion: s.version,
      },
      orderId: `o-${s.id}`,
      customerId: "c-1",
      items,
      total: { amountMinor: total, currency },
      status: "PLACED",
    };
    if (s.version === 2) {
      Object.assign(value, { channel: "app", couponCode: "TEN", taxRate: Decimal.parse("0.1900") });
    }
    const type = order.versions[s.version - 1].type;
    const partition = { EU: 0, US: 1, APAC: 2 }[s.region];
    return {
      partition,
      offset: String(offset++),
      timestamp: Date.parse(s.at) + 5,
      schemaId: 100 + s.version,
      value: type.fromBuffer(type.toBuffer(value)),
    };
  });
}

const SPECS: OrderSpec[] = [
  { id: "e1", region: "EU", at: "2026-11-26T09:05:00Z", version: 1, items: [["kb-01", 2, 1999]] },
  { id: "e2", region: "EU", at: "2026-11-26T09:10:00Z", version: 2, items: [["ms-02", 1, 2500]] },
  { id: "e1", region: "EU", at: "2026-11-26T09:05:00Z", version: 1, items: [["kb-01", 2, 1999]] },
  { id: "e3", region: "EU", at: "2026-11-26T10:00:00Z", version: 2, items: [["kb-01", 1, 1999]] },
  { id: "u1", region: "US", at: "2026-11-26T09:59:59Z", version: 1, items: [["hd-03", 3, 333]] },
  {
    id: "u2",
    region: "US",
    at: "2026-11-26T09:01:00Z",
    version: 1,
    items: [["kb-01", 1, 100]],
    badTotal: true,
  },
  {
    id: "u3",
    region: "US",
    at: "2026-11-26T09:02:00Z",
    version: 2,
    items: [["kb-01", 1, 100]],
    type: "order.cancelled",
  },
  { id: "a1", region: "APAC", at: "2026-11-26T23:30:00Z", version: 2, items: [["ms-02", 5, 250]] },
  { id: "a2", region: "APAC", at: "2026-11-26T23:31:00Z", version: 1, items: [["kb-01", 1, 251]] },
  { id: "a2", region: "APAC", at: "2026-11-26T23:31:00Z", version: 1, items: [["kb-01", 1, 251]] },
];

Deno.test("lake live: bronze -> silver -> gold, read back independently, reruns change nothing", async (t) => {
  await requireMinio();
  const store = LakeStore.fromConfig(config);
  await store.ensureBucket();
  const topic = uniqueName("test.lake-orders");
  const reader = new LakeReader(store);
  const records = await orderRecords(SPECS);
  const layout = BronzeLayout.forFamily((await loadCatalog()).family("order"));
  try {
    await t.step("bronze objects as the sink writes them", async () => {
      // two objects for the EU 09h group, to check silver merges objects of one hour
      const groups = [...groupBronze(records).values()];
      for (const g of groups) {
        const parts = g.records.length > 2 ? [g.records.slice(0, 1), g.records.slice(1)] : [
          g.records,
        ];
        for (const part of parts) {
          await store.put(bronzeObjectKey(topic, part), encodeBronze(layout, part));
        }
      }
      const rows = await reader.rows("bronze", topic);
      assert.equal(rows.length, SPECS.length);
      for (const o of await reader.tables("bronze", topic)) {
        const regions = new Set(o.table.getChild("region")!.toArray());
        assert.deepEqual([...regions], [o.parsed.region], `${o.key} holds only its region`);
      }
      const v1 = rows.filter((r) => r.schema_version === 1);
      assert.ok(v1.length > 0 && v1.every((r) => r.channel === null && r.tax_rate === null));
      assert.ok(rows.filter((r) => r.schema_version === 2).every((r) => r.tax_rate === "0.1900"));
    });

    const expectedSilver = new Set(SPECS.filter((s) => !s.badTotal).map((s) => s.id));
    await t.step("silver: valid, deduplicated, EUR amounts", async () => {
      const report = await new SilverJob(store).run(topic, "order");
      assert.equal(report.rowsIn, SPECS.length);
      assert.equal(report.duplicates, 2);
      assert.equal(report.invalid, 1);
      assert.deepEqual(report.invalidReasons, { "rule total.amountMinor": 1 });
      assert.equal(report.rowsOut, expectedSilver.size);
      assert.equal(report.objectsWritten, 4); // EU 09, EU 10, US 09, APAC 23
      const rows = await reader.rows("silver", topic);
      const ids = rows.map((r) => r.event_id as string);
      assert.equal(new Set(ids).size, ids.length, "no duplicate event ids in silver");
      assert.deepEqual(new Set(ids), expectedSilver);
      for (const r of rows) {
        assert.equal(
          r.total_eur_minor,
          toEurMinor(r.total_amount_minor as bigint, r.total_currency as string),
        );
      }
      assert.equal(rows.find((r) => r.event_id === "e1")!.channel, null);
      assert.equal(rows.find((r) => r.event_id === "e2")!.channel, "app");
    });

    await t.step("gold equals sums made here from the specs", async () => {
      const report = await new GoldJob(store).run(topic);
      assert.equal(report.rowsOut, 4);
      const gold = await reader.rows("gold", topic);
      const placed = SPECS.filter((s, i) =>
        !s.badTotal && (s.type ?? "order.placed") === "order.placed" &&
        SPECS.findIndex((x) => x.id === s.id) === i
      );
      const byHour = new Map<string, OrderSpec[]>();
      for (const s of placed) {
        const k = `${s.region} ${s.at.slice(0, 10)} ${s.at.slice(11, 13)}`;
        byHour.set(k, [...(byHour.get(k) ?? []), s]);
      }
      assert.equal(gold.length, byHour.size);
      for (const g of gold) {
        const specs = byHour.get(`${g.region} ${g.date} ${g.hour}`)!;
        assert.ok(specs, `unexpected gold row ${g.region} ${g.date} ${g.hour}`);
        const revenue = BigInt(
          specs.reduce((s, o) => s + o.items.reduce((a, [, q, p]) => a + q * p, 0), 0),
        );
        const currency = CURRENCY[g.region as "EU"];
        assert.equal(g.orders, BigInt(specs.length));
        assert.equal(g.revenue_minor, revenue);
        assert.equal(g.currency, currency);
        assert.equal(g.revenue_eur_minor, toEurMinor(revenue, currency));
        assert.equal(g.avg_basket_minor, divideHalfEven(revenue, BigInt(specs.length)));
      }
      const eu9 = gold.find((g) => g.region === "EU" && g.hour === "09")!;
      assert.equal(eu9.revenue_minor, 2n * 1999n + 2500n);
      assert.equal(eu9.top_products, '[{"sku":"kb-01","qty":2},{"sku":"ms-02","qty":1}]');
      const apac = gold.find((g) => g.region === "APAC")!;
      assert.equal(apac.revenue_minor, 1501n); // JPY, 0 minor digits
      assert.equal(apac.revenue_eur_minor, 916n); // 1501 * 0.0061 = 9.1561 EUR
      assert.equal(apac.avg_basket_minor, 750n); // 750.5 -> 750 (half-even)
    });

    await t.step("rerun: same objects, nothing written", async () => {
      const before = (await store.list(`silver/${topic}/`)).concat(
        await store.list(`gold/${topic}/`),
      );
      const silver = await new SilverJob(store).run(topic, "order");
      const gold = await new GoldJob(store).run(topic);
      assert.equal(silver.objectsWritten + gold.objectsWritten, 0);
      assert.equal(silver.objectsUnchanged, 4);
      assert.equal(gold.objectsUnchanged, 4);
      const after = (await store.list(`silver/${topic}/`)).concat(
        await store.list(`gold/${topic}/`),
      );
      assert.deepEqual(after.map((o) => [o.key, o.etag]), before.map((o) => [o.key, o.etag]));
    });

    await t.step("a bronze hour gone: its silver and gold objects go too", async () => {
      assert.equal(await store.removeAll(`bronze/${topic}/region=APAC/`), 2);
      const silver = await new SilverJob(store).run(topic, "order");
      const gold = await new GoldJob(store).run(topic);
      assert.equal(silver.objectsRemoved, 1);
      assert.equal(gold.objectsRemoved, 1);
      const summary = await reader.summary({ topics: [topic] });
      assert.deepEqual(
        summary.map((s) => [s.layer, s.table, s.regions, s.partitions, s.files, s.rows]),
        [
          ["bronze", "", 2, 3, 5, 7],
          ["silver", "", 2, 3, 3, 5],
          ["gold", "orders_hourly", 2, 3, 3, 3],
        ],
      );
    });
  } finally {
    await cleanup(store, topic);
  }
});
