/**
 * Module 2's pure logic, no broker: murmur2 against the vectors in Kafka's own
 * `UtilsTest`, key placement against kafkajs's Java-compatible partitioner,
 * the region and keyless partitioners, the latency histogram, error
 * classification, and the console tasks' flag parsing.
 */
import { HelpRequested, UsageError } from "../lib/util/mod.ts";
import assert from "node:assert/strict";
import { Partitioners } from "kafkajs";
import {
  defaultPartitioner,
  javaPartition,
  keylessPartitioner,
  murmur2,
  regionPartitioner,
  toPositive,
  UnknownRegionError,
} from "../lib/kafka/partitioners.ts";
import { isRetriedResponse } from "../lib/kafka/client.ts";
import { ClientMetrics, LatencyHistogram } from "../lib/kafka/metrics.ts";
import {
  classifyError,
  deadLetterReason,
  FatalError,
  RetriableError,
  retryRetriable,
} from "../lib/kafka/errors.ts";
import { formatRecord, parseAcks, parsePairs, readLines, splitLine } from "../lib/kafka/cli.ts";
import { outOfRange, parseAdminArgs, parseResetTarget } from "../tasks/admin.ts";
import { parseProduceArgs } from "../tasks/produce.ts";
import { parseConsumeArgs } from "../tasks/consume.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

Deno.test("murmur2 and Java's key placement", async (t) => {
  await t.step("the vectors of Kafka's UtilsTest.testMurmur2", () => {
    const cases: [Uint8Array, number][] = [
      [bytes("21"), -973932308],
      [bytes("foobar"), -790332482],
      [bytes("a-little-bit-long-string"), -985981536],
      [bytes("a-little-bit-longer-string"), -1486304829],
      [bytes("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8"), -58897971],
      [new Uint8Array([0x61, 0x62, 0x63]), 479470107],
    ];
    for (const [input, expected] of cases) {
      assert.equal(murmur2(input), expected, new TextDecoder().decode(input));
    }
  });

  await t.step("toPositive clears the sign bit like Java (not Math.abs)", () => {
    assert.equal(toPositive(-1), 0x7fffffff);
    assert.equal(toPositive(-2147483648), 0);
    assert.equal(toPositive(42), 42);
  });

  await t.step("javaPartition agrees with kafkajs's Java-compatible partitioner", () => {
    const kafkajs = Partitioners.DefaultPartitioner();
    for (const partitions of [1, 3, 6, 7, 12]) {
      const partitionMetadata = Array.from(
        { length: partitions },
        (_, i) => ({ partitionId: i, leader: 1, replicas: [1], isr: [1], partitionErrorCode: 0 }),
      );
      for (let i = 0; i < 300; i++) {
        const key = `customer-${i}-ü`;
        const theirs = kafkajs({ topic: "t", partitionMetadata, message: { key, value: null } });
        assert.equal(javaPartition(key, partitions), theirs, `${key} over ${partitions}`);
      }
    }
  });

  await t.step("string and byte keys land alike; bad partition counts throw", () => {
    assert.equal(javaPartition("foobar", 6), javaPartition(bytes("foobar"), 6));
    assert.throws(() => javaPartition("k", 0), RangeError);
  });
});

