/**
 * The live stack: 3 brokers (the controller id they report is a random live broker in KRaft); an RF 3 topic takes acks=all
 * writes and a group consumer reads them back; losing a broker (one run of
 * the broker-kill drill) leaves acks=all writes working and loses no
 * acknowledged record; `up` a second time changes nothing. The kill needs
 * the cluster alone: run under `flock -x /tmp/shopstream-fault.lock`.
 */
import assert from "node:assert/strict";
import type { Kafka } from "kafkajs";
import { createKafka } from "../lib/kafka/client.ts";
import { sendVerified } from "../lib/kafka/verified.ts";
import { brokerKillRun, brokerKillTable, openDrill } from "../lib/drill/mod.ts";
import { openStack } from "../lib/stack/mod.ts";
import { config, requireKafka, uniqueName, waitFor } from "./support.ts";
import { ClusterAdmin } from "../lib/kafka/admin.ts";

/** Reads every record of `topic` with a fresh group; returns values by partition. */
async function readAll(kafka: Kafka, topic: string, expected: number): Promise<string[]> {
  const consumer = kafka.consumer({ groupId: uniqueName("test.reader"), maxWaitTimeInMs: 200 });
  const seen: string[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachBatch: ({ batch }) => {
        for (const m of batch.messages) seen.push(m.value!.toString());
        return Promise.resolve();
      },
    });
    await waitFor(
      `${expected} records from ${topic} (have ${seen.length})`,
      () => seen.length >= expected,
      60_000,
    );
    // Let anything beyond `expected` (duplicates) arrive too.
    const settle = seen.length;
    await new Promise((r) => setTimeout(r, 1000));
    if (seen.length !== settle) await new Promise((r) => setTimeout(r, 2000));
  } finally {
    await consumer.disconnect();
  }
  return seen;
}

Deno.test("stack: live cluster", async (t) => {
  await requireKafka();
  const kafka = createKafka(config, { clientId: "test-stack" });
  const clusterAdmin = new ClusterAdmin(kafka);
  await clusterAdmin.connect();
  const admin = clusterAdmin.raw;
  const topics: string[] = [];
  try {
    await t.step(
      "3 brokers; the reported controller id is one of them (KRaft: any live broker)",
      async () => {
        const cluster = await admin.describeCluster();
        assert.deepEqual(cluster.brokers.map((b) => b.nodeId).sort(), [1, 2, 3]);
        assert.ok([1, 2, 3].includes(cluster.controller!), `controller ${cluster.controller}`);
        const ports = cluster.brokers.map((b) => `${b.host}:${b.port}`).sort();
        assert.deepEqual(
          ports,
          [...config.kafka.brokers].sort(),
          "advertised listeners match config",
        );
      },
    );

    await t.step(
      "an RF 3 topic takes an acks=all write; a group consumer reads it back",
      async () => {
        const topic = uniqueName("test.stack.roundtrip");
        topics.push(topic);
        await admin.createTopics({
          topics: [{ topic, numPartitions: 3, replicationFactor: 3 }],
          waitForLeaders: true,
        });
        const meta = await admin.fetchTopicMetadata({ topics: [topic] });
        for (const p of meta.topics[0].partitions) assert.equal(p.replicas.length, 3);
        const producer = kafka.producer({ idempotent: true });
        await producer.connect();
        try {
          const messages = Array.from(
            { length: 30 },
            (_, i) => ({ partition: i % 3, key: `k${i}`, value: `v${i}` }),
          );
          await sendVerified(producer, { topic, acks: -1, messages });
        } finally {
          await producer.disconnect();
        }
        const values = await readAll(kafka, topic, 30);
        assert.deepEqual([...values].sort(), Array.from({ length: 30 }, (_, i) => `v${i}`).sort());
      },
    );

    await t.step(
      "a killed broker: acks=all writes go on, no acknowledged record is lost",
      async () => {
        // One run of the broker-kill drill (lib/drill): a partition leader SIGKILLed
        // mid-stream, the broker restarted, the log counted by GetOffsetShell and a fresh
        // consumer, the ISR full again before this step ends.
        const drill = await openDrill(config, { clientId: "test-stack" });
        try {
          const row = await brokerKillRun(drill, { run: 1, partition: 0, killAtSend: 9 }, {
            records: 1980,
            batch: 99,
          });
          console.log(`    ${brokerKillTable([row]).split("\n").join("\n    ")}`);
          assert.equal(row.failed, 0, "every send acknowledged (two replicas stayed in sync)");
          assert.equal(row.acknowledged, 1980);
          assert.equal(row.lost, 0, `lost: ${row.lostSample.join(", ")}`);
        } finally {
          await drill.close();
        }
      },
    );

    await t.step("`up` on a running stack is a no-op", async () => {
      const stack = await openStack(config);
      const before = await stack.status();
      const started = Date.now();
      await stack.up();
      const after = await stack.status();
      assert.deepEqual(after, before, "same processes, same state");
      assert.ok(Date.now() - started < 30_000, `second up took ${Date.now() - started} ms`);
    });
  } finally {
    if (topics.length) await admin.deleteTopics({ topics }).catch(() => {});
    await clusterAdmin.disconnect();
  }
});
