/**
 * TopicProducer, GroupConsumer and ClusterAdmin on the live cluster: order
 * per key across partitions (sync and batched sends, delivery reports that
 * name the real offsets), a group of three with disjoint partitions that
 * loses nothing when a member leaves, a poison record that goes to the
 * dead-letter topic while the consumer carries on, the codecs, the region
 * partitioner, acks 0/1/all, seek, pause and resume.
 */
import assert from "node:assert/strict";
import type { Kafka } from "kafkajs";
import { ClusterAdmin } from "../lib/kafka/admin.ts";
import { createKafka } from "../lib/kafka/client.ts";
import { type Assignment, GroupConsumer } from "../lib/kafka/consumer.ts";
import { readDeadLetter } from "../lib/kafka/dlq.ts";
import { RetriableError } from "../lib/kafka/errors.ts";
import { javaPartition, regionPartitioner, UnknownRegionError } from "../lib/kafka/partitioners.ts";
import { compressionAvailable, type DeliveryReport, TopicProducer } from "../lib/kafka/producer.ts";
import { registerCodecs } from "../lib/kafka/codecs.ts";
import { produceEncoderStats } from "../lib/kafka/produce_encoder.ts";
import { config, requireKafka, uniqueName, waitFor } from "./support.ts";

interface Seen {
  partition: number;
  offset: string;
  key: string;
  value: string;
}

/** Collects every record of `topic` in a fresh group until `expected` have arrived. */
async function collect(kafka: Kafka, topic: string, expected: number): Promise<Seen[]> {
  const groupId = uniqueName("test.kafka.reader");
  const consumer = new GroupConsumer(kafka, { groupId, topics: [topic], fromBeginning: true });
  const seen: Seen[] = [];
  await consumer.connect();
  try {
    await consumer.run({
      eachBatch: ({ batch }) => {
        for (const m of batch.messages) {
          seen.push({
            partition: batch.partition,
            offset: m.offset,
            key: m.key!.toString(),
            value: m.value!.toString(),
          });
        }
        return Promise.resolve();
      },
    });
    await waitFor(
      `${expected} records from ${topic} (have ${seen.length})`,
      () => seen.length >= expected,
      60_000,
    );
  } finally {
    await consumer.disconnect();
  }
  return seen;
}

function disjointAndComplete(assignments: Assignment[], topic: string, partitions: number) {
  const all = assignments.flatMap((a) => a[topic] ?? []);
  return all.length === partitions && new Set(all).size === partitions;
}

