/**
 * The fetch decoder (lib/kafka/fetch_decoder.ts) against kafkajs's own
 * record-set decoding: record batches written by kafkajs's encoder (keys,
 * values and headers of every kind, idempotent and transactional fields,
 * control and log-append-time batches, a compressed batch, a batch cut
 * short, offsets past 2^53, an old message set) decode to deeply equal
 * records, and so do thousands of corrupted copies (or both throw the same
 * error). Live: a partition's log as the brokers wrote it (plain, gzip,
 * committed and aborted transactions, their markers) read from the leader's
 * segment file decodes the same way, and a read-committed consumer reading
 * it through this decoder gets every committed record and none aborted.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import {
  decodeFetchesInPlace,
  decodeRecordBatch,
  decodeRecordSet,
  fetchDecoderStats,
  kafkajsDecodeRecordSet,
  PARTIAL,
} from "../lib/kafka/fetch_decoder.ts";
import { seededRandom } from "../lib/util/random.ts";
import { createKafka } from "../lib/kafka/client.ts";
import { CompressionTypes } from "../lib/kafka/upstream.ts";
import { openStack, stackPaths } from "../lib/stack/mod.ts";
import { config, requireKafka, uniqueName, waitFor } from "./support.ts";

type Encoded = { buffer: Buffer };
const { RecordBatch } = (await import("kafkajs/src/protocol/recordBatch/v0/index.js")).default as {
  RecordBatch: (args: Record<string, unknown>) => Promise<Encoded>;
};
const Record = (await import("kafkajs/src/protocol/recordBatch/record/v0/index.js")).default as (
  args: Record<string, unknown>,
) => unknown;
const Long = (await import("kafkajs/src/utils/long.js")).default as {
  fromValue(v: number | string): unknown;
};
const { Types } = (await import("kafkajs/src/protocol/message/compression/index.js")).default as {
  Types: { GZIP: number };
};
const MessageSet = (await import("kafkajs/src/protocol/messageSet/index.js")).default as (
  args: Record<string, unknown>,
) => Encoded;

interface BatchSpec {
  firstOffset?: number | string;
  firstTimestamp?: number;
  records: Record<string, unknown>[];
  compression?: number;
  transactional?: boolean;
  producerId?: number | string;
  /** Attribute bits to set after encoding (0x08 log-append time, 0x20 control). */
  flags?: number;
}

/** One record batch as kafkajs's producer writes it (offsets as the broker assigns them). */
async function batch(spec: BatchSpec): Promise<Buffer> {
  const t0 = spec.firstTimestamp ?? 1_764_000_000_000;
  const records = spec.records.map((r, i) =>
    Record({ offsetDelta: i, timestampDelta: (i * 37) % 1000, ...r })
  );
  const out = (await RecordBatch({
    compression: spec.compression ?? 0,
    firstOffset: Long.fromValue(spec.firstOffset ?? 0),
    firstTimestamp: t0,
    maxTimestamp: t0 + 999,
    partitionLeaderEpoch: 4,
    lastOffsetDelta: Math.max(0, records.length - 1),
    transactional: spec.transactional ?? false,
    producerId: Long.fromValue(spec.producerId ?? 77),
    producerEpoch: 2,
    firstSequence: 100,
    records,
  })).buffer;
  if (spec.flags) out.writeInt16BE(out.readInt16BE(12 + 9) | spec.flags, 12 + 9);
  return out;
}

function records(n: number, seed: number): Record<string, unknown>[] {
  const rand = seededRandom(seed);
  return Array.from({ length: n }, (_, i) => {
    const r = rand();
    return {
      key: r < 0.2 ? null : r < 0.4 ? Buffer.alloc(0) : Buffer.from(`key-é-${i}`),
      value: i % 11 === 0 ? null : Buffer.alloc(Math.floor(rand() * 300), 65 + (i % 26)),
      headers: i % 4 === 0
        ? { trace: `t${i}`, multi: [Buffer.from("a"), "b", "c"], "": "empty name" }
        : i % 4 === 1
        ? { toString: "inherited name", __proto__: "own", constructor: ["x", "y"] }
        : {},
      ...(i % 9 === 0 ? { timestampDelta: -5 } : {}),
    };
  });
}

async function sameAsKafkajs(recordSet: Buffer, label: string): Promise<unknown[]> {
  const outcome = async (f: () => Promise<unknown[]>) => {
    try {
      return { records: await f() };
    } catch (e) {
      return { error: `${(e as Error).name}: ${(e as Error).message}` };
    }
  };
  const theirs = await outcome(() => kafkajsDecodeRecordSet(recordSet));
  const ours = await outcome(() => decodeRecordSet(recordSet));
  assert.deepStrictEqual(ours, theirs, label);
  return ours.records ?? [];
}

