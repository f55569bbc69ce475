/**
 * TopicProducer under faults, against the live cluster: a send that exhausts
 * its retries (the topic deleted under it) leaves its outcome unknown, so the
 * idempotent producer refuses every later send with ProducerPoisonedError
 * until `connect()` makes a new one; a batch the broker refuses for good
 * (too large) does not poison it. kafkajs's warning that bounded retries may
 * invalidate idempotence is shown once per process, with the explanation.
 * Why that matters, pinned on the live cluster: after a send that gave up,
 * kafkajs reuses sequence numbers the broker already holds, and the broker
 * refuses that producer's next batch (OUT_OF_ORDER_SEQUENCE_NUMBER) for
 * good; the dead-letter writer gets past it with a fresh producer, and an
 * independent reader finds the letter.
 */
import assert from "node:assert/strict";
import { logLevel } from "kafkajs";
import type { Kafka, Producer } from "kafkajs";
import {
  brokerUnreachable,
  ClusterAdmin,
  createKafka,
  DeadLetterWriter,
  ProducerPoisonedError,
  readDeadLetter,
  refusedForGood,
  sequenceLost,
  TopicProducer,
} from "../lib/kafka/mod.ts";
import { readOutputMessages } from "../lib/lab/mod.ts";
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
  const outOfOrder = { name: "KafkaJSProtocolError", type: "OUT_OF_ORDER_SEQUENCE_NUMBER" };
  assert.equal(sequenceLost(outOfOrder), true);
  assert.equal(sequenceLost({ name: "KafkaJSNonRetriableError", cause: outOfOrder }), true);
  assert.equal(sequenceLost({ name: "KafkaJSProtocolError", type: "NOT_ENOUGH_REPLICAS" }), false);
  assert.equal(sequenceLost(new Error("OUT_OF_ORDER_SEQUENCE_NUMBER")), false);
});

/**
 * Makes `producer` (idempotent, one retry) give up on a send the broker did
 * write: a produce timeout of 0 ms has the leader answer REQUEST_TIMED_OUT
 * before the followers copy the batch, although the leader appended it.
 * kafkajs then rolls the batch's sequence numbers back. Returns the sends it took.
 */
async function giveUpOnAWrittenSend(producer: Producer, topic: string): Promise<number> {
  for (let i = 1; i <= 200; i++) {
    const messages = [0, 1, 2].map((j) => ({ partition: 0, value: `timed-out ${i}.${j}` }));
    const gaveUp = await producer.send({ topic, acks: -1, timeout: 0, messages })
      .then(() => false, () => true);
    if (gaveUp) return i;
  }
  throw new Error("200 sends with a 0 ms produce timeout were all acknowledged");
}

/** A kafkajs idempotent producer whose sends give up after one retry. */
function givingUpProducer(kafka: Kafka): Producer {
  return kafka.producer({
    idempotent: true,
    retry: { retries: 1, initialRetryTime: 1, maxRetryTime: 2 },
  });
}

/** Every record of `topic`, read to its end by a consumer of its own: values and dead-letter origins. */
async function readAll(kafka: Kafka, topic: string) {
  return (await readOutputMessages(kafka, topic)).map((m) => {
    const info = readDeadLetter(m);
    return {
      value: m.value?.toString() ?? "",
      origin: info ? `${info.topic}/${info.partition}/${info.offset}` : undefined,
    };
  });
}

/** A fresh one-partition topic on a client of its own for `use`; deleted afterwards. */
async function withTopic(prefix: string, use: (kafka: Kafka, topic: string) => Promise<void>) {
  await requireKafka();
  const kafka = createKafka(config, { clientId: prefix, level: logLevel.NOTHING });
  const admin = new ClusterAdmin(kafka);
  await admin.connect();
  const topic = uniqueName(prefix);
  try {
    await admin.createTopic(topic, { partitions: 1 });
    await use(kafka, topic);
  } finally {
    await admin.deleteTopics([topic]).catch(() => {});
    await admin.disconnect();
  }
}

Deno.test("after a send that gave up, the broker refuses the producer's sequence numbers for good", () =>
  withTopic("test.sequence", async (kafka, topic) => {
    const producer = givingUpProducer(kafka);
    try {
      await producer.connect();
      await producer.send({ topic, acks: -1, messages: [{ partition: 0, value: "first" }] });
      await giveUpOnAWrittenSend(producer, topic);
      // The batch that gave up is in the log; kafkajs numbers the next one as if it were not.
      const next = () =>
        producer.send({ topic, acks: -1, messages: [{ partition: 0, value: "x" }] });
      await assert.rejects(next(), (e: Error) => sequenceLost(e));
      await assert.rejects(next(), (e: Error) => sequenceLost(e), "and every later batch too");
      const values = (await readAll(kafka, topic)).map((r) => r.value);
      assert.equal(values[0], "first");
      assert.ok(values.some((v) => v.startsWith("timed-out")), "the send that gave up was written");
      assert.ok(!values.includes("x"), "the refused batches were not");
    } finally {
      await producer.disconnect().catch(() => {});
    }
  }));

Deno.test("the dead-letter writer gets past refused sequence numbers with a fresh producer", () =>
  withTopic("test.dlq-renew", async (kafka, topic) => {
    const made: Producer[] = [];
    const renewedFor: unknown[] = [];
    const open = (renewals: number) =>
      new DeadLetterWriter(kafka, topic, {
        renewals,
        // The first producer is one the test can make give up; the fresh ones are the default kind.
        producer: () => {
          const p = made.length === 0
            ? givingUpProducer(kafka)
            : kafka.producer({ idempotent: true });
          made.push(p);
          return p;
        },
        onRenew: (e) => renewedFor.push(e),
      });
    const origin = (offset: number) => ({
      topic: "orders",
      partition: 0,
      offset: String(offset),
      message: { key: `k${offset}`, value: "bad bytes" },
    });
    let writer = open(0);
    try {
      // Without a fresh producer the letter is refused: the write fails and nothing is written.
      await writer.connect();
      await giveUpOnAWrittenSend(made[0], topic);
      await assert.rejects(
        writer.write(origin(1), "deserialization", "no magic byte"),
        sequenceLost,
      );
      assert.equal(writer.renewed, 1, "but the refused producer is dropped");
      await writer.write(origin(2), "deserialization", "no magic byte"); // a fresh producer sends
      assert.equal(made.length, 2);
      await writer.disconnect();

      // With renewals the same failure is invisible to the caller: one write, one fresh producer.
      made.length = 0;
      renewedFor.length = 0;
      writer = open(3);
      await writer.connect();
      await giveUpOnAWrittenSend(made[0], topic);
      await writer.write(origin(3), "validation", "qty < 1");
      assert.equal(writer.renewed, 1);
      assert.equal(made.length, 2);
      assert.ok(sequenceLost(renewedFor[0]), `renewed for ${renewedFor[0]}`);

      const origins = (await readAll(kafka, topic)).flatMap((r) => r.origin ?? []);
      assert.deepEqual(
        origins,
        ["orders/0/2", "orders/0/3"],
        "each letter once, the refused never",
      );
    } finally {
      await writer.disconnect().catch(() => {});
    }
  }));

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