Deno.test("kafka clients: producer, consumer group, dead letters", async (t) => {
  await requireKafka();
  const kafka = createKafka(config, { clientId: "test-kafka-clients" });
  const admin = new ClusterAdmin(kafka);
  await admin.connect();
  const topics: string[] = [];
  const groups: string[] = [];
  const newTopic = async (prefix: string, partitions: number) => {
    const topic = uniqueName(prefix);
    topics.push(topic);
    await admin.createTopic(topic, { partitions, replicationFactor: 3 });
    return topic;
  };
  try {
    await t.step("order per key across partitions; reports name the real offsets", async () => {
      const topic = await newTopic("test.kafka.order", 6);
      const producer = new TopicProducer(kafka, { topic, lingerMs: 2, batchSize: 50 });
      await producer.connect();
      const reports = new Map<string, DeliveryReport>(); // value -> report
      const encodedBefore = produceEncoderStats.ours;
      try {
        // 20 keys x 30 sequence numbers: the first half with awaited sends, the
        // second half through the batching queue with several batches in flight.
        for (let seq = 0; seq < 15; seq++) {
          const messages = Array.from({ length: 20 }, (_, k) => ({
            key: `key-${k}`,
            value: `key-${k}#${seq}`,
          }));
          const rs = await producer.send(messages);
          rs.forEach((r, i) => reports.set(messages[i].value, r));
        }
        const pending: Promise<void>[] = [];
        for (let seq = 15; seq < 30; seq++) {
          for (let k = 0; k < 20; k++) {
            const value = `key-${k}#${seq}`;
            pending.push(
              producer.enqueue({ key: `key-${k}`, value }).then((r) => {
                reports.set(value, r);
              }),
            );
          }
        }
        await producer.flush();
        await Promise.all(pending);
        assert.equal(producer.metrics().records, 600);
      } finally {
        await producer.disconnect();
      }
      const seen = await collect(kafka, topic, 600);
      assert.equal(seen.length, 600, "no duplicates");
      const lastSeq = new Map<string, number>();
      for (const r of seen) {
        assert.equal(r.partition, javaPartition(r.key, 6), `${r.key} where Java puts it`);
        const seq = Number(r.value.split("#")[1]);
        assert.ok(seq > (lastSeq.get(r.key) ?? -1), `${r.key}: ${seq} after ${lastSeq.get(r.key)}`);
        lastSeq.set(r.key, seq);
        const report = reports.get(r.value)!;
        assert.deepEqual([report.partition, report.offset], [r.partition, r.offset], r.value);
      }
      assert.equal(lastSeq.size, 20);
      assert.ok([...lastSeq.values()].every((s) => s === 29));
      // The requests went through lib/kafka's one-buffer encoder, and the broker took them.
      assert.ok(produceEncoderStats.ours > encodedBefore, "produce requests encoded by lib/kafka");
    });

    await t.step("a batch over the topic's max.message.bytes is split, none lost", async () => {
      // The broker refuses a record batch larger than the topic's max.message.bytes with
      // MESSAGE_TOO_LARGE; the producer splits such a request in halves and sends them again.
      const topic = uniqueName("test.kafka.too-large");
      topics.push(topic);
      await admin.createTopic(topic, {
        partitions: 1,
        replicationFactor: 3,
        configs: { "max.message.bytes": "20000" },
      });
      const producer = new TopicProducer(kafka, { topic, lingerMs: 0, batchSize: 200 });
      await producer.connect();
      const value = (i: number) => `${i}:`.padEnd(1000, "x");
      try {
        const reports = await producer.send(
          Array.from({ length: 100 }, (_, i) => ({ key: `k${i}`, value: value(i) })),
        );
        assert.deepEqual(reports.map((r) => Number(r.offset)), reports.map((_, i) => i));
        await assert.rejects(
          producer.send([{ value: "y".repeat(30_000) }]),
          /larger than the max message size/,
          "one record over the limit fails alone, with the broker's answer",
        );
      } finally {
        await producer.disconnect();
      }
      const seen = await collect(kafka, topic, 100);
      assert.deepEqual(seen.map((r) => r.value), Array.from({ length: 100 }, (_, i) => value(i)));
    });

    await t.step("a group of three: disjoint partitions; one leaves, nothing is lost", async () => {
      const topic = await newTopic("test.kafka.group", 6);
      const groupId = uniqueName("test.kafka.group");
      groups.push(groupId);
      const received: string[] = [];
      const members = [0, 1, 2].map(() =>
        new GroupConsumer(kafka, {
          groupId,
          topics: [topic],
          fromBeginning: true,
          autoCommitIntervalMs: 500,
        })
      );
      const producer = new TopicProducer(kafka, { topic });
      await producer.connect();
      const produce = (from: number, to: number) =>
        producer.send(
          Array.from(
            { length: to - from },
            (_, i) => ({ key: `k${from + i}`, value: `v${from + i}` }),
          ),
        );
      try {
        for (const m of members) {
          await m.connect();
          await m.run({
            eachMessage: ({ message }) => {
              received.push(message.value!.toString());
            },
          });
        }
        // Stable when the coordinator and every member's own rebalance event agree.
        const stable = async (expected: GroupConsumer[]) => {
          const g = await admin.describeGroup(groupId);
          if (g.state !== "Stable" || g.members.length !== expected.length) return false;
          const byId = new Map(g.members.map((m) => [m.memberId, m.assignment]));
          return expected.every((m) =>
            JSON.stringify(byId.get(m.memberId)) === JSON.stringify(m.assignment)
          ) && disjointAndComplete(expected.map((m) => m.assignment), topic, 6);
        };
        await waitFor("three members with disjoint partitions", () => stable(members), 60_000);
        for (const m of members) {
          assert.equal(m.assignment[topic].length, 2, "6 partitions over 3 members");
          assert.ok(m.rebalances.length >= 1, "rebalance events reach the caller");
        }
        await produce(0, 300);
        await waitFor(`300 records (have ${received.length})`, () => received.length >= 300);

        const leaver = members.pop()!;
        const leftPartitions = leaver.assignment[topic];
        await leaver.disconnect();
        await waitFor("two members cover all six partitions", () => stable(members), 60_000);
        const took = members.flatMap((m) => m.assignment[topic]);
        for (const p of leftPartitions) assert.ok(took.includes(p), `partition ${p} taken over`);

        await produce(300, 600);
        await waitFor(
          `600 distinct records (have ${new Set(received).size})`,
          () => new Set(received).size >= 600,
        );
        const missing = Array.from({ length: 600 }, (_, i) => `v${i}`).filter((v) =>
          !received.includes(v)
        );
        assert.deepEqual(missing, [], "no record lost");
      } finally {
        await producer.disconnect();
        for (const m of members) await m.disconnect();
      }
      const lag = await admin.lag(groupId, topic);
      assert.equal(lag.length, 6);
    });

    await t.step(
      "five members of one group on one client, one partition: none crashes",
      async () => {
        // kafkajs shares a group's offset cache among one client's consumers and a joining member
        // clears it (see lib/kafka/mod.ts); GroupConsumer takes a client of its own.
        const topic = await newTopic("test.kafka.shared", 1);
        const groupId = uniqueName("test.kafka.shared");
        groups.push(groupId);
        const received = new Set<string>();
        const errors: string[] = [];
        const producer = new TopicProducer(kafka, { topic });
        const members: GroupConsumer[] = [];
        await producer.connect();
        try {
          for (let i = 0; i < 5; i++) {
            const member = new GroupConsumer(kafka, {
              groupId,
              topics: [topic],
              fromBeginning: true,
              autoCommitIntervalMs: 200,
              onCrash: (e) => errors.push(`crash: ${e.message}`),
              onRestart: (e) => errors.push(`restart: ${e.message}`),
            });
            members.push(member);
            await member.connect();
            await member.run({
              eachMessage: ({ message }) => {
                received.add(message.value!.toString());
                return Promise.resolve();
              },
            });
            await producer.send(
              Array.from({ length: 40 }, (_, j) => ({ key: "k", value: `${i}-${j}` })),
            );
            await waitFor(`${40 * (i + 1)} records`, () => received.size >= 40 * (i + 1), 60_000);
          }
        } finally {
          await producer.disconnect();
          for (const m of members) await m.disconnect();
        }
        assert.equal(received.size, 200);
        assert.deepEqual(errors, [], "no member crashed or was restarted");
      },
    );

    await t.step(
      "a poison record goes to the DLQ with reason and origin; the rest go on",
      async () => {
        const topic = await newTopic("test.kafka.poison", 3);
        const dlq = await newTopic("test.kafka.dlq", 3);
        const groupId = uniqueName("test.kafka.poison");
        groups.push(groupId);
        const producer = new TopicProducer(kafka, { topic });
        await producer.connect();
        try {
          await producer.send([
            { partition: 1, key: "a", value: JSON.stringify({ n: 1 }) },
            { partition: 1, key: "b", value: "{not json" },
            { partition: 1, key: "c", value: JSON.stringify({ n: 3, flaky: true }) },
            { partition: 1, key: "d", value: JSON.stringify({ n: 4 }) },
          ]);
        } finally {
          await producer.disconnect();
        }
        const processed: number[] = [];
        let flakyAttempts = 0;
        const consumer = new GroupConsumer(kafka, {
          groupId,
          topics: [topic],
          fromBeginning: true,
          deadLetter: { topic: dlq, retries: 2, backoffMs: 10 },
        });
        await consumer.connect();
        try {
          await consumer.run({
            eachMessage: ({ message }) => {
              const order = JSON.parse(message.value!.toString());
              if (order.flaky) {
                flakyAttempts++;
                throw new RetriableError("inventory service unavailable");
              }
              processed.push(order.n);
            },
          });
          await waitFor("records after the poison ones processed", () => processed.includes(4));
        } finally {
          await consumer.disconnect();
        }
        assert.deepEqual(processed, [1, 4]);
        assert.equal(flakyAttempts, 3, "one try and two retries");
        assert.deepEqual(consumer.deadLettered.map((d) => [d.offset, d.reason]), [
          ["1", "deserialization"],
          ["2", "retries-exhausted"],
        ]);

        const letters = await collect(kafka, dlq, 2);
        const reader = new GroupConsumer(kafka, {
          groupId: uniqueName("test.kafka.dlqreader"),
          topics: [dlq],
          fromBeginning: true,
        });
        const infos: ReturnType<typeof readDeadLetter>[] = [];
        await reader.connect();
        try {
          await reader.run({
            eachMessage: ({ message }) => void infos.push(readDeadLetter(message)),
          });
          await waitFor("two dead letters with headers", () => infos.length >= 2);
        } finally {
          await reader.disconnect();
        }
        assert.deepEqual(
          letters.map((l) => l.value).sort(),
          [
            "{not json",
            JSON.stringify({ n: 3, flaky: true }),
          ].sort(),
        );
        const byOffset = new Map(infos.map((i) => [i!.offset, i!]));
        const poison = byOffset.get("1")!;
        assert.equal(poison.reason, "deserialization");
        assert.equal(poison.topic, topic);
        assert.equal(poison.partition, 1);
        assert.equal(poison.group, groupId);
        assert.match(poison.error, /SyntaxError/);
        assert.equal(byOffset.get("2")!.reason, "retries-exhausted");
        assert.match(byOffset.get("2")!.error, /inventory service unavailable/);
        const lag = await admin.lag(groupId, topic);
        assert.equal(lag.find((l) => l.partition === 1)!.committed, "4", "all four committed");
        // To reprocess, an operator resets the (now empty) group's offsets.
        await admin.resetOffsets(groupId, topic, "earliest");
        const reset = await admin.lag(groupId, topic);
        assert.equal(reset.find((l) => l.partition === 1)!.lag, 4, "four records to read again");
      },
    );

    await t.step(
      "gzip, snappy and zstd batches are accepted by the broker and read back",
      async () => {
        const codecs = await registerCodecs();
        assert.deepEqual(codecs, ["gzip", "snappy", "zstd"]);
        assert.equal(compressionAvailable("lz4"), false, "no lz4 codec works under Deno");
        assert.throws(() => new TopicProducer(kafka, { topic: "x", compression: "lz4" }), /lz4/);
        const topic = await newTopic("test.kafka.codecs", 1);
        const value = "compressible ".repeat(100);
        for (const compression of codecs) {
          const producer = new TopicProducer(kafka, { topic, compression });
          await producer.connect();
          try {
            await producer.send(
              Array.from({ length: 50 }, (_, i) => ({ key: compression, value: `${value}${i}` })),
            );
          } finally {
            await producer.disconnect();
          }
        }
        const seen = await collect(kafka, topic, 150);
        for (const compression of codecs) {
          const mine = seen.filter((r) => r.key === compression).map((r) => r.value);
          assert.deepEqual(mine, Array.from({ length: 50 }, (_, i) => `${value}${i}`), compression);
        }
      },
    );

    await t.step("a custom region partitioner keeps each region on its partitions", async () => {
      const topic = await newTopic("test.kafka.region", 6);
      const producer = new TopicProducer(kafka, {
        topic,
        partitioner: regionPartitioner({ eu: [0, 1], us: [2, 3], apac: [4, 5] }),
      });
      await producer.connect();
      try {
        const reports = await producer.send(
          ["eu", "us", "apac"].flatMap((region) =>
            Array.from({ length: 20 }, (_, i) => ({ key: `${region}:c${i}`, value: region }))
          ),
        );
        assert.equal(reports.length, 60);
        await assert.rejects(producer.send([{ key: "mars:1", value: "?" }]), UnknownRegionError);
      } finally {
        await producer.disconnect();
      }
      const seen = await collect(kafka, topic, 60);
      const ranges: Record<string, number[]> = { eu: [0, 1], us: [2, 3], apac: [4, 5] };
      for (const r of seen) {
        assert.ok(ranges[r.value].includes(r.partition), `${r.key} on ${r.partition}`);
      }
    });

    await t.step("acks 0, 1 and all: what each answer says", async () => {
      const topic = await newTopic("test.kafka.acks", 3);
      const reports: Record<string, DeliveryReport[]> = {};
      for (const acks of [0, 1, -1] as const) {
        const producer = new TopicProducer(kafka, { topic, acks });
        assert.equal(producer.idempotent, acks === -1, "idempotence only with acks=all");
        await producer.connect();
        try {
          reports[acks] = await producer.send(
            Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: `acks${acks}-${i}` })),
          );
        } finally {
          await producer.disconnect();
        }
      }
      assert.ok(reports[0].every((r) => r.offset === "-1"), "acks=0: the broker answers nothing");
      assert.ok(reports[1].every((r) => Number(r.offset) >= 0), "acks=1: the leader's offset");
      assert.ok(reports[-1].every((r) => Number(r.offset) >= 0), "acks=all: the offset");
      assert.throws(
        () => new TopicProducer(kafka, { topic, acks: 1, idempotent: true }),
        /idempotent producer needs acks=-1/,
      );
      const seen = await collect(kafka, topic, 30);
      assert.equal(seen.length, 30, "all three wrote their records on a healthy cluster");
    });

    await t.step("seek to earliest, a timestamp and latest; pause and resume", async () => {
      const topic = await newTopic("test.kafka.seek", 1);
      const producer = new TopicProducer(kafka, { topic });
      await producer.connect();
      const before = Date.now() - 60_000;
      try {
        await producer.send(
          Array.from({ length: 5 }, (_, i) => ({
            key: "k",
            value: `old${i}`,
            timestamp: String(before + i),
          })),
        );
        await producer.send([{ key: "k", value: "new0", timestamp: String(Date.now()) }]);
      } finally {
        await producer.disconnect();
      }
      const cutoff = before + 3;
      const groupId = uniqueName("test.kafka.seek");
      groups.push(groupId);
      const values: string[] = [];
      const consumer = new GroupConsumer(kafka, { groupId, topics: [topic], fromBeginning: true });
      await consumer.connect();
      try {
        await consumer.run({
          eachMessage: ({ message }) => void values.push(message.value!.toString()),
        });
        await waitFor("6 records", () => values.length >= 6);
        values.length = 0;
        await consumer.seek("earliest");
        await waitFor("6 records again after seek(earliest)", () => values.length >= 6);
        assert.equal(values[0], "old0");
        values.length = 0;
        await consumer.seek({ timestamp: cutoff });
        await waitFor("3 records from the timestamp on", () => values.length >= 3);
        assert.deepEqual(values.slice(0, 3), ["old3", "old4", "new0"]);
        consumer.pause();
        values.length = 0;
        await consumer.seek({ offset: "5" });
        const p2 = new TopicProducer(kafka, { topic });
        await p2.connect();
        await p2.send([{ key: "k", value: "after-pause" }]);
        await p2.disconnect();
        consumer.resume();
        await waitFor("records after resume", () => values.includes("after-pause"));
        assert.deepEqual(values, ["new0", "after-pause"]);
      } finally {
        await consumer.disconnect();
      }
    });
  } finally {
    await admin.deleteTopics(topics).catch(() => {});
    await admin.deleteGroups(groups).catch(() => {});
    await admin.disconnect();
  }
});