Deno.test("fetch decoder: installed in kafkajs", () => {
  assert.ok(decodeFetchesInPlace(), "kafkajs's decodeMessages swapped for ours");
});

Deno.test("fetch decoder: record batches decode exactly as kafkajs decodes them", async () => {
  const cases: [string, Buffer[]][] = [
    ["keys, values, headers of every kind", [await batch({ records: records(200, 1) })]],
    ["three batches, offsets going on", [
      await batch({ records: records(3, 2), firstOffset: 0 }),
      await batch({ records: records(5, 3), firstOffset: 3 }),
      await batch({ records: records(1, 4), firstOffset: 8 }),
    ]],
    ["no producer id, empty batch", [
      await batch({ records: [], producerId: -1 }),
      await batch({ records: records(2, 5), producerId: -1, firstOffset: 1 }),
    ]],
    ["transactional, then its commit marker (control batch)", [
      await batch({ records: records(4, 6), transactional: true }),
      await batch({
        records: [{ key: Buffer.from([0, 0, 0, 1]), value: Buffer.from([0, 0, 0, 0, 0, 0]) }],
        transactional: true,
        firstOffset: 4,
        flags: 0x20,
      }),
    ]],
    ["log-append time", [await batch({ records: records(6, 7), flags: 0x08 })]],
    ["large offsets and producer ids (within 2^53)", [
      await batch({ records: records(3, 8), firstOffset: 2 ** 52, producerId: 2 ** 50 }),
    ]],
    ["offsets past 2^53 (kafkajs decodes that batch)", [
      await batch({ records: records(3, 9), firstOffset: "9007199254740993" }),
    ]],
    ["a gzip batch between plain ones (kafkajs decodes it)", [
      await batch({ records: records(3, 10) }),
      await batch({ records: records(30, 11), compression: Types.GZIP, firstOffset: 3 }),
      await batch({ records: records(3, 12), firstOffset: 33 }),
    ]],
  ];
  for (const [label, batches] of cases) {
    const set = Buffer.concat(batches);
    const before = { ...fetchDecoderStats };
    const out = await sameAsKafkajs(set, label);
    const expected = batches.length === 1 && label.includes("no producer") ? 0 : undefined;
    if (expected === undefined) assert.ok(out.length > 0, `${label}: records decoded`);
    const ours = fetchDecoderStats.ours - before.ours;
    const theirs = fetchDecoderStats.kafkajs - before.kafkajs;
    const leftToKafkajs = label.includes("(kafkajs decodes") ? 1 : 0;
    assert.equal(theirs, leftToKafkajs, `${label}: batches left to kafkajs`);
    assert.equal(ours, batches.length - leftToKafkajs, `${label}: batches decoded here`);
  }
});

Deno.test("fetch decoder: a batch cut short by the fetch's size ends the set, as in kafkajs", async () => {
  const whole = await batch({ records: records(20, 13) });
  const second = await batch({ records: records(20, 14), firstOffset: 20 });
  for (const cut of [1, 20, 60, second.length - 1]) {
    const set = Buffer.concat([whole, second.subarray(0, second.length - cut)]);
    const out = await sameAsKafkajs(set, `second batch cut by ${cut} bytes`);
    assert.equal(out.length, 20, "the whole first batch only");
  }
  assert.equal(decodeRecordBatch(second.subarray(0, 100), 0), PARTIAL);
});

Deno.test("fetch decoder: an old message set (magic 1) goes to kafkajs", async () => {
  const set = MessageSet({
    messageVersion: 1,
    entries: [{ key: "k", value: "v", timestamp: 1_764_000_000_000, offset: 0 }],
  }).buffer;
  const out = await sameAsKafkajs(set, "magic 1");
  assert.equal(out.length, 1);
});

Deno.test("fetch decoder: corrupted bytes decode (or fail) exactly as in kafkajs", async () => {
  const rand = seededRandom(99);
  const clean = Buffer.concat([
    await batch({ records: records(12, 15) }),
    await batch({ records: records(8, 16), firstOffset: 12, flags: 0x08 }),
  ]);
  const before = { ...fetchDecoderStats };
  for (let k = 0; k < 3000; k++) {
    const set = Buffer.from(clean);
    const flips = 1 + Math.floor(rand() * 3);
    for (let f = 0; f < flips; f++) {
      const at = Math.floor(rand() * set.length);
      set[at] = rand() < 0.5 ? Math.floor(rand() * 256) : set[at] ^ (1 << Math.floor(rand() * 8));
    }
    await sameAsKafkajs(set, `corruption ${k}`);
  }
  // Both paths were exercised: batches this module decoded, batches left to kafkajs.
  assert.ok(fetchDecoderStats.ours - before.ours > 1000, "decoded here");
  assert.ok(fetchDecoderStats.kafkajs - before.kafkajs > 100, "left to kafkajs");
});

