/**
 * The stream processor's pure logic, without Kafka: tumbling windows and
 * their boundaries, the watermark (out-of-order events within the allowed
 * lateness, events past it, a partition read ahead of the others), empty
 * windows, the order/payment join within its bound, duplicates, the restore
 * of a state from what a run wrote, the output records, and the stream's
 * hourly rollup equal to the tally's gold to the cent.
 */
import assert from "node:assert/strict";
import { javaPartition } from "../lib/kafka/partitioners.ts";
import { EventGenerator, type GeneratedRecord } from "../lib/shopstream/generator.ts";
import { Tally } from "../lib/shopstream/tally.ts";
import {
  batchVsStream,
  compareWithGold,
  decodeJoined,
  decodeLate,
  decodeWindow,
  encodeJoined,
  encodeLate,
  encodeWindow,
  IntervalJoin,
  latestByKey,
  parseWindowKey,
  rollupHourly,
  type StepOutput,
  type StreamEvent,
  StreamState,
  toStreamEvent,
  TumblingWindows,
  Watermark,
  windowKey,
  type WindowResult,
  windowStartOf,
} from "../lib/shopstream/stream/mod.ts";

const MIN = 60_000;

function order(time: number, id: string, amount = 1000n, source = "o/0", region = "EU") {
  return {
    type: "order.placed",
    source,
    eventId: `e-${id}`,
    orderId: id,
    region,
    currency: region === "US" ? "USD" : "EUR",
    amountMinor: amount,
    time,
  } as const satisfies StreamEvent;
}

function payment(time: number, id: string, source = "p/0", region = "EU") {
  return {
    ...order(time, id, 1000n, source, region),
    type: "payment.captured",
    eventId: `p-${id}`,
  } as const satisfies StreamEvent;
}

function finals(outs: StepOutput[]): WindowResult[] {
  return outs.flatMap((o) => o.windows).filter((w) => w.final);
}

Deno.test("windows: an event exactly on a boundary starts the next window", () => {
  assert.equal(windowStartOf(0, MIN), 0);
  assert.equal(windowStartOf(MIN - 1, MIN), 0);
  assert.equal(windowStartOf(MIN, MIN), MIN);
  assert.equal(windowStartOf(-1, MIN), -MIN);
  assert.throws(() => windowStartOf(5, 0), RangeError);
  const w = new TumblingWindows(MIN);
  w.addOrder(MIN - 1, "EU", "EUR", 1n);
  w.addOrder(MIN, "EU", "EUR", 2n);
  assert.deepEqual(w.open().map((r) => [r.start, r.end, r.revenueMinor]), [
    [0, MIN, 1n],
    [MIN, 2 * MIN, 2n],
  ]);
});

Deno.test("windows: a window closes when the watermark reaches its end, not before", () => {
  const w = new TumblingWindows(MIN);
  w.addOrder(10, "EU", "EUR", 5n);
  assert.deepEqual(w.closeUpTo(MIN - 1), []);
  const closed = w.closeUpTo(MIN);
  assert.equal(closed.length, 1);
  assert.equal(closed[0].final, true);
  assert.equal(w.size, 0);
});

Deno.test("windows: keys read back; average basket is half-even", () => {
  const key = windowKey(Date.UTC(2026, 2, 2, 0, 1), "APAC");
  assert.equal(key, "2026-03-02T00:01:00.000Z|APAC");
  assert.deepEqual(parseWindowKey(key), { start: Date.UTC(2026, 2, 2, 0, 1), region: "APAC" });
  assert.equal(parseWindowKey("nonsense"), undefined);
  const w = new TumblingWindows(MIN);
  w.addOrder(1, "EU", "EUR", 5n);
  w.addOrder(2, "EU", "EUR", 0n);
  w.addOrder(3, "EU", "EUR", 0n);
  w.addOrder(4, "EU", "EUR", 1n);
  assert.equal(w.open()[0].avgBasketMinor, 2n); // 6 / 4 = 1.5 -> 2 (to even)
});

Deno.test("watermark: smallest partition time minus lateness; strict late test", () => {
  const wm = new Watermark(["a", "b"], 10_000);
  assert.equal(wm.value, -Infinity);
  wm.observe("a", 500_000);
  assert.equal(wm.value, -Infinity, "b has not spoken: nothing can be late yet");
  wm.observe("b", 100_000);
  assert.equal(wm.value, 90_000, "held back by the slower partition");
  assert.equal(wm.isLate(89_999), true);
  assert.equal(wm.isLate(90_000), false, "an event exactly at the watermark is on time");
  wm.observe("b", 50_000);
  assert.equal(wm.value, 90_000, "a partition time never goes back");
  wm.raiseTo(200_000);
  assert.equal(wm.value, 200_000);
  wm.end();
  assert.equal(wm.value, Infinity);
  assert.throws(() => wm.observe("c", 1), /unknown source "c"/);
  assert.throws(() => new Watermark([], 0), RangeError);
});

