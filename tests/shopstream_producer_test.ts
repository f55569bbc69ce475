/**
 * The ShopStream producer service against the live stack: its topics get RF
 * 3, 6 partitions and `min.insync.replicas=2`; a small run with
 * malformed records, duplicates and a v2 switch mid-stream is written to
 * unique topics, then read back by an independent kafkajs consumer and
 * decoded with a fresh AvroSerde. Counts per topic, per region and per
 * malformed kind equal the generator's tally; keys are orderId / sessionId;
 * every malformed record is broken the way it claims. A run whose batches
 * (malformed records among them) the brokers refuse ends in `DeliveryError`
 * from `run()`, never in an unhandled rejection.
 */
import assert from "node:assert/strict";
import type { Buffer } from "node:buffer";
import { createKafka } from "../lib/kafka/client.ts";
import { ClusterAdmin } from "../lib/kafka/admin.ts";
import { AvroSerde, parseWireFormat, RegistryClient } from "../lib/schema/mod.ts";
import { DeliveryError } from "../lib/kafka/producer.ts";
import {
  CONTRACT_RULES,
  FAMILY_OF,
  ShopStreamProducer,
  type ShopTopics,
  TOPIC_KEYS,
  type TopicKey,
  topicsUnder,
} from "../lib/shopstream/mod.ts";
import { config, requireKafka, requireRegistry, uniqueName, waitFor } from "./support.ts";

interface Seen {
  topic: TopicKey;
  key: string;
  value: Buffer | null;
}

