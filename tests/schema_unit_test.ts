/**
 * Unit tests of lib/schema without services: the schemas/ catalogue, logical
 * types (Date, exact Decimal), validation by path, subject naming, the wire
 * format, and the compatibility verdicts on the shipped schemas (the
 * examples break as documented).
 */
import assert from "node:assert/strict";
import avsc from "avsc";
import { Buffer } from "node:buffer";
import {
  avroOptions,
  checkCompatibility,
  Decimal,
  loadCatalog,
  loadSchemaFile,
  parseWireFormat,
  SCHEMAS_DIR,
  SchemaValidationError,
  subjectName,
  validate,
  wireSchemaId,
} from "../lib/schema/mod.ts";
import { WireWriter } from "../lib/schema/serde.ts";
import { assertValid } from "../lib/schema/validate.ts";

const catalog = await loadCatalog();

const envelope = (v: number) => ({
  eventId: "6f1c2a4e-0000-4000-8000-000000000001",
  eventType: "order.placed",
  occurredAt: new Date("2026-11-25T12:00:00.123Z"),
  region: "EU",
  schemaVersion: v,
});
const eur = (amountMinor: number) => ({ amountMinor, currency: "EUR" });
const orderV1 = {
  envelope: envelope(1),
  orderId: "o-1",
  customerId: "c-1",
  items: [{ sku: "kb-01", qty: 2, unitPrice: eur(4990) }],
  total: eur(9980),
  status: "PLACED",
};

Deno.test("catalogue: every family, versions in order, shared types inlined, docs everywhere", () => {
  assert.deepEqual(catalog.families.map((f) => f.name), [
    "clickstream",
    "order",
    "payment",
    "shipment",
  ]);
  assert.deepEqual(catalog.family("order").versions.map((v) => v.version), [1, 2]);
  assert.deepEqual([...catalog.named.keys()].sort(), [
    "shopstream.common.Envelope",
    "shopstream.common.Money",
  ]);
  for (const f of catalog.families) {
    for (const v of f.versions) {
      assert.ok(v.text.includes('"name":"Envelope"'), `${v.file} inlines the envelope`);
      assert.ok(
        !v.text.includes('"type":"float"') && !v.text.includes('"type":"double"'),
        "no floats",
      );
      assert.doesNotThrow(() => avsc.Type.forSchema(JSON.parse(v.text)), "self-contained");
    }
  }
  assert.throws(() => catalog.family("refunds"), /no schema family "refunds".*order/);
});

