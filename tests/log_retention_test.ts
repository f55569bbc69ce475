/**
 * Unit: retention deletes whole old segments by size, then by time, as Kafka does: the active
 * segment too once its newest record is past retention.ms (after rolling an empty one, so the log
 * keeps a segment), never an empty active segment, and by size only when retention.bytes is 0.
 */
import assert from "node:assert/strict";
import { Log, OffsetOutOfRangeError, text } from "../lib/log/mod.ts";
import { planRetention } from "../lib/log/retention.ts";

const seg = (baseOffset: number, sizeBytes: number, maxTimestamp: number) => ({
  baseOffset,
  sizeBytes,
  maxTimestamp,
});

Deno.test("planRetention", async (t) => {
  await t.step("by time: segments whose newest record is too old, oldest first", () => {
    const segments = [seg(0, 10, 100), seg(5, 10, 200), seg(9, 10, 300), seg(12, 10, 50)];
    const plan = planRetention(segments, { retentionMs: 150, retentionBytes: -1 }, 400);
    assert.deepEqual(plan, [{ baseOffset: 0, reason: "time" }, { baseOffset: 5, reason: "time" }]);
  });
  await t.step("only from the oldest end: an unexpired segment stops deletion", () => {
    const segments = [seg(0, 10, 1000), seg(5, 10, 0), seg(9, 10, 0)];
    assert.deepEqual(planRetention(segments, { retentionMs: 10, retentionBytes: -1 }, 1005), []);
  });
  await t.step("by size: keeps at least retentionBytes", () => {
    const segments = [seg(0, 100, 0), seg(1, 100, 0), seg(2, 100, 0), seg(3, 40, 0)];
    const none = { retentionMs: -1 };
    assert.deepEqual(planRetention(segments, { ...none, retentionBytes: 240 }, 0).length, 1);
    assert.deepEqual(planRetention(segments, { ...none, retentionBytes: 140 }, 0).length, 2);
    assert.deepEqual(planRetention(segments, { ...none, retentionBytes: 139 }, 0).length, 2);
    assert.deepEqual(planRetention(segments, { ...none, retentionBytes: 40 }, 0).length, 3);
    assert.deepEqual(planRetention(segments, { ...none, retentionBytes: 1 }, 0).length, 3);
    assert.deepEqual(planRetention(segments, { ...none, retentionBytes: -1 }, 0).length, 0);
  });
  await t.step("by size, the active segment goes only when retentionBytes is 0", () => {
    const segments = [seg(0, 100, 0), seg(1, 100, 0), seg(2, 40, 0)];
    const plan = planRetention(segments, { retentionMs: -1, retentionBytes: 0 }, 0);
    assert.deepEqual(plan.map((d) => d.baseOffset), [0, 1, 2]);
  });
  await t.step("size first, then time: a segment both rules would delete counts as size", () => {
    const segments = [seg(0, 100, 0), seg(5, 100, 0), seg(9, 100, 900), seg(12, 10, 950)];
    const plan = planRetention(segments, { retentionMs: 500, retentionBytes: 150 }, 1000);
    assert.deepEqual(plan, [
      { baseOffset: 0, reason: "size" },
      { baseOffset: 5, reason: "time" },
    ]);
  });
  await t.step("by time, the active segment goes too once its newest record is old", () => {
    const segments = [seg(0, 10, 100), seg(5, 10, 200)];
    const plan = planRetention(segments, { retentionMs: 50, retentionBytes: -1 }, 251);
    assert.deepEqual(plan.map((d) => d.baseOffset), [0, 5]);
    assert.deepEqual(planRetention(segments, { retentionMs: 50, retentionBytes: -1 }, 250), [
      { baseOffset: 0, reason: "time" },
    ], "exactly retentionMs old is not past it");
  });
  await t.step("never an empty active segment", () => {
    const plan = planRetention([seg(0, 10, 0), seg(3, 0, -Infinity)], {
      retentionMs: 0,
      retentionBytes: 0,
    }, 99);
    assert.deepEqual(plan.map((d) => d.baseOffset), [0]);
    assert.deepEqual(
      planRetention([seg(3, 0, -Infinity)], { retentionMs: 0, retentionBytes: 0 }, 9),
      [],
    );
  });
});

