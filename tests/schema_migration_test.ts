/**
 * A breaking schema change migrated through a new topic, live: the registry
 * refuses v2 on the old topic's subject under BACKWARD (409); dual writes and
 * a backfill then put every event on the new topic exactly once, in v2's
 * shape, as counted by an independent reader (a plain kafkajs consumer that
 * decodes with the registry and checks each record's schema id).
 */
import assert from "node:assert/strict";
import type { Buffer } from "node:buffer";
import { ClusterAdmin } from "../lib/kafka/admin.ts";
import { createKafka } from "../lib/kafka/client.ts";
import { TopicProducer } from "../lib/kafka/producer.ts";
import {
  AvroSerde,
  backfillTopic,
  DualWriter,
  inlineSchema,
  refusedChange,
  RegistryClient,
  type TopicMigration,
} from "../lib/schema/mod.ts";
import { config, requireKafka, requireRegistry, uniqueName } from "./support.ts";

type V1 = { paymentId: string; amount: string };
type V2 = { paymentId: string; amountMinor: number; currency: string };

const V1_SCHEMA = inlineSchema({
  type: "record",
  name: "Payment",
  namespace: "test.migration",
  fields: [{ name: "paymentId", type: "string" }, { name: "amount", type: "string" }],
});
const V2_SCHEMA = inlineSchema({
  type: "record",
  name: "Payment",
  namespace: "test.migration",
  fields: [
    { name: "paymentId", type: "string" },
    { name: "amountMinor", type: "long" },
    { name: "currency", type: "string" },
  ],
});

const cents = (amount: string) => {
  const [whole, frac = ""] = amount.split(".");
  return Number(whole) * 100 + Number(frac.padEnd(2, "0").slice(0, 2));
};

