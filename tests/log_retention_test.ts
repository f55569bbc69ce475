/**
 * Unit: retention deletes whole old segments by time and by size, never the
 * active one; reads below the new start fail with the earliest offset to use.
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
    assert.deepEqual(planRetention(segments, { ...none, retentionBytes: 0 }, 0).length, 3);
    assert.deepEqual(planRetention(segments, { ...none, retentionBytes: -1 }, 0).length, 0);
  });
  await t.step("never the active segment, even if it is expired", () => {
    assert.deepEqual(planRetention([seg(0, 10, 0)], { retentionMs: 0, retentionBytes: 0 }, 99), []);
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
    await t.step("settings from open apply when no policy is passed; survives reopen", async () => {
      await log.close();
      const again = await Log.open(dir, { segmentBytes: 500, retentionMs: 0, clock: () => now });
      const start = again.startOffset;
      const report = await again.applyRetention();
      assert.equal(again.segmentCount, 1, "only the active segment is left");
      assert.ok(report.deleted.length > 0 && again.startOffset > start);
      assert.equal(again.endOffset, 40);
      await again.close();
    });
  } finally {
    await log.close();
    await Deno.remove(dir, { recursive: true });
  }
});
