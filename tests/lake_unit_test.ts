/**
 * The lake's pure parts (no services): Parquet round trips through Arrow
 * (int64, timestamps, nulls, non-ASCII, codecs such as zstd, empty tables);
 * lake keys built zero-padded and parsed back; bronze columns as the union of
 * a subject's versions, v1 rows null in v2-only columns; bronze object keys,
 * groups and the sink's last-offset (skip) rule; the sink's one-decode path
 * (cells into Arrow buffers) against decoding again at flush, byte for byte.
 */
import assert from "node:assert/strict";
import {
  Field,
  Int64,
  Schema,
  Table,
  tableFromArrays,
  tableToIPC,
  vectorFromArray,
} from "apache-arrow";
import { Int32, TimestampMillisecond, Utf8 } from "apache-arrow";
import * as pw from "parquet-wasm";
import { decodeParquet, encodeParquet, parquetInfo } from "../lib/lake/parquet.ts";
import {
  columnSpecs,
  TableBuilder,
  tableFromColumns,
  tableFromRows,
  tableRows,
} from "../lib/lake/table.ts";
import {
  bronzeKey,
  goldKey,
  LakeKeyError,
  layerPrefix,
  parseBronzeKey,
  parseGoldKey,
  parseLakeKey,
  parseSilverKey,
  silverKey,
  utcDateHour,
  zeroPad,
} from "../lib/lake/paths.ts";
import { loadCatalog } from "../lib/schema/catalog.ts";
import { Decimal } from "../lib/schema/decimal.ts";
import { EventGenerator } from "../lib/shopstream/generator.ts";
import {
  BronzeBuffer,
  bronzeGroupId,
  bronzeGroupOf,
  BronzeLayout,
  bronzeObjectKey,
  type BronzeRecord,
  BronzeRecordError,
  encodeBronze,
  groupBronze,
  lastOffsets,
  snakeCase,
} from "../lib/shopstream/bronze.ts";

Deno.test("parquet: arrow table round trip keeps types, nulls, int64 and timestamps", async () => {
  const big = 2n ** 62n + 7n;
  const schema = new Schema([
    new Field("i32", new Int32(), true),
    new Field("i64", new Int64(), true),
    new Field("ts", new TimestampMillisecond("UTC"), true),
    new Field("s", new Utf8(), true),
  ]);
  const table = new Table(schema, {
    i32: vectorFromArray([1, null, -3], new Int32()),
    i64: vectorFromArray([big, -1n, null], new Int64()),
    ts: vectorFromArray([Date.UTC(2026, 10, 26, 9), null, 0], new TimestampMillisecond("UTC")),
    s: vectorFromArray(["kb-01", "é ü 日本", null], new Utf8()),
  } as never);
  const bytes = encodeParquet(table);
  assert.equal(new TextDecoder().decode(bytes.subarray(0, 4)), "PAR1");
  assert.deepEqual(await parquetInfo(bytes), { rows: 3, rowGroups: 1, codecs: ["ZSTD"] });
  const back = decodeParquet(bytes);
  assert.deepEqual(
    back.schema.fields.map((f) => `${f.name}:${f.type}`),
    ["i32:Int32", "i64:Int64", "ts:Timestamp<MILLISECOND, UTC>", "s:Utf8"],
  );
  assert.deepEqual(back.toArray().map((r) => r.toJSON()), [
    { i32: 1, i64: big, ts: Date.UTC(2026, 10, 26, 9), s: "kb-01" },
    { i32: null, i64: -1n, ts: null, s: "é ü 日本" },
    { i32: -3, i64: null, ts: 0, s: null },
  ]);
});