Deno.test("partitioners", async (t) => {
  await t.step("round-robin keyless spreads record by record", () => {
    const next = keylessPartitioner("round-robin");
    assert.deepEqual(Array.from({ length: 7 }, () => next({}, 3)), [0, 1, 2, 0, 1, 2, 0]);
  });

  await t.step("sticky keyless keeps one partition per batch", () => {
    const next = keylessPartitioner("sticky", 2);
    assert.deepEqual(Array.from({ length: 7 }, () => next({}, 3)), [0, 0, 1, 1, 2, 2, 0]);
  });

  await t.step("default: keys by murmur2, keyless by strategy", () => {
    const p = defaultPartitioner("round-robin");
    assert.equal(p({ key: "foobar" }, 6), javaPartition("foobar", 6));
    assert.deepEqual([p({}, 2), p({ key: null }, 2), p({}, 2)], [0, 1, 0]);
  });

  await t.step("region partitioner: each region stays in its range, one key one partition", () => {
    const p = regionPartitioner({ eu: [0, 1], us: [2, 3], apac: [4, 5] });
    const seen = new Map<string, Set<number>>();
    for (let i = 0; i < 200; i++) {
      for (const region of ["eu", "us", "apac"]) {
        const part = p({ key: `${region}:customer-${i}` }, 6);
        const set = seen.get(region) ?? new Set();
        set.add(part);
        seen.set(region, set);
        assert.equal(part, p({ key: `${region}:customer-${i}` }, 6), "stable per key");
      }
    }
    assert.deepEqual([...seen.get("eu")!].sort(), [0, 1]);
    assert.deepEqual([...seen.get("us")!].sort(), [2, 3]);
    assert.deepEqual([...seen.get("apac")!].sort(), [4, 5]);
  });

  await t.step("region partitioner: the header wins over the key prefix", () => {
    const p = regionPartitioner({ eu: [0, 0], us: [1, 1] });
    assert.equal(p({ key: "eu:7", headers: { region: "us" } }, 2), 1);
    assert.equal(p({ key: "eu:7" }, 2), 0);
  });

  await t.step("region partitioner: clear errors for bad input and config", () => {
    const p = regionPartitioner({ eu: [0, 1] });
    assert.throws(() => p({ key: "mars:1" }, 2), UnknownRegionError);
    assert.throws(() => p({ key: "no-prefix" }, 2), /no region/);
    assert.throws(() => p({ key: "eu:1" }, 1), /needs 2 partitions/);
    assert.throws(() => regionPartitioner({ a: [0, 1], b: [1, 2] }), /both claim partition 1/);
    assert.throws(() => regionPartitioner({ a: [2, 1] }), RangeError);
  });
});

Deno.test("metrics", async (t) => {
  await t.step("histogram percentiles within 1% of the exact nearest rank", () => {
    const h = new LatencyHistogram();
    const values = Array.from({ length: 10_000 }, (_, i) => (i + 1) / 10); // 0.1 .. 1000 ms
    for (const v of values) h.record(v);
    for (const p of [50, 95, 99, 99.9]) {
      const exact = values[Math.ceil((p / 100) * values.length) - 1];
      const got = h.percentile(p);
      assert.ok(Math.abs(got - exact) / exact <= 0.01, `p${p}: ${got} vs ${exact}`);
    }
    assert.equal(h.count, 10_000);
    assert.equal(h.min, 0.1);
    assert.equal(h.max, 1000);
    assert.ok(Math.abs(h.mean - 500.05) < 1e-6);
  });

  await t.step("empty, weighted, merged and reset histograms", () => {
    const h = new LatencyHistogram();
    assert.ok(Number.isNaN(h.percentile(50)));
    h.record(10, 99);
    h.record(1000);
    assert.ok(Math.abs(h.percentile(99) - 10) <= 0.1);
    assert.equal(h.percentile(100), 1000);
    const other = new LatencyHistogram();
    other.record(0);
    h.merge(other);
    assert.equal(h.count, 101);
    assert.equal(h.min, 0);
    h.reset();
    assert.equal(h.count, 0);
    assert.throws(() => h.record(-1), RangeError);
    assert.throws(() => h.record(Number.NaN), RangeError);
    assert.throws(() => h.percentile(101), RangeError);
  });

  await t.step("client metrics: rates from counters and the clock", () => {
    const m = new ClientMetrics(1000);
    m.recordSent(500, 256_000);
    m.recordSent(500, 256_000);
    m.recordError(3);
    const s = m.snapshot(3000);
    assert.equal(s.records, 1000);
    assert.equal(s.batches, 2);
    assert.equal(s.errors, 3);
    assert.equal(s.elapsedMs, 2000);
    assert.equal(s.recordsPerSec, 500);
    assert.equal(s.mbPerSec, 0.256);
    m.reset(5000);
    assert.equal(m.snapshot(6000).records, 0);
  });
});

