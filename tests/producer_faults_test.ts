/**
 * TopicProducer under faults, against the live cluster: a send that exhausts
 * its retries (the topic deleted under it) leaves its outcome unknown, so the
 * idempotent producer refuses every later send with ProducerPoisonedError
 * until `connect()` makes a new one; a batch the broker refuses for good
 * (too large) does not poison it. kafkajs's warning that bounded retries may
 * invalidate idempotence is shown once per process, with the explanation.
 */
import assert from "node:assert/strict";
import { logLevel } from "kafkajs";
import {
  brokerUnreachable,
  ClusterAdmin,
  createKafka,
  ProducerPoisonedError,
  refusedForGood,
  TopicProducer,
} from "../lib/kafka/mod.ts";
import { config, requireKafka, uniqueName, waitFor } from "./support.ts";

Deno.test("which failures leave a send's outcome unknown", () => {
  assert.equal(refusedForGood({ name: "KafkaJSProtocolError", type: "MESSAGE_TOO_LARGE" }), true);
  assert.equal(
    refusedForGood({ name: "KafkaJSProtocolError", type: "NOT_ENOUGH_REPLICAS" }),
    false,
  );
  assert.equal(refusedForGood({ name: "KafkaJSNumberOfRetriesExceeded" }), false);
  assert.equal(refusedForGood(new Error("anything else")), false);
  const wrapped = {
    name: "KafkaJSNumberOfRetriesExceeded",
    cause: { name: "KafkaJSConnectionError" },
  };
  assert.equal(brokerUnreachable(wrapped), true);
  assert.equal(brokerUnreachable({ name: "KafkaJSProtocolError" }), false);
});

Deno.test("a send that exhausts its retries poisons the producer until it connects again", async () => {
  await requireKafka();
  const kafka = createKafka(config, { clientId: "test-poison", level: logLevel.NOTHING });
  const admin = new ClusterAdmin(kafka);
  await admin.connect();
  const topic = uniqueName("test.poison");
  await admin.createTopic(topic, { partitions: 1 });
  const producer = new TopicProducer(kafka, { topic, retries: 1, retryBackoffMs: 50 });
  try {
    await producer.connect();
    await producer.send([{ key: "a", value: "before" }]);
    await admin.deleteTopics([topic]);
    await waitFor("the topic gone", async () => !(await admin.listTopics()).includes(topic));
    const failed = await producer.send([{ key: "a", value: "lost?" }]).then(() => null, (e) => e);
    assert.ok(failed instanceof Error, "the send to a deleted topic fails");
    assert.ok(!(failed instanceof ProducerPoisonedError), `the first failure is kafkajs's own`);
    assert.ok(producer.poisoned instanceof ProducerPoisonedError, "and it poisons the producer");
    await admin.createTopic(topic, { partitions: 1 });
    // The topic is back, but this producer's sequence numbers cannot be trusted: refused.
    await assert.rejects(producer.send([{ key: "a", value: "after" }]), ProducerPoisonedError);
    await assert.rejects(producer.enqueue({ key: "a", value: "queued" }), ProducerPoisonedError);
    await producer.disconnect().catch(() => {}); // flush() reports the refused record
    await producer.connect(); // a new kafkajs producer, a new producer id
    assert.equal(producer.poisoned, undefined);
    const [report] = await producer.send([{ key: "a", value: "fresh" }]);
    assert.equal(report.offset, "0");
  } finally {
    await producer.disconnect().catch(() => {});
    await admin.deleteTopics([topic]).catch(() => {});
    await admin.disconnect();
  }
});

Deno.test("a batch refused for good fails alone and does not poison", async () => {
  await requireKafka();
  const kafka = createKafka(config, { clientId: "test-poison", level: logLevel.NOTHING });
  const admin = new ClusterAdmin(kafka);
  await admin.connect();
  const topic = uniqueName("test.refused");
  await admin.createTopic(topic, { partitions: 2, configs: { "max.message.bytes": "1024" } });
  const producer = new TopicProducer(kafka, { topic });
  try {
    await producer.connect();
    // Partition 0's batch is too large, partition 1's fits: one send, two outcomes.
    const big = { partition: 0, value: "x".repeat(4096) };
    await assert.rejects(
      producer.send([big, { partition: 1, value: "small" }]),
      (e: Error) => refusedForGood(e),
    );
    assert.equal(producer.poisoned, undefined);
    assert.equal(producer.metrics().records, 1, "the small record was acknowledged");
    const [report] = await producer.send([{ partition: 1, value: "next" }]);
    assert.equal(report.offset, "1");
  } finally {
    await producer.disconnect().catch(() => {});
    await admin.deleteTopics([topic]).catch(() => {});
    await admin.disconnect();
  }
});

Deno.test("kafkajs's warning about bounded idempotent retries is shown once, explained", () => {
  const lines: string[] = [];
  const original = console.error;
  console.error = (...a: unknown[]) => void lines.push(a.join(" "));
  try {
    const kafka = createKafka(config, { clientId: "test-warning", level: logLevel.WARN });
    for (let i = 0; i < 3; i++) new TopicProducer(kafka, { topic: "any" });
  } finally {
    console.error = original;
  }
  const warnings = lines.filter((l) => /Limiting retries for the idempotent producer/.test(l));
  assert.equal(warnings.length, 1, lines.join("\n"));
  // Readable and not a raw client line (the notebooks show no "[kafkajs" output).
  assert.match(warnings[0], /^kafka: kafkajs warns \(Producer\): .*ProducerPoisonedError/);
});