Deno.test("state: out-of-order events within the lateness count in their window", () => {
  const s = new StreamState({ sources: ["o/0"], windowMs: MIN, latenessMs: 10_000 });
  const out = s.process([order(55_000, "a"), order(65_000, "b"), order(58_000, "c")]);
  assert.equal(out.late.length, 0, "58 s is behind 65 s by 7 s < 10 s of lateness");
  assert.equal(s.watermark, 55_000);
  assert.deepEqual(out.windows.map((w) => [w.start, w.orders, w.final]), [
    [0, 2, false],
    [MIN, 1, false],
  ]);
  const more = s.process([order(70_000, "d")]);
  assert.deepEqual(finals([more]).map((w) => [w.start, w.orders, w.revenueMinor]), [
    [0, 2, 2000n],
  ]);
});

Deno.test("state: events past the watermark go to the late output and change nothing", () => {
  const s = new StreamState({ sources: ["o/0"], windowMs: MIN, latenessMs: 10_000 });
  s.process([order(30_000, "a"), order(75_000, "b")]);
  assert.equal(s.watermark, 65_000);
  const out = s.process([order(64_999, "late"), order(65_000, "on-time")]);
  assert.deepEqual(out.late.map((l) => [l.event.orderId, l.watermark]), [["late", 65_000]]);
  assert.deepEqual(out.windows.map((w) => [w.start, w.orders]), [[MIN, 2]]);
  assert.equal(s.counters.late, 1);
  // The window of the late event had already closed: it stays as it was.
  const all = s.finish();
  assert.deepEqual(finals([all]).map((w) => [w.start, w.orders]), [[MIN, 2]]);
});

Deno.test("state: an event into a window that just closed is late, the next window's first is not", () => {
  const s = new StreamState({ sources: ["o/0"], windowMs: MIN, latenessMs: 0 });
  const first = s.process([order(1_000, "a"), order(MIN, "b")]);
  assert.deepEqual(finals([first]).map((w) => w.start), [0], "watermark 60 000 closes [0, 60 000)");
  const out = s.process([order(MIN - 1, "c"), order(MIN, "d")]);
  assert.deepEqual(out.late.map((l) => l.event.orderId), ["c"]);
  assert.deepEqual(out.windows.map((w) => [w.start, w.orders]), [[MIN, 2]]);
});

Deno.test("state: empty windows have no result; regions without events neither", () => {
  const s = new StreamState({ sources: ["o/0"], windowMs: MIN, latenessMs: 0 });
  const a = s.process([order(5_000, "a"), order(3 * MIN + 1, "b", 10n, "o/0", "US")]);
  const b = s.finish();
  assert.deepEqual(finals([a, b]).map((w) => `${w.start / MIN}:${w.region}`), ["0:EU", "3:US"]);
  assert.equal(s.counters.windowsClosed, 2);
  const none = new StreamState({ sources: ["o/0"] });
  assert.deepEqual(none.finish().windows, [], "no event, no window");
});

Deno.test("state: a partition read ahead does not make the others' events late", () => {
  const s = new StreamState({ sources: ["o/0", "o/1"], windowMs: MIN, latenessMs: 1_000 });
  // Partition 0's whole backlog first, as a catch-up after a restart fetches it.
  const ahead = s.process([0, 1, 2, 3, 4].map((m) => order(m * MIN + 100, `p0-${m}`)));
  assert.equal(s.watermark, -Infinity);
  assert.deepEqual(finals([ahead]), []);
  const behind = s.process([0, 1, 2].map((m) => order(m * MIN + 500, `p1-${m}`, 1000n, "o/1")));
  assert.equal(behind.late.length, 0);
  assert.equal(s.watermark, 2 * MIN + 500 - 1_000);
  assert.deepEqual(finals([behind]).map((w) => [w.start, w.orders]), [[0, 2]]);
});

Deno.test("state: a re-sent order or payment is not counted twice", () => {
  const s = new StreamState({ sources: ["o/0", "p/0"], windowMs: MIN, latenessMs: 0 });
  s.process([order(1_000, "x", 700n), order(1_000, "x", 700n)]);
  s.process([payment(2_000, "x"), payment(2_000, "x")]);
  const out = s.finish();
  assert.deepEqual(finals([out]).map((w) => [w.orders, w.revenueMinor, w.paid]), [[1, 700n, 1]]);
  assert.equal(s.counters.duplicates, 2);
});