Deno.test("error classification", async (t) => {
  await t.step("our own error classes say what they are", () => {
    assert.equal(classifyError(new RetriableError("db busy")), "retriable");
    assert.equal(classifyError(new FatalError("validation", "qty < 0")), "fatal");
  });
  await t.step("kafkajs's retriable flag is respected", () => {
    assert.equal(classifyError(Object.assign(new Error("x"), { retriable: true })), "retriable");
    assert.equal(classifyError(Object.assign(new Error("x"), { retriable: false })), "fatal");
  });
  await t.step("network failures are retriable, bad data is fatal", () => {
    assert.equal(classifyError(Object.assign(new Error("c"), { code: "ECONNRESET" })), "retriable");
    assert.equal(classifyError(new Deno.errors.ConnectionRefused("no")), "retriable");
    assert.equal(classifyError(new SyntaxError("Unexpected token")), "fatal");
    assert.equal(classifyError(new TypeError("x is undefined")), "fatal");
    assert.equal(classifyError("a string"), "fatal");
  });
  await t.step("retryRetriable: again on a retriable error, at once on a fatal one", async () => {
    let calls = 0;
    const notCoordinator = () =>
      Object.assign(new Error("This is not the correct coordinator for this group"), {
        type: "NOT_COORDINATOR",
        retriable: true,
      });
    assert.equal(
      await retryRetriable(() =>
        ++calls < 3 ? Promise.reject(notCoordinator()) : Promise.resolve(calls)
      ),
      3,
    );
    calls = 0;
    await assert.rejects(
      retryRetriable(() => (++calls, Promise.reject(new TypeError("bug"))), 5),
      TypeError,
    );
    assert.equal(calls, 1, "a fatal error is not retried");
    calls = 0;
    await assert.rejects(retryRetriable(() => (++calls, Promise.reject(notCoordinator())), 2));
    assert.equal(calls, 2, "gives up after the attempts");
  });
  await t.step("dead-letter reasons", () => {
    assert.equal(deadLetterReason(new FatalError("validation", "v")), "validation");
    assert.equal(deadLetterReason(new SyntaxError("bad JSON")), "deserialization");
    assert.equal(deadLetterReason(new RetriableError("still down")), "retries-exhausted");
    assert.equal(deadLetterReason(new Error("boom")), "processing");
  });
});

