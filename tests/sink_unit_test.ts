/**
 * The lake sink's pure parts (no broker): region batching by records, bytes
 * and age; the commit ledger (commit only below what is still held); the
 * contract rules; the poison classification (a decoded record with no usable
 * region or event time is a `BronzeRecordError`, never another throw, and
 * whatever passes makes a valid key); and a crash/restart model over 200
 * seeds where a crash anywhere, a restart from the committed offsets and the
 * skip rule leave every row in bronze exactly once.
 */
import assert from "node:assert/strict";
import { seededRandom } from "../lib/util/random.ts";
import {
  checkPolicy,
  DEFAULT_BATCH_POLICY,
  type FlushReason,
  RegionBatcher,
} from "../lib/shopstream/batcher.ts";
import { OffsetLedger } from "../lib/shopstream/offsets.ts";
import { CONTRACT_RULES, orderRules, paymentRules } from "../lib/shopstream/rules.ts";
import {
  bronzeGroupId,
  bronzeGroupOf,
  bronzeObjectKey,
  type BronzeRecord,
  BronzeRecordError,
  groupBronze,
  lastOffsets,
} from "../lib/shopstream/bronze.ts";
import {
  END_LAKE_MS,
  FIRST_LAKE_MS,
  LakeKeyError,
  MAX_DATE_MS,
  parseBronzeKey,
  utcDateHour,
} from "../lib/lake/paths.ts";