Deno.test("parquet: codecs are selectable and an empty table is a valid file", async () => {
  const t = tableFromArrays({ n: Int32Array.from({ length: 1000 }, (_, i) => i % 10) });
  assert.deepEqual((await parquetInfo(encodeParquet(t, { compression: "snappy" }))).codecs, [
    "SNAPPY",
  ]);
  assert.deepEqual((await parquetInfo(encodeParquet(t, { compression: "none" }))).codecs, [
    "UNCOMPRESSED",
  ]);
  assert.equal(decodeParquet(encodeParquet(t.slice(0, 0))).numRows, 0);
  const grouped = encodeParquet(t, { rowGroupSize: 100 });
  assert.equal(decodeParquet(grouped).numRows, 1000);
  assert.equal((await parquetInfo(grouped)).rowGroups, 10);
});

Deno.test("paths: keys are built zero-padded and parse back", async (t) => {
  await t.step("utc date and hour", () => {
    assert.deepEqual(utcDateHour(Date.UTC(2026, 0, 1, 0, 0, 0)), {
      date: "2026-01-01",
      hour: "00",
    });
    assert.deepEqual(utcDateHour(new Date("2026-12-31T23:59:59.999Z")), {
      date: "2026-12-31",
      hour: "23",
    });
    // 01:30 in Tokyo on Jan 2nd is still Jan 1st in UTC
    assert.deepEqual(utcDateHour(new Date("2026-01-02T01:30:00+09:00")), {
      date: "2026-01-01",
      hour: "16",
    });
    assert.throws(() => utcDateHour(Number.NaN), LakeKeyError);
    // The last hour is cached: alternating hours, an hour's edges and times before 1970 stay exact.
    const hour = 3_600_000;
    const base = Date.UTC(2026, 10, 26, 13);
    for (const ms of [base, base - 1, base, base + hour - 1, base + hour, base - 1, -1, 0, -hour]) {
      const iso = new Date(ms).toISOString();
      assert.deepEqual(utcDateHour(ms), { date: iso.slice(0, 10), hour: iso.slice(11, 13) }, iso);
    }
  });
  await t.step("bronze", () => {
    const parts = {
      topic: "shopstream.orders",
      region: "EU",
      date: "2026-11-26",
      hour: "09",
      partition: 12,
      first: 0n,
      last: 18446744073709551615n,
    };
    const key = bronzeKey(parts);
    assert.equal(
      key,
      "bronze/shopstream.orders/region=EU/date=2026-11-26/hour=09/p012-00000000000000000000-18446744073709551615.parquet",
    );
    assert.deepEqual(parseBronzeKey(key), parts);
    assert.deepEqual(parseLakeKey(key), { layer: "bronze", ...parts });
    assert.throws(() => bronzeKey({ ...parts, first: 5n, last: 4n }), LakeKeyError);
    assert.throws(() => bronzeKey({ ...parts, region: "E/U" }), LakeKeyError);
    assert.throws(() => bronzeKey({ ...parts, hour: "24" }), LakeKeyError);
    assert.throws(() => bronzeKey({ ...parts, partition: 1000 }), LakeKeyError);
    assert.equal(parseBronzeKey(key.replace("p012", "p12")), undefined);
    assert.equal(parseBronzeKey(key.replace(".parquet", ".json")), undefined);
  });
  await t.step("silver, gold and prefixes", () => {
    const s = { topic: "t.x", region: "APAC", date: "2026-01-02", hour: "03" };
    assert.equal(silverKey(s), "silver/t.x/region=APAC/date=2026-01-02/hour=03/part-00000.parquet");
    assert.deepEqual(parseSilverKey(silverKey(s)), s);
    const g = { ...s, table: "orders_hourly" };
    assert.equal(
      goldKey(g),
      "gold/t.x/orders_hourly/region=APAC/date=2026-01-02/hour=03/part-00000.parquet",
    );
    assert.deepEqual(parseGoldKey(goldKey(g)), g);
    assert.equal(parseLakeKey(goldKey(g))?.layer, "gold");
    assert.equal(parseLakeKey("bronze/t/readme.md"), undefined);
    assert.equal(layerPrefix("silver", "t.x"), "silver/t.x/");
    assert.equal(
      layerPrefix("bronze", "t.x", { region: "EU", date: "2026-01-02", hour: "03" }),
      "bronze/t.x/region=EU/date=2026-01-02/hour=03/",
    );
    assert.equal(zeroPad(5n, 20), "00000000000000000005");
    assert.throws(() => zeroPad(-1, 3), LakeKeyError);
  });
});

