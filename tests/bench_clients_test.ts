/**
 * `deno task bench clients`: the Java tools' output parsers, the flags, the
 * comparison table and chart, kafkajs's in-place varint writer (pure), and
 * one small live run that checks all four clients moved every record (no
 * timing assertions).
 */
import assert from "node:assert/strict";
import {
  benchSettings,
  BenchSettingsError,
  DEFAULT_BENCH,
  runClientBench,
  warmupOf,
} from "../lib/bench/clients.ts";
import { barChart } from "../lib/course/chart.ts";
import { comparisonRows, type PerfResult, perfResult, ratio, verdict } from "../lib/bench/perf.ts";
import {
  consumerPerfArgs,
  JavaToolError,
  parseConsumerPerformance,
  parseProducerPerformance,
  producerPerfArgs,
} from "../lib/bench/perf_java.ts";
import { formatTable } from "../lib/util/table.ts";
import { main } from "../tasks/bench/clients.ts";
import { config, requireKafka } from "./support.ts";

// Captured from Kafka 4.4.0's tools on this stack.
const PRODUCER_OUTPUT = `
[java WARN] org.apache.kafka.clients.NetworkClient: some warning
42117 records sent, 8423.4 records/sec (4.11 MB/sec), 1530.2 ms avg latency, 2210.0 ms max latency.
50000 records sent, 38880.248834 records/sec (18.98 MB/sec), 582.11 ms avg latency, 811.00 ms max latency, 589 ms 50th, 796 ms 95th, 808 ms 99th, 810 ms 99.9th.
`;

const CONSUMER_HEADER =
  "start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec";
const CONSUMER_OUTPUT = `${CONSUMER_HEADER}
2026-11-25 11:55:06:054, 2026-11-25 11:55:06:552, 24.4141, 49.0242, 50000, 100401.6064, 256, 242, 100.8846, 206611.5702
`;
const CONSUMER_TIMEOUT_OUTPUT = `${CONSUMER_HEADER}
WARNING: Exiting before consuming the expected number of records: timeout (2000 ms) exceeded. You can use the --timeout option to increase the timeout.
2026-11-25 11:58:06:819, 2026-11-25 11:58:09:403, 24.4141, 9.4482, 50000, 19349.8452, 252, 2332, 10.4692, 21440.8233
`;

Deno.test("ProducerPerformance output", async (t) => {
  await t.step("the final summary with percentiles wins over progress lines", () => {
    const r = parseProducerPerformance(PRODUCER_OUTPUT, 512);
    assert.equal(r.tool, "java");
    assert.equal(r.role, "producer");
    assert.equal(r.records, 50000);
    assert.equal(r.bytes, 50000 * 512);
    assert.equal(r.recordsPerSec, 38880.248834);
    assert.equal(r.mbPerSec, 18.98);
    assert.equal(r.p50Ms, 589);
    assert.equal(r.p99Ms, 808);
    assert.ok(Math.abs(r.seconds - 50000 / 38880.248834) < 1e-9);
  });
  await t.step("no summary: a JavaToolError carrying the output's tail", () => {
    assert.throws(
      () => parseProducerPerformance("Exception in thread main: TimeoutException", 512),
      (e) =>
        e instanceof JavaToolError && /no summary line/.test(e.message) &&
        /Timeout/.test(e.message),
    );
  });
  await t.step("arguments carry the same settings as our side", () => {
    const args = producerPerfArgs("h:1", {
      topic: "t",
      records: 10,
      recordSize: 100,
      acks: "1",
      batchSize: 4096,
      lingerMs: 7,
      compression: "gzip",
    });
    const props = args.slice(args.indexOf("--command-property") + 1);
    assert.deepEqual(props, [
      "acks=1",
      "batch.size=4096",
      "linger.ms=7",
      "compression.type=gzip",
      "enable.idempotence=false",
    ]);
    assert.equal(args[args.indexOf("--throughput") + 1], "-1");
    assert.equal(args[args.indexOf("--record-size") + 1], "100");
    assert.equal(args[args.indexOf("--num-records") + 1], "10");
    const all = producerPerfArgs("h:1", { ...DEFAULT_BENCH, topic: "t" });
    assert.ok(all.includes("enable.idempotence=true"), "acks=all runs idempotent");
  });
});

const WARMUP_OUTPUT =
  `Warmup first 20000 records. Steady state results will print after the complete test summary.
100000 records sent, 104275.286757 records/sec (50.92 MB/sec), 131.74 ms avg latency, 603.00 ms max latency, 174 ms 50th, 283 ms 95th, 423 ms 99th, 440 ms 99.9th.
80000 steady state records sent, 122511.485452 records/sec (59.82 MB/sec), 141.93 ms avg latency, 286.00 ms max latency, 184 ms 50th, 272 ms 95th, 283 ms 99th, 286 ms 99.9th.
`;

