/**
 * Unit: crash recovery. A crash mid-write leaves a torn or corrupt last
 * batch; opening the log must detect it by length and CRC, cut it off, and
 * keep every record before it. Checked at every byte position of the last
 * batch, and with every byte of it flipped; an invalid index is rebuilt, and
 * corruption inside a closed segment surfaces on read.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { CorruptRecordError, Log, type LogOptions, text } from "../lib/log/mod.ts";

const OPTIONS: LogOptions = { segmentBytes: 4096, indexIntervalBytes: 256 };

/** Builds a log of a few segments; the last append is a 3-record batch. */
async function buildLog(dir: string) {
  const log = await Log.open(dir, OPTIONS);
  for (let i = 0; i < 60; i++) {
    await log.append({ key: `k${i % 7}`, value: `value-${i}`, headers: { n: String(i) } });
  }
  const segments = await log.describe();
  const active = segments.at(-1)!;
  const lastStart = active.sizeBytes;
  await log.appendBatch([
    { key: "x", value: "last-1" },
    { key: null, value: "last-2" },
    { key: "y", value: null },
  ]);
  const lastEnd = (await log.describe()).at(-1)!.sizeBytes;
  await log.close();
  assert.ok(segments.length >= 2, "the log should have several segments");
  return { file: active.file, lastStart, lastEnd, segments: segments.length };
}

async function expectRecovered(dir: string, cutBytes: number, what: string) {
  const log = await Log.open(dir, OPTIONS);
  try {
    assert.equal(log.endOffset, 60, `${what}: the torn batch is gone, nothing before it`);
    assert.equal(log.recovery.truncatedBytes, cutBytes, `${what}: bytes cut`);
    if (cutBytes > 0) assert.equal(log.recovery.reasons.length, 1, what);
    const all = [];
    for (let offset = 0; offset < log.endOffset;) {
      const { records, nextOffset } = await log.read(offset);
      all.push(...records);
      offset = nextOffset;
    }
    assert.deepEqual(
      all.map((r) => text(r.value)),
      Array.from({ length: 60 }, (_, i) => `value-${i}`),
    );
    assert.equal(await log.append({ value: "after" }), 60, `${what}: appends continue at 60`);
  } finally {
    await log.close();
  }
}

Deno.test("log recovery", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "log-recovery-" });
  const pristine = await Deno.makeTempDir({ prefix: "log-recovery-orig-" });
  try {
    const { file, lastStart, lastEnd } = await buildLog(pristine);
    const name = file.slice(file.lastIndexOf("/") + 1);
    const original = await Deno.readFile(file);
    assert.equal(original.length, lastEnd);
    const restore = async () => {
      await Deno.remove(dir, { recursive: true });
      await Deno.mkdir(dir);
      for (const e of Deno.readDirSync(pristine)) {
        await Deno.copyFile(join(pristine, e.name), join(dir, e.name));
      }
    };

    await t.step("an intact log opens with nothing cut", async () => {
      await restore();
      const log = await Log.open(dir, OPTIONS);
      assert.equal(log.endOffset, 63);
      assert.equal(log.recovery.truncatedBytes, 0);
      await log.close();
    });

    await t.step(
      `cut at every byte of the last batch (${lastEnd - lastStart} positions)`,
      async () => {
        for (let cut = lastStart; cut < lastEnd; cut++) {
          await restore();
          await Deno.truncate(join(dir, name), cut);
          await expectRecovered(dir, cut - lastStart, `cut at ${cut}`);
        }
      },
    );

    await t.step("flip each byte of the last batch", async () => {
      for (let i = lastStart; i < lastEnd; i++) {
        await restore();
        const bad = original.slice();
        bad[i] ^= 0xff;
        await Deno.writeFile(join(dir, name), bad);
        await expectRecovered(dir, lastEnd - lastStart, `flip at ${i}`);
      }
    });

    await t.step("garbage after the last batch (a half-written next one) is cut", async () => {
      await restore();
      const extra = new Uint8Array([...original, 0, 0, 0, 0, 0, 0, 0, 63, 0, 0, 1, 0]);
      await Deno.writeFile(join(dir, name), extra);
      const log = await Log.open(dir, OPTIONS);
      assert.equal(log.endOffset, 63);
      assert.equal(log.recovery.truncatedBytes, 12);
      await log.close();
    });

    await t.step("a damaged index file is rebuilt, reads still find every record", async () => {
      await restore();
      const first = join(dir, "00000000000000000000.index");
      const bytes = await Deno.readFile(first);
      assert.ok(bytes.length >= 32, "the first segment should have index entries");
      await Deno.writeFile(first, bytes.subarray(0, bytes.length - 5));
      const log = await Log.open(dir, OPTIONS);
      assert.equal(log.recovery.indexesRebuilt, 1);
      assert.equal((await log.describe())[0].indexEntries, bytes.length / 16);
      for (let offset = 0; offset < 63; offset += 5) {
        assert.equal((await log.read(offset, 1)).records[0].offset, offset);
      }
      await log.close();
    });

    await t.step("corruption inside a closed segment is reported on read", async () => {
      await restore();
      const first = join(dir, "00000000000000000000.log");
      const bytes = await Deno.readFile(first);
      bytes[60] ^= 0xff; // inside the first batch, which no index entry points at
      await Deno.writeFile(first, bytes);
      const log = await Log.open(dir, OPTIONS);
      await assert.rejects(() => log.read(0), (e: unknown) => {
        assert.ok(e instanceof CorruptRecordError);
        assert.match(e.message, /00000000000000000000\.log at byte 0: CRC mismatch/);
        return true;
      });
      await log.close();
    });

    await t.step("leftovers of an interrupted compaction are removed on open", async () => {
      await restore();
      await Deno.writeFile(join(dir, "00000000000000000000.log.cleaned"), new Uint8Array(10));
      const log = await Log.open(dir, OPTIONS);
      assert.equal(log.endOffset, 63);
      await log.close();
      assert.ok(![...Deno.readDirSync(dir)].some((e) => e.name.endsWith(".cleaned")));
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(pristine, { recursive: true });
  }
});