Deno.test("console helpers and flag parsing", async (t) => {
  await t.step("key=value pairs, acks, line splitting", () => {
    assert.deepEqual(parsePairs(["a=1", "b=x=y"], "--config"), { a: "1", b: "x=y" });
    assert.throws(() => parsePairs(["novalue"], "--header"), UsageError);
    assert.deepEqual([parseAcks("all"), parseAcks("1"), parseAcks("0"), parseAcks(undefined)], [
      -1,
      1,
      0,
      -1,
    ]);
    assert.throws(() => parseAcks("2"), UsageError);
    assert.deepEqual(splitLine("k:v:w", ":"), { key: "k", value: "v:w" });
    assert.deepEqual(splitLine("plain", undefined), { key: null, value: "plain" });
    assert.throws(() => splitLine("nokey", ":"), /no key separator/);
  });

  await t.step("readLines splits across chunks, drops \\r and empty lines", async () => {
    const chunks = ["a:1\r\nb:", "2\n\nc:3"].map((s) => new TextEncoder().encode(s));
    const stream = ReadableStream.from(chunks);
    const lines: string[] = [];
    for await (const line of readLines(stream)) lines.push(line);
    assert.deepEqual(lines, ["a:1", "b:2", "c:3"]);
  });

  await t.step("formatRecord follows kafka-console-consumer's layout", () => {
    const r = { partition: 2, offset: "9", key: "k", value: "v", headers: { h: "1", g: "2" } };
    assert.equal(formatRecord(r), "v");
    assert.equal(
      formatRecord(r, { printKey: true, printHeaders: true, printPartition: true }),
      "Partition:2\th:1,g:2\tk\tv",
    );
    assert.equal(
      formatRecord({ ...r, key: null, headers: {} }, {
        printKey: true,
        printHeaders: true,
        printOffset: true,
        separator: "|",
      }),
      "Offset:9|NO_HEADERS|null|v",
    );
  });

  await t.step("admin flags", () => {
    const c = parseAdminArgs([
      "topics",
      "create",
      "orders",
      "--partitions",
      "6",
      "--replication-factor",
      "2",
      "--config",
      "min.insync.replicas=2",
    ]);
    assert.equal(c.command, "topics create");
    assert.deepEqual(c.names, ["orders"]);
    assert.equal(c.partitions, 6);
    assert.equal(c.replicationFactor, 2);
    assert.deepEqual(c.configs, { "min.insync.replicas": "2" });
    assert.throws(() => parseAdminArgs([]), /name a command/);
    assert.equal(parseAdminArgs(["lag", "g", "--topic", "t"]).topics[0], "t");
    assert.equal(parseAdminArgs(["cluster"]).command, "cluster");
    assert.deepEqual(
      parseAdminArgs(["topics", "alter-config", "t", "--delete", "retention.ms"]).deletes,
      ["retention.ms"],
    );
    assert.throws(() => parseAdminArgs(["topics", "create"]), /missing <topic>/);
    assert.throws(() => parseAdminArgs(["topics", "add-partitions", "t"]), /--total/);
    const reset = (to: string, ...more: string[]) =>
      parseAdminArgs(["groups", "reset-offsets", "g", "--topic", "t", "--to", to, ...more]);
    assert.deepEqual(reset("earliest").to, "earliest");
    assert.equal(reset("earliest").execute, false, "a dry run unless --execute");
    assert.equal(reset("latest", "--execute").execute, true);
    assert.deepEqual(reset("42").to, { offset: "42" });
    assert.deepEqual(reset("2026-12-06T10:00:00Z").to, { timestamp: Date.UTC(2026, 11, 6, 10) });
    assert.deepEqual(parseResetTarget("1970-01-01T00:00:01.500Z"), { timestamp: 1500 });
    for (const bad of ["yesterday", "-1", "4.5", "2026-13-45"]) {
      assert.throws(() => reset(bad), /--to must be earliest, latest, an offset or an ISO/, bad);
    }
    assert.throws(
      () => parseAdminArgs(["groups", "reset-offsets", "g", "--to", "latest"]),
      /--topic/,
    );
    const logs = new Map([[0, { low: "10", high: "166" }], [1, { low: "0", high: "5" }]]);
    assert.deepEqual(
      outOfRange([{ partition: 0, offset: "10" }, { partition: 1, offset: "5" }], logs),
      [],
    );
    assert.deepEqual(
      outOfRange([{ partition: 0, offset: "9" }, { partition: 1, offset: "6" }], logs),
      [
        "partition 0: offset 9 is before the log start (10; older records were deleted); " +
        "a consumer there falls back to its auto.offset.reset",
        "partition 1: offset 6 is past the log end (5); a consumer there falls back to its auto.offset.reset",
      ],
    );
    assert.throws(() => parseAdminArgs(["topics", "alter-config", "t"]), /--set/);
    assert.throws(
      () => parseAdminArgs(["topics", "create", "t", "--partitions", "0"]),
      /--partitions/,
    );
    assert.throws(() => parseAdminArgs(["frob"]), /unknown command/);
    assert.throws(() => parseAdminArgs(["cluster", "--nope"]), UsageError);
  });

  await t.step("produce flags", () => {
    const o = parseProduceArgs([
      "--topic",
      "t",
      "--key-separator",
      ":",
      "--header",
      "a=1",
      "--header",
      "b=2",
      "--acks",
      "1",
      "--compression",
      "gzip",
    ]);
    assert.equal(o.topic, "t");
    assert.equal(o.keySeparator, ":");
    assert.deepEqual(o.headers, { a: "1", b: "2" });
    assert.equal(o.acks, 1);
    assert.equal(o.compression, "gzip");
    assert.equal(o.lingerMs, 5);
    assert.throws(() => parseProduceArgs(["--help"]), HelpRequested);
    assert.throws(() => parseProduceArgs([]), /--topic is required/);
    assert.throws(() => parseProduceArgs(["--topic", "t", "--compression", "brotli"]), UsageError);
    assert.throws(() => parseProduceArgs(["--topic", "t", "--partition", "-1"]), UsageError);
  });

  await t.step("consume flags", () => {
    const o = parseConsumeArgs([
      "--topic",
      "t",
      "--group",
      "g",
      "--from-beginning",
      "--max-messages",
      "5",
      "--print-key",
      "--isolation",
      "read_uncommitted",
    ]);
    assert.equal(o.group, "g");
    assert.equal(o.fromBeginning, true);
    assert.equal(o.maxMessages, 5);
    assert.equal(o.printKey, true);
    assert.equal(o.readCommitted, false);
    assert.equal(parseConsumeArgs(["--topic", "t"]).fromBeginning, false);
    assert.throws(() => parseConsumeArgs(["--topic", "t", "--max-messages", "0"]), UsageError);
    assert.throws(() => parseConsumeArgs(["--topic", "t", "--isolation", "x"]), UsageError);
  });
});

