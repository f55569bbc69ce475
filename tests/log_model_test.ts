/**
 * Unit, model-based: a seeded PRNG drives random appends, batches, reads,
 * reader polls, reopens, retention and compaction against the log on disk
 * and against a plain in-memory array; both must agree. Small segments and
 * a small index interval make every run cross many segment boundaries. Six
 * seeds.
 *
 * What "agree" means: before any compaction a read returns exactly the
 * model's records from the offset on, contiguously; after one, a read
 * returns an increasing subsequence whose records equal the model's at
 * their offsets, and a compaction keeps exactly the records it must (the
 * newest per key among the closed segments, and everything in the active
 * segment; keyless records in closed segments go, as in Kafka).
 */
import { seededRandom } from "../lib/util/random.ts";
import assert from "node:assert/strict";
import { Log, type LogOptions, type LogReader, OffsetOutOfRangeError } from "../lib/log/mod.ts";

interface ModelRecord {
  key: string | null;
  value: string | null;
  timestamp: number;
}

interface Got {
  offset: number;
  key: Uint8Array | null;
  value: Uint8Array | null;
  timestamp: number;
}

const dec = new TextDecoder();
const str = (b: Uint8Array | null) => (b === null ? null : dec.decode(b));

interface RunStats {
  reopens: number;
  segments: number;
  retentions: number;
  compactions: number;
}

