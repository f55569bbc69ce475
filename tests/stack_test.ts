/**
 * The live stack: 3 brokers and a controller; an RF 3 topic takes acks=all
 * writes and a group consumer reads them back; losing a broker (SIGKILL of a
 * partition leader while a send is in flight) leaves acks=all writes working
 * and loses no acknowledged record, counted by a fresh consumer and the
 * brokers' own offsets; `up` a second time changes nothing.
 */
import assert from "node:assert/strict";
import type { Admin, Kafka } from "kafkajs";
import { createKafka } from "../lib/kafka/client.ts";
import { sendVerified } from "../lib/kafka/verified.ts";
import { openStack } from "../lib/ops/stack/mod.ts";
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

async function endOffsets(admin: Admin, topic: string): Promise<number> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets.reduce((n, o) => n + Number(o.high) - Number(o.low), 0);
}

Deno.test("stack: live cluster", async (t) => {
  await requireKafka();
  const kafka = createKafka(config, { clientId: "test-stack" });
  const clusterAdmin = new ClusterAdmin(kafka);
  await clusterAdmin.connect();
  const admin = clusterAdmin.raw;
  const topics: string[] = [];
  try {
    await t.step("3 brokers and an active controller", async () => {
      const cluster = await admin.describeCluster();
      assert.deepEqual(cluster.brokers.map((b) => b.nodeId).sort(), [1, 2, 3]);
      assert.ok([1, 2, 3].includes(cluster.controller!), `controller ${cluster.controller}`);
      const ports = cluster.brokers.map((b) => `${b.host}:${b.port}`).sort();
      assert.deepEqual(
        ports,
        [...config.kafka.brokers].sort(),
        "advertised listeners match config",
      );
    });

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
        const stack = await openStack(config);
        const topic = uniqueName("test.stack.brokerloss");
        topics.push(topic);
        await admin.createTopics({
          topics: [{
            topic,
            numPartitions: 3,
            replicationFactor: 3,
            configEntries: [{ name: "min.insync.replicas", value: "2" }],
          }],
          waitForLeaders: true,
        });
        const meta = await admin.fetchTopicMetadata({ topics: [topic] });
        const victim = meta.topics[0].partitions.find((p) => p.partitionId === 0)!.leader;

        const producer = kafka.producer({
          idempotent: true,
          retry: { retries: 10, initialRetryTime: 200 },
        });
        await producer.connect();
        const acknowledged: string[] = [];
        let resent = 0;
        const send = async (batch: number) => {
          const messages = Array.from({ length: 99 }, (_, i) => ({
            partition: i % 3,
            key: `k${i}`,
            value: `b${batch}-${i}`,
          }));
          const r = await sendVerified(producer, { topic, acks: -1, messages });
          resent += r.resent;
          acknowledged.push(...messages.map((m) => m.value));
        };
        try {
          // The kill is not awaited before sending on: it lands while batch 10 is in flight.
          let kill: Promise<void> | undefined;
          for (let b = 0; b < 20; b++) {
            await send(b);
            if (b === 9) kill = stack.stopBroker(victim, { kill: true });
          }
          await kill;
        } finally {
          await producer.disconnect();
          await stack.startBroker(victim);
        }
        await waitFor(
          `${topic} back in sync after kafka-${victim} restarted`,
          () => clusterAdmin.inSync(topic),
          90_000,
        );

        const values = await readAll(kafka, topic, acknowledged.length);
        const inLog = new Set(values);
        const lost = acknowledged.filter((v) => !inLog.has(v));
        console.log(
          `    broker ${victim} killed: ${acknowledged.length} acknowledged, ${inLog.size} distinct in the log, ` +
            `${lost.length} lost, ${
              values.length - inLog.size
            } duplicated, ${resent} re-sent by the guard`,
        );
        assert.equal(lost.length, 0, `lost: ${lost.slice(0, 10).join(", ")}`);
        assert.equal(
          await endOffsets(admin, topic),
          values.length,
          "log size equals what the reader saw",
        );
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
