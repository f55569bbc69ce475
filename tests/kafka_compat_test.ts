/**
 * kafkajs 2.2.4 against the pinned Kafka release (4.4.0): produce, consume in
 * a group, commit, and transactions (commit and abort, read_committed),
 * idempotently with acks=all and gzip. This is the check behind pinning the
 * newest Kafka release (stack.kafkaVersion, the same in both stack modes).
 */
import assert from "node:assert/strict";
import type { Consumer, Kafka } from "kafkajs";
import { createKafka } from "../lib/kafka/client.ts";
import { config, requireKafka, uniqueName, waitFor } from "./support.ts";

async function consumeValues(
  kafka: Kafka,
  topic: string,
  groupId: string,
  expected: number,
  options: { readUncommitted?: boolean; autoCommit?: boolean } = {},
): Promise<{ values: string[]; consumer: Consumer }> {
  const consumer = kafka.consumer({
    groupId,
    maxWaitTimeInMs: 200,
    readUncommitted: options.readUncommitted ?? false,
  });
  const values: string[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    autoCommit: options.autoCommit ?? true,
    eachMessage: ({ message }) => {
      values.push(message.value!.toString());
      return Promise.resolve();
    },
  });
  await waitFor(`${expected} records in ${topic}`, () => values.length >= expected, 60_000);
  return { values, consumer };
}

Deno.test("kafkajs against the pinned Kafka", async (t) => {
  await requireKafka();
  const kafka = createKafka(config, { clientId: "test-compat" });
  const admin = kafka.admin();
  await admin.connect();
  const topic = uniqueName("test.compat");
  const txTopic = uniqueName("test.compat.tx");
  try {
    await admin.createTopics({
      topics: [{ topic, numPartitions: 3, replicationFactor: 3 }, {
        topic: txTopic,
        numPartitions: 1,
        replicationFactor: 3,
      }],
      waitForLeaders: true,
    });

    await t.step("idempotent acks=all gzip produce", async () => {
      const { CompressionTypes } = await import("kafkajs");
      const producer = kafka.producer({ idempotent: true });
      await producer.connect();
      try {
        const meta = await producer.send({
          topic,
          acks: -1,
          compression: CompressionTypes.GZIP,
          messages: Array.from({ length: 30 }, (_, i) => ({
            partition: i % 3,
            key: `k${i}`,
            value: `v${i}`,
            headers: { source: "compat" },
          })),
        });
        assert.deepEqual(meta.map((m) => m.partition).sort(), [0, 1, 2]);
        assert.ok(meta.every((m) => m.errorCode === 0));
      } finally {
        await producer.disconnect();
      }
    });

    await t.step("a group consumes everything and commits its offsets", async () => {
      const groupId = uniqueName("test.compat.group");
      const { values, consumer } = await consumeValues(kafka, topic, groupId, 30);
      await consumer.disconnect(); // commits on the way out
      assert.equal(new Set(values).size, 30);
      const committed = await admin.fetchOffsets({ groupId, topics: [topic] });
      const total = committed[0].partitions.reduce((n, p) => n + Number(p.offset), 0);
      assert.equal(total, 30, "committed offsets cover all 30 records");
      await admin.deleteGroups([groupId]);
    });

    await t.step(
      "transactions: committed records visible to read_committed, aborted ones not",
      async () => {
        const producer = kafka.producer({
          transactionalId: uniqueName("test.compat.txid"),
          idempotent: true,
          maxInFlightRequests: 1,
        });
        await producer.connect();
        try {
          const committed = await producer.transaction();
          await committed.send({
            topic: txTopic,
            messages: [{ partition: 0, value: "committed-1" }, {
              partition: 0,
              value: "committed-2",
            }],
          });
          await committed.commit();
          const aborted = await producer.transaction();
          await aborted.send({ topic: txTopic, messages: [{ partition: 0, value: "aborted-1" }] });
          await aborted.abort();
          const last = await producer.transaction();
          await last.send({ topic: txTopic, messages: [{ partition: 0, value: "committed-3" }] });
          await last.commit();
        } finally {
          await producer.disconnect();
        }
        const committedView = await consumeValues(kafka, txTopic, uniqueName("test.compat.rc"), 3);
        await new Promise((r) => setTimeout(r, 500));
        await committedView.consumer.disconnect();
        assert.deepEqual(committedView.values, ["committed-1", "committed-2", "committed-3"]);
        const rawView = await consumeValues(kafka, txTopic, uniqueName("test.compat.ru"), 4, {
          readUncommitted: true,
        });
        await rawView.consumer.disconnect();
        assert.ok(rawView.values.includes("aborted-1"), "read_uncommitted sees the aborted record");
      },
    );
  } finally {
    await admin.deleteTopics({ topics: [topic, txTopic] }).catch(() => {});
    await admin.disconnect();
  }
});
