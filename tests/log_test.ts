/**
 * Unit: the log on disk: appends, reads from any offset and with maxBytes,
 * independent readers, segment rolls by size and by age, index lookups across
 * segments, and every error.
 */
import assert from "node:assert/strict";
import {
  InvalidArgumentError,
  Log,
  LogClosedError,
  type LogOptions,
  OffsetOutOfRangeError,
  RecordTooLargeError,
  text,
} from "../lib/log/mod.ts";
import { checkFrame, encodeBatch, normalizeRecord } from "../lib/log/record.ts";
import { Segment } from "../lib/log/segment.ts";

async function withLog(
  options: LogOptions,
  work: (log: Log, dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "log-test-" });
  const log = await Log.open(dir, options);
  try {
    await work(log, dir);
  } finally {
    await log.close();
    await Deno.remove(dir, { recursive: true });
  }
}

const values = (records: { value: Uint8Array | null }[]) => records.map((r) => text(r.value));

Deno.test("log: append and read", async (t) => {
  await t.step("offsets count up from 0; a read returns from any offset", async () => {
    await withLog({}, async (log) => {
      for (let i = 0; i < 5; i++) assert.equal(await log.append({ value: `v${i}` }), i);
      assert.equal(log.startOffset, 0);
      assert.equal(log.endOffset, 5);
      assert.deepEqual(values((await log.read(0)).records), ["v0", "v1", "v2", "v3", "v4"]);
      const { records, nextOffset } = await log.read(3);
      assert.deepEqual(records.map((r) => r.offset), [3, 4]);
      assert.equal(nextOffset, 5);
      assert.deepEqual(await log.read(5), { records: [], nextOffset: 5 });
    });
  });
  await t.step("a batch takes consecutive offsets, keeps keys, headers, timestamps", async () => {
    await withLog({ clock: () => 42_000 }, async (log) => {
      await log.append({ value: "first" });
      const got = await log.appendBatch([
        { key: "a", value: "1", headers: { source: "web" } },
        { key: "b", value: null, timestamp: 7 },
      ]);
      assert.deepEqual(got, { firstOffset: 1, lastOffset: 2 });
      const [a, b] = (await log.read(1)).records;
      assert.equal(text(a.key), "a");
      assert.equal(text(a.headers[0].value), "web");
      assert.equal(a.timestamp, 42_000);
      assert.equal(b.value, null);
      assert.equal(b.timestamp, 7);
      assert.equal(a.crc, b.crc, "one batch, one CRC");
    });
  });
  await t.step("maxBytes bounds a read, but a read returns at least one batch", async () => {
    await withLog({}, async (log) => {
      for (let i = 0; i < 10; i++) await log.append({ value: "x".repeat(100) });
      const small = await log.read(0, 1);
      assert.equal(small.records.length, 1);
      assert.equal(small.nextOffset, 1);
      const some = await log.read(2, 400);
      assert.ok(some.records.length >= 1 && some.records.length < 8, `${some.records.length}`);
      assert.equal(some.nextOffset, 2 + some.records.length);
    });
  });
  await t.step("records survive close and reopen", async () => {
    const dir = await Deno.makeTempDir({ prefix: "log-test-" });
    try {
      const log = await Log.open(dir);
      await log.appendBatch([{ key: "k", value: "1" }, { key: "k", value: "2" }]);
      await log.close();
      const again = await Log.open(dir);
      assert.equal(again.endOffset, 2);
      assert.equal(await again.append({ value: "3" }), 2);
      assert.deepEqual(values((await again.read(0)).records), ["1", "2", "3"]);
      await again.close();
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
});

Deno.test("log: readers keep their own positions", async (t) => {
  await withLog({}, async (log) => {
    for (const v of ["a", "b", "c"]) await log.append({ value: v });
    const billing = log.reader({ name: "billing" });
    const audit = log.reader({ name: "audit" });
    await t.step("each reader sees every record; reading removes nothing", async () => {
      assert.deepEqual(values(await billing.poll()), ["a", "b", "c"]);
      assert.equal(billing.position, 3);
      assert.equal(audit.position, 0);
      assert.equal(audit.lag, 3);
      assert.deepEqual(values(await audit.poll(1)), ["a"]);
      assert.deepEqual(values(await audit.poll()), ["b", "c"]);
      assert.deepEqual(await billing.poll(), []);
    });
    await t.step("new records reach every reader; seek replays", async () => {
      await log.append({ value: "d" });
      assert.equal(billing.lag, 1);
      assert.deepEqual(values(await billing.poll()), ["d"]);
      billing.seek("earliest");
      assert.deepEqual(values(await billing.poll()), ["a", "b", "c", "d"]);
      const late = log.reader({ from: "latest" });
      assert.deepEqual(await late.poll(), []);
      late.seek(2);
      assert.deepEqual(values(await late.poll()), ["c", "d"]);
      assert.throws(() => late.seek(-1), InvalidArgumentError);
    });
  });
});

Deno.test("log: segments roll by size and age; index lookups across boundaries", async (t) => {
  await t.step("size: no segment passes segmentBytes (unless a single batch does)", async () => {
    await withLog({ segmentBytes: 1000, indexIntervalBytes: 200 }, async (log) => {
      for (let i = 0; i < 200; i++) await log.append({ key: `k${i}`, value: `value-${i}` });
      const segments = await log.describe();
      assert.ok(segments.length > 5, `${segments.length} segments`);
      assert.ok(segments.every((s) => s.sizeBytes <= 1000));
      assert.equal(segments.reduce((n, s) => n + s.records, 0), 200);
      for (let i = 1; i < segments.length; i++) {
        assert.equal(segments[i].baseOffset, segments[i - 1].nextOffset, "contiguous");
      }
      assert.ok(segments.slice(0, -1).every((s) => s.indexEntries >= 3), "sparse index used");
      assert.equal(segments.at(-1)!.active, true);
      for (let offset = 0; offset < 200; offset++) {
        const { records } = await log.read(offset, 1);
        assert.equal(records[0].offset, offset);
        assert.equal(text(records[0].value), `value-${offset}`);
      }
      const across = await log.read(segments[1].nextOffset - 2, 10_000);
      assert.deepEqual(
        across.records.slice(0, 4).map((r) => r.offset),
        [0, 1, 2, 3].map((d) => segments[1].nextOffset - 2 + d),
      );
    });
  });
  await t.step("an index survives reopen and finds the same records", async () => {
    const dir = await Deno.makeTempDir({ prefix: "log-test-" });
    try {
      const options = { segmentBytes: 2000, indexIntervalBytes: 150 };
      const log = await Log.open(dir, options);
      for (let i = 0; i < 120; i++) await log.append({ value: `value-${i}` });
      const before = await log.describe();
      await log.close();
      const again = await Log.open(dir, options);
      assert.deepEqual(await again.describe(), before);
      assert.equal(again.recovery.indexesRebuilt, 0);
      for (const offset of [0, 17, 55, 56, 99, 119]) {
        assert.equal(text((await again.read(offset, 1)).records[0].value), `value-${offset}`);
      }
      await again.close();
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
  await t.step("age: a segment whose first record is segmentMs old rolls", async () => {
    let now = 1_000_000;
    await withLog({ segmentMs: 60_000, clock: () => now }, async (log) => {
      await log.append({ value: "a" });
      now += 59_999;
      await log.append({ value: "b" });
      assert.equal(log.segmentCount, 1);
      now += 1;
      await log.append({ value: "c" });
      assert.equal(log.segmentCount, 2);
      assert.deepEqual((await log.describe()).map((s) => s.baseOffset), [0, 2]);
    });
  });
});

Deno.test("log: clear errors", async (t) => {
  await t.step("offset out of range says which range is valid", async () => {
    await withLog({}, async (log) => {
      await log.append({ value: "a" });
      await assert.rejects(() => log.read(2), (e: unknown) => {
        assert.ok(e instanceof OffsetOutOfRangeError);
        assert.equal(e.endOffset, 1);
        assert.match(e.message, /beyond the log end 1.*\[0, 1\]/);
        return true;
      });
      await assert.rejects(() => log.read(-1), OffsetOutOfRangeError);
      await assert.rejects(() => log.read(0.5), InvalidArgumentError);
      await assert.rejects(() => log.read(0, 0), InvalidArgumentError);
    });
  });
  await t.step("a record too big names the size and the limit; nothing is written", async () => {
    await withLog({ maxBatchBytes: 500 }, async (log) => {
      await assert.rejects(
        () => log.append({ value: "x".repeat(1000) }),
        (e: unknown) =>
          e instanceof RecordTooLargeError && e.maxBytes === 500 && e.sizeBytes > 1000,
      );
      assert.equal(log.endOffset, 0);
      assert.equal(await log.append({ value: "small" }), 0);
    });
  });
  await t.step("bad records and options are rejected", async () => {
    await withLog({}, async (log) => {
      await assert.rejects(() => log.appendBatch([]), InvalidArgumentError);
      await assert.rejects(
        () => log.append({ value: 5 as unknown as string }),
        InvalidArgumentError,
      );
      assert.equal(log.endOffset, 0);
    });
    await assert.rejects(() => Log.open("/tmp/unused", { segmentBytes: 0 }), /segmentBytes/);
    await assert.rejects(() => Log.open("/tmp/unused", { segmentBytes: 2 ** 32 }), /below 2 GiB/);
    await assert.rejects(
      () => Log.open("/tmp/unused", { fsync: "always" as "batch" }),
      /fsync must be/,
    );
  });
  await t.step("a closed log refuses every operation", async () => {
    const dir = await Deno.makeTempDir({ prefix: "log-test-" });
    const log = await Log.open(dir, { fsync: "batch" });
    await log.append({ value: "a" });
    const reader = log.reader();
    await log.close();
    await log.close();
    assert.equal(log.closed, true);
    await assert.rejects(() => log.append({ value: "b" }), LogClosedError);
    await assert.rejects(() => log.read(0), /closed\. Open it again/);
    await assert.rejects(() => reader.poll(), LogClosedError);
    await assert.rejects(() => log.compact(), LogClosedError);
    await assert.rejects(() => log.applyRetention(), LogClosedError);
    assert.throws(() => log.reader(), LogClosedError);
    await Deno.remove(dir, { recursive: true });
  });
});

Deno.test("segment index: a lookup starts at most one interval (plus a batch) before its batch", async () => {
  const dir = await Deno.makeTempDir({ prefix: "log-index-" });
  const interval = 300;
  const { segment } = await Segment.open(dir, 1000, { indexIntervalBytes: interval }, true);
  try {
    let largest = 0;
    for (let i = 0; i < 200; i++) {
      const records = Array.from(
        { length: 1 + (i % 4) },
        (_, j) => normalizeRecord({ value: "x".repeat((i * 7 + j) % 90) }, j, i),
      );
      const bytes = encodeBatch(segment.nextOffset, records);
      const check = checkFrame(bytes, 0, false);
      assert.ok(check.kind === "ok");
      await segment.append(bytes, check.header);
      largest = Math.max(largest, bytes.length);
    }
    assert.ok(segment.index.length >= segment.size / (interval + largest) - 1);
    for (const h of await segment.headers()) {
      for (let offset = h.baseOffset; offset <= h.lastOffset; offset++) {
        const start = segment.index.lookup(offset)?.position ?? 0;
        assert.ok(start <= h.position, `offset ${offset}: the scan starts before its batch`);
        assert.ok(h.position - start < interval + largest, `offset ${offset}: scans < 1 interval`);
      }
    }
  } finally {
    await segment.close();
    await Deno.remove(dir, { recursive: true });
  }
});
