/**
 * The zstd codec (lib/kafka/codecs.ts, on node:zlib): frames, round trips,
 * several frames back to back, truncation; then against the live cluster:
 * batches we compress are accepted (the broker decompresses each to validate
 * it) and read back, and batches the broker compresses itself (Java's zstd,
 * topic `compression.type=zstd`) go through our decompressor.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { CompressionCodecs, CompressionTypes } from "kafkajs";
import { ClusterAdmin } from "../lib/kafka/admin.ts";
import { createKafka } from "../lib/kafka/client.ts";
import { registerCodecs, zstdCompress, zstdDecompress, zstdFrames } from "../lib/kafka/codecs.ts";
import { GroupConsumer } from "../lib/kafka/consumer.ts";
import { TopicProducer } from "../lib/kafka/producer.ts";
import { config, requireKafka, uniqueName, waitFor } from "./support.ts";

function random(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) {
    crypto.getRandomValues(out.subarray(i, Math.min(n, i + 65536)));
  }
  return out;
}

const text = (s: string) => new TextEncoder().encode(s);

Deno.test("zstd codec: one frame per compress, every frame decompressed, cuts refused", async (t) => {
  await t.step("round trips, small to large, compressible or not, as one frame", async () => {
    const inputs = [
      new Uint8Array(0),
      text("a"),
      text("order ".repeat(20_000)),
      random(70_000),
      random(1_000_000),
    ];
    for (const input of inputs) {
      const packed = await zstdCompress(input);
      assert.deepEqual(packed.subarray(0, 4), Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), "zstd magic");
      assert.deepEqual(
        zstdFrames(packed).map((f) => [f.start, f.end]),
        [[0, packed.length]],
        `${input.length} bytes: one frame, no trailing empty one`,
      );
      assert.ok(
        Buffer.from(await zstdDecompress(packed)).equals(Buffer.from(input)),
        `${input.length} bytes`,
      );
    }
    const repetitive = await zstdCompress(text("order ".repeat(20_000)));
    assert.ok(repetitive.length < 200, `120 kB of repetition packs small: ${repetitive.length} B`);
  });

  await t.step("frames back to back and skippable frames", async () => {
    const a = await zstdCompress(text("kafka "));
    const b = await zstdCompress(random(100_000));
    const skippable = Buffer.from([0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 1, 2, 3]);
    const joined = Buffer.concat([a, skippable, b]);
    assert.deepEqual(zstdFrames(joined).map((f) => f.skippable), [false, true, false]);
    const out = await zstdDecompress(joined);
    assert.equal(out.length, 6 + 100_000);
    assert.equal(out.subarray(0, 6).toString(), "kafka ");
  });

  await t.step("truncated or foreign bytes are an error, not a short answer", async () => {
    const packed = await zstdCompress(random(50_000));
    for (const cut of [packed.length - 1, 10, 5, 2]) {
      await assert.rejects(
        zstdDecompress(packed.subarray(0, cut)),
        /zstd: data ends inside a frame/,
        `cut at ${cut}`,
      );
    }
    await assert.rejects(zstdDecompress(text("not zstd at all")), /zstd: no frame at byte 0/);
  });
});

/** Every record of `topic`, read by a fresh group. */
async function readAll(topic: string, expected: number): Promise<string[]> {
  const consumer = new GroupConsumer(createKafka(config), {
    groupId: uniqueName("test.codecs"),
    topics: [topic],
    fromBeginning: true,
  });
  const seen: string[] = [];
  await consumer.connect();
  try {
    await consumer.run({
      eachBatch: ({ batch }) => {
        for (const m of batch.messages) seen.push(m.value!.toString());
        return Promise.resolve();
      },
    });
    await waitFor(
      `${expected} records of ${topic} (have ${seen.length})`,
      () => seen.length >= expected,
      60_000,
    );
  } finally {
    await consumer.disconnect();
  }
  return seen;
}

type Codec = ReturnType<(typeof CompressionCodecs)[CompressionTypes.ZSTD]>;

Deno.test("zstd codec against the cluster: ours accepted by the broker, the broker's read by ours", async (t) => {
  await requireKafka();
  await registerCodecs();
  const ours = CompressionCodecs[CompressionTypes.ZSTD];
  // Our codec still does the work; the test counts the batches kafkajs hands it and can
  // make it write two frames per batch.
  let decompressed = 0;
  let twoFrames = false;
  CompressionCodecs[CompressionTypes.ZSTD] = (): Codec => {
    const codec = ours();
    return {
      compress: async (encoder: { buffer: Buffer }) => {
        if (!twoFrames) return await codec.compress(encoder);
        const half = encoder.buffer.length >> 1;
        return Buffer.concat([
          await zstdCompress(encoder.buffer.subarray(0, half)),
          await zstdCompress(encoder.buffer.subarray(half)),
        ]);
      },
      decompress: (buffer: Buffer) => {
        decompressed++;
        return codec.decompress(buffer);
      },
    };
  };
  const kafka = createKafka(config);
  const admin = new ClusterAdmin(kafka);
  await admin.connect();
  const topics: string[] = [];
  const small = Array.from({ length: 200 }, (_, i) => `order-${i} `.repeat(20));
  // Incompressible values: the batch compresses to more than 64 KiB.
  const large = Array.from({ length: 40 }, () => Buffer.from(random(3000)).toString("base64"));
  const values = [...small, ...large];
  const roundTrip = async (name: string, compression: "zstd" | "none", configs = {}) => {
    const topic = uniqueName(`test.codecs.${name}`);
    topics.push(topic);
    await admin.createTopic(topic, { partitions: 1, replicationFactor: 1, configs });
    const producer = new TopicProducer(kafka, { topic, compression, batchSize: 500 });
    await producer.connect();
    try {
      await producer.send(values.map((value) => ({ key: null, value })));
    } finally {
      await producer.disconnect();
    }
    const before = decompressed;
    assert.deepEqual(await readAll(topic, values.length), values);
    return decompressed - before;
  };
  try {
    await t.step("batches we compress are accepted and read back", async () => {
      assert.ok(await roundTrip("ours", "zstd") >= 1, "read through our decompressor");
    });
    await t.step("batches the broker compresses (Java's zstd) are read by ours", async () => {
      // The topic's compression.type=zstd: the broker recompresses what it gets.
      const batches = await roundTrip("broker", "none", { "compression.type": "zstd" });
      assert.ok(batches >= 1, "the broker stored zstd batches and our decompressor read them");
    });
    await t.step("a batch of two zstd frames is valid Kafka and comes back whole", async () => {
      twoFrames = true;
      assert.ok(await roundTrip("frames", "zstd") >= 1);
    });
  } finally {
    CompressionCodecs[CompressionTypes.ZSTD] = ours;
    await admin.deleteTopics(topics).catch(() => {});
    await admin.disconnect();
  }
});