/** Records as the sink has them: encoded with the writer's schema and decoded again. */
async function sampleRecords() {
  const catalog = await loadCatalog();
  const order = catalog.family("order");
  const [v1, v2] = order.versions;
  const money = (amountMinor: number, currency: string) => ({ amountMinor, currency });
  const envelope = (id: string, at: string, region: string, version: number) => ({
    eventId: id,
    eventType: "order.placed",
    occurredAt: new Date(at),
    region,
    schemaVersion: version,
  });
  const v1Value = {
    envelope: envelope("e-1", "2026-11-26T09:15:00Z", "EU", 1),
    orderId: "o-1",
    customerId: "c-1",
    items: [{ sku: "kb-01", qty: 2, unitPrice: money(1999, "EUR") }],
    total: money(3998, "EUR"),
    status: "PLACED",
  };
  const v2Value = {
    envelope: envelope("e-2", "2026-11-26T09:59:59.999Z", "EU", 2),
    orderId: "o-2",
    customerId: "c-2",
    items: [
      { sku: "ms-02", qty: 1, unitPrice: money(2500, "EUR") },
      { sku: "kb-01", qty: 1, unitPrice: money(1999, "EUR") },
    ],
    total: money(4499, "EUR"),
    status: "SHIPPED",
    channel: "app",
    couponCode: null,
    taxRate: Decimal.parse("0.2100"),
  };
  const decoded1 = v1.type.fromBuffer(v1.type.toBuffer(v1Value));
  const decoded2 = v2.type.fromBuffer(v2.type.toBuffer(v2Value));
  const records: BronzeRecord[] = [
    { partition: 3, offset: "41", timestamp: "1795000000000", schemaId: 7, value: decoded1 },
    { partition: 3, offset: "42", timestamp: 1795000000001, schemaId: 8, value: decoded2 },
  ];
  return { catalog, order, records };
}

Deno.test("bronze: layout is the union of a subject's versions, snake_case", async () => {
  const catalog = await loadCatalog();
  const names = (family: string) =>
    BronzeLayout.forFamily(catalog.family(family)).columns.map((c) => `${c.name}:${c.type}`);
  const head = [
    "_partition:int32",
    "_offset:int64",
    "_kafka_timestamp:timestamp",
    "_schema_id:int32",
    "event_id:utf8",
    "event_type:utf8",
    "occurred_at:timestamp",
    "region:utf8",
    "schema_version:int32",
  ];
  assert.deepEqual(names("order"), [
    ...head,
    "order_id:utf8",
    "customer_id:utf8",
    "items_json:utf8",
    "total_amount_minor:int64",
    "total_currency:utf8",
    "status:utf8",
    "channel:utf8",
    "coupon_code:utf8",
    "tax_rate:utf8",
  ]);
  assert.deepEqual(names("payment").slice(head.length), [
    "payment_id:utf8",
    "order_id:utf8",
    "amount_amount_minor:int64",
    "amount_currency:utf8",
    "method:utf8",
    "status:utf8",
    "settlement_currency:utf8",
    "fx_rate:utf8",
  ]);
  assert.deepEqual(names("shipment").slice(head.length), [
    "shipment_id:utf8",
    "order_id:utf8",
    "carrier:utf8",
    "shipped_at:timestamp",
    "estimated_delivery:timestamp",
  ]);
  // durationMs widened from int (v1) to long (v2): the column is int64
  assert.deepEqual(names("clickstream").slice(head.length), [
    "session_id:utf8",
    "customer_id:utf8",
    "page:utf8",
    "action:utf8",
    "duration_ms:int64",
    "referrer:utf8",
  ]);
  assert.equal(snakeCase("schemaVersion"), "schema_version");
  assert.equal(snakeCase("URLPath"), "url_path");
});