Deno.test("producer service: what the cluster holds equals the tally", async (t) => {
  await requireKafka();
  await requireRegistry();
  const base = uniqueName("test.shop");
  const topics: ShopTopics = topicsUnder(base);
  const kafka = createKafka(config, { clientId: "shopstream-producer-test" });
  const admin = new ClusterAdmin(kafka);
  const registry = new RegistryClient(config.schemaRegistry.url);
  const n = 3000;
  const service = new ShopStreamProducer(kafka, config, {
    topics,
    events: n,
    generator: {
      seed: 99,
      malformedShare: 0.05,
      duplicateShare: 0.03,
      schema: { v2From: 1500 },
    },
    progressEvery: 1000,
  });
  const consumer = kafka.consumer({ groupId: uniqueName("test-shop-reader") });
  await admin.connect();
  try {
    await t.step("topics are created with 6 partitions (dlq 3), RF 3, min ISR 2", async () => {
      await service.connect();
      for (const key of [...TOPIC_KEYS, "deadLetter"] as const) {
        const info = await admin.describeTopic(topics[key]);
        assert.equal(info.partitions.length, key === "deadLetter" ? 3 : 6, key);
        for (const p of info.partitions) assert.equal(p.replicas.length, 3);
        const cfg = await admin.topicConfig(topics[key]);
        assert.equal(cfg["min.insync.replicas"].value, "2");
      }
      const subjects = await registry.subjects();
      for (const key of TOPIC_KEYS) assert.ok(subjects.includes(`${topics[key]}-value`));
    });

    const progress: number[] = [];
    await t.step("a bounded run acknowledges every record", async () => {
      const summary = await service.run();
      assert.equal(summary.records, n);
      assert.equal(summary.acknowledged, n);
      assert.equal(summary.stopped, false);
      const counters = service.counters();
      const totals = service.tally.totals();
      assert.equal(Object.values(counters.produced).reduce((a, b) => a + b, 0), n);
      assert.equal(
        Object.values(counters.malformedProduced).reduce((a, b) => a + b, 0),
        totals.malformed,
      );
      assert.ok(totals.malformed > 50 && totals.duplicates > 30, JSON.stringify(totals));
      progress.push(summary.records);
    });

    await t.step("stop() before run() produces nothing (Ctrl-C during start-up)", async () => {
      service.stop();
      const summary = await service.run();
      assert.equal(summary.records, 0);
      assert.equal(summary.stopped, true);
      assert.equal(service.tally.totals().produced, n);
    });

    await t.step("an independent reader finds exactly the tallied records", async () => {
      const seen: Seen[] = [];
      const byTopicName = new Map(TOPIC_KEYS.map((k) => [topics[k], k]));
      await consumer.connect();
      await consumer.subscribe({ topics: TOPIC_KEYS.map((k) => topics[k]), fromBeginning: true });
      await consumer.run({
        eachMessage: ({ topic, message }) => {
          seen.push({
            topic: byTopicName.get(topic)!,
            key: message.key!.toString(),
            value: message.value,
          });
          return Promise.resolve();
        },
      });
      await waitFor(`${n} records (have ${seen.length})`, () => seen.length >= n, 60_000);
      await consumer.stop();
      assert.equal(seen.length, n);
      // The log-end offsets agree too (no record beyond what was read).
      let ends = 0;
      for (const key of TOPIC_KEYS) ends += await admin.recordsAppended(topics[key]);
      assert.equal(ends, n);

      const reader = new AvroSerde({ url: config.schemaRegistry.url });
      const produced: Record<string, number> = {};
      const malformed: Record<string, number> = {};
      const regions: Record<string, number> = {};
      const versions: Record<string, number> = {};
      const eventIds = new Map<string, number>();
      for (const r of seen) {
        produced[r.topic] = (produced[r.topic] ?? 0) + 1;
        const framed = parseWireFormat(r.value);
        if (!framed) {
          JSON.parse(r.value!.toString()); // JSON text: what a no-magic record claims to be
          malformed[`${r.topic}|no-magic`] = (malformed[`${r.topic}|no-magic`] ?? 0) + 1;
          continue;
        }
        let value: Record<string, unknown>;
        try {
          value = await reader.decode(r.value!) as Record<string, unknown>;
        } catch (e) {
          assert.ok(framed.schemaId >= 2_000_000_000, `decode failed: ${(e as Error).message}`);
          const k = `${r.topic}|unknown-schema`;
          malformed[k] = (malformed[k] ?? 0) + 1;
          continue;
        }
        const envelope = value.envelope as {
          eventId: string;
          region: string;
          schemaVersion: number;
        };
        assert.equal(r.key, r.topic === "clickstream" ? value.sessionId : value.orderId, "key");
        if (
          CONTRACT_RULES[FAMILY_OF[r.topic]].flatMap((rule) => rule(value)).length > 0
        ) {
          malformed[`${r.topic}|contract`] = (malformed[`${r.topic}|contract`] ?? 0) + 1;
          continue;
        }
        regions[`${r.topic}|${envelope.region}`] = (regions[`${r.topic}|${envelope.region}`] ??
          0) + 1;
        versions[envelope.schemaVersion] = (versions[envelope.schemaVersion] ?? 0) + 1;
        eventIds.set(envelope.eventId, (eventIds.get(envelope.eventId) ?? 0) + 1);
      }
      const tally = service.tally;
      for (const key of TOPIC_KEYS) {
        const tt = tally.topic(key);
        assert.equal(produced[key] ?? 0, tt.produced, `${key} produced`);
        for (const [kind, count] of Object.entries(tt.malformedByKind)) {
          assert.equal(malformed[`${key}|${kind}`] ?? 0, count, `${key} ${kind}`);
        }
        for (const region of ["EU", "US", "APAC"] as const) {
          assert.equal(
            regions[`${key}|${region}`] ?? 0,
            tally.region(key, region),
            `${key} ${region}`,
          );
        }
      }
      const repeats = [...eventIds.values()].reduce((s, c) => s + c - 1, 0);
      assert.equal(repeats, tally.totals().duplicates, "duplicates: events seen more than once");
      assert.equal(eventIds.size, tally.totals().silver, "distinct events");
      assert.ok(
        versions[1] > 0 && versions[2] > 0,
        `v1 and v2 both present: ${JSON.stringify(versions)}`,
      );
    });
  } finally {
    await consumer.disconnect().catch(() => {});
    await service.disconnect().catch(() => {});
    await admin.deleteTopics(Object.values(topics)).catch(() => {});
    for (const key of TOPIC_KEYS) {
      await registry.deleteSubject(`${topics[key]}-value`).catch(() => {});
    }
    await admin.disconnect();
  }
});

Deno.test("producer service: refused batches with malformed records end in DeliveryError", async () => {
  await requireKafka();
  await requireRegistry();
  const topics: ShopTopics = topicsUnder(uniqueName("test.shop-refused"));
  const kafka = createKafka(config, { clientId: "shopstream-producer-test", level: 0 });
  const admin = new ClusterAdmin(kafka);
  await admin.connect();
  // Every batch is larger than the topics accept: the brokers refuse each one for good
  // (MESSAGE_TOO_LARGE), after which the malformed records' acknowledgements reject.
  for (const name of Object.values(topics)) {
    await admin.createTopic(name, { partitions: 3, configs: { "max.message.bytes": "64" } });
  }
  const service = new ShopStreamProducer(kafka, config, {
    topics,
    events: 300,
    generator: { seed: 5, malformedShare: 0.3 },
    producer: { lingerMs: 5 },
  });
  try {
    await service.connect();
    await assert.rejects(service.run(), DeliveryError);
    assert.equal(service.counters().malformedProduced[topics.orders], 0);
  } finally {
    await service.disconnect().catch(() => {});
    await admin.deleteTopics(Object.values(topics)).catch(() => {});
    await admin.disconnect();
  }
});
