/**
 * End to end against the live stack: a topic holding order v1 and v2 records
 * plus bad ones is read by one v2 consumer. Good records decode into the v2
 * shape; bytes without the magic byte, an unknown schema id, a corrupt body
 * and a record breaking a rule land in the dead-letter topic with reasons.
 * Producers refuse invalid values with the path of every bad field.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createKafka } from "../lib/kafka/client.ts";
import { type DeadLetterInfo, readDeadLetter } from "../lib/kafka/dlq.ts";
import { type PartitionedMessage, sendVerified } from "../lib/kafka/verified.ts";
import {
  AvroSerde,
  ContractConsumer,
  ContractDecoder,
  Decimal,
  loadCatalog,
  RegistryClient,
  SchemaValidationError,
} from "../lib/schema/mod.ts";
import { config, requireKafka, requireRegistry, uniqueName, waitFor } from "./support.ts";

const envelope = (v: number, i: number) => ({
  eventId: `evt-${i}`,
  eventType: "order.placed",
  occurredAt: new Date(Date.UTC(2026, 10, 25, 12, 0, i)),
  region: "EU",
  schemaVersion: v,
});
const eur = (amountMinor: number) => ({ amountMinor, currency: "EUR" });
const order = (v: number, i: number, qty = 1) => ({
  envelope: envelope(v, i),
  orderId: `o-${i}`,
  customerId: `c-${i % 3}`,
  items: [{ sku: "kb-01", qty, unitPrice: eur(4990) }],
  total: eur(4990 * qty),
  status: "PLACED",
  ...(v === 2 ? { channel: "app", couponCode: null, taxRate: Decimal.parse("0.21") } : {}),
});

Deno.test("mixed v1/v2 topic: one reader shape, bad records dead-lettered with reasons", async () => {
  await requireKafka();
  await requireRegistry();
  const topic = uniqueName("test.schema.orders");
  const dlq = uniqueName("test.schema.dlq");
  const groupId = uniqueName("test-schema-reader");
  const kafka = createKafka(config, { clientId: "schema-e2e" });
  const admin = kafka.admin();
  const producer = kafka.producer({ idempotent: true });
  const serde = new AvroSerde({ url: config.schemaRegistry.url });
  const registry = new RegistryClient(config.schemaRegistry.url);
  const [v1, v2] = (await loadCatalog()).family("order").versions;
  await admin.connect();
  await producer.connect();
  let consumer: ContractConsumer<ReturnType<typeof order>> | undefined;
  try {
    await admin.createTopics({
      topics: [{ topic, numPartitions: 2 }, { topic: dlq, numPartitions: 2 }],
      waitForLeaders: true,
    });

    // Producers validate before anything is sent.
    const bad = order(1, 99);
    (bad.items as unknown[]).push(bad.items[0], { sku: "x", qty: "3", unitPrice: eur(1) });
    await assert.rejects(
      () => serde.encode(topic, v1, bad),
      (e: unknown) =>
        e instanceof SchemaValidationError &&
        e.issues.map(String).includes('items[2].qty: expected int, got "3"'),
    );

    const good: PartitionedMessage[] = [];
    for (let i = 0; i < 4; i++) {
      const v = i % 2 === 0 ? v1 : v2;
      const value = await serde.encode(topic, v, order(v.version, i));
      good.push({ key: `o-${i}`, value, partition: i % 2 });
    }
    const v1Bytes = await serde.encode(topic, v1, order(1, 10));
    const unknownId = Buffer.from(v1Bytes);
    unknownId.writeInt32BE(2_000_000_000, 1);
    const badOnes: PartitionedMessage[] = [
      { key: "json", value: Buffer.from('{"orderId":"o-x"}'), partition: 0 },
      { key: "unknown-id", value: unknownId, partition: 1 },
      { key: "truncated", value: v1Bytes.subarray(0, 9), partition: 0 },
      { key: "zero-qty", value: await serde.encode(topic, v2, order(2, 11, 0)), partition: 1 },
    ];
    await sendVerified(producer, { topic, acks: -1, messages: [...good, ...badOnes] });

    const decoded: { key: string | null; value: ReturnType<typeof order>; schemaId: number }[] = [];
    const decoder = new ContractDecoder<ReturnType<typeof order>>(serde, v2.type, [
      (o) =>
        o.items.flatMap((item, i) => item.qty >= 1 ? [] : [`items[${i}].qty: must be at least 1`]),
    ]);
    consumer = new ContractConsumer({
      config,
      topic,
      groupId,
      decoder,
      deadLetterTopic: dlq,
      onRecord: (value, meta) =>
        void decoded.push({ key: meta.key, value, schemaId: meta.schemaId }),
    });
    await consumer.connect();
    await consumer.run();
    const c = consumer;
    await waitFor(
      "4 decoded and 4 dead-lettered records",
      () =>
        decoded.length === 4 &&
        Object.values(c.stats.deadLettered).reduce((a, b) => a + b, 0) === 4,
      60_000,
    );
    await consumer.disconnect();
    consumer = undefined;

    // The same bytes decode without a promise now that both writer schemas were fetched,
    // with the same outcomes; an unseen schema id asks for the registry (undefined).
    const v1Again = decoder.decodeSync(v1Bytes);
    assert.equal(v1Again?.ok, true, "decodeSync on a fetched writer schema");
    assert.deepEqual(v1Again, await decoder.decode(v1Bytes));
    const truncated = decoder.decodeSync(v1Bytes.subarray(0, 9));
    assert.equal(truncated?.ok === false && truncated.reason, "deserialization");
    const unseen = new Uint8Array([0, 0x7f, 0xff, 0xff, 0xf0, 2]);
    assert.equal(decoder.decodeSync(unseen), undefined, "unknown id: decode() must ask");
    assert.equal((await decoder.decode(unseen)).ok, false);

    // prepare: one request per schema id for a whole batch; the ids the registry does not
    // know come back, and decodeSync classifies their records without asking again.
    const counted = new AvroSerde({ url: config.schemaRegistry.url });
    const asked: number[] = [];
    const getSchema = counted.registry.getSchema.bind(counted.registry);
    counted.registry.getSchema = ((id: number) => {
      asked.push(id);
      return getSchema(id);
    }) as typeof counted.registry.getSchema;
    const batch = [v1Bytes, unseen, v1Bytes, unknownId, unseen, Buffer.from("{}"), null];
    const fresh = new ContractDecoder(counted, v2.type);
    const missing = await fresh.prepare(batch);
    const sorted = (ids: Iterable<number>) => [...ids].sort((a, b) => a - b);
    assert.deepEqual(sorted(missing), [2_000_000_000, 0x7ffffff0]);
    assert.deepEqual(sorted(asked), [v1Bytes.readInt32BE(1), 2_000_000_000, 0x7ffffff0]);
    const outcomes = batch.map((v) => fresh.decodeSync(v, missing));
    assert.deepEqual(
      outcomes.map((o) => o?.ok || o?.reason),
      [
        true,
        "unknown-schema",
        true,
        "unknown-schema",
        "unknown-schema",
        "deserialization",
        "deserialization",
      ],
    );
    assert.deepEqual(outcomes[1], await fresh.decode(unseen), "the same outcome as decode()");
    assert.equal(asked.length, 4, "only decode() asked again");

    decoded.sort((a, b) => a.key!.localeCompare(b.key!));
    assert.deepEqual(decoded.map((d) => d.key), ["o-0", "o-1", "o-2", "o-3"]);
    assert.equal(new Set(decoded.map((d) => d.schemaId)).size, 2, "two writer schemas");
    for (const d of decoded) {
      const fromV1 = d.value.envelope.schemaVersion === 1;
      assert.equal(d.value.channel, fromV1 ? "web" : "app", "v1 records get v2's default");
      assert.equal(d.value.taxRate!.toString(), fromV1 ? "0.0000" : "0.2100");
      assert.ok(d.value.envelope.occurredAt instanceof Date);
    }

    // Read the dead-letter topic back with a plain consumer: every bad record, with its reason.
    const reader = kafka.consumer({ groupId: `${groupId}-dlq` });
    const letters: (DeadLetterInfo & { key: string })[] = [];
    await reader.connect();
    try {
      await reader.subscribe({ topic: dlq, fromBeginning: true });
      await reader.run({
        eachMessage: ({ message }) => {
          const info = readDeadLetter(message);
          if (info) letters.push({ ...info, key: message.key?.toString() ?? "" });
          return Promise.resolve();
        },
      });
      await waitFor("4 dead letters", () => letters.length >= 4, 60_000);
    } finally {
      await reader.disconnect();
    }
    const byKey = Object.fromEntries(letters.map((l) => [l.key, l]));
    assert.deepEqual(Object.keys(byKey).sort(), ["json", "truncated", "unknown-id", "zero-qty"]);
    assert.equal(byKey["json"].reason, "deserialization");
    assert.match(byKey["json"].error, /no Confluent magic byte/);
    assert.equal(byKey["unknown-id"].reason, "unknown-schema");
    assert.match(byKey["unknown-id"].error, /schema id 2000000000 is not in the registry/);
    assert.equal(byKey["truncated"].reason, "deserialization");
    assert.equal(byKey["zero-qty"].reason, "validation");
    assert.match(byKey["zero-qty"].error, /items\[0\]\.qty: must be at least 1/);
    for (const l of letters) {
      assert.equal(l.topic, topic);
      assert.equal(l.group, groupId);
    }
  } finally {
    await consumer?.disconnect();
    await producer.disconnect();
    await admin.deleteTopics({ topics: [topic, dlq] }).catch(() => {});
    await admin.deleteGroups([groupId, `${groupId}-dlq`]).catch(() => {});
    await admin.disconnect();
    await registry.deleteSubject(`${topic}-value`);
  }
});
