/**
 * CPU by component from /proc: the stat-line and /proc/stat parsers on fixed
 * text, the report's arithmetic, and this process's own counters growing over
 * a busy loop (no timing assertions beyond "it grew").
 */
import assert from "node:assert/strict";
import {
  cpuLimitLine,
  cpuReport,
  type CpuSnapshot,
  cpuSnapshot,
  cpuTable,
  parseMachineCpu,
  parseProcStat,
} from "../lib/bench/cpu.ts";

// A real line's shape, with a command name holding spaces and parentheses.
const STAT_LINE = "9468 (java (x) y) S 1 9468 9468 0 -1 4194304 227980 0 3306 0 14007 4970 0 0 " +
  "20 0 113 0 1132583 9555468288 196441 18446744073709551615 94451808587776";

Deno.test("parseProcStat: fields after the last ')', whatever the command name holds", () => {
  const s = parseProcStat(STAT_LINE);
  assert.equal(s.pid, 9468);
  assert.equal(s.comm, "java (x) y");
  assert.equal(s.state, "S");
  assert.equal(s.utime, 14007);
  assert.equal(s.stime, 4970);
  // The same line with a plain name parses to the same counters.
  const plain = parseProcStat(STAT_LINE.replace("(java (x) y)", "(java)"));
  assert.equal(plain.comm, "java");
  assert.deepEqual([plain.utime, plain.stime], [14007, 4970]);
  assert.throws(() => parseProcStat("not a stat line"), SyntaxError);
  assert.throws(() => parseProcStat("12 (x) S 1"), SyntaxError);
});

Deno.test("parseMachineCpu: busy excludes idle and iowait, guest is not counted twice", () => {
  const text = [
    "cpu  100 5 50 800 20 1 2 3 7 0",
    "cpu0 50 2 25 400 10 0 1 1 3 0",
    "cpu1 50 3 25 400 10 1 1 2 4 0",
    "intr 12345 0 0",
    "ctxt 999",
  ].join("\n");
  const m = parseMachineCpu(text);
  assert.equal(m.busy, 100 + 5 + 50 + 1 + 2 + 3);
  assert.equal(m.total, m.busy + 800 + 20);
  assert.equal(m.cores, 2);
  assert.throws(() => parseMachineCpu("intr 1\n"), SyntaxError);
});

function snap(at: number, busy: number, ticks: [number, number][]): CpuSnapshot {
  return {
    at,
    ticksPerSec: 100,
    machine: { busy, total: 2 * at / 10, cores: 2 },
    ticks: new Map(ticks),
  };
}

Deno.test("cpuReport: seconds, µs per event, everything else and the 2-core limit", () => {
  const before = snap(0, 1000, [[1, 0], [2, 500], [3, 10]]);
  // 10 s wall; the machine busy 15 s of its 20; pid 1 used 6 s, pid 2 3 s, pid 3 vanished.
  const after = snap(10_000, 2500, [[1, 600], [2, 800]]);
  const r = cpuReport(
    [{ name: "pipeline", pid: 1 }, { name: "kafka-1", pid: 2 }, { name: "minio", pid: 3 }],
    before,
    after,
    100_000,
  );
  assert.deepEqual(r.rows.map((x) => x.name), ["pipeline", "kafka-1", "everything else"]);
  assert.deepEqual(r.missing, ["minio"]);
  assert.deepEqual(r.rows.map((x) => x.seconds), [6, 3, 6]);
  assert.deepEqual(r.rows.map((x) => x.usPerUnit), [60, 30, 60]);
  assert.deepEqual(r.rows.map((x) => x.share), [0.4, 0.2, 0.4]);
  assert.equal(r.busySeconds, 15);
  assert.equal(r.busyShare, 0.75);
  assert.equal(r.wallSeconds, 10);
  assert.equal(r.usPerUnit, 150);
  // 2 cores = 2,000,000 µs of CPU per second; at 150 µs/event: 13,333 events/s at most.
  assert.equal(Math.round(r.maxUnitsPerSec), 13_333);
  assert.match(cpuLimitLine(r), /at 150\.0 µs\/event .* at most 13,333 events\/s/);
  // Without everything else: 90 µs/event, 22,222 events/s at most.
  assert.equal(r.componentsUsPerUnit, 90);
  assert.equal(Math.round(r.componentsMaxUnitsPerSec), 22_222);
  assert.match(
    cpuLimitLine(r),
    /without everything else: 90\.0 µs\/event, at most 22,222 events\/s/,
  );
  const { header, rows } = cpuTable(r);
  assert.equal(header.length, 4);
  assert.deepEqual(rows.at(-1), ["total (machine busy)", "15.00", "150.0", "100%"]);
  assert.deepEqual(rows[0], ["pipeline", "6.00", "60.0", "40%"]);
});

Deno.test("cpuReport: the components never exceed the machine (everything else >= 0)", () => {
  const r = cpuReport(
    [{ name: "a", pid: 1 }],
    snap(0, 0, [[1, 0]]),
    snap(1000, 90, [[1, 100]]),
    10,
  );
  assert.equal(r.rows.at(-1)!.seconds, 0);
  assert.equal(r.busySeconds, 1);
});

Deno.test("cpuSnapshot: this process's CPU grows over a busy loop; a dead pid is left out", async () => {
  const ghost = 2 ** 22 + 17; // above the default pid_max: no such process
  const before = await cpuSnapshot([Deno.pid, ghost]);
  assert.ok(before.ticks.has(Deno.pid));
  assert.ok(!before.ticks.has(ghost));
  assert.ok(before.machine.cores >= 1);
  assert.ok(before.ticksPerSec > 0);
  const until = performance.now() + 300;
  let x = 0;
  while (performance.now() < until) x += Math.sqrt(x + 1);
  assert.ok(x > 0);
  const after = await cpuSnapshot([Deno.pid]);
  const r = cpuReport([{ name: "self", pid: Deno.pid }], before, after, 1);
  const self = r.rows[0];
  assert.equal(self.name, "self");
  // 300 ms of spinning is at least 0.1 s of CPU even on a crowded machine.
  assert.ok(self.seconds >= 0.1, `self used ${self.seconds} s`);
  assert.ok(r.busySeconds >= self.seconds);
  assert.ok(after.machine.busy > before.machine.busy);
});