Deno.test("join: paid within the bound (inclusive), either side first; unpaid after it", () => {
  const j = new IntervalJoin(10_000);
  assert.equal(j.addOrder("a", "EU", 0).match, undefined);
  assert.equal(j.addPayment("a", "EU", 10_000).match?.paidAt, 10_000, "the bound is inclusive");
  assert.equal(j.addPayment("b", "EU", 25_000).match, undefined, "payment first: waits");
  assert.equal(j.addOrder("b", "EU", 20_000).match?.status, "paid");
  j.addOrder("c", "US", 30_000);
  assert.equal(j.addPayment("c", "US", 40_001).match, undefined, "1 ms past the bound");
  assert.deepEqual(j.expire(40_000).unpaid, [], "c's bound has not passed yet");
  assert.deepEqual(j.expire(40_001).unpaid.map((u) => [u.orderId, u.status]), [["c", "unpaid"]]);
  assert.equal(j.hasOrder("a"), false, "a paid order leaves once its bound passed");
  j.addPayment("z", "EU", 50_000);
  assert.deepEqual(j.expire(50_001).orphans.map((p) => p.orderId), ["z"]);
});

Deno.test("join: changes are listed for the changelog and restore the same state", () => {
  const j = new IntervalJoin(10_000);
  j.addOrder("a", "EU", 0);
  j.addPayment("b", "US", 5);
  const changes = j.takeChanges();
  assert.deepEqual(changes.map(([k]) => k), ["order|a", "payment|b"]);
  assert.deepEqual(j.takeChanges(), []);
  const copy = new IntervalJoin(10_000);
  for (const [k, v] of changes) copy.restore(k, v!);
  assert.equal(copy.addOrder("b", "US", 0).match?.paidAt, 5);
  assert.equal(copy.addOrder("a", "EU", 0).duplicate, true);
  assert.throws(() => copy.restore("x|1", "{}"), /not a join changelog key/);
});

Deno.test("state: unpaid orders come out once the watermark passes their bound", () => {
  const s = new StreamState({
    sources: ["o/0", "p/0"],
    windowMs: MIN,
    latenessMs: 0,
    joinBoundMs: 30_000,
  });
  s.process([order(0, "u"), order(1_000, "paid")]);
  const paid = s.process([payment(20_000, "paid")]);
  assert.deepEqual(paid.joined.map((j) => [j.orderId, j.status]), [["paid", "paid"]]);
  assert.equal(s.watermark, 1_000);
  s.process([order(30_001, "later")]);
  assert.equal(s.counters.unpaid, 0, "watermark 20 000: u's bound (30 000) not passed");
  const out = s.process([payment(30_002, "later")]); // watermark 30 001 > 0 + 30 000
  assert.deepEqual(out.joined.map((j) => [j.orderId, j.status]), [
    ["later", "paid"],
    ["u", "unpaid"],
  ]);
});

/** A run split in two, the second half on a state rebuilt from what the first half wrote. */
function restoredRun(
  events: StreamEvent[][],
  splitAt: number,
  options: ConstructorParameters<
    typeof StreamState
  >[0],
) {
  const first = new StreamState(options);
  const outs: StepOutput[] = events.slice(0, splitAt).map((b) => first.process(b));
  const windows = new Map<string, WindowResult>();
  const join = new Map<string, string | null>();
  for (const o of outs) {
    for (const w of o.windows) windows.set(windowKey(w.start, w.region), w);
    for (const [k, v] of o.changes) join.set(k, v);
  }
  const partitionTimes = Object.fromEntries(
    options.sources.map((s) => [s, first.partitionTime(s)]),
  );
  const second = new StreamState(options);
  second.restore({
    windows: windows.values(),
    join: [...join].filter((e): e is [string, string] => e[1] !== null),
    partitionTimes,
  });
  for (const b of events.slice(splitAt)) outs.push(second.process(b));
  outs.push(second.finish());
  return outs;
}