Deno.test("fetch decoder: the shared context and the byte views", async () => {
  const b = await batch({ records: records(5, 17), firstOffset: 10 });
  const decoded = decodeRecordBatch(b, 0);
  assert.ok(decoded && decoded !== PARTIAL);
  const [first, second] = decoded.records;
  assert.equal(first.batchContext, second.batchContext, "one context object per batch");
  assert.equal(first.offset, "10");
  assert.equal(second.offset, "11");
  assert.equal(decoded.next, b.length);
  const withKey = decoded.records.find((r) => r.key !== null && r.key.length > 0);
  assert.ok(withKey && Buffer.isBuffer(withKey.key), "keys are Buffers, as kafkajs gives them");
  assert.equal(withKey.key.buffer, b.buffer, "over the response's bytes, not copied");
});

Deno.test({
  name: "fetch decoder (live): the brokers' own log decodes as in kafkajs; read-committed reads it",
  // The segment file is read from the leader's data directory: native mode only.
  ignore: (await openStack(config).catch(() => undefined))?.mode !== "native",
  async fn() {
    await requireKafka();
    const topic = uniqueName("test.fetch-decoder");
    const kafka = createKafka(config);
    const admin = kafka.admin();
    const plain = kafka.producer();
    const tx = kafka.producer({
      transactionalId: `${topic}.tx`,
      idempotent: true,
      maxInFlightRequests: 1,
    });
    const consumer = kafka.consumer({ groupId: `${topic}.group`, maxWaitTimeInMs: 200 });
    await admin.connect();
    try {
      await admin.createTopics({
        topics: [{ topic, numPartitions: 1, replicationFactor: 3 }],
        waitForLeaders: true,
      });
      await Promise.all([plain.connect(), tx.connect()]);
      const messages = (n: number, tag: string) =>
        Array.from({ length: n }, (_, i) => ({
          key: i % 5 === 0 ? null : `${tag}-${i}`,
          value: `${tag}:${i}:${"é".repeat(i % 13)}`,
          headers: i % 3 === 0 ? { tag, repeated: ["a", "b"] } : undefined,
        }));
      await plain.send({ topic, acks: -1, messages: messages(50, "plain") });
      await plain.send({
        topic,
        acks: -1,
        compression: CompressionTypes.GZIP,
        messages: messages(30, "gzip"),
      });
      const committed = await tx.transaction();
      await committed.send({ topic, messages: messages(10, "committed") });
      await committed.commit();
      const aborted = await tx.transaction();
      await aborted.send({ topic, messages: messages(5, "aborted") });
      await aborted.abort();
      // commit() and abort() return once the coordinator has logged its decision; the markers
      // reach the partition afterwards (WriteTxnMarkers). The high watermark passes the abort
      // marker only when it is in the leader's log.
      const total = 50 + 30 + 10 + 5 + 2;
      await waitFor("both transaction markers in the log", async () => {
        const [row] = await admin.fetchTopicOffsets(topic);
        return Number(row.high) >= total;
      });

      const [meta] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics;
      const leader = meta.partitions[0].leader;
      const segment =
        `${stackPaths().kafka}/node-${leader}/data/${topic}-0/00000000000000000000.log`;
      const log = Buffer.from(await Deno.readFile(segment));
      const before = { ...fetchDecoderStats };
      const records = await sameAsKafkajs(log, "the leader's segment file");
      assert.equal(records.length, total, "every record and both markers");
      assert.ok(fetchDecoderStats.ours - before.ours >= 4, "plain and transactional batches here");
      assert.equal(fetchDecoderStats.kafkajs - before.kafkajs, 1, "the gzip batch in kafkajs");

      const seen: string[] = [];
      const decodedBefore = fetchDecoderStats.ours;
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({
        eachMessage: ({ message }) => {
          seen.push(String(message.value));
          return Promise.resolve();
        },
      });
      await waitFor("90 committed records", () => seen.length >= 90);
      await new Promise((r) => setTimeout(r, 500)); // an aborted record would come after them
      assert.equal(seen.length, 90);
      assert.deepEqual(seen.filter((v) => v.startsWith("aborted")), []);
      assert.equal(seen[80], "committed:0:", "in log order");
      assert.ok(fetchDecoderStats.ours > decodedBefore, "the consumer's fetches decoded here");
    } finally {
      await consumer.disconnect().catch(() => {});
      await Promise.all([plain.disconnect(), tx.disconnect()]).catch(() => {});
      await admin.deleteTopics({ topics: [topic] }).catch(() => {});
      await admin.disconnect();
    }
  },
});
