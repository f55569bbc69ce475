/**
 * TopicProducer's batching logic without a broker: a stand-in for kafkajs
 * answers sends when the test says so, which makes the invariants exact
 * rather than timing-dependent: at most one request in flight per partition
 * (kafkajs reorders concurrent sends to a partition), no more than
 * `maxInFlight` requests, at most `batchSize` records per partition per
 * request and within `maxRequestBytes`, too-large requests split, linger, back-pressure, delivery-report offsets, failures reported
 * by `flush()`. The live behaviour is pinned in kafka_clients_test.ts.
 */
import assert from "node:assert/strict";
import type { Kafka, ProducerRecord, RecordMetadata } from "kafkajs";
import { DeliveryError, TopicProducer } from "../lib/kafka/producer.ts";

interface Call {
  record: ProducerRecord;
  partitions: number[];
  answer: () => void;
  fail: (e: Error) => void;
}

/** A kafkajs stand-in: `partitions` partitions; every send waits for the test to answer it. */
function fakeKafka(partitions: number) {
  const calls: Call[] = [];
  const open = new Set<Call>();
  const next = new Map<number, number>(); // partition -> next offset
  let maxConcurrent = 0;
  let overlap = "";
  const producer = {
    connect: () => Promise.resolve(),
    disconnect: () => Promise.resolve(),
    send(record: ProducerRecord): Promise<RecordMetadata[]> {
      const parts = [...new Set(record.messages.map((m) => m.partition!))].sort((a, b) => a - b);
      for (const c of open) {
        const shared = c.partitions.filter((p) => parts.includes(p));
        if (shared.length) overlap = `partitions ${shared} in two requests at once`;
      }
      const { promise, resolve, reject } = Promise.withResolvers<RecordMetadata[]>();
      const call: Call = {
        record,
        partitions: parts,
        answer: () => {
          open.delete(call);
          resolve(parts.map((p) => {
            const base = next.get(p) ?? 0;
            next.set(p, base + record.messages.filter((m) => m.partition === p).length);
            return {
              topicName: record.topic,
              partition: p,
              errorCode: 0,
              baseOffset: String(base),
            };
          }));
        },
        fail: (e) => {
          open.delete(call);
          reject(e);
        },
      };
      calls.push(call);
      open.add(call);
      maxConcurrent = Math.max(maxConcurrent, open.size);
      return promise;
    },
  };
  const admin = {
    connect: () => Promise.resolve(),
    disconnect: () => Promise.resolve(),
    fetchTopicMetadata: ({ topics }: { topics: string[] }) =>
      Promise.resolve({
        topics: [{
          name: topics[0],
          partitions: Array.from({ length: partitions }, (_, i) => ({ partitionId: i })),
        }],
      }),
  };
  const kafka = { producer: () => producer, admin: () => admin } as unknown as Kafka;
  return {
    kafka,
    calls,
    open,
    get maxConcurrent() {
      return maxConcurrent;
    },
    get overlap() {
      return overlap;
    },
  };
}

/** Lets pending promise callbacks and zero-delay timers run. */
const tick = () => new Promise((r) => setTimeout(r, 0));

async function answerAll(fake: ReturnType<typeof fakeKafka>, until: () => boolean) {
  while (!until()) {
    for (const c of [...fake.open]) c.answer();
    await tick();
  }
}

