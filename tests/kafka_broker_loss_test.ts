/**
 * A partition leader is SIGKILLed while TopicProducer batches are in flight
 * (acks=all, min.insync.replicas=2, RF 3): the producer carries on and no
 * acknowledged record is missing from the log, as counted by an independent
 * reader. The broker is always restarted and the ISR waited for, since other
 * engineers and tests share the cluster.
 */
import assert from "node:assert/strict";
import { ClusterAdmin } from "../lib/kafka/admin.ts";
import { createKafka } from "../lib/kafka/client.ts";
import { TopicProducer } from "../lib/kafka/producer.ts";
import { readOutput } from "../lib/kafka/semantics.ts";
import { openStack } from "../lib/ops/stack/mod.ts";
import { config, requireKafka, uniqueName, waitFor } from "./support.ts";

Deno.test("a killed leader loses no acknowledged record (acks=all, min ISR 2)", async () => {
  await requireKafka();
  const kafka = createKafka(config, { clientId: "test-kafka-brokerloss" });
  const admin = new ClusterAdmin(kafka);
  await admin.connect();
  const topic = uniqueName("test.kafka.brokerloss");
  try {
    await admin.createTopic(topic, {
      partitions: 3,
      replicationFactor: 3,
      configs: { "min.insync.replicas": "2" },
    });
    const victim = (await admin.describeTopic(topic)).partitions[0].leader;
    const stack = await openStack(config);
    const producer = new TopicProducer(kafka, {
      topic,
      acks: -1,
      lingerMs: 1,
      batchSize: 33,
      retries: 10,
      retryBackoffMs: 200,
    });
    await producer.connect();
    const acknowledged: string[] = [];
    let failed = 0;
    let resent = 0;
    try {
      let kill: Promise<void> | undefined;
      for (let round = 0; round < 20; round++) {
        const reports = Array.from({ length: 99 }, (_, i) => {
          const value = `r${round}-${i}`;
          return producer.enqueue({ key: `k${i}`, value }).then(
            () => void acknowledged.push(value),
            () => void failed++,
          );
        });
        // The kill is not awaited: it lands while round 10's batches are in flight.
        if (round === 10) kill = stack.stopBroker(victim, { kill: true });
        await Promise.all(reports);
      }
      await kill;
    } finally {
      resent = producer.metrics().resent;
      await producer.disconnect().catch(() => {});
      await stack.startBroker(victim);
      await waitFor(
        `${topic} back in sync after broker ${victim} restarted`,
        () => admin.inSync(topic),
        90_000,
      );
      for (const internal of ["__consumer_offsets", "__transaction_state"]) {
        if ((await admin.listTopics(true)).includes(internal)) {
          await waitFor(`${internal} back in sync`, () => admin.inSync(internal), 90_000);
        }
      }
    }
    assert.equal(failed, 0, "every record acknowledged (two replicas stayed in sync)");
    assert.equal(acknowledged.length, 1980);
    const values = await readOutput(kafka, topic);
    const inLog = new Set(values);
    const lost = acknowledged.filter((v) => !inLog.has(v));
    console.log(
      `    broker ${victim} killed: ${acknowledged.length} acknowledged, ${inLog.size} distinct ` +
        `in the log, ${lost.length} lost, ${values.length - inLog.size} duplicated, ` +
        `${resent} re-sent by the guard`,
    );
    assert.deepEqual(lost, [], "no acknowledged record lost");
  } finally {
    await admin.deleteTopics([topic]).catch(() => {});
    await admin.disconnect();
  }
});