Deno.test("bronze: v1 and v2 records become rows, v1 null in v2-only columns, through Parquet", async () => {
  const { order, records } = await sampleRecords();
  const layout = BronzeLayout.forFamily(order);
  const rows = decodeParquet(encodeBronze(layout, records)).toArray().map((r) => r.toJSON());
  assert.deepEqual(rows, [
    {
      _partition: 3,
      _offset: 41n,
      _kafka_timestamp: 1795000000000,
      _schema_id: 7,
      event_id: "e-1",
      event_type: "order.placed",
      occurred_at: Date.parse("2026-11-26T09:15:00Z"),
      region: "EU",
      schema_version: 1,
      order_id: "o-1",
      customer_id: "c-1",
      items_json: '[{"sku":"kb-01","qty":2,"unitPrice":{"amountMinor":1999,"currency":"EUR"}}]',
      total_amount_minor: 3998n,
      total_currency: "EUR",
      status: "PLACED",
      channel: null,
      coupon_code: null,
      tax_rate: null,
    },
    {
      _partition: 3,
      _offset: 42n,
      _kafka_timestamp: 1795000000001,
      _schema_id: 8,
      event_id: "e-2",
      event_type: "order.placed",
      occurred_at: Date.parse("2026-11-26T09:59:59.999Z"),
      region: "EU",
      schema_version: 2,
      order_id: "o-2",
      customer_id: "c-2",
      items_json: '[{"sku":"ms-02","qty":1,"unitPrice":{"amountMinor":2500,"currency":"EUR"}},' +
        '{"sku":"kb-01","qty":1,"unitPrice":{"amountMinor":1999,"currency":"EUR"}}]',
      total_amount_minor: 4499n,
      total_currency: "EUR",
      status: "SHIPPED",
      channel: "app",
      coupon_code: null,
      tax_rate: "0.2100",
    },
  ]);
});

Deno.test("bronze: object keys, groups and the sink's last-offset rule", async () => {
  const { records } = await sampleRecords();
  assert.equal(
    bronzeObjectKey("shopstream.orders", records),
    "bronze/shopstream.orders/region=EU/date=2026-11-26/hour=09/p003-00000000000000000041-00000000000000000042.parquet",
  );
  const later = {
    ...records[1],
    offset: "43",
    value: {
      ...(records[1].value as object),
      envelope: {
        ...(records[1].value as { envelope: object }).envelope,
        occurredAt: new Date("2026-11-26T10:00:00Z"),
      },
    },
  };
  const groups = groupBronze([records[0], later, records[1]]);
  assert.deepEqual([...groups.keys()], ["p003/EU/2026-11-26/09", "p003/EU/2026-11-26/10"]);
  assert.deepEqual(groups.get("p003/EU/2026-11-26/09")!.records.map((r) => r.offset), ["41", "42"]);
  assert.throws(() => bronzeObjectKey("t", [records[0], later]), BronzeRecordError);
  assert.throws(() => bronzeObjectKey("t", []), BronzeRecordError);
  assert.throws(
    () => bronzeObjectKey("t", [{ ...records[0], value: { orderId: "x" } }]),
    BronzeRecordError,
  );

  const keys = [
    bronzeKey({
      topic: "t",
      region: "EU",
      date: "2026-11-26",
      hour: "09",
      partition: 3,
      first: 0n,
      last: 40n,
    }),
    bronzeKey({
      topic: "t",
      region: "EU",
      date: "2026-11-26",
      hour: "09",
      partition: 3,
      first: 41n,
      last: 42n,
    }),
    bronzeKey({
      topic: "t",
      region: "US",
      date: "2026-11-26",
      hour: "09",
      partition: 3,
      first: 5n,
      last: 6n,
    }),
    bronzeKey({
      topic: "t",
      region: "EU",
      date: "2026-11-26",
      hour: "09",
      partition: 0,
      first: 9n,
      last: 9n,
    }),
    bronzeKey({
      topic: "other",
      region: "EU",
      date: "2026-11-26",
      hour: "09",
      partition: 3,
      first: 0n,
      last: 99n,
    }),
    "bronze/t/region=EU/notes.txt",
  ];
  const last = lastOffsets(keys, "t");
  assert.deepEqual(Object.fromEntries(last), {
    "p003/EU/2026-11-26/09": 42n,
    "p003/US/2026-11-26/09": 6n,
    "p000/EU/2026-11-26/09": 9n,
  });
  assert.equal(lastOffsets(keys).get("p003/EU/2026-11-26/09"), 99n);
});

