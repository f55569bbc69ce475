/**
 * Unit tests (no services) of the lake drills' and the drain's pure parts:
 * counting event ids (lost, doubled, foreign), the regenerated records (the
 * generator is deterministic), the "evolved" order schema with an optional
 * region (backward compatible, so a registry takes it, and it reads older
 * records), the drain's offsets rule (done when every partition is committed
 * to its end, flush when all is read), and `/health` on a restart loop.
 */
import assert from "node:assert/strict";
import { loadCatalog } from "../lib/schema/catalog.ts";
import { checkCompatibility } from "../lib/schema/compatibility.ts";
import { countIds, evolvedCatalog, optionalRegionSchema, regenerate } from "../lib/drill/mod.ts";
import { drainState } from "../lib/shopstream/drain.ts";
import { RESTART_LOOP, sinkHealth, type SinkSnapshot } from "../lib/shopstream/sink_runner.ts";
import { EventGenerator } from "../lib/shopstream/generator.ts";

Deno.test("lake drill: ids counted against what was sent", () => {
  assert.deepEqual(countIds(new Set(["a", "b", "c"]), ["a", "b", "c"]), {
    rows: 3,
    lost: 0,
    doubled: 0,
    foreign: 0,
  });
  assert.deepEqual(countIds(new Set(["a", "b", "c"]), ["a", "a", "c", "z"]), {
    rows: 4,
    lost: 1,
    doubled: 1,
    foreign: 1,
  });
  assert.deepEqual(countIds(new Set(["a"]), []), { rows: 0, lost: 1, doubled: 0, foreign: 0 });
});

Deno.test("lake drill: the records a seed sends, regenerated, are the producer's", () => {
  const options = { seed: 11, malformedShare: 0, duplicateShare: 0, schema: { v2From: 100 } };
  const sent = regenerate(options, 400);
  const again = new EventGenerator(options).take(400);
  const ids = again.map((r) => (r.value as { envelope: { eventId: string } }).envelope.eventId);
  assert.equal(new Set(ids).size, 400, "every record one distinct event");
  const all = Object.values(sent.ids).flatMap((s) => [...s]);
  assert.deepEqual(all.sort(), [...ids].sort());
  assert.equal(sent.tally.totals().produced, 400);
  assert.throws(() => regenerate({ seed: 1, malformedShare: 0.1 }, 10), RangeError);
});

Deno.test("lake drill: the optional-region evolution is backward compatible and reads older records", async () => {
  const catalog = await loadCatalog();
  const order = catalog.family("order");
  const evolved = optionalRegionSchema(order.latest);
  assert.equal(evolved.version, order.latest.version + 1);
  const previous = order.versions.map((v) => ({ schema: v.text, version: v.version }));
  const result = checkCompatibility("BACKWARD_TRANSITIVE", evolved.text, previous);
  assert.ok(result.compatible, result.messages.join("; "));
  // It reads a v2 record as is, and writes one without a region.
  const sample = new EventGenerator({ seed: 3, schema: "v2" }).take(200)
    .find((r) => r.topic === "orders")!;
  const bytes = order.latest.type.toBuffer(sample.value);
  const read = evolved.type.fromBuffer(bytes, evolved.type.createResolver(order.latest.type));
  assert.equal(read.envelope.region, sample.region);
  const none = { ...(sample.value as object), envelope: { ...read.envelope, region: null } };
  assert.equal(evolved.type.isValid(none), true);
  assert.equal(order.latest.type.isValid(none), false, "the old schema has no room for it");
  // The evolved catalog makes it the order family's newest; other families unchanged.
  const cat = evolvedCatalog(catalog);
  assert.equal(cat.family("order").latest, cat.family("order").versions.at(-1));
  assert.equal(cat.family("order").latest.version, evolved.version);
  assert.equal(cat.family("payment"), catalog.family("payment"));
});

Deno.test("drain: done when every partition is committed to its end; flush once all is read", () => {
  const lag = (partition: number, committed: string | null, end: string) => ({
    topic: "t",
    partition,
    committed,
    end,
    lag: Number(end) - Number(committed ?? "0"),
  });
  // Counting records read would say "done" after a re-read; offsets do not repeat.
  assert.deepEqual(drainState([lag(0, "10", "10"), lag(1, "7", "7")], {}), {
    behind: 0,
    allRead: true,
  });
  assert.deepEqual(drainState([lag(0, "4", "10"), lag(1, "7", "7")], { t: { "0": 10 } }), {
    behind: 1,
    allRead: true,
  });
  assert.deepEqual(drainState([lag(0, "4", "10")], { t: { "0": 9 } }), {
    behind: 1,
    allRead: false,
  });
  assert.deepEqual(drainState([lag(0, null, "3")], {}), { behind: 1, allRead: false });
});

Deno.test("health: a sink whose consumer keeps restarting is not healthy", () => {
  const snapshot = (restartLog: { at: number; error: string }[], waiting = false) =>
    ({
      totals: {
        records: 0,
        deadLetters: 5,
        flushes: 0,
        flushFailures: 0,
        buffered: 0,
        skipped: 0,
        objects: 0,
      },
      consumerRestarts: restartLog.length,
      restartLog,
      waitingForStore: waiting,
    }) as unknown as SinkSnapshot;
  const now = 1_000_000_000;
  const sink = (s: SinkSnapshot, crashed?: Error) => ({ crashed, snapshot: () => s });
  const restarts = (n: number, ago: number) =>
    Array.from({ length: n }, (_, i) => ({ at: now - ago - i, error: "record p0@7: boom" }));

  assert.equal(sinkHealth(sink(snapshot([])), now).ok, true);
  const loop = sinkHealth(sink(snapshot(restarts(RESTART_LOOP.restarts, 1000))), now);
  assert.equal(loop.ok, false);
  assert.match(
    String(loop.details!.sink),
    /restarting: 3 consumer restarts .* last: record p0@7: boom/,
  );
  // Old restarts, or fewer than the bound, leave it healthy but counted.
  const old = sinkHealth(sink(snapshot(restarts(5, RESTART_LOOP.windowMs + 1))), now);
  assert.equal(old.ok, true);
  assert.equal(old.details!.consumerRestarts, "5");
  assert.equal(sinkHealth(sink(snapshot(restarts(2, 0))), now).ok, true);
  assert.match(
    String(sinkHealth(sink(snapshot([], true)), now).details!.sink),
    /waiting for the object/,
  );
  assert.equal(sinkHealth(sink(snapshot([]), new Error("x")), now).ok, false);
});
