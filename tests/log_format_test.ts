/**
 * Unit: CRC-32C against published vectors (RFC 3720), the batch format round
 * trip, every cut and every flipped byte detected, the sparse index.
 */
import assert from "node:assert/strict";
import { crc32c } from "../lib/log/crc32c.ts";
import { OffsetIndex } from "../lib/log/index.ts";
import {
  BATCH_HEADER_SIZE,
  checkFrame,
  decodeBatch,
  encodeBatch,
  normalizeRecord,
  text,
} from "../lib/log/record.ts";
import { InvalidArgumentError } from "../lib/log/errors.ts";

const enc = new TextEncoder();

Deno.test("crc32c", async (t) => {
  await t.step("matches the check value and RFC 3720 B.4 vectors", () => {
    assert.equal(crc32c(new Uint8Array()), 0);
    assert.equal(crc32c(enc.encode("123456789")), 0xe3069283);
    assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
    assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
    assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e);
    assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i)), 0x113fdb5c);
  });
  await t.step("continues over chunks and ranges", () => {
    const data = enc.encode("The quick brown fox jumps over the lazy dog");
    assert.equal(crc32c(data), 0x22620404);
    assert.equal(crc32c(data, crc32c(data, 0, 0, 10), 10), crc32c(data));
    assert.equal(crc32c(data, 0, 4, 9), crc32c(enc.encode("quick")));
  });
});

const sample = [
  normalizeRecord({ key: "k1", value: "v1", headers: { source: "web", trace: null } }, 0, 1000),
  normalizeRecord({ key: null, value: null, timestamp: 900 }, 1, 1000),
  normalizeRecord(
    { key: new Uint8Array([0, 255]), value: "ünïcødé ✓", headers: [["h", "x"]] },
    4,
    1500,
  ),
];

Deno.test("record batch format", async (t) => {
  await t.step("round-trips keys, values, nulls, headers, timestamps and offsets", () => {
    const bytes = encodeBatch(100, sample);
    const batch = decodeBatch(bytes);
    assert.equal(batch.baseOffset, 100);
    assert.equal(batch.lastOffset, 104);
    assert.equal(batch.sizeBytes, bytes.length);
    assert.equal(batch.recordCount, 3);
    assert.equal(batch.maxTimestamp, 1500);
    assert.deepEqual(batch.records.map((r) => r.offset), [100, 101, 104]);
    assert.deepEqual(batch.records.map((r) => r.timestamp), [1000, 900, 1500]);
    assert.equal(text(batch.records[0].key), "k1");
    assert.deepEqual(batch.records[0].headers.map((h) => [h.key, text(h.value)]), [
      ["source", "web"],
      ["trace", null],
    ]);
    assert.equal(batch.records[1].key, null);
    assert.equal(batch.records[1].value, null);
    assert.deepEqual(batch.records[2].key, new Uint8Array([0, 255]));
    assert.equal(text(batch.records[2].value), "ünïcødé ✓");
    assert.ok(batch.records.every((r) => r.crc === batch.crc));
  });
  await t.step("a batch header is 43 bytes; lastOffsetDelta can be given", () => {
    const one = encodeBatch(0, [normalizeRecord({ value: null }, 0, 0)]);
    assert.equal(one.length, BATCH_HEADER_SIZE + 29);
    assert.equal(decodeBatch(encodeBatch(0, sample, 9)).lastOffset, 9);
  });
  await t.step("every truncation is incomplete, never ok", () => {
    const bytes = encodeBatch(7, sample);
    for (let n = 0; n < bytes.length; n++) {
      assert.notEqual(checkFrame(bytes.subarray(0, n), 0, true).kind, "ok", `cut at ${n}`);
    }
    assert.equal(checkFrame(bytes, 0, true).kind, "ok");
  });
  await t.step("flipping any byte is detected", () => {
    const bytes = encodeBatch(7, sample);
    for (let i = 0; i < bytes.length; i++) {
      const bad = bytes.slice();
      bad[i] ^= 0x5a;
      assert.notEqual(checkFrame(bad, 0, true).kind, "ok", `flipped byte ${i}`);
      assert.throws(() => decodeBatch(bad));
    }
  });
  await t.step("bad input gets a clear error", () => {
    assert.throws(() => encodeBatch(0, []), InvalidArgumentError);
    assert.throws(
      () => normalizeRecord({ value: 42 as unknown as string }, 0, 0),
      /must be a string, a Uint8Array or null/,
    );
    assert.throws(() => normalizeRecord({} as never, 0, 0), /at least a `value`/);
    assert.throws(() => normalizeRecord({ value: "x", timestamp: 1.5 }, 0, 0), /integer/);
  });
});

Deno.test("sparse offset index", async (t) => {
  const index = new OffsetIndex(1000);
  index.add(1010, 4096, 5);
  index.add(1025, 8200, 6);
  index.add(1040, 12300, 7);
  await t.step("lookup finds the entry at or below the target", () => {
    assert.equal(index.lookup(1000), undefined);
    assert.equal(index.lookup(1009), undefined);
    assert.equal(index.lookup(1010)?.position, 4096);
    assert.equal(index.lookup(1024)?.position, 4096);
    assert.equal(index.lookup(1025)?.position, 8200);
    assert.equal(index.lookup(99999)?.position, 12300);
  });
  await t.step("encodes and decodes; rejects torn, unordered or out-of-file bytes", () => {
    const bytes = index.encode();
    assert.deepEqual(OffsetIndex.decode(1000, bytes, 20000)?.entries(), index.entries());
    assert.equal(OffsetIndex.decode(1000, bytes.subarray(0, 40), 20000), undefined);
    assert.equal(OffsetIndex.decode(1000, bytes, 10000), undefined, "position past the log end");
    const swapped = new Uint8Array([...bytes.subarray(16, 32), ...bytes.subarray(0, 16)]);
    assert.equal(OffsetIndex.decode(1000, swapped, 20000), undefined);
  });
  await t.step("entries must grow; truncateTo drops entries at or after a position", () => {
    assert.throws(() => index.add(1040, 13000, 0), RangeError);
    const copy = OffsetIndex.decode(1000, index.encode(), 20000)!;
    copy.truncateTo(8200);
    assert.deepEqual(copy.entries().map((e) => e.offset), [1010]);
  });
});