Deno.test("table: rows -> Arrow -> Parquet -> rows for every lake type, nulls, non-ASCII", () => {
  const columns = [
    { name: "i32", type: "int32" },
    { name: "i64", type: "int64" },
    { name: "f64", type: "float64" },
    { name: "b", type: "bool" },
    { name: "s", type: "utf8" },
    { name: "ts", type: "timestamp" },
  ] as const;
  const rows = Array.from({ length: 1000 }, (_, i) => ({
    i32: i % 5 === 0 ? null : -i,
    i64: i % 7 === 0 ? null : i % 2 ? BigInt(i) * 2n ** 40n : i, // numbers are accepted too
    f64: i % 11 === 0 ? null : i / 4,
    b: i % 13 === 0 ? null : i % 3 === 0,
    s: i % 17 === 0 ? null : ["kb-01", "", "Größe", "日本語 ✓", "😀x", "a".repeat(300)][i % 6],
    ts: i % 19 === 0 ? null : Date.UTC(2026, 0, 1) + i * 1000,
  }));
  const back = tableRows(decodeParquet(encodeParquet(tableFromRows(columns, rows))));
  const expected = rows.map((r) => ({ ...r, i64: r.i64 === null ? null : BigInt(r.i64) }));
  assert.deepEqual(back, expected);
  assert.deepEqual(columnSpecs(tableFromRows(columns, [])), columns);
  assert.throws(() => tableFromRows([{ name: "s", type: "utf8" }], [{ s: 5 }]), TypeError);
  assert.throws(() => tableFromRows([{ name: "n", type: "int64" }], [{ n: 1.5 }]), TypeError);
});

/** Generator records (seed 42, v1 then v2) encoded and decoded as the sink does, per topic. */
async function seededRecords(count: number) {
  const catalog = await loadCatalog();
  const generator = new EventGenerator({
    seed: 42,
    schema: { v2From: count / 2 },
    duplicateShare: 0.01,
  });
  const byTopic = new Map<string, { layout: BronzeLayout; records: BronzeRecord[] }>();
  const next = new Map<string, number>();
  for (const r of generator.take(count)) {
    if (r.value === undefined) continue;
    const family = catalog.family(r.family);
    const type = family.versions[r.version - 1].type;
    // The sink's decoder keeps the writer's shape: the writer's type reads the bytes back.
    const value = type.fromBuffer(type.toBuffer(r.value));
    const partition = r.key.length % 3;
    const slot = `${r.topic}/${partition}`;
    const offset = next.get(slot) ?? 0;
    next.set(slot, offset + 1);
    let topic = byTopic.get(r.topic);
    if (!topic) {
      topic = { layout: BronzeLayout.forFamily(family), records: [] };
      byTopic.set(r.topic, topic);
    }
    topic.records.push({
      partition,
      offset: BigInt(offset),
      timestamp: r.occurredAt + 3,
      schemaId: 100 + r.version,
      value,
    });
  }
  return byTopic;
}

