/**
 * Unit: compaction keeps the newest record per key among the closed segments (Kafka's rule: the
 * active segment neither is cleaned nor counts), drops tombstones after a delay, keeps offsets.
 */
import assert from "node:assert/strict";
import { Log, text } from "../lib/log/mod.ts";
import { planCompaction } from "../lib/log/compaction.ts";
import type { LogRecord } from "../lib/log/record.ts";

const enc = new TextEncoder();
const rec = (
  offset: number,
  key: string | null,
  value: string | null,
  timestamp = 0,
): LogRecord => ({
  offset,
  timestamp,
  key: key === null ? null : enc.encode(key),
  value: value === null ? null : enc.encode(value),
  headers: [],
  crc: 0,
});

Deno.test("planCompaction", async (t) => {
  await t.step("keeps the newest per key across closed segments; keyless records go", () => {
    const plan = planCompaction(
      [[rec(0, "a", "1"), rec(1, "b", "1"), rec(2, null, "x")], [rec(3, "a", "2")]],
      0,
      100,
    );
    assert.deepEqual(plan.keep.map((s) => s.map((r) => r.offset)), [[1], [3]]);
    assert.equal(plan.keylessDropped, 1);
  });
  await t.step("a tombstone stays for deleteRetentionMs, then goes", () => {
    const closed = [[rec(0, "a", "1", 0), rec(1, "a", null, 1000)]];
    assert.deepEqual(planCompaction(closed, 1500, 1000).keep[0].map((r) => r.offset), [1]);
    assert.deepEqual(planCompaction(closed, 2000, 1000).keep[0].map((r) => r.offset), [1]);
    const later = planCompaction(closed, 2001, 1000);
    assert.deepEqual(later.keep[0], []);
    assert.equal(later.tombstonesDropped, 1);
  });
  await t.step("keys compare byte by byte", () => {
    const plan = planCompaction([[rec(0, "é", "1"), rec(1, "e", "1")]], 0, 0);
    assert.equal(plan.keep[0].length, 2);
  });
});