Deno.test("schema migration: refused under BACKWARD, then a new topic with dual writes and a backfill", async () => {
  await requireKafka();
  await requireRegistry();
  const kafka = createKafka(config, { clientId: "test-schema-migration" });
  const registry = new RegistryClient(config.schemaRegistry.url);
  const serde = new AvroSerde({ url: config.schemaRegistry.url });
  const base = uniqueName("test.migration.payments");
  const migration: TopicMigration<V1, V2> = {
    from: { topic: `${base}.v1`, schema: V1_SCHEMA },
    to: { topic: `${base}.v2`, schema: V2_SCHEMA },
    upcast: (v1) => ({ paymentId: v1.paymentId, amountMinor: cents(v1.amount), currency: "EUR" }),
    downcast: (v2) => ({ paymentId: v2.paymentId, amount: (v2.amountMinor / 100).toFixed(2) }),
    key: (v2) => v2.paymentId,
  };
  const admin = new ClusterAdmin(kafka);
  await admin.connect();
  const subjects = [`${base}.v1-value`, `${base}.v2-value`];
  const reader = kafka.consumer({ groupId: `${base}.reader` });
  try {
    await admin.createTopic(migration.from.topic, { partitions: 3 });
    await registry.setCompatibility(subjects[0], "BACKWARD");
    // Before the migration: 40 payments in v1 only, 3 partitions.
    const encodeV1 = await serde.encoderFor(migration.from.topic, V1_SCHEMA);
    const old = new TopicProducer(kafka, { topic: migration.from.topic, acks: -1 });
    await old.connect();
    const history = Array.from({ length: 40 }, (_, i) => ({
      paymentId: `p-${i}`,
      amount: `${i}.${String(i % 100).padStart(2, "0")}`,
    }));
    await old.send(history.map((v) => ({ key: v.paymentId, value: encodeV1(v) })));
    await old.disconnect();

    const refusal = await refusedChange(registry, subjects[0], V2_SCHEMA.text);
    assert.equal(refusal.status, 409);
    assert.match(refusal.message, /incompatible/i);
    assert.match(refusal.reason, /amountMinor/, "the reason names the field");
    assert.deepEqual(await registry.versions(subjects[0]), [1], "v2 did not join the v1 subject");

    await admin.createTopic(migration.to.topic, { partitions: 3 });
    const writer = new DualWriter(kafka, serde, migration);
    const cutover = await writer.start();
    assert.equal(Object.values(cutover).reduce((a, b) => a + b, 0), 40, "cutover = the history");
    const fresh: V2[] = Array.from({ length: 25 }, (_, i) => ({
      paymentId: `p-${40 + i}`,
      amountMinor: 1000 + i,
      currency: "EUR",
    }));
    const wrote = await writer.write(fresh);
    await writer.stop();
    assert.equal(wrote.length, 25);
    const back = await backfillTopic(kafka, serde, migration, cutover);
    assert.deepEqual(back, { read: 40, written: 40 });

    // The independent reader: every record of the new topic, decoded, with its schema id.
    const v2Id = (await registry.version(subjects[1], "latest")).id;
    const seen = new Map<string, V2>();
    let records = 0;
    const all = Promise.withResolvers<void>();
    await reader.connect();
    await reader.subscribe({ topic: migration.to.topic, fromBeginning: true });
    await reader.run({
      eachMessage: async ({ message }) => {
        const bytes = message.value as Buffer;
        assert.equal(
          bytes.readInt32BE(1),
          v2Id,
          "every record on the new topic is written with v2",
        );
        const value = await serde.decode(bytes) as V2;
        records++;
        seen.set(value.paymentId, { ...value });
        if (records >= 65) all.resolve();
      },
    });
    const timer = setTimeout(() => all.reject(new Error(`read ${records} of 65`)), 30_000);
    await all.promise.finally(() => clearTimeout(timer));
    assert.equal(records, 65, "no duplicates");
    assert.equal(await admin.recordsAppended(migration.to.topic), 65, "the brokers' count");
    for (const v of history) {
      assert.deepEqual(seen.get(v.paymentId), {
        paymentId: v.paymentId,
        amountMinor: cents(v.amount),
        currency: "EUR",
      });
    }
    for (const v of fresh) assert.deepEqual(seen.get(v.paymentId), v);
    // The old topic got the dual-written events too, for readers not yet moved.
    assert.equal(await admin.recordsAppended(migration.from.topic), 65);
  } finally {
    await reader.disconnect().catch(() => {});
    await admin.deleteGroups([`${base}.reader`]).catch(() => {});
    await admin.deleteTopics([migration.from.topic, migration.to.topic]).catch(() => {});
    await admin.disconnect();
    for (const s of subjects) await registry.deleteSubject(s);
  }
});

Deno.test("schema migration: refusedChange throws when the registry accepts the change", async () => {
  await requireRegistry();
  const registry = new RegistryClient(config.schemaRegistry.url);
  const subject = `${uniqueName("test.migration.accepts")}-value`;
  try {
    await registry.setCompatibility(subject, "BACKWARD");
    await registry.register(subject, V1_SCHEMA.text);
    const withDefault = JSON.stringify({
      ...JSON.parse(V1_SCHEMA.text),
      fields: [...JSON.parse(V1_SCHEMA.text).fields, {
        name: "currency",
        type: "string",
        default: "EUR",
      }],
    });
    await assert.rejects(
      () => refusedChange(registry, subject, withDefault),
      /the registry accepted the change/,
    );
  } finally {
    await registry.deleteSubject(subject);
  }
});

Deno.test("schema migration: inlineSchema names the record with its namespace", () => {
  assert.equal(V1_SCHEMA.fullName, "test.migration.Payment");
  assert.equal(inlineSchema({ type: "record", name: "a.b.C", fields: [] }).fullName, "a.b.C");
  assert.equal(JSON.parse(V2_SCHEMA.text).fields.length, 3);
  assert.ok(V2_SCHEMA.type.isValid({ paymentId: "p", amountMinor: 1, currency: "EUR" }));
});