/** Bronze objects of `records` the way the sink wrote them before: decoded, grouped, encoded. */
function objectsDecodedTwice(
  topic: string,
  layout: BronzeLayout,
  records: readonly BronzeRecord[],
  written: (id: string) => bigint | undefined = () => undefined,
): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const { group, records: all } of groupBronze(records).values()) {
    const after = written(bronzeGroupId(group));
    const left = after === undefined ? all : all.filter((r) => BigInt(r.offset) > after);
    if (left.length > 0) out.set(bronzeObjectKey(topic, left), encodeBronze(layout, left));
  }
  return out;
}

/** The same objects through one decode per record: cells into a BronzeBuffer per region. */
function objectsDecodedOnce(
  topic: string,
  layout: BronzeLayout,
  records: readonly BronzeRecord[],
  written: (id: string) => bigint | undefined = () => undefined,
): Map<string, Uint8Array> {
  const buffers = new Map<string, BronzeBuffer>();
  for (const r of records) {
    const group = bronzeGroupOf(r);
    let buffer = buffers.get(group.region);
    if (!buffer) buffers.set(group.region, buffer = new BronzeBuffer(layout));
    buffer.add(group, BigInt(r.offset), layout.cells(r));
  }
  const out = new Map<string, Uint8Array>();
  for (const buffer of buffers.values()) {
    for (const part of buffer.parts(written)) {
      const key = bronzeKey({ topic, ...part.group, first: part.first, last: part.last });
      out.set(key, encodeParquet(part.table(), layout.parquet));
    }
  }
  return out;
}

function assertSameObjects(once: Map<string, Uint8Array>, twice: Map<string, Uint8Array>): number {
  assert.deepEqual([...once.keys()].sort(), [...twice.keys()].sort());
  let rows = 0;
  for (const [key, bytes] of twice) {
    const a = decodeParquet(bytes), b = decodeParquet(once.get(key)!);
    assert.deepEqual(
      b.schema.fields.map((f) => `${f.name}:${f.type}`),
      a.schema.fields.map((f) => `${f.name}:${f.type}`),
      key,
    );
    assert.deepEqual(tableRows(b), tableRows(a), key);
    assert.deepEqual(once.get(key), bytes, `${key}: the Parquet bytes differ`);
    rows += a.numRows;
  }
  return rows;
}

Deno.test("bronze: one decode per record writes the same Parquet as decoding again at flush (seed 42)", async () => {
  const byTopic = await seededRecords(6000);
  assert.equal(byTopic.size, 4);
  let rows = 0;
  for (const [topic, { layout, records }] of byTopic) {
    rows += assertSameObjects(
      objectsDecodedOnce(topic, layout, records),
      objectsDecodedTwice(topic, layout, records),
    );
  }
  assert.equal(rows, [...byTopic.values()].reduce((n, t) => n + t.records.length, 0));
});

Deno.test("bronze: BronzeBuffer's skip rule leaves out the same rows as the old flush", async () => {
  const byTopic = await seededRecords(3000);
  const { layout, records } = byTopic.get("orders")!;
  // Every group written up to its middle offset; one group fully written (left out).
  const written = new Map<string, bigint>();
  for (const [id, { records: rs }] of groupBronze(records)) {
    written.set(id, BigInt(rs[Math.floor(rs.length / 2)].offset));
  }
  const [full] = written.keys();
  written.set(full, 1n << 40n);
  const skip = (id: string) => written.get(id);
  const once = objectsDecodedOnce("orders", layout, records, skip);
  const twice = objectsDecodedTwice("orders", layout, records, skip);
  assert.ok(twice.size > 0 && twice.size < groupBronze(records).size);
  const rows = assertSameObjects(once, twice);
  assert.ok(rows > 0 && rows < records.length);
});