Deno.test("log retention", async (t) => {
  let now = 1_000_000;
  const dir = await Deno.makeTempDir({ prefix: "log-retention-" });
  const log = await Log.open(dir, { segmentBytes: 500, clock: () => now });
  try {
    for (let i = 0; i < 40; i++) {
      await log.append({ value: `event-${i}`.padEnd(60, ".") });
      now += 1000;
    }
    const before = await log.describe();
    const reader = log.reader({ name: "slow" });
    await t.step("by time deletes whole expired segments, moves the log start", async () => {
      const cutoff = before[2].maxTimestamp!;
      const report = await log.applyRetention({ retentionMs: now - cutoff - 1 });
      assert.deepEqual(
        report.deleted.map((d) => d.baseOffset),
        before.slice(0, 3).map((s) => s.baseOffset),
      );
      assert.equal(report.startOffset, before[3].baseOffset);
      assert.equal(log.startOffset, before[3].baseOffset);
      assert.equal(report.bytesDeleted, before.slice(0, 3).reduce((n, s) => n + s.sizeBytes, 0));
      const files = [...Deno.readDirSync(dir)].map((e) => e.name);
      assert.ok(!files.includes("00000000000000000000.log"), "the files are gone");
      assert.ok(!files.includes("00000000000000000000.index"));
      const { records } = await log.read(log.startOffset);
      assert.equal(text(records[0].value), `event-${log.startOffset}`.padEnd(60, "."));
    });
    await t.step("reading below the start fails with the earliest offset to use", async () => {
      await assert.rejects(() => log.read(0), (e: unknown) => {
        assert.ok(e instanceof OffsetOutOfRangeError);
        assert.equal(e.startOffset, log.startOffset);
        assert.match(e.message, /below the log start/);
        return true;
      });
      await assert.rejects(() => reader.poll(), OffsetOutOfRangeError);
      reader.seek("earliest");
      assert.equal((await reader.poll(1))[0].offset, log.startOffset);
    });
    await t.step(
      "by size keeps at least retentionBytes, deletes the rest oldest first",
      async () => {
        const report = await log.applyRetention({ retentionBytes: 1000 });
        assert.ok(report.deleted.length > 0);
        assert.ok(report.deleted.every((d) => d.reason === "size"));
        assert.ok(log.sizeBytes >= 1000, `${log.sizeBytes}`);
        const rows = await log.describe();
        assert.ok(log.sizeBytes - rows[0].sizeBytes < 1000, "one more deletion would go below");
        assert.equal(log.endOffset, 40, "the end never moves");
      },
    );
    await t.step("settings from open apply when no policy is passed", async () => {
      await log.close();
      const keep = 1500; // the newest record is 1 s old, the one before it 2 s: only it stays
      const again = await Log.open(dir, { segmentBytes: 500, retentionMs: keep, clock: () => now });
      const start = again.startOffset;
      const report = await again.applyRetention();
      assert.equal(again.segmentCount, 1, "only the active segment is left");
      assert.equal(report.rolled, false);
      assert.ok(report.deleted.length > 0 && again.startOffset > start);
      assert.equal(again.endOffset, 40);
      await again.close();
    });
  } finally {
    await log.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("log retention: by time the active segment goes too, after an empty one is rolled", async (t) => {
  let now = 1_000_000;
  const dir = await Deno.makeTempDir({ prefix: "log-retention-active-" });
  const options = { segmentBytes: 500, clock: () => now };
  let log = await Log.open(dir, options);
  try {
    for (let i = 0; i < 12; i++) {
      await log.append({ value: `event-${i}`.padEnd(60, ".") });
      now += 1000;
    }
    const before = await log.describe();
    assert.ok(before.length > 1 && before.at(-1)!.records > 0);
    const newest = before.at(-1)!.maxTimestamp!;
    await t.step("not while the active segment's newest record is within retention", async () => {
      const report = await log.applyRetention({ retentionMs: now - newest });
      assert.deepEqual(
        report.deleted.map((d) => d.baseOffset),
        before.slice(0, -1).map((s) => s.baseOffset),
      );
      assert.equal(report.rolled, false);
      assert.equal(log.startOffset, before.at(-1)!.baseOffset);
    });
    await t.step("once it is past retention: roll, delete, keep the offsets going", async () => {
      const reader = log.reader({ name: "late" });
      const report = await log.applyRetention({ retentionMs: now - newest - 1 });
      assert.deepEqual(report.deleted, [{ baseOffset: before.at(-1)!.baseOffset, reason: "time" }]);
      assert.equal(report.rolled, true);
      assert.equal(log.segmentCount, 1, "the log keeps one segment, the new empty one");
      assert.equal(log.startOffset, 12, "the log start is the log end: the log is empty");
      assert.equal(log.endOffset, 12);
      const [only] = await log.describe();
      assert.equal(only.baseOffset, 12);
      assert.equal(only.records, 0);
      assert.ok(only.active);
      const files = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
      assert.deepEqual(files, ["00000000000000000012.index", "00000000000000000012.log"]);
      await assert.rejects(() => reader.poll(), OffsetOutOfRangeError);
      assert.deepEqual(await log.read(12), { records: [], nextOffset: 12 });
    });
    await t.step("an empty active segment is not deleted again", async () => {
      now += 10_000_000;
      const report = await log.applyRetention({ retentionMs: 0, retentionBytes: 0 });
      assert.deepEqual(report.deleted, []);
      assert.equal(log.segmentCount, 1);
    });
    await t.step("the empty log survives reopen; the next append gets offset 12", async () => {
      await log.close();
      log = await Log.open(dir, options);
      assert.equal(log.startOffset, 12);
      assert.equal(log.endOffset, 12);
      assert.equal(await log.append({ value: "after" }), 12);
      assert.equal(text((await log.read(12)).records[0].value), "after");
    });
  } finally {
    await log.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("log retention: by size the active segment stays unless retentionBytes is 0", async () => {
  const dir = await Deno.makeTempDir({ prefix: "log-retention-size-" });
  const log = await Log.open(dir, { segmentBytes: 500 });
  try {
    for (let i = 0; i < 12; i++) await log.append({ value: `event-${i}`.padEnd(60, ".") });
    const active = (await log.describe()).at(-1)!;
    const one = await log.applyRetention({ retentionBytes: 1 });
    assert.equal(one.rolled, false);
    assert.equal(log.startOffset, active.baseOffset, "1 byte: only the closed segments go");
    const zero = await log.applyRetention({ retentionBytes: 0 });
    assert.equal(zero.rolled, true);
    assert.deepEqual(zero.deleted, [{ baseOffset: active.baseOffset, reason: "size" }]);
    assert.equal(log.startOffset, 12);
    assert.equal(log.endOffset, 12);
  } finally {
    await log.close();
    await Deno.remove(dir, { recursive: true });
  }
});