Deno.test("kafkajs log lines: retried broker answers are hidden, real failures are not", () => {
  const retried = [
    "The coordinator is loading and hence can't process requests for this group",
    "This is not the correct coordinator for this group",
    "There is no leader for this topic-partition as we are in the middle of a leadership election",
    "This server is not the leader for that topic-partition",
    "This server does not host this topic-partition",
    "The group is rebalancing, so a rejoin is needed",
    // TopicProducer splits a request refused as too large and sends the halves again.
    "The request included a message larger than the max message size the server will accept",
  ];
  for (const error of retried) {
    assert.ok(
      isRetriedResponse("Connection", "Response Produce(key: 0, version: 7)", error),
      error,
    );
    assert.ok(!isRetriedResponse("Producer", "Response Produce(key: 0, version: 7)", error), error);
  }
  for (
    const error of [
      "Not enough in-sync replicas",
      "The request attempted to perform an operation on an invalid topic",
      "Broker: Message size too large",
    ]
  ) {
    assert.ok(
      !isRetriedResponse("Connection", "Response Produce(key: 0, version: 7)", error),
      error,
    );
  }
  assert.ok(!isRetriedResponse("Connection", "Connection error: read ECONNRESET", retried[0]));
});

Deno.test("CRC-32C (slice-by-8) against known values and kafkajs's byte-at-a-time version", async () => {
  const { crc32c } = await import("../lib/kafka/crc32c.ts");
  const kafkajsCrc = (await import("kafkajs/src/protocol/recordBatch/crc32C/index.js")).default as (
    b: Uint8Array,
  ) => number;
  assert.equal(crc32c(bytes("123456789")), 0xe3069283); // the check value of CRC-32C
  assert.equal(crc32c(new Uint8Array(0)), 0);
  assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa); // RFC 3720 B.4: 32 bytes of zeros
  assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43); // RFC 3720 B.4: 32 bytes of 0xff
  assert.equal(crc32c(bytes("xx123456789yy"), 2, 11), 0xe3069283, "a range of a buffer");
  for (const n of [1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 1000, 4099]) {
    const data = crypto.getRandomValues(new Uint8Array(n));
    assert.equal(crc32c(data), kafkajsCrc(data), `${n} random bytes`);
  }
});

