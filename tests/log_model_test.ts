/**
 * Unit, model-based: a seeded PRNG drives random appends, batches, reads,
 * reader polls and reopens against the log on disk and against a plain
 * in-memory array; both must give the same answers. Small segments and a
 * small index interval make every run cross many segment boundaries.
 */
import assert from "node:assert/strict";
import { Log, type LogOptions, type LogReader, OffsetOutOfRangeError } from "../lib/log/mod.ts";

/** mulberry32: a tiny seeded PRNG, so a failing seed can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface ModelRecord {
  key: string | null;
  value: string | null;
  timestamp: number;
}

const dec = new TextDecoder();
const str = (b: Uint8Array | null) => (b === null ? null : dec.decode(b));

async function runModel(
  seed: number,
  steps: number,
): Promise<{ reopens: number; segments: number }> {
  const random = prng(seed);
  const int = (n: number) => Math.floor(random() * n);
  const dir = await Deno.makeTempDir({ prefix: `log-model-${seed}-` });
  let now = 1_700_000_000_000;
  const options: LogOptions = {
    segmentBytes: 600 + int(1500),
    indexIntervalBytes: 64 + int(400),
    clock: () => now,
  };
  const model: ModelRecord[] = [];
  let log = await Log.open(dir, options);
  let readers: { reader: LogReader; position: number }[] = [];
  let reopens = 0;
  const randomRecord = (): ModelRecord => ({
    key: random() < 0.2 ? null : `key-${int(20)}`,
    value: random() < 0.05 ? null : "v".repeat(int(120)) + `#${model.length}`,
    timestamp: now,
  });
  const check = (
    got: { offset: number; key: Uint8Array | null; value: Uint8Array | null; timestamp: number }[],
    from: number,
  ) => {
    got.forEach((r, i) => {
      const want = model[from + i];
      assert.equal(r.offset, from + i, `seed ${seed}: offsets are contiguous`);
      assert.deepEqual(
        { key: str(r.key), value: str(r.value), timestamp: r.timestamp },
        want,
        `seed ${seed}: record ${r.offset}`,
      );
    });
  };
  try {
    for (let step = 0; step < steps; step++) {
      now += int(1000);
      const op = random();
      if (op < 0.35) {
        const r = randomRecord();
        assert.equal(await log.append(r), model.length, `seed ${seed} step ${step}: append`);
        model.push(r);
      } else if (op < 0.55) {
        const batch = Array.from({ length: 1 + int(8) }, randomRecord);
        const got = await log.appendBatch(batch);
        assert.deepEqual(got, {
          firstOffset: model.length,
          lastOffset: model.length + batch.length - 1,
        });
        model.push(...batch);
      } else if (op < 0.8) {
        const offset = int(model.length + 1);
        const maxBytes = 1 + int(3000);
        const { records, nextOffset } = await log.read(offset, maxBytes);
        if (offset < model.length) assert.ok(records.length > 0, `seed ${seed}: read >= 1`);
        assert.equal(nextOffset, offset + records.length, `seed ${seed}: nextOffset`);
        check(records, offset);
      } else if (op < 0.9) {
        if (readers.length < 3 || random() < 0.3) {
          readers.push({ reader: log.reader({ from: int(model.length + 1) }), position: 0 });
          readers.at(-1)!.position = readers.at(-1)!.reader.position;
        }
        const r = readers[int(readers.length)];
        const got = await r.reader.poll(1 + int(2000));
        check(got, r.position);
        r.position += got.length;
        assert.equal(r.reader.position, r.position);
        assert.equal(r.reader.lag, model.length - r.position);
      } else if (op < 0.95) {
        await assert.rejects(() => log.read(model.length + 1 + int(5)), OffsetOutOfRangeError);
      } else {
        await log.close();
        log = await Log.open(dir, options);
        readers = [];
        reopens++;
        assert.equal(log.recovery.truncatedBytes, 0, `seed ${seed}: a clean close loses nothing`);
        assert.equal(log.endOffset, model.length);
      }
    }
    // Finally, a full scan from 0 equals the model.
    const all = [];
    for (let offset = 0; offset < model.length;) {
      const { records, nextOffset } = await log.read(offset, 8192);
      all.push(...records);
      offset = nextOffset;
    }
    check(all, 0);
    assert.equal(all.length, model.length);
    return { reopens, segments: log.segmentCount };
  } finally {
    await log.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("log: random operations agree with an in-memory model", async (t) => {
  for (const seed of [1, 2, 3, 42, 2026]) {
    await t.step(`seed ${seed}`, async () => {
      const { reopens, segments } = await runModel(seed, 400);
      assert.ok(segments > 3, `seed ${seed}: only ${segments} segments; the run should roll`);
      assert.ok(reopens > 0, `seed ${seed}: the run should reopen at least once`);
    });
  }
});