Deno.test("ProducerPerformance with --warmup-records: the steady-state line", () => {
  const r = parseProducerPerformance(WARMUP_OUTPUT, 512);
  assert.equal(r.records, 80000);
  assert.equal(r.recordsPerSec, 122511.485452);
  assert.equal(r.p50Ms, 184);
  assert.equal(r.p99Ms, 283);
  const args = producerPerfArgs("h:1", { ...DEFAULT_BENCH, topic: "t", warmupRecords: 7 });
  assert.equal(args[args.indexOf("--warmup-records") + 1], "7");
  assert.ok(
    !producerPerfArgs("h:1", { ...DEFAULT_BENCH, topic: "t" }).includes("--warmup-records"),
  );
});

Deno.test("ConsumerPerformance output", async (t) => {
  await t.step("fetch figures, join time as setup", () => {
    const r = parseConsumerPerformance(CONSUMER_OUTPUT, 50000);
    assert.equal(r.role, "consumer");
    assert.equal(r.records, 50000);
    assert.equal(r.recordsPerSec, 206611.5702);
    assert.equal(r.mbPerSec, 100.8846);
    assert.equal(r.seconds, 0.242);
    assert.equal(r.setupMs, 256);
    assert.equal(r.bytes, Math.round(24.4141 * 1024 * 1024));
  });
  await t.step("a warning between header and row is skipped", () => {
    assert.equal(parseConsumerPerformance(CONSUMER_TIMEOUT_OUTPUT, 50000).records, 50000);
  });
  await t.step("fewer records than asked for is an error", () => {
    assert.throws(
      () => parseConsumerPerformance(CONSUMER_TIMEOUT_OUTPUT, 60000),
      (e) => e instanceof JavaToolError && /read 50000 of 60000/.test(e.message),
    );
  });
  await t.step("no header: an error", () => {
    assert.throws(() => parseConsumerPerformance("boom", 1), JavaToolError);
  });
  await t.step("arguments", () => {
    const args = consumerPerfArgs("h:1", { topic: "t", records: 5, group: "g", timeoutMs: 900 });
    assert.deepEqual(args, [
      "--bootstrap-server",
      "h:1",
      "--topic",
      "t",
      "--num-records",
      "5",
      "--group",
      "g",
      "--timeout",
      "900",
    ]);
  });
});

Deno.test("bench flags", async (t) => {
  await t.step("defaults, overrides, acks=-1 means all", () => {
    assert.deepEqual(benchSettings({}), DEFAULT_BENCH);
    const s = benchSettings({
      records: "1000",
      "record-size": "100",
      acks: "-1",
      "linger-ms": "0",
    });
    assert.equal(s.records, 1000);
    assert.equal(s.recordSize, 100);
    assert.equal(s.acks, "all");
    assert.equal(s.lingerMs, 0);
    assert.equal(warmupOf(s), 200, "a fifth of the run by default");
    assert.equal(warmupOf(benchSettings({ "warmup-records": "0" })), 0);
  });
  await t.step("bad values name the flag", () => {
    const bad: [Record<string, string>, RegExp][] = [
      [{ records: "0" }, /--records "0"/],
      [{ records: "1e3x" }, /--records/],
      [{ acks: "2" }, /--acks "2": use 0, 1 or all/],
      [{ compression: "brotli" }, /--compression/],
      [{ clients: "python" }, /--clients/],
      [{ "min-insync-replicas": "4" }, /must not exceed --replication-factor 3/],
      [{ "batch-size": "1048576" }, /--batch-size .*message\.max\.bytes.*use at most 944640/],
      [{ "batch-size": "300000", "record-size": "10" }, /exceed the broker's message\.max\.bytes/],
      [
        { records: "100", "warmup-records": "100" },
        /--warmup-records 100: must be below --records 100/,
      ],
    ];
    for (const [flags, message] of bad) {
      assert.throws(
        () => benchSettings(flags),
        (e) => e instanceof BenchSettingsError && message.test(e.message),
      );
    }
  });
  await t.step("the task: --help exits 0, a bad flag exits 2", async () => {
    const log = console.log;
    const error = console.error;
    const out: string[] = [];
    console.log = (...a: unknown[]) => out.push(a.join(" "));
    console.error = (...a: unknown[]) => out.push(a.join(" "));
    try {
      assert.equal(await main(["--help"]), 0);
      assert.match(out.join("\n"), /--record-size BYTES/);
      assert.equal(await main(["--acks", "7"]), 2);
      assert.equal(await main(["--no-such-flag"]), 2);
    } finally {
      console.log = log;
      console.error = error;
    }
  });
});

const java: PerfResult = perfResult("java", "producer", 1000, 512_000, 0.1, { p50Ms: 3, p99Ms: 9 });
const ours: PerfResult = perfResult("ours", "producer", 1000, 512_000, 0.25, {
  p50Ms: 5,
  p99Ms: 20,
});

Deno.test("comparison table and ratio", async (t) => {
  await t.step("perfResult derives rates; MB is 2^20 bytes", () => {
    const r = perfResult("ours", "consumer", 2048, 2 * 1024 * 1024, 2);
    assert.equal(r.recordsPerSec, 1024);
    assert.equal(r.mbPerSec, 1);
    assert.throws(() => perfResult("ours", "consumer", 1, 1, 0), RangeError);
  });
  await t.step("ratio is ours/java records per second", () => {
    assert.equal(ratio([java, ours], "producer"), 0.4);
    assert.equal(ratio([java], "producer"), undefined);
    assert.equal(ratio([java, ours], "consumer"), undefined);
  });
  await t.step("rows: Java then ours per role, relative column", () => {
    const consumer = perfResult("java", "consumer", 1000, 512_000, 0.01);
    const { header, rows } = comparisonRows([ours, consumer, java]);
    assert.deepEqual(header, [
      "role",
      "client",
      "records",
      "records/s",
      "MB/s",
      "p50 ms",
      "p99 ms",
      "vs java",
    ]);
    assert.deepEqual(rows.map((r) => [r[0], r[1].split(" ")[0], r[3], r.at(-1)]), [
      ["producer", "Kafka", "10000", "1.00x"],
      ["producer", "ours", "4000", "0.40x"],
      ["consumer", "Kafka", "100000", "1.00x"],
    ]);
    assert.equal(rows[2][5], "-", "no latency for consumers");
    const text = formatTable(header, rows);
    assert.equal(text.split("\n").length, 2 + rows.length);
  });
  await t.step("verdict against the 0.5 target", () => {
    assert.match(verdict("producer", 0.85), /0\.85 \(target >= 0\.9\): NOT met/);
    assert.match(verdict("producer", 0.9), /: met$/);
    assert.match(verdict("consumer", 0.95), /target >= 1\): NOT met/);
    assert.match(verdict("consumer", undefined), /not compared/);
  });
  await t.step("bar chart: escaped labels, widths scale with values", () => {
    const chart = barChart([{ label: "<java>", value: 100 }, { label: "ours", value: 50 }], {
      title: "rec/s",
    });
    assert.ok(chart.svg.startsWith("<svg"));
    assert.ok(chart.svg.includes("&lt;java&gt;"));
    const widths = [...chart.svg.matchAll(/<rect [^>]*width="(\d+)"/g)].map((m) => Number(m[1]));
    assert.equal(widths.length, 2);
    assert.equal(widths[0], widths[1] * 2);
    const display = chart[Symbol.for("Jupyter.display")]();
    assert.equal(display["image/svg+xml"], chart.svg);
    assert.throws(() => barChart([{ label: "x", value: NaN }]), RangeError);
  });
});