async function runModel(seed: number, steps: number): Promise<RunStats> {
  const random = seededRandom(seed);
  const int = (n: number) => Math.floor(random() * n);
  const dir = await Deno.makeTempDir({ prefix: `log-model-${seed}-` });
  let now = 1_700_000_000_000;
  const options: LogOptions = {
    segmentBytes: 600 + int(1500),
    indexIntervalBytes: 64 + int(400),
    clock: () => now,
  };
  const model: ModelRecord[] = [];
  /** Offsets a compaction has removed. */
  const removed = new Set<number>();
  let log = await Log.open(dir, options);
  let readers: { reader: LogReader; position: number }[] = [];
  const stats: RunStats = { reopens: 0, segments: 0, retentions: 0, compactions: 0 };
  const at = (step: number) => `seed ${seed} step ${step}`;
  const randomRecord = (): ModelRecord => ({
    key: random() < 0.2 ? null : `key-${int(20)}`,
    value: random() < 0.05 ? null : "v".repeat(int(120)) + `#${model.length}`,
    timestamp: now,
  });
  /** The records the model says a read from `from` may return, in order. */
  const expectedFrom = (from: number) =>
    model.map((r, offset) => ({ ...r, offset })).filter((r) =>
      r.offset >= from && !removed.has(r.offset)
    );
  const check = (got: Got[], from: number, where: string) => {
    const want = expectedFrom(from).slice(0, got.length);
    assert.deepEqual(
      got.map((r) => ({ offset: r.offset, key: str(r.key), value: str(r.value), ts: r.timestamp })),
      want.map((r) => ({ offset: r.offset, key: r.key, value: r.value, ts: r.timestamp })),
      `${where}: records from ${from}`,
    );
  };
  const scanAll = async () => {
    const all: Got[] = [];
    for (let offset = log.startOffset; offset < log.endOffset;) {
      const { records, nextOffset } = await log.read(offset, 8192);
      assert.ok(nextOffset > offset, "a read always makes progress");
      all.push(...records);
      offset = nextOffset;
    }
    return all;
  };
  try {
    for (let step = 0; step < steps; step++) {
      now += int(1000);
      const op = random();
      if (op < 0.33) {
        const r = randomRecord();
        assert.equal(await log.append(r), model.length, `${at(step)}: append`);
        model.push(r);
      } else if (op < 0.53) {
        const batch = Array.from({ length: 1 + int(8) }, randomRecord);
        const got = await log.appendBatch(batch);
        assert.deepEqual(got, {
          firstOffset: model.length,
          lastOffset: model.length + batch.length - 1,
        });
        model.push(...batch);
      } else if (op < 0.76) {
        const offset = log.startOffset + int(model.length - log.startOffset + 1);
        const { records, nextOffset } = await log.read(offset, 1 + int(3000));
        check(records, offset, at(step));
        const left = expectedFrom(offset).length;
        if (left > 0) assert.ok(records.length > 0, `${at(step)}: a read returns >= 1 record`);
        if (records.length > 0) assert.ok(nextOffset > records.at(-1)!.offset);
        if (records.length === left) assert.equal(nextOffset, model.length, `${at(step)}: at end`);
        if (removed.size === 0) assert.equal(nextOffset, offset + records.length);
      } else if (op < 0.88) {
        if (readers.length < 3 || random() < 0.3) {
          const reader = log.reader({
            from: log.startOffset + int(model.length - log.startOffset + 1),
          });
          readers.push({ reader, position: reader.position });
        }
        const r = readers[int(readers.length)];
        if (r.position < log.startOffset) {
          await assert.rejects(() => r.reader.poll(), OffsetOutOfRangeError);
          r.reader.seek("earliest");
          r.position = r.reader.position;
          assert.equal(r.position, log.startOffset);
        }
        const got = await r.reader.poll(1 + int(2000));
        check(got, r.position, `${at(step)} poll`);
        r.position = r.reader.position;
        assert.equal(r.reader.lag, model.length - r.position);
      } else if (op < 0.91) {
        await assert.rejects(() => log.read(model.length + 1 + int(5)), OffsetOutOfRangeError);
        if (log.startOffset > 0) {
          await assert.rejects(() => log.read(log.startOffset - 1), OffsetOutOfRangeError);
        }
      } else if (op < 0.94) {
        const before = log.startOffset;
        await log.applyRetention({ retentionBytes: 3000 + int(6000) });
        assert.ok(log.startOffset >= before);
        assert.equal(log.endOffset, model.length, `${at(step)}: retention keeps the end`);
        stats.retentions += log.startOffset > before ? 1 : 0;
        check(await scanAll(), log.startOffset, `${at(step)} after retention`);
      } else if (op < 0.97) {
        const segments = await log.describe();
        const activeBase = segments.at(-1)!.baseOffset;
        // Kafka's rule: only the closed segments (offsets below the active base) count.
        const newest = new Map<string, number>();
        model.forEach((r, offset) =>
          offset < activeBase && r.key !== null && newest.set(r.key, offset)
        );
        await log.compact();
        stats.compactions++;
        // What must survive: the newest per key among the closed segments, the active segment.
        for (let offset = log.startOffset; offset < activeBase; offset++) {
          const r = model[offset];
          if (r.key === null || newest.get(r.key) !== offset) removed.add(offset);
        }
        const all = await scanAll();
        check(all, log.startOffset, `${at(step)} after compaction`);
        assert.equal(all.length, expectedFrom(log.startOffset).length, `${at(step)}: kept set`);
      } else {
        await log.close();
        log = await Log.open(dir, options);
        readers = [];
        stats.reopens++;
        assert.equal(log.recovery.truncatedBytes, 0, `${at(step)}: a clean close loses nothing`);
        assert.equal(log.endOffset, model.length);
      }
    }
    const all = await scanAll();
    check(all, log.startOffset, `seed ${seed} final scan`);
    assert.equal(all.length, expectedFrom(log.startOffset).length);
    stats.segments = log.segmentCount;
    return stats;
  } finally {
    await log.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("log: random operations agree with an in-memory model", async (t) => {
  const totals: RunStats = { reopens: 0, segments: 0, retentions: 0, compactions: 0 };
  for (const seed of [1, 2, 3, 42, 2026, 31337]) {
    await t.step(`seed ${seed}`, async () => {
      const stats = await runModel(seed, 500);
      assert.ok(stats.segments > 1, `seed ${seed}: the run should roll segments`);
      for (const k of Object.keys(totals) as (keyof RunStats)[]) totals[k] += stats[k];
    });
  }
  await t.step("the runs exercised every operation", () => {
    assert.ok(
      totals.reopens > 0 && totals.retentions > 0 && totals.compactions > 0,
      JSON.stringify(totals),
    );
  });
});