Deno.test("catalogue: a file without docs or with an unknown type is refused with the fix", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const bad = `${dir}/bad.avsc`;
    await Deno.writeTextFile(
      bad,
      JSON.stringify({
        type: "record",
        name: "X",
        fields: [{ name: "a", type: "int" }],
      }),
    );
    await assert.rejects(() => loadSchemaFile(bad, catalog.named), /fields without a "doc": a/);
    await Deno.writeTextFile(
      bad,
      JSON.stringify({
        type: "record",
        name: "X",
        fields: [{ name: "a", type: "Envelope", doc: "d" }],
      }),
    );
    await assert.rejects(
      () => loadSchemaFile(bad, catalog.named),
      /unknown type "Envelope".*full name/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("decimal: exact parse, rescale, equality, two's complement round trips", () => {
  const d = Decimal.parse("-1234.50");
  assert.deepEqual([d.unscaled, d.scale, d.toString()], [-123450n, 2, "-1234.50"]);
  assert.equal(Decimal.parse("0.1").rescale(3).toString(), "0.100");
  assert.throws(() => Decimal.parse("0.125").rescale(2), /round it explicitly/);
  assert.throws(() => Decimal.parse("1e5"), /not a decimal number/);
  assert.ok(Decimal.parse("1.50").equals(Decimal.parse("1.5")));
  const t = avsc.Type.forSchema(
    { type: "bytes", logicalType: "decimal", precision: 12, scale: 4 } as avsc.Schema,
    avroOptions(),
  );
  for (const s of ["0", "0.0001", "-0.0001", "12.7", "-12.8", "99999999.9999", "-99999999.9999"]) {
    const back = t.fromBuffer(t.toBuffer(Decimal.parse(s))) as Decimal;
    assert.ok(back.equals(Decimal.parse(s)), `${s} -> ${back}`);
  }
  // 0.1 + 0.2 in floats is 0.30000000000000004; in Decimal it is exact.
  const sum = new Decimal(Decimal.parse("0.1").unscaled + Decimal.parse("0.2").unscaled, 1);
  assert.equal(sum.toString(), "0.3");
  assert.equal(t.isValid(Decimal.parse("1.00001")), false, "more digits than the scale");
  assert.equal(t.isValid(Decimal.parse("123456789.0")), false, "more digits than the precision");
  assert.equal(t.isValid(12.5), false, "a float is never a decimal");
});

Deno.test("logical types: timestamps are Dates; order v2 round-trips exactly", () => {
  const v2 = catalog.family("order").latest;
  const value = {
    ...orderV1,
    envelope: envelope(2),
    status: "SHIPPED",
    channel: "app",
    couponCode: null,
    taxRate: Decimal.parse("0.2100"),
  };
  const back = v2.type.fromBuffer(v2.type.toBuffer(value));
  assert.ok(back.envelope.occurredAt instanceof Date);
  assert.equal(back.envelope.occurredAt.toISOString(), "2026-11-25T12:00:00.123Z");
  assert.equal(back.taxRate.toString(), "0.2100");
  assert.equal(back.items[0].unitPrice.amountMinor, 4990);
});

Deno.test("payment v2: an optional exact exchange rate in a union", () => {
  const v2 = catalog.family("payment").latest;
  const payment = (fxRate: Decimal | null) => ({
    envelope: { ...envelope(2), eventType: "payment.captured" },
    paymentId: "p-1",
    orderId: "o-1",
    amount: { amountMinor: 1999, currency: "USD" },
    method: "CARD",
    status: "CAPTURED",
    settlementCurrency: fxRate ? "EUR" : null,
    fxRate,
  });
  const rate = Decimal.parse("0.92345678");
  const back = v2.type.fromBuffer(v2.type.toBuffer(payment(rate)));
  assert.equal(back.fxRate.toString(), "0.92345678");
  assert.equal(v2.type.fromBuffer(v2.type.toBuffer(payment(null))).fxRate, null);
  assert.deepEqual(validate(v2.type, payment(Decimal.parse("0.123456789"))).map(String), [
    "fxRate: expected null | decimal, got Decimal(0.123456789)",
  ]);
});

Deno.test("mixed versions: v1 data reads as v2 with defaults; v2 data reads as v1", () => {
  const [v1, v2] = catalog.family("order").versions;
  const asV2 = v2.type.fromBuffer(v1.type.toBuffer(orderV1), v2.type.createResolver(v1.type));
  assert.deepEqual([asV2.channel, asV2.couponCode, asV2.taxRate.toString()], [
    "web",
    null,
    "0.0000",
  ]);
  const shipped = {
    ...orderV1,
    status: "SHIPPED",
    channel: "app",
    couponCode: null,
    taxRate: Decimal.parse("0"),
  };
  const asV1 = v1.type.fromBuffer(v2.type.toBuffer(shipped), v1.type.createResolver(v2.type));
  assert.equal(asV1.status, "UNKNOWN", "a symbol v1 does not know falls back to the enum default");
});

Deno.test("validation names every bad field by path", () => {
  const v1 = catalog.family("order").versions[0];
  const bad = {
    ...orderV1,
    envelope: { ...envelope(1), occurredAt: "2026-11-25", region: "MARS" },
    items: [...orderV1.items, orderV1.items[0], { sku: "x", qty: "3", unitPrice: eur(1.5) }],
    extra: true,
  };
  delete (bad as Record<string, unknown>).customerId;
  assert.deepEqual(validate(v1.type, bad).map(String), [
    'envelope.occurredAt: expected timestamp-millis, got "2026-11-25"',
    'envelope.region: expected one of EU, US, APAC, UNKNOWN, got "MARS"',
    "customerId: expected string (the field has no default), got nothing",
    'items[2].qty: expected int, got "3"',
    "items[2].unitPrice.amountMinor: expected long, got 1.5",
    "extra: expected no such field, got true",
  ]);
  assert.deepEqual(validate(v1.type, orderV1), []);
  assert.throws(() => assertValid(v1.type, bad), SchemaValidationError);
  try {
    assertValid(v1.type, bad);
  } catch (err) {
    assert.ok(err instanceof SchemaValidationError);
    assert.equal(err.issues.length, 6);
    assert.match(
      err.message,
      /6 problems\); fix these fields before sending:\n {2}envelope\.occurredAt/,
    );
  }
});

Deno.test("subject naming strategies", () => {
  const name = "shopstream.order.OrderEvent";
  assert.equal(subjectName("topic", "shopstream.orders", name), "shopstream.orders-value");
  assert.equal(subjectName("topic", "shopstream.orders", name, true), "shopstream.orders-key");
  assert.equal(subjectName("record", "shopstream.orders", name), name);
  assert.equal(subjectName("topic-record", "t", name), `t-${name}`);
  // deno-lint-ignore no-explicit-any
  assert.throws(() => subjectName("nope" as any, "t", name), /unknown subject strategy/);
});

Deno.test("wire format: magic byte, big-endian id, body", () => {
  assert.deepEqual(parseWireFormat(new Uint8Array([0, 0, 1, 0, 2, 9, 9])), {
    schemaId: 256 * 256 + 2,
    body: new Uint8Array([9, 9]),
  });
  assert.equal(parseWireFormat(new Uint8Array([1, 0, 0, 0, 2, 9])), undefined, "wrong magic byte");
  assert.equal(parseWireFormat(new Uint8Array([0, 0, 0])), undefined, "too short");
  assert.equal(parseWireFormat(null), undefined);
  // The id alone, as a signed 32-bit big-endian integer, as DataView reads it.
  for (const id of [0, 1, 258, 0x7fffffff, -1, -0x80000000, 100_000_123]) {
    const framed = new Uint8Array(6);
    new DataView(framed.buffer).setInt32(1, id, false);
    assert.equal(wireSchemaId(framed), id);
    assert.equal(parseWireFormat(framed)?.schemaId, id);
  }
  assert.equal(wireSchemaId(new Uint8Array([1, 0, 0, 0, 2])), undefined, "wrong magic byte");
  assert.equal(wireSchemaId(new Uint8Array([0, 0, 0, 2])), undefined, "too short");
  assert.equal(wireSchemaId(null), undefined);
});

Deno.test("wire writer: framed values in shared slabs, never overwritten", () => {
  const t = avsc.Type.forSchema({
    type: "record",
    name: "W",
    fields: [{ name: "id", type: "int" }, { name: "text", type: "string" }],
  });
  const writer = new WireWriter(64);
  const values = Array.from({ length: 50 }, (_, i) => ({ id: i, text: "x".repeat(i * 3) }));
  // Values from 3 to 150 bytes: several slabs, some values bigger than a slab.
  const written = values.map((v, i) => writer.write(1000 + i, t, v));
  written.forEach((bytes, i) => {
    const wire = parseWireFormat(bytes);
    assert.ok(wire, `value ${i} is framed`);
    assert.equal(wire.schemaId, 1000 + i);
    assert.deepEqual({ ...t.fromBuffer(Buffer.from(wire.body)) }, values[i]);
    assert.deepEqual(Buffer.from(wire.body), t.toBuffer(values[i]), `value ${i}: avsc's own bytes`);
  });
  assert.throws(() => new WireWriter(8), RangeError);
});

Deno.test("the shipped evolutions pass BACKWARD; every example breaks what its doc says", async () => {
  for (const f of catalog.families) {
    for (let i = 1; i < f.versions.length; i++) {
      const history = f.versions.slice(0, i).map((v) => ({ version: v.version, schema: v.text }));
      const r = checkCompatibility("BACKWARD_TRANSITIVE", f.versions[i].text, history);
      assert.ok(r.compatible, `${f.name} v${i + 1}: ${r.problems.map((p) => p.explanation)}`);
    }
  }
  const breaks: Record<string, [boolean, boolean]> = {
    "order_v2_required_field.avsc": [false, true],
    "order_v2_drop_customer.avsc": [true, false],
    "order_v2_qty_string.avsc": [false, false],
    "clickstream_v2_rename_no_alias.avsc": [false, false],
    "payment_v2_enum_symbol_removed.avsc": [false, true],
  };
  const seen: string[] = [];
  for await (const entry of Deno.readDir(`${SCHEMAS_DIR}examples`)) {
    const ex = await loadSchemaFile(`${SCHEMAS_DIR}examples/${entry.name}`, catalog.named);
    const v1 = catalog.family(entry.name.split("_")[0]).versions[0];
    const prev = [{ version: 1, schema: v1.text }];
    const got = [
      checkCompatibility("BACKWARD", ex.text, prev).compatible,
      checkCompatibility("FORWARD", ex.text, prev).compatible,
    ];
    assert.deepEqual(got, breaks[entry.name], entry.name);
    seen.push(entry.name);
  }
  assert.deepEqual(seen.sort(), Object.keys(breaks).sort());
});