Deno.test("state: a state rebuilt from its outputs ends exactly like an uninterrupted run", () => {
  const options = {
    sources: ["o/0", "p/0"],
    windowMs: MIN,
    latenessMs: 5_000,
    joinBoundMs: 90_000,
  };
  const batches: StreamEvent[][] = [];
  for (let m = 0; m < 12; m++) {
    batches.push([order(m * 20_000 + 3, `o${m}`, BigInt(100 + m)), order(m * 20_000, `o${m}`)]);
    if (m % 3 !== 0) batches.push([payment(m * 20_000 + 50_000, `o${m}`)]);
  }
  const whole = new StreamState(options);
  const reference = [...batches.map((b) => whole.process(b)), whole.finish()];
  const key = (outs: StepOutput[]) => ({
    finals: finals(outs).map((w) => JSON.stringify(encodeWindow(w))).sort(),
    joined: outs.flatMap((o) => o.joined).map((j) => `${j.orderId}:${j.status}`).sort(),
  });
  for (const split of [1, 5, 9, batches.length - 1]) {
    assert.deepEqual(key(restoredRun(batches, split, options)), key(reference), `split ${split}`);
  }
  assert.ok(finals(reference).length >= 4);
  assert.ok(reference.flatMap((o) => o.joined).some((j) => j.status === "unpaid"));
});

Deno.test("state: after a finish, the closed windows stay closed on restore", () => {
  const s = new StreamState({ sources: ["o/0"], windowMs: MIN, latenessMs: 0 });
  const out = [s.process([order(1_000, "a")]), s.finish()];
  const again = new StreamState({ sources: ["o/0"], windowMs: MIN, latenessMs: 0 });
  again.restore({ windows: finals(out), join: [], partitionTimes: { "o/0": 1_000 } });
  assert.equal(again.watermark, MIN, "the end of the last closed window");
  assert.equal(again.process([order(2_000, "b")]).late.length, 1);
  assert.equal(again.process([order(MIN, "c")]).late.length, 0);
});

Deno.test("records: windows, late events and join outcomes read back as written", () => {
  const w: WindowResult = {
    start: Date.UTC(2026, 2, 2),
    end: Date.UTC(2026, 2, 2, 0, 1),
    region: "APAC",
    currency: "JPY",
    orders: 3,
    revenueMinor: 9_007_199_254_740_993n,
    avgBasketMinor: 3_002_399_751_580_331n,
    paid: 2,
    final: true,
  };
  const encoded = encodeWindow(w);
  assert.equal(encoded.key, "2026-03-02T00:00:00.000Z|APAC");
  assert.deepEqual(decodeWindow(encoded.value), w, "money beyond 2^53 stays exact");
  const late = { event: { ...order(1_000, "o"), offset: "12" }, watermark: 4_500 };
  const l = decodeLate(encodeLate(late).value);
  assert.deepEqual([l.offset, l.behindMs, l.occurredAt, l.eventType], [
    "12",
    3_500,
    1_000,
    "order.placed",
  ]);
  for (
    const j of [
      { orderId: "a", region: "EU", placedAt: 0, paidAt: 10, status: "paid" },
      { orderId: "b", region: "US", placedAt: 5, paidAt: null, status: "unpaid" },
    ] as const
  ) assert.deepEqual(decodeJoined(encodeJoined(j).value), j);
  assert.deepEqual([
    ...latestByKey([
      { partition: 0, offset: "0", key: "k", value: "1" },
      { partition: 1, offset: "0", key: "j", value: "x" },
      { partition: 0, offset: "1", key: "k", value: null },
    ]),
  ], [["j", "x"]]);
});

/** Feeds generated records to a state the way the processor reads them (6 partitions a topic). */
function streamOf(
  records: GeneratedRecord[],
  options: { latenessMs: number; joinBoundMs: number },
) {
  const sources = ["orders", "payments"].flatMap((t) => [0, 1, 2, 3, 4, 5].map((p) => `${t}/${p}`));
  const state = new StreamState({ sources, windowMs: MIN, ...options });
  const byPartition = new Map<string, StreamEvent[]>(sources.map((s) => [s, []]));
  for (const r of records) {
    if (r.kind === "malformed" || (r.topic !== "orders" && r.topic !== "payments")) continue;
    const source = `${r.topic}/${javaPartition(r.key, 6)}`;
    const e = toStreamEvent(r.value, source);
    if (e) byPartition.get(source)!.push(e);
  }
  // Interleave the partitions in batches of 50, as a consumer fetching them would.
  const outs: StepOutput[] = [];
  for (let i = 0; [...byPartition.values()].some((q) => q.length > i); i += 50) {
    for (const q of byPartition.values()) {
      if (q.length > i) outs.push(state.process(q.slice(i, i + 50)));
    }
  }
  outs.push(state.finish());
  return { state, outs };
}