Deno.test("produce requests encoded in one buffer are byte for byte kafkajs's", async () => {
  const { Buffer } = await import("node:buffer");
  const Long = (await import("kafkajs/src/utils/long.js")).default as {
    fromValue(v: number): unknown;
  };
  const { encodeProduceRequest, encodeProducesInPlace, kafkajsProduceRequest } = await import(
    "../lib/kafka/produce_encoder.ts"
  );
  assert.ok(encodeProducesInPlace(), "installed in kafkajs");
  const messages = Array.from({ length: 300 }, (_, i) => ({
    key: i % 3 === 0 ? null : i % 3 === 1 ? `key-é-${i}` : Buffer.from(`k${i}`),
    value: i % 7 === 0 ? null : i % 2 ? Buffer.alloc(i * 3, 65 + (i % 26)) : "vé".repeat(i),
    timestamp: String(1_700_000_000_000 + ((i * 7919) % 5000)),
    ...(i % 5 === 0 ? { headers: { trace: `t${i}`, multi: [Buffer.from("a"), "b"] } } : {}),
  }));
  const cases = {
    "idempotent, two partitions": {
      acks: -1,
      timeout: 30_000,
      producerId: Long.fromValue(12_345_678_901),
      producerEpoch: 3,
      topicData: [{
        topic: "tópic",
        partitions: [
          { partition: 2, firstSequence: 2_000_000, messages },
          { partition: 0, firstSequence: 0, messages: messages.slice(0, 1) },
        ],
      }],
    },
    "acks=1, two topics, numeric timestamps": {
      acks: 1,
      timeout: 5_000,
      topicData: ["a", "b"].map((topic) => ({
        topic,
        partitions: [{
          partition: 1,
          messages: [{ value: "x", timestamp: 5 }, { value: "y", timestamp: 3 }],
        }],
      })),
    },
    "transactional": {
      acks: -1,
      timeout: 1_000,
      transactionalId: "tx-1",
      producerId: Long.fromValue(7),
      topicData: [{ topic: "t", partitions: [{ partition: 0, messages: messages.slice(10, 20) }] }],
    },
  };
  for (const [name, args] of Object.entries(cases)) {
    const ours = await encodeProduceRequest(args);
    assert.ok(ours, `${name}: encoded`);
    assert.deepEqual(ours.buffer, await kafkajsProduceRequest(args), name);
  }
  // Without timestamps both take "now": pin the clock so both see the same one.
  const realNow = Date.now;
  Date.now = () => 1_700_000_000_000;
  try {
    const args = {
      acks: -1,
      timeout: 1,
      topicData: [{ topic: "t", partitions: [{ partition: 0, messages: messages.slice(0, 5) }] }],
    };
    const noStamps = structuredClone(args);
    noStamps.topicData[0].partitions[0].messages = messages.slice(0, 5).map((m) => ({
      ...m,
      timestamp: undefined as unknown as string,
    }));
    assert.deepEqual(
      (await encodeProduceRequest(noStamps))?.buffer,
      await kafkajsProduceRequest(noStamps),
      "no timestamps",
    );
  } finally {
    Date.now = realNow;
  }
  // Compressed (gzip is deterministic): the records go to the codec as kafkajs's would.
  const gzipped = { ...cases["idempotent, two partitions"], compression: 1 };
  assert.deepEqual(
    (await encodeProduceRequest(gzipped))?.buffer,
    await kafkajsProduceRequest(gzipped),
    "gzip",
  );
  // What it leaves to kafkajs: a codec kafkajs lacks (lz4), a value kafkajs would stringify,
  // odd timestamps and headers.
  const one = (m: Record<string, unknown>, extra = {}) => ({
    acks: -1,
    timeout: 1,
    ...extra,
    topicData: [{ topic: "t", partitions: [{ partition: 0, messages: [m] }] }],
  });
  assert.equal(await encodeProduceRequest(one({ value: "v" }, { compression: 3 })), undefined);
  assert.equal(await encodeProduceRequest(one({ value: new Uint8Array([1]) })), undefined);
  assert.equal(await encodeProduceRequest(one({ value: "v", timestamp: "soon" })), undefined);
  assert.equal(await encodeProduceRequest(one({ value: "v", headers: { h: 1 } })), undefined);
});

Deno.test("linear grouping by partition gives kafkajs's groups in kafkajs's order", async () => {
  const { groupByPartition, linearGroupingAvailable } = await import("../lib/kafka/grouping.ts");
  const kafkajsGroup = (await import("kafkajs/src/producer/groupMessagesPerPartition.js"))
    .default as typeof groupByPartition;
  assert.ok(linearGroupingAvailable(), "kafkajs's producer modules loaded with it");
  const messages = Array.from({ length: 500 }, (_, i) => ({ i, partition: (i * 7) % 5 }));
  const args = {
    topic: "t",
    partitionMetadata: [{}, {}, {}, {}, {}],
    messages,
    partitioner: ({ message }: { message: unknown }) =>
      (message as { partition: number }).partition,
  };
  const ours = groupByPartition(args);
  assert.deepEqual(ours, kafkajsGroup(args));
  assert.deepEqual(Object.keys(ours), Object.keys(kafkajsGroup(args)));
  assert.deepEqual(groupByPartition({ ...args, partitionMetadata: [] }), {});
  // kafkajs's own module is left as it was for every other producer.
  assert.notEqual(kafkajsGroup, groupByPartition);
});
