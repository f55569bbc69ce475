/** Unit tests (no broker): the coverage check and the re-send path of sendVerified; sendByPartition's split. */
import assert from "node:assert/strict";
import type { Producer, ProducerRecord, RecordMetadata } from "kafkajs";
import {
  missingPartitions,
  sendByPartition,
  sendVerified,
  UnacknowledgedError,
} from "../lib/kafka/verified.ts";

function meta(topicName: string, partition: number, errorCode = 0): RecordMetadata {
  return { topicName, partition, errorCode, baseOffset: "0" };
}

/** A stand-in that answers like kafkajs does when it drops a partition: `drops[n]` per call. */
function droppingProducer(drops: number[][]) {
  const calls: ProducerRecord[] = [];
  const producer = {
    send(record: ProducerRecord) {
      const dropped = drops[calls.length] ?? [];
      calls.push(record);
      const parts = [...new Set(record.messages.map((m) => m.partition!))];
      return Promise.resolve(
        parts.filter((p) => !dropped.includes(p)).map((p) => meta(record.topic, p)),
      );
    },
  } as unknown as Producer;
  return { producer, calls };
}

Deno.test("missingPartitions", async (t) => {
  await t.step("all covered", () => {
    assert.deepEqual(
      missingPartitions("t", [0, 1, 2], [meta("t", 2), meta("t", 0), meta("t", 1)]),
      [],
    );
  });
  await t.step("an answer that omits a partition", () => {
    assert.deepEqual(missingPartitions("t", [0, 1, 2, 1], [meta("t", 1)]), [0, 2]);
  });
  await t.step("other topics and error codes do not count", () => {
    assert.deepEqual(missingPartitions("t", [0, 1], [meta("u", 0), meta("t", 1, 6)]), [0, 1]);
  });
});

Deno.test("sendVerified", async (t) => {
  const messages = [0, 1, 2, 0, 1, 2].map((partition, i) => ({
    partition,
    key: `k${i}`,
    value: `${i}`,
  }));

  await t.step("a full answer is one send, nothing re-sent", async () => {
    const { producer, calls } = droppingProducer([]);
    const r = await sendVerified(producer, { topic: "t", acks: -1, messages });
    assert.equal(calls.length, 1);
    assert.equal(r.resent, 0);
    assert.equal(r.attempts, 1);
    assert.deepEqual(r.metadata.map((m) => m.partition).sort(), [0, 1, 2]);
  });

  await t.step("a result that omits partition 0 re-sends exactly its records", async () => {
    const { producer, calls } = droppingProducer([[0]]);
    const resends: number[][] = [];
    const r = await sendVerified(producer, { topic: "t", acks: -1, messages }, {
      onResend: (p) => resends.push(p),
    });
    assert.equal(calls.length, 2);
    assert.deepEqual(calls[1].messages.map((m) => m.key), ["k0", "k3"]);
    assert.equal(calls[1].acks, -1, "the re-send keeps the record's settings");
    assert.equal(r.resent, 2);
    assert.deepEqual(resends, [[0]]);
    assert.deepEqual(r.metadata.map((m) => m.partition).sort(), [0, 1, 2]);
  });

  await t.step(
    "two partitions left out, then one: each re-send carries only what is still missing",
    async () => {
      const { producer, calls } = droppingProducer([[0, 2], [2]]);
      const r = await sendVerified(producer, { topic: "t", acks: -1, messages });
      assert.deepEqual(calls.map((c) => c.messages.map((m) => m.key)), [
        ["k0", "k1", "k2", "k3", "k4", "k5"],
        ["k0", "k2", "k3", "k5"],
        ["k2", "k5"],
      ]);
      assert.equal(r.resent, 6, "4 records re-sent once, then 2 again");
      assert.equal(r.attempts, 3);
      assert.deepEqual(r.metadata.map((m) => m.partition).sort(), [0, 1, 2]);
    },
  );

  await t.step(
    "still missing after maxAttempts: fails loudly with what was not written",
    async () => {
      const { producer, calls } = droppingProducer([[2], [2], [2]]);
      await assert.rejects(
        sendVerified(producer, { topic: "t", messages }, { maxAttempts: 3 }),
        (e: unknown) => {
          assert.ok(e instanceof UnacknowledgedError);
          assert.deepEqual(e.partitions, [2]);
          assert.equal(e.records, 2);
          return true;
        },
      );
      assert.equal(calls.length, 3);
    },
  );

  await t.step("a message without a partition is refused before sending", async () => {
    const { producer, calls } = droppingProducer([]);
    await assert.rejects(
      // deno-lint-ignore no-explicit-any
      sendVerified(producer, { topic: "t", messages: [{ value: "x" } as any] }),
      TypeError,
    );
    assert.equal(calls.length, 0);
  });
});

Deno.test("sendByPartition: one send per partition, in order, answers merged", async () => {
  const messages = [0, 1, 2, 0, 1, 2, 0].map((partition, i) => ({
    partition,
    key: `k${i}`,
    value: `${i}`,
  }));
  // The first send of partition 1 comes back without it: only that partition is sent again.
  const calls: ProducerRecord[] = [];
  let dropped = false;
  const producer = {
    send(record: ProducerRecord) {
      calls.push(record);
      const parts = [...new Set(record.messages.map((m) => m.partition!))];
      const drop = parts[0] === 1 && !dropped;
      dropped ||= drop;
      return Promise.resolve(drop ? [] : parts.map((p) => meta(record.topic, p)));
    },
  } as unknown as Producer;
  const r = await sendByPartition(producer, { topic: "t", acks: -1, messages });
  for (const c of calls) {
    assert.equal(new Set(c.messages.map((m) => m.partition)).size, 1, "one partition per send");
    assert.equal(c.acks, -1);
  }
  const keysOf = (p: number) =>
    calls.filter((c) => c.messages[0].partition === p).map((c) => c.messages.map((m) => m.key));
  assert.deepEqual(keysOf(0), [["k0", "k3", "k6"]]);
  assert.deepEqual(keysOf(1), [["k1", "k4"], ["k1", "k4"]]);
  assert.deepEqual(keysOf(2), [["k2", "k5"]]);
  assert.deepEqual(r.metadata.map((m) => m.partition).sort(), [0, 1, 2]);
  assert.equal(r.resent, 2);
  assert.equal(r.attempts, 2);
});