Deno.test("batch vs stream: the hourly rollup of the minute windows equals gold to the cent", () => {
  const gen = new EventGenerator({
    seed: 11,
    meanStepMs: 400,
    malformedShare: 0.02,
    duplicateShare: 0.03,
    schema: { v2From: 5000 },
  });
  const records = gen.take(15_000);
  const tally = new Tally();
  for (const r of records) tally.add(r);
  const { state, outs } = streamOf(records, { latenessMs: 10_000, joinBoundMs: 120_000 });
  const hourly = rollupHourly(finals(outs));
  assert.ok(hourly.length >= 6, `${hourly.length} region-hours`);
  assert.deepEqual(compareWithGold(tally.gold(), hourly), []);
  assert.ok(batchVsStream(tally.gold(), hourly).every((r) => r.equal));
  const c = state.counters;
  assert.equal(c.orders, tally.totals().orders, "every order placed counted once");
  assert.ok(c.duplicates + c.late > 0, "the generator re-sent some events");
  // A wrong stream differs: one order less in one window.
  const broken = finals(outs).map((w, i) => (i === 0 ? { ...w, orders: w.orders - 1 } : w));
  assert.equal(compareWithGold(tally.gold(), rollupHourly(broken)).length, 1);
});

Deno.test("batch vs stream: a window that does not divide an hour cannot roll up", () => {
  const w = { ...encodeWindowInput(), end: 7 * MIN };
  assert.throws(() => rollupHourly([w]), /does not divide an hour/);
});

function encodeWindowInput(): WindowResult {
  return {
    start: 0,
    end: MIN,
    region: "EU",
    currency: "EUR",
    orders: 1,
    revenueMinor: 1n,
    avgBasketMinor: 1n,
    paid: 0,
    final: true,
  };
}

Deno.test("deno task stream: flags", async () => {
  const { durationFlag, parseStreamArgs } = await import("../tasks/stream.ts");
  const { UsageError } = await import("../lib/util/cli.ts");
  assert.equal(durationFlag("1.5s", "--lateness", 0), 1500);
  assert.equal(durationFlag(undefined, "--lateness", 7), 7);
  assert.throws(() => durationFlag("5", "--lateness", 0), UsageError);
  const d = parseStreamArgs([]);
  assert.deepEqual([d.events, d.windowMs, d.latenessMs, d.joinBoundMs, d.only], [
    200_000,
    MIN,
    10_000,
    MIN,
    false,
  ]);
  const only = parseStreamArgs(["--only", "--base", "x", "--window", "5m", "--bound", "90s"]);
  assert.deepEqual([only.base, only.windowMs, only.joinBoundMs, only.progressMs], [
    "x",
    5 * MIN,
    90_000,
    1000,
  ]);
  assert.throws(() => parseStreamArgs(["--window", "7m"]), /must divide an hour/);
  assert.throws(() => parseStreamArgs(["--follow"]), /--follow goes with --only/);
  assert.throws(() => parseStreamArgs(["--only", "--events", "5"]), /produces nothing/);
});

Deno.test("kafkajs's retries of CONCURRENT_TRANSACTIONS are not shown below debug", async () => {
  const { logLevel } = await import("kafkajs");
  const { kafkaLogLines } = await import("../lib/kafka/client.ts");
  const error = "The producer attempted to update a transaction while another concurrent " +
    "operation on the same transaction was ongoing";
  const entry = (namespace: string, message: string, extra: Record<string, unknown>) => ({
    namespace,
    level: logLevel.ERROR,
    label: "ERROR",
    log: { timestamp: "", logger: "kafkajs", message, ...extra },
  });
  const response = entry("Connection", "Response AddPartitionsToTxn(key: 24, version: 1)", {
    error,
  });
  const retry = entry("Producer", `Failed to send messages: ${error}`, { retryCount: 0 });
  const final = entry("Producer", `Failed to send messages: ${error}`, {});
  const warn = kafkaLogLines(logLevel.WARN);
  assert.equal(warn(response), undefined);
  assert.equal(warn(retry), undefined);
  assert.match(warn(final) ?? "", /Failed to send messages/, "a failure that is not a retry shows");
  assert.match(kafkaLogLines(logLevel.DEBUG)(retry) ?? "", /Failed to send messages/);
});

Deno.test("what the lake does not count, the stream does not count either", async () => {
  const { uncountable } = await import("../lib/shopstream/stream/processor.ts");
  assert.equal(uncountable(order(0, "a")), undefined);
  assert.match(uncountable({ ...order(0, "b"), region: "UNKNOWN" }) ?? "", /not a shop region/);
  assert.equal(uncountable(order(Date.parse("9999-12-31T23:59:59.999Z"), "c")), undefined);
  assert.match(uncountable(order(Date.parse("9999-12-31T23:59:59.999Z") + 1, "d")) ?? "", /0000/);
  assert.match(uncountable(order(Date.parse("0000-01-01T00:00:00.000Z") - 1, "e")) ?? "", /0000/);
});