Deno.test("bench clients against the live stack: every client moves every record", async () => {
  await requireKafka();
  const records = 3000;
  const results = await runClientBench(config, { ...DEFAULT_BENCH, records, recordSize: 200 });
  assert.deepEqual(
    results.map((r) => `${r.tool} ${r.role}`),
    ["java producer", "ours producer", "java consumer", "ours consumer"],
  );
  const warmup = Math.floor(records / 5);
  for (const r of results) {
    const measured = r.role === "producer" ? records - warmup : records;
    assert.equal(r.records, measured, `${r.tool} ${r.role} records`);
    assert.ok(r.recordsPerSec > 0 && Number.isFinite(r.recordsPerSec), `${r.tool} ${r.role} rate`);
  }
  const ourConsumer = results.find((r) => r.tool === "ours" && r.role === "consumer")!;
  assert.equal(ourConsumer.bytes, records * 200, "our consumer saw every payload byte");
  for (const r of results.filter((r) => r.role === "producer")) {
    assert.ok(r.p50Ms !== undefined && r.p99Ms !== undefined && r.p50Ms <= r.p99Ms);
  }
});

Deno.test("kafkajs varints written in place (lib/kafka/varint.ts) are LEB128 of the zigzag value", async () => {
  await import("../lib/kafka/varint.ts"); // applies the in-place varint writer
  const { default: Encoder } = await import("kafkajs/src/protocol/encoder.js");
  const { default: Decoder } = await import("kafkajs/src/protocol/decoder.js");
  assert.ok(
    !String(Encoder.prototype.writeUVarInt).includes("Buffer.from"),
    "the in-place writer replaced kafkajs's allocating one",
  );
  const leb128 = (signed: number): number[] => {
    let v = ((signed << 1) ^ (signed >> 31)) >>> 0; // zigzag
    const out: number[] = [];
    while (v >= 0x80) {
      out.push((v & 0x7f) | 0x80);
      v = Math.floor(v / 128);
    }
    out.push(v);
    return out;
  };
  const values = [
    0,
    1,
    -1,
    63,
    -64,
    64,
    -65,
    127,
    128,
    300,
    -300,
    16383,
    16384,
    2 ** 31 - 1,
    -(2 ** 31),
  ];
  for (let i = 0; i < 200; i++) values.push(Math.floor((Math.random() - 0.5) * 2 ** 32) | 0);
  for (const v of values) {
    const encoder = new Encoder();
    encoder.writeVarInt(v).writeVarInt(7); // a second value proves the offset moved right
    const bytes = [...encoder.buffer];
    assert.deepEqual(bytes, [...leb128(v), ...leb128(7)], `varint of ${v}`);
    const decoder = new Decoder(encoder.buffer);
    assert.equal(decoder.readVarInt(), v);
    assert.equal(decoder.readVarInt(), 7);
  }
});