Deno.test("bronze: cells refuse a value a column cannot hold (dead-lettered, not a crashed flush)", async () => {
  const shipment = (await loadCatalog()).family("shipment");
  const layout = BronzeLayout.forFamily(shipment);
  const value = {
    envelope: { region: "EU", occurredAt: new Date(0), eventId: "e", eventType: "t" },
    shipmentId: "s-1",
    shippedAt: new Date(NaN), // a timestamp-millis long past JavaScript's Date range reads so
  };
  const record = { partition: 0, offset: 1n, timestamp: 0, schemaId: 1, value };
  assert.throws(() => layout.toTable([record]), /cannot store/);
  assert.throws(
    () => layout.cells(record),
    (e) =>
      e instanceof BronzeRecordError && e.problem === "bad-value" && /shipped_at/.test(e.message),
  );
});

Deno.test("TableBuilder: the same Arrow buffers as tableFromColumns, growing from a small capacity", () => {
  const columns = [
    { name: "i", type: "int32" },
    { name: "l", type: "int64" },
    { name: "t", type: "timestamp" },
    { name: "s", type: "utf8" },
    { name: "b", type: "bool" },
    { name: "f", type: "float64" },
  ] as const;
  const n = 300;
  const cell = (c: number, i: number): unknown => {
    if ((i * 7 + c) % 11 === 0) return null;
    switch (columns[c].type) {
      case "int32":
        return i - 150;
      case "int64":
        return i % 4 === 0 ? -(2n ** 62n) + BigInt(i) : (i - 150) * 2 ** 33 - i;
      case "timestamp":
        return Date.UTC(2026, 11, 5) + i;
      case "utf8":
        return i % 5 === 0 ? `é ü 日本 ${i}` : `id-${i}`;
      case "bool":
        return i % 3 === 0;
      case "float64":
        return i / 7;
    }
  };
  const values = columns.map((_, c) => Array.from({ length: n }, (_, i) => cell(c, i)));
  const builder = new TableBuilder(columns, 10);
  for (let i = 0; i < n; i++) builder.append(columns.map((_, c) => values[c][i]));
  const expected = tableFromColumns(columns, values);
  const table = builder.table();
  assert.deepEqual(tableToIPC(table, "stream"), tableToIPC(expected, "stream"));
  // The table shares the builder's buffers: rows appended afterwards leave it as it was.
  for (let i = 0; i < 5; i++) builder.append(columns.map((_, c) => values[c][i + 1]));
  assert.deepEqual(tableToIPC(table, "stream"), tableToIPC(expected, "stream"));
  assert.equal(builder.table().numRows, n + 5);
  const picked = [299, 0, 150, 7];
  const all = tableRows(expected);
  assert.deepEqual(tableRows(builder.table(picked)), picked.map((i) => all[i]));
  assert.equal(tableRows(builder.table([])).length, 0);
});

Deno.test("parquet: plainColumns are written without a dictionary, the others with one", async () => {
  const order = (await loadCatalog()).family("order");
  const layout = BronzeLayout.forFamily(order);
  assert.deepEqual(layout.parquet.plainColumns, [
    "_offset",
    "_kafka_timestamp",
    "event_id",
    "occurred_at",
    "items_json",
    "total_amount_minor",
  ]);
  const { records } = await sampleRecords();
  const file = await pw.ParquetFile.fromFile(
    new Blob([encodeBronze(layout, records) as Uint8Array<ArrayBuffer>]),
  );
  try {
    const dictionary = new Map<string, boolean>();
    for (const column of file.metadata().rowGroup(0).columns()) {
      const encodings = column.encodings().map((e) => pw.Encoding[e]);
      dictionary.set(
        column.columnPath().join("."),
        encodings.some((e) => e.includes("DICTIONARY")),
      );
    }
    for (const c of layout.columns) {
      assert.equal(dictionary.get(c.name), !layout.parquet.plainColumns!.includes(c.name), c.name);
    }
  } finally {
    file.free();
  }
});
