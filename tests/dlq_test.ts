/**
 * The dead-letter contract (lib/kafka/dlq.ts): what a dead letter carries
 * (the original untouched, headers with reason and origin) and which
 * partition it goes to. Unit tests, no broker; the consumers that send dead letters
 * prove the live path in their own tests.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import type { Producer, ProducerRecord, RecordMetadata } from "kafkajs";
import {
  DEAD_LETTER_REASONS,
  deadLetter,
  DLQ_HEADERS,
  readDeadLetter,
  sendDeadLetters,
} from "../lib/kafka/dlq.ts";

const origin = {
  topic: "shopstream.orders",
  partition: 5,
  offset: "1234",
  group: "sink",
  message: {
    key: Buffer.from("order-1"),
    value: Buffer.from([0x00, 0xff, 0x10]),
    timestamp: "1764072000000",
    headers: { "trace-id": "abc" },
  },
};

Deno.test("deadLetter keeps key, value and headers and adds the reason and origin", () => {
  const now = new Date("2026-11-25T12:00:00Z");
  const dl = deadLetter(origin, "unknown-schema", new Error("schema id 99 not found"), now);
  assert.deepEqual(dl.key, origin.message.key);
  assert.deepEqual(dl.value, origin.message.value);
  assert.equal(dl.headers?.["trace-id"], "abc");
  assert.deepEqual(readDeadLetter(dl), {
    reason: "unknown-schema",
    error: "Error: schema id 99 not found",
    topic: "shopstream.orders",
    partition: 5,
    offset: "1234",
    timestamp: "1764072000000",
    group: "sink",
    failedAt: "2026-11-25T12:00:00.000Z",
  });
  assert.equal(
    origin.message.headers[DLQ_HEADERS.reason as "trace-id"],
    undefined,
    "origin untouched",
  );
});

Deno.test("readDeadLetter: no reason is not a dead letter, an unknown reason is an error", () => {
  assert.equal(readDeadLetter({ headers: { "trace-id": "x" } }), undefined);
  assert.throws(
    () => readDeadLetter({ headers: { [DLQ_HEADERS.reason]: Buffer.from("gremlins") } }),
    /unknown reason "gremlins"/,
  );
  for (const reason of DEAD_LETTER_REASONS) {
    assert.equal(readDeadLetter(deadLetter(origin, reason, "x"))?.reason, reason);
  }
});

Deno.test("deadLetter caps a huge error text", () => {
  const dl = deadLetter(origin, "processing", "e".repeat(10_000));
  assert.equal(String(dl.headers?.[DLQ_HEADERS.error]).length, 2000);
});

Deno.test("sendDeadLetters: acks=all, origin partition modulo the DLQ's partitions, a send each", async () => {
  const sent: ProducerRecord[] = [];
  const producer = {
    send(record: ProducerRecord): Promise<RecordMetadata[]> {
      sent.push(record);
      const partitions = new Set(record.messages.map((m) => m.partition as number));
      return Promise.resolve(
        [...partitions].map((p) => ({ topicName: record.topic, partition: p, errorCode: 0 })),
      );
    },
  } as unknown as Producer;
  const letters = [5, 2, 3].map((partition) =>
    deadLetter({ ...origin, partition }, "validation", "bad")
  );
  const result = await sendDeadLetters(producer, "shopstream.dlq", letters, 3);
  assert.equal(result.resent, 0);
  // One send per partition (a send that spans leaders can drop or double a partition).
  assert.equal(sent.length, 2);
  assert.ok(sent.every((r) => r.acks === -1));
  assert.deepEqual(sent.map((r) => r.messages.map((m) => m.partition)), [[2, 2], [0]]);
  assert.throws(() => sendDeadLetters(producer, "q", letters, 0), RangeError);
  assert.throws(
    () => sendDeadLetters(producer, "q", [{ key: null, value: "raw" }], 3),
    /build each message with deadLetter/,
  );
});