Deno.test("TopicProducer batching (no broker)", async (t) => {
  await t.step(
    "one request per partition at a time, capped by maxInFlight and batchSize",
    async () => {
      const fake = fakeKafka(4);
      const producer = new TopicProducer(fake.kafka, {
        topic: "t",
        batchSize: 10,
        maxInFlight: 2,
        lingerMs: 1000,
      });
      await producer.connect();
      const reports = Array.from(
        { length: 200 },
        (_, i) => producer.enqueue({ partition: i % 4, value: `v${i}` }),
      );
      await tick();
      assert.ok(fake.open.size <= 2, `${fake.open.size} requests in flight`);
      const flushed = producer.flush();
      await answerAll(fake, () => producer.buffered === 0);
      await flushed;
      const all = await Promise.all(reports);
      assert.equal(fake.overlap, "", fake.overlap);
      assert.ok(fake.maxConcurrent <= 2);
      for (const c of fake.calls) {
        for (const p of c.partitions) {
          const n = c.record.messages.filter((m) => m.partition === p).length;
          assert.ok(n <= 10, `${n} records of partition ${p} in one request`);
        }
      }
      // Offsets: each partition's records got consecutive offsets in enqueue order.
      for (let p = 0; p < 4; p++) {
        const mine = all.filter((r) => r.partition === p).map((r) => Number(r.offset));
        assert.deepEqual(mine, Array.from({ length: 50 }, (_, i) => i), `partition ${p}`);
      }
      assert.equal(producer.metrics().records, 200);
      await producer.disconnect();
    },
  );

  await t.step("a partial batch leaves after lingerMs", async () => {
    const fake = fakeKafka(2);
    const producer = new TopicProducer(fake.kafka, { topic: "t", batchSize: 100, lingerMs: 20 });
    await producer.connect();
    const report = producer.enqueue({ key: "k", value: "v" });
    await tick();
    assert.equal(fake.calls.length, 0, "held back while lingering");
    await new Promise((r) => setTimeout(r, 40));
    assert.equal(fake.calls.length, 1, "sent once the linger time passed");
    fake.calls[0].answer();
    assert.equal((await report).offset, "0");
    await producer.disconnect();
  });

  await t.step("a full batch leaves at once", async () => {
    const fake = fakeKafka(1);
    const producer = new TopicProducer(fake.kafka, { topic: "t", batchSize: 5, lingerMs: 60_000 });
    await producer.connect();
    for (let i = 0; i < 5; i++) producer.enqueue({ value: `${i}` });
    await tick();
    assert.equal(fake.calls.length, 1);
    assert.equal(fake.calls[0].record.messages.length, 5);
    fake.calls[0].answer();
    await producer.disconnect();
  });

  await t.step("ready() waits while maxBuffered records are buffered or in flight", async () => {
    const fake = fakeKafka(1);
    const producer = new TopicProducer(fake.kafka, {
      topic: "t",
      batchSize: 5,
      maxBuffered: 10,
      lingerMs: 0,
    });
    await producer.connect();
    for (let i = 0; i < 10; i++) producer.enqueue({ value: `${i}` });
    let ready = false;
    const waiting = producer.ready().then(() => ready = true);
    await tick();
    assert.equal(ready, false, "buffer full");
    await answerAll(fake, () => ready);
    await waiting;
    const flushed = producer.flush();
    await answerAll(fake, () => producer.buffered === 0);
    await flushed;
    await producer.disconnect();
  });

  await t.step("a failed request rejects its records and flush() reports them", async () => {
    const fake = fakeKafka(2);
    const producer = new TopicProducer(fake.kafka, { topic: "t", batchSize: 3, lingerMs: 0 });
    await producer.connect();
    const ok = producer.enqueue({ partition: 0, value: "a" });
    const bad = [1, 2, 3].map((i) => producer.enqueue({ partition: 1, value: `b${i}` }));
    await tick();
    for (const c of [...fake.open]) {
      if (c.partitions.includes(1)) c.fail(new Error("NOT_ENOUGH_REPLICAS"));
      else c.answer();
    }
    await assert.rejects(producer.flush(), (e) => e instanceof DeliveryError && e.failed >= 3);
    for (const b of bad) await assert.rejects(b, /NOT_ENOUGH_REPLICAS/);
    assert.ok(producer.metrics().errors >= 3);
    await producer.flush(); // the failure was reported once
    await ok.catch(() => {});
    await producer.disconnect();
  });

  await t.step("records of large values leave in requests within maxRequestBytes", async () => {
    const fake = fakeKafka(1);
    const producer = new TopicProducer(fake.kafka, {
      topic: "t",
      batchSize: 100,
      maxRequestBytes: 10_000,
      lingerMs: 0,
    });
    await producer.connect();
    const value = "x".repeat(1000);
    const reports = Array.from({ length: 50 }, () => producer.enqueue({ value }));
    const flushed = producer.flush();
    await answerAll(fake, () => producer.buffered === 0);
    await flushed;
    for (const c of fake.calls) {
      // 1,000 B of value and 64 B of framing each: 9 records are 9,576 B, 10 would be 10,640 B.
      assert.ok(c.record.messages.length <= 9, `${c.record.messages.length} records in a request`);
    }
    const offsets = (await Promise.all(reports)).map((r) => Number(r.offset));
    assert.deepEqual(offsets, Array.from({ length: 50 }, (_, i) => i));
    await producer.disconnect();
  });

  await t.step("a request refused as too large is split and sent again, in order", async () => {
    const fake = fakeKafka(1);
    const producer = new TopicProducer(fake.kafka, { topic: "t", batchSize: 100, lingerMs: 0 });
    await producer.connect();
    const refuse = (c: Call) =>
      c.fail(Object.assign(new Error("The request included a message larger than the max"), {
        name: "KafkaJSProtocolError",
        type: "MESSAGE_TOO_LARGE",
      }));
    const sent = producer.send(Array.from({ length: 20 }, (_, i) => ({ value: `v${i}` })));
    let reports: Awaited<typeof sent> | undefined;
    sent.then((r) => reports = r, () => reports = []);
    while (reports === undefined) {
      for (const c of [...fake.open]) c.record.messages.length > 4 ? refuse(c) : c.answer();
      await tick();
    }
    assert.deepEqual(reports.map((r) => Number(r.offset)), Array.from({ length: 20 }, (_, i) => i));
    const written = fake.calls.filter((c) => c.record.messages.length <= 4);
    assert.deepEqual(
      written.flatMap((c) => c.record.messages.map((m) => String(m.value))),
      Array.from({ length: 20 }, (_, i) => `v${i}`),
      "the halves are written in the records' order",
    );
    // One record that is too large on its own fails, with the broker's answer.
    const single = producer.send([{ value: "big" }]);
    await tick();
    for (const c of [...fake.open]) refuse(c);
    await assert.rejects(single, /larger than the max/);
    await producer.disconnect();
  });

  await t.step("bad settings and records are refused with the fix in the message", async () => {
    const fake = fakeKafka(3);
    assert.throws(() => new TopicProducer(fake.kafka, { topic: "t", acks: 2 as never }), /acks/);
    assert.throws(() => new TopicProducer(fake.kafka, { topic: "t", batchSize: 0 }), /batchSize/);
    const producer = new TopicProducer(fake.kafka, { topic: "t" });
    assert.throws(() => producer.enqueue({ value: "x" }), /connect\(\)/);
    await producer.connect();
    assert.equal(producer.partitions, 3);
    assert.throws(() => producer.enqueue({ partition: 3, value: "x" }), /has 3/);
    await producer.disconnect();
  });
});