Deno.test("poison: a decoded record without a usable region or event time is a BronzeRecordError", async (t) => {
  const record = (envelope: Record<string, unknown> | undefined): BronzeRecord => ({
    partition: 2,
    offset: "17",
    timestamp: 0,
    schemaId: 1,
    value: envelope === undefined ? { orderId: "o" } : { envelope, orderId: "o" },
  });
  const problem = (envelope: Record<string, unknown> | undefined) => {
    try {
      bronzeGroupOf(record(envelope));
      return "none";
    } catch (e) {
      assert.ok(e instanceof BronzeRecordError, `not a BronzeRecordError: ${e}`);
      assert.match(e.message, /p2@17/, "the message names the record");
      return `${e.problem}: ${e.message}`;
    }
  };
  const at = (ms: number) => new Date(ms);
  const ok = { region: "EU", occurredAt: at(Date.UTC(2026, 0, 1, 7)) };

  await t.step("a year past 9999, or before 0000", () => {
    assert.match(problem({ ...ok, occurredAt: at(END_LAKE_MS) }), /^bad-time: .*\+010000-01-01/);
    assert.match(problem({ ...ok, occurredAt: at(8.64e15) }), /^bad-time: .*0000\.\.9999/);
    assert.match(problem({ ...ok, occurredAt: at(FIRST_LAKE_MS - 1) }), /^bad-time: .*-000001/);
    // the last and first instants a key can hold are fine
    assert.equal(
      bronzeGroupOf(record({ ...ok, occurredAt: at(END_LAKE_MS - 1) })).date,
      "9999-12-31",
    );
    assert.equal(
      bronzeGroupOf(record({ ...ok, occurredAt: at(FIRST_LAKE_MS) })).date,
      "0000-01-01",
    );
    assert.equal(bronzeGroupOf(record({ ...ok, occurredAt: -1 })).hour, "23"); // 1969 is fine
  });

  await t.step(
    "a date outside JavaScript's range (an Invalid Date, NaN) or a number past it",
    () => {
      assert.match(
        problem({ ...ok, occurredAt: at(MAX_DATE_MS + 1) }),
        /^bad-time: .*not a valid date \(outside JavaScript's Date range/,
      );
      assert.match(problem({ ...ok, occurredAt: at(NaN) }), /^bad-time: .*not a valid date/);
      assert.match(problem({ ...ok, occurredAt: NaN }), /^bad-time: /);
      assert.match(problem({ ...ok, occurredAt: 9e15 }), /^bad-time: .*9000000000000000 ms/);
      assert.match(problem({ ...ok, occurredAt: Infinity }), /^bad-time: /);
    },
  );

  await t.step(
    "a missing envelope.region (an evolution made it optional), or one that is no folder",
    () => {
      assert.match(problem({ ...ok, region: null }), /^no-region: .*no envelope\.region/);
      assert.match(problem({ occurredAt: ok.occurredAt }), /^no-region: /);
      assert.match(problem({ ...ok, region: "" }), /^no-region: /);
      assert.match(problem(undefined), /^no-region: /);
      assert.match(problem({ ...ok, region: "EU/../x" }), /^bad-region: /);
      assert.match(problem({ ...ok, region: "a=b" }), /^bad-region: /);
      assert.match(problem({ ...ok, region: 7 }), /^bad-region: /);
    },
  );

  await t.step("a missing event time", () => {
    assert.match(problem({ region: "EU" }), /^no-time: /);
    assert.match(problem({ region: "EU", occurredAt: "2026-01-01" }), /^no-time: /);
  });

  await t.step("whatever passes makes a valid bronze key (the flush can never throw on it)", () => {
    const random = seededRandom(9);
    for (let i = 0; i < 2000; i++) {
      const ms = (random() * 2 - 1) * MAX_DATE_MS * 1.01;
      const r = record({ region: "US", occurredAt: at(ms) });
      let passed = false;
      try {
        bronzeGroupOf(r);
        passed = true;
      } catch (e) {
        assert.ok(e instanceof BronzeRecordError);
      }
      if (passed) assert.ok(parseBronzeKey(bronzeObjectKey("t", [r])), `key for ${ms}`);
      assert.equal(passed, ms >= FIRST_LAKE_MS && ms < END_LAKE_MS, `${ms}`);
    }
  });

  await t.step("utcDateHour itself refuses what no key can hold", () => {
    assert.throws(() => utcDateHour(END_LAKE_MS), LakeKeyError);
    assert.throws(() => utcDateHour(new Date(NaN)), LakeKeyError);
    assert.throws(() => utcDateHour(9e15), LakeKeyError);
    assert.deepEqual(utcDateHour(END_LAKE_MS - 1), { date: "9999-12-31", hour: "23" });
  });
});

Deno.test("RegionBatcher: flushes a region on records, bytes and age, separately per region", async (t) => {
  await t.step("record count", () => {
    const b = new RegionBatcher<number>({ maxRecords: 3, maxBytes: 1e9, maxAgeMs: 1e9 });
    assert.equal(b.add("EU", 1, 1, 0), undefined);
    assert.equal(b.add("US", 2, 1, 0), undefined);
    assert.equal(b.add("EU", 3, 1, 0), undefined);
    assert.equal(b.add("EU", 4, 1, 0), "records");
    const batch = b.take("EU", "records")!;
    assert.deepEqual(batch.records, [1, 3, 4]);
    assert.equal(batch.bytes, 3);
    assert.equal(b.records, 1);
    assert.deepEqual(b.regions, ["US"]);
  });
  await t.step("bytes", () => {
    const b = new RegionBatcher<string>({ maxRecords: 100, maxBytes: 100, maxAgeMs: 1e9 });
    assert.equal(b.add("APAC", "a", 60, 0), undefined);
    assert.equal(b.add("APAC", "b", 40, 0), "bytes");
    assert.equal(b.bytes, 100);
    assert.equal(b.take("APAC", "bytes")!.records.length, 2);
    assert.equal(b.bytes, 0);
  });
  await t.step("age counts from the buffer's first record", () => {
    const b = new RegionBatcher<number>({ maxRecords: 100, maxBytes: 1e9, maxAgeMs: 50 });
    b.add("EU", 1, 1, 1000);
    b.add("EU", 2, 1, 1040);
    b.add("US", 3, 1, 1030);
    assert.deepEqual(b.due(1049), []);
    assert.deepEqual(b.due(1050), ["EU"]);
    assert.deepEqual(b.due(1080), ["EU", "US"]);
    const eu = b.take("EU", "age")!;
    assert.equal(eu.openedAt, 1000);
    b.add("EU", 4, 1, 1090); // a new buffer opens at its own first record
    assert.deepEqual(b.due(1100), ["US"]);
  });
  await t.step("takeAll, clear, take of an empty region", () => {
    const b = new RegionBatcher<number>();
    assert.equal(b.take("EU", "shutdown"), undefined);
    b.add("EU", 1, 1, 0);
    b.add("US", 2, 1, 0);
    const all = b.takeAll("shutdown");
    assert.deepEqual(all.map((x) => [x.region, x.reason]), [["EU", "shutdown"], [
      "US",
      "shutdown",
    ]]);
    assert.equal(b.records, 0);
    b.add("EU", 1, 5, 0);
    b.clear();
    assert.equal(b.records + b.bytes, 0);
  });
  await t.step("policy checks and defaults", () => {
    assert.throws(() => checkPolicy({ maxRecords: 1.5, maxBytes: 1, maxAgeMs: 1 }), RangeError);
    assert.throws(() => new RegionBatcher({ maxRecords: 1, maxBytes: 0, maxAgeMs: 1 }), /maxBytes/);
    assert.throws(
      () => new RegionBatcher({ maxRecords: 1, maxBytes: 1, maxAgeMs: NaN }),
      /maxAgeMs/,
    );
    assert.deepEqual({ ...DEFAULT_BATCH_POLICY }, {
      maxRecords: 10_000,
      maxBytes: 8 * 1024 * 1024,
      maxAgeMs: 5000,
    });
  });
});

Deno.test("OffsetLedger: commits up to the smallest held offset, else last processed + 1", () => {
  const l = new OffsetLedger();
  assert.deepEqual(l.due(), new Map());
  l.process(0, 100n, 1); // EU buffer
  l.process(0, 101n, 2); // US buffer
  l.process(0, 102n); // dead letter
  l.process(0, 103n, 1);
  l.process(1, 7n); // skipped (already in bronze)
  assert.deepEqual(l.positions(), new Map([[0, 100n], [1, 8n]]));
  l.release(2); // US uploaded: EU still holds 100
  assert.deepEqual(l.due(), new Map([[0, 100n], [1, 8n]]));
  l.committed(l.due());
  assert.deepEqual(l.due(), new Map());
  l.release(1);
  assert.deepEqual(l.due(), new Map([[0, 104n]]));
  l.committed(new Map([[0, 104n]]));
  l.committed(new Map([[0, 50n]])); // never goes back
  assert.deepEqual(l.due(), new Map());
  assert.throws(() => l.process(0, 103n), /offsets must increase/);
  l.reset();
  l.process(0, 3n);
  assert.deepEqual(l.due(), new Map([[0, 4n]]));
});

Deno.test("rules: orders need lines, qty >= 1, one currency and an exact total; payments a positive amount", () => {
  const money = (amountMinor: number, currency = "EUR") => ({ amountMinor, currency });
  const order = (items: { qty: number; unitPrice: ReturnType<typeof money> }[], total: number) => ({
    items,
    total: money(total),
  });
  const check = (v: unknown) => orderRules.flatMap((r) => r(v));
  assert.deepEqual(
    check(order([{ qty: 2, unitPrice: money(1999) }, { qty: 1, unitPrice: money(1) }], 3999)),
    [],
  );
  assert.match(check(order([], 0)).join(), /at least one line/);
  assert.match(check(order([{ qty: 0, unitPrice: money(5) }], 0)).join(), /items\[0\]\.qty: 0 < 1/);
  assert.match(
    check(order([{ qty: 1, unitPrice: money(5, "USD") }], 5)).join(),
    /currency: USD != total\.currency EUR/,
  );
  assert.match(
    check(order([{ qty: 3, unitPrice: money(333) }], 1000)).join(),
    /1000 != sum .* \(999\)/,
  );
  // exact beyond 2^53: qty x price in bigint
  const big = 2 ** 52;
  assert.deepEqual(
    check(order([{ qty: 1, unitPrice: money(big) }, { qty: 1, unitPrice: money(big) }], 2 ** 53)),
    [],
  );
  // the total in the region's currency; UNKNOWN (no currency) is left to silver
  const inRegion = (region: string, currency: string) =>
    check({
      envelope: { region },
      items: [{ qty: 1, unitPrice: money(5, currency) }],
      total: money(5, currency),
    });
  assert.deepEqual(inRegion("EU", "EUR"), []);
  assert.deepEqual(inRegion("APAC", "JPY"), []);
  assert.match(inRegion("EU", "USD").join(), /total\.currency: USD is not .* region EU \(EUR\)/);
  assert.deepEqual(inRegion("UNKNOWN", "USD"), []);
  const pay = (n: number) => paymentRules.flatMap((r) => r({ amount: money(n, "JPY") }));
  assert.deepEqual(pay(1), []);
  assert.equal(pay(0).length, 1);
  assert.equal(pay(-5).length, 1);
  assert.deepEqual(CONTRACT_RULES.shipment, []);
  assert.equal(CONTRACT_RULES.order, orderRules);
});

/**
 * A model of the sink's bookkeeping across crashes, with the real batcher,
 * ledger and bronze grouping/skip functions: records of 3 partitions and 3
 * regions over 3 hours; random flushes; crashes after an upload and before
 * its commit (or anywhere); restarts from the committed offsets applying the
 * skip rule. At the end the objects' rows must be every record exactly once.
 */
Deno.test("model: crash anywhere, restart from the commit with the skip rule: every row once", () => {
  const regions = ["EU", "US", "APAC"];
  for (let trial = 0; trial < 200; trial++) {
    const rand = seededRandom(trial + 1);
    const log: BronzeRecord[][] = [0, 1, 2].map((partition) =>
      Array.from({ length: 40 + Math.floor(rand() * 60) }, (_, offset) => ({
        partition,
        offset: BigInt(offset),
        timestamp: 0,
        schemaId: 1,
        value: {
          envelope: {
            region: regions[Math.floor(rand() * 3)],
            occurredAt: new Date(Date.UTC(2026, 10, 26, 8 + Math.floor(offset / 30), offset % 60)),
          },
        },
      }))
    );
    const lake = new Map<string, BronzeRecord[]>();
    const committed = [0n, 0n, 0n];
    let runs = 0;
    while (runs++ < 50) {
      // One sink run: a fresh batcher and ledger, positions from the commit.
      const written = lastOffsets(lake.keys(), "t");
      const batcher = new RegionBatcher<BronzeRecord>({
        maxRecords: 7,
        maxBytes: 1e9,
        maxAgeMs: 1e9,
      });
      const ledger = new OffsetLedger();
      const holders = new Map<string, number>();
      let nextHolder = 1;
      const pos = [...committed];
      let crashed = false;
      const flush = (region: string, reason: FlushReason) => {
        const batch = batcher.take(region, reason);
        if (!batch) return;
        const holder = holders.get(region)!;
        holders.delete(region);
        for (const { records } of groupBronze(batch.records).values()) {
          lake.set(bronzeObjectKey("t", records), records);
        }
        if (rand() < 0.08) {
          crashed = true; // after the upload, before the commit
          return;
        }
        ledger.release(holder);
        for (const [p, o] of ledger.due()) committed[p] = o;
        ledger.committed(ledger.due());
      };
      while (!crashed && pos.some((o, p) => o < BigInt(log[p].length))) {
        const p = Math.floor(rand() * 3);
        if (pos[p] >= BigInt(log[p].length)) continue;
        const r = log[p][Number(pos[p])];
        const offset = pos[p]++;
        const group = bronzeGroupOf(r);
        const last = written.get(bronzeGroupId(group));
        if (last !== undefined && offset <= last) {
          ledger.process(p, offset);
          continue;
        }
        let holder = holders.get(group.region);
        if (holder === undefined) holders.set(group.region, holder = nextHolder++);
        ledger.process(p, offset, holder);
        const full = batcher.add(group.region, r, 1, 0);
        if (full) flush(group.region, full);
        if (rand() < 0.03) flush(regions[Math.floor(rand() * 3)], "age");
        if (rand() < 0.01) crashed = true; // a crash with buffers full: they are lost
      }
      if (crashed) continue;
      for (const region of regions) flush(region, "shutdown");
      if (!crashed) break;
    }
    const rows = [...lake.values()].flat().map((r) => `${r.partition}:${r.offset}`);
    const expected = log.flat().map((r) => `${r.partition}:${r.offset}`);
    assert.equal(
      rows.length,
      expected.length,
      `trial ${trial}: ${rows.length} rows, want ${expected.length}`,
    );
    assert.deepEqual(new Set(rows), new Set(expected), `trial ${trial}`);
    for (const key of lake.keys()) {
      const k = parseBronzeKey(key)!;
      for (const r of lake.get(key)!) {
        assert.equal((r.value as { envelope: { region: string } }).envelope.region, k.region);
      }
    }
  }
});