Deno.test("log compaction: the active segment's records do not count (Kafka's rule)", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "log-compact-active-" });
  const log = await Log.open(dir, { segmentBytes: 500 });
  const survivors = async () => (await log.read(0, 1 << 20)).records.map((r) => r.offset);
  try {
    await log.append({ key: "price", value: "100" }); // 0
    await log.append({ key: "other", value: "x".repeat(300) }); // 1; the segment is now full
    await log.append({ key: "price", value: "120" }); // 2: rolls, lands in the active segment
    assert.equal(log.segmentCount, 2);
    assert.equal((await log.describe())[1].baseOffset, 2, "offset 2 is in the active segment");
    await t.step("a newer record in the active segment leaves the older one", async () => {
      const report = await log.compact();
      assert.deepEqual(await survivors(), [0, 1, 2], "price=100 stays in the closed segment");
      assert.equal(report.recordsAfter, report.recordsBefore);
      assert.equal(report.segmentsRewritten, 0);
    });
    await t.step("after the active segment rolls, compaction removes it", async () => {
      await log.append({ key: "third", value: "z".repeat(450) }); // 3: rolls again
      assert.equal(log.segmentCount, 3);
      await log.compact();
      assert.deepEqual(await survivors(), [1, 2, 3], "price=100 is gone");
    });
  } finally {
    await log.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("log compaction", async (t) => {
  let now = 1_000_000;
  const dir = await Deno.makeTempDir({ prefix: "log-compact-" });
  const options = { segmentBytes: 600, clock: () => now, deleteRetentionMs: 10_000 };
  let log = await Log.open(dir, options);
  const latest = new Map<string, { offset: number; value: string | null }>();
  const written: [number, string][] = [];
  try {
    // 120 updates to 6 keys; key-0 is deleted (tombstone) early on.
    for (let i = 0; i < 120; i++) {
      const key = `key-${i % 6}`;
      const value = i === 30 ? null : `v${i}`;
      if (key === "key-0" && i > 30) continue;
      const offset = await log.append({ key, value });
      latest.set(key, { offset, value });
      written.push([offset, key]);
      now += 10;
    }
    const endBefore = log.endOffset;
    const before = await log.describe();
    const activeBefore = before.at(-1)!;

    await t.step(
      "keeps the newest record per key; offsets unchanged; active untouched",
      async () => {
        const report = await log.compact();
        assert.equal(report.segmentsExamined, before.length - 1);
        assert.ok(report.recordsAfter < report.recordsBefore);
        assert.ok(report.bytesAfter < report.bytesBefore);
        assert.equal(report.tombstonesDropped, 0, "the tombstone is younger than 10 s");
        assert.equal(log.endOffset, endBefore);
        assert.equal(log.startOffset, 0, "the log start does not move");
        const after = await log.describe();
        assert.deepEqual(after.at(-1), activeBefore, "the active segment is not rewritten");
        const closedRecords = [];
        for (let offset = 0; offset < activeBefore.baseOffset;) {
          const { records, nextOffset } = await log.read(offset);
          closedRecords.push(...records.filter((r) => r.offset < activeBefore.baseOffset));
          offset = nextOffset;
        }
        const keys = closedRecords.map((r) => text(r.key)!);
        assert.equal(
          new Set(keys).size,
          keys.length,
          "at most one record per key in closed segments",
        );
        const newestClosed = new Map<string, number>();
        for (const [offset, key] of written) {
          if (offset < activeBefore.baseOffset) newestClosed.set(key, offset);
        }
        assert.deepEqual(
          closedRecords.map((r) => r.offset),
          [...newestClosed.values()].sort((a, b) => a - b),
          "each key keeps its newest record among the closed segments",
        );
        assert.ok(closedRecords.some((r) => text(r.key) === "key-0" && r.value === null));
      },
    );

    await t.step("a reader from 0 sees the newest value of every key", async () => {
      const state = new Map<string, string | null>();
      const reader = log.reader();
      for (let got = await reader.poll(); got.length > 0; got = await reader.poll()) {
        for (const r of got) state.set(text(r.key)!, text(r.value));
      }
      assert.deepEqual(state, new Map([...latest].map(([k, v]) => [k, v.value])));
      assert.equal(reader.position, endBefore);
    });

    await t.step("after deleteRetentionMs the tombstone itself is dropped", async () => {
      now += 20_000;
      const report = await log.compact();
      assert.equal(report.tombstonesDropped, 1);
      const { records } = await log.read(0, 1 << 20);
      assert.ok(!records.some((r) => text(r.key) === "key-0"));
    });

    await t.step("the compacted log survives reopen; appends continue", async () => {
      const rows = await log.describe();
      await log.close();
      log = await Log.open(dir, options);
      assert.equal(log.recovery.truncatedBytes, 0);
      assert.deepEqual(await log.describe(), rows);
      assert.equal(await log.append({ key: "key-1", value: "new" }), endBefore);
    });
  } finally {
    await log.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("log compaction: a read inside a compacted batch goes on to the next record", async () => {
  const dir = await Deno.makeTempDir({ prefix: "log-compact-gap-" });
  const log = await Log.open(dir, { segmentBytes: 400 });
  try {
    await log.appendBatch([{ key: "a", value: "1" }, { key: "b", value: "1" }, {
      key: "c",
      value: "1",
    }]);
    await log.append({ key: "b", value: "2" });
    await log.append({ key: "c", value: "2" });
    await log.append({ key: "z", value: "x".repeat(300) }); // rolls: offsets 0-4 are closed
    assert.equal(log.segmentCount, 2);
    await log.compact();
    // The first batch keeps only offset 0 but still spans 0-2.
    const { records, nextOffset } = await log.read(1, 1);
    assert.deepEqual(records.map((r) => [r.offset, text(r.key), text(r.value)]), [[3, "b", "2"]]);
    assert.equal(nextOffset, 4);
  } finally {
    await log.close();
    await Deno.remove(dir, { recursive: true });
  }
});
