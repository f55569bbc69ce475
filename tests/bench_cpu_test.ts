/**
 * CPU by component from /proc: the stat-line and /proc/stat parsers on fixed
 * text, the report's arithmetic, and this process's own counters growing over
 * a busy loop (no timing assertions beyond "it grew").
 */
import assert from "node:assert/strict";
import {
  brokerParts,
  brokerThreadKind,
  cpuLimitLine,
  cpuLimitWithout,
  cpuReport,
  type CpuSnapshot,
  cpuSnapshot,
  cpuTable,
  formatBenchCpu,
  parseMachineCpu,
  parseProcStat,
  threadKinds,
  threadSplit,
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
  const split = cpuTable(r, "event", [{ under: "pipeline", parts: { producer: 4.5, sink: 1.5 } }]);
  assert.deepEqual(split.rows.map((x) => x[0]).slice(0, 4), [
    "pipeline",
    "  producer",
    "  sink",
    "kafka-1",
  ]);
  assert.deepEqual(split.rows[1], ["  producer", "4.50", "45.0", "30%"]);
});

function threadSnap(all: number, threads: [number, string, number][]): CpuSnapshot {
  return {
    at: 0,
    ticksPerSec: 100,
    machine: { busy: 0, total: 0, cores: 2 },
    ticks: new Map([[9, all]]),
    threadsByPid: new Map([[
      9,
      new Map(threads.map(([tid, comm, ticks]) => [tid, { comm, ticks }])),
    ]]),
  };
}

Deno.test("threadSplit: main thread, workers, runtime threads; an ended worker gets what ended", () => {
  const before = threadSnap(1000, [[9, "deno", 500], [10, "V8 DefaultWorke", 100], [
    11,
    "worker-1",
    400,
  ]]);
  // The worker is alive at the end: each thread's own delta.
  const alive = threadSnap(1600, [[9, "deno", 700], [10, "V8 DefaultWorke", 150], [
    11,
    "worker-1",
    750,
  ]]);
  assert.deepEqual(threadSplit(9, before, alive), { main: 2, workers: 3.5, runtime: 0.5 });
  // The worker ended (the sink stopped): the 4 s no live thread accounts for are the worker's.
  const ended = threadSnap(1600, [[9, "deno", 700], [10, "V8 DefaultWorke", 150], [
    12,
    "tokio-runtime-w",
    0,
  ]]);
  assert.deepEqual(threadSplit(9, before, ended), { main: 2, workers: 3.5, runtime: 0.5 });
  // Without thread readings there is no split.
  const plain = { ...before, threadsByPid: undefined };
  assert.equal(threadSplit(9, plain, alive), undefined);
});

Deno.test("threadSplit: a Worker's work is credited to the workers, also once it has ended", async () => {
  // The worker's thread exists before the interval (as the pipeline's sink does), then
  // does a fixed amount of work (not of wall time: the machine may be shared), ~0.3 s.
  const code = "postMessage('ready'); onmessage = () => { let x = 0; " +
    "for (let i = 0; i < 3e8; i++) x = (x + i) % 1000003; postMessage(x); };";
  const w = new Worker(`data:text/javascript,${encodeURIComponent(code)}`, { type: "module" });
  const next = () => new Promise((resolve) => w.onmessage = resolve);
  await next();
  const before = await cpuSnapshot([Deno.pid], { threadsOf: [Deno.pid] });
  assert.ok(
    [...before.threadsByPid!.get(Deno.pid)!.values()].some((t) => t.comm.startsWith("worker-")),
  );
  const done = next();
  w.postMessage("go");
  await done;
  const mid = await cpuSnapshot([Deno.pid], { threadsOf: [Deno.pid] });
  w.terminate();
  let after = mid;
  for (let i = 0; i < 50; i++) { // until the thread has exited
    await new Promise((r) => setTimeout(r, 20));
    after = await cpuSnapshot([Deno.pid], { threadsOf: [Deno.pid] });
    if (
      ![...after.threadsByPid!.get(Deno.pid)!.values()].some((t) => t.comm.startsWith("worker-"))
    ) break;
  }
  assert.ok(
    ![...after.threadsByPid!.get(Deno.pid)!.values()].some((t) => t.comm.startsWith("worker-")),
  );
  for (const end of [mid, after]) {
    const s = threadSplit(Deno.pid, before, end)!;
    assert.ok(s.workers >= 0.1, `workers ${s.workers} s`);
    assert.ok(s.workers > s.main, `workers ${s.workers} s, main ${s.main} s`);
  }
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

Deno.test("brokerThreadKind: a Kafka JVM's threads by the 15 characters Linux keeps of their names", () => {
  const kinds = Object.fromEntries([
    "data-plane-kafk", // data-plane-kafka-request-handler-N, data-plane-kafka-network-thread-...
    "ReplicaFetcherT",
    "C2 CompilerThre",
    "C1 CompilerThre",
    "GC Thread#0",
    "G1 Conc#0",
    "G1 Refine#0",
    "VM Thread",
    "kafka-scheduler",
    "group-coordinat",
  ].map((comm) => [comm, brokerThreadKind(comm)]));
  assert.deepEqual(kinds, {
    "data-plane-kafk": "requests",
    "ReplicaFetcherT": "replication",
    "C2 CompilerThre": "JIT",
    "C1 CompilerThre": "JIT",
    "GC Thread#0": "GC",
    "G1 Conc#0": "GC",
    "G1 Refine#0": "GC",
    "VM Thread": "GC",
    "kafka-scheduler": "other",
    "group-coordinat": "other",
  });
});

function jvmSnap(processes: [number, number, [number, string, number][]][]): CpuSnapshot {
  return {
    at: 0,
    ticksPerSec: 100,
    machine: { busy: 0, total: 0, cores: 2 },
    ticks: new Map(processes.map(([pid, all]) => [pid, all])),
    threadsByPid: new Map(processes.map(([pid, _, threads]) => [
      pid,
      new Map(threads.map(([tid, comm, ticks]) => [tid, { comm, ticks }])),
    ])),
  };
}

Deno.test("threadKinds: several processes summed by kind; a thread that ended counts as ended", () => {
  const before = jvmSnap([
    [1, 100, [[11, "data-plane-kafk", 50], [12, "C2 CompilerThre", 40], [
      13,
      "kafka-scheduler",
      10,
    ]]],
    [2, 10, [[21, "data-plane-kafk", 10]]],
  ]);
  const after = jvmSnap([
    // pid 1: requests +100, JIT +50, thread 13 gone (it had 10; the process grew 200 in all)
    [1, 300, [[11, "data-plane-kafk", 150], [12, "C2 CompilerThre", 90]]],
    // pid 2: requests +40, a new thread with 20
    [2, 70, [[21, "data-plane-kafk", 50], [22, "ReplicaFetcherT", 20]]],
  ]);
  assert.deepEqual(threadKinds([1, 2], before, after, brokerThreadKind), {
    requests: 1.4,
    JIT: 0.5,
    ended: 0.5, // pid 1: 200 - (100 + 50) ticks
    replication: 0.2,
  });
  // A snapshot without the threads of a listed pid: no split.
  assert.equal(threadKinds([1, 3], before, after, brokerThreadKind), undefined);
  assert.equal(
    threadKinds([1], { ...before, threadsByPid: undefined }, after, brokerThreadKind),
    undefined,
  );
});

Deno.test("cpuSnapshot: threadsOf reads each listed process's threads", async () => {
  const s = await cpuSnapshot([Deno.pid], { threadsOf: [Deno.pid] });
  const mine = s.threadsByPid?.get(Deno.pid);
  assert.ok(mine && mine.size > 1, `threads: ${mine?.size}`);
  assert.ok(mine.has(Deno.pid), "the main thread's tid is the pid");
  // Without threadsOf, no per-pid threads.
  assert.equal((await cpuSnapshot([Deno.pid])).threadsByPid, undefined);
});

Deno.test("cpuTable and cpuLimitWithout: detail rows under several rows; the limit without a part", () => {
  const r = cpuReport(
    [{ name: "pipeline", pid: 1 }, { name: "kafka-1", pid: 2 }],
    snap(0, 0, [[1, 0], [2, 0]]),
    snap(10_000, 1500, [[1, 600], [2, 400]]),
    100_000,
  );
  const { rows } = cpuTable(r, "event", [
    { under: "pipeline", parts: { producer: 4 } },
    { under: "kafka-1", parts: { "brokers: JIT": 1, "brokers: requests": 3 } },
  ]);
  assert.deepEqual(rows.map((x) => x[0]), [
    "pipeline",
    "  producer",
    "kafka-1",
    "  brokers: JIT",
    "  brokers: requests",
    "everything else",
    "total (machine busy)",
  ]);
  // 15 s busy for 100,000 events: 150 µs/event; without 1 s of it: 140 µs/event, 14,286 events/s.
  assert.equal(
    cpuLimitWithout(r, 1, "the JIT"),
    "without the JIT: 140.0 µs/event, at most 14,286 events/s",
  );
});

Deno.test("brokerParts and formatBenchCpu: thread kinds under readable rows; the sink's section", () => {
  assert.deepEqual(brokerParts({ GC: 1, ended: 0.5, requests: 4, other: 0.25, odd: 2 }), {
    "brokers: network and request threads": 4,
    "brokers: garbage collection": 1,
    "brokers: other threads": 2.75,
  });
  const report = cpuReport(
    [{ name: "sink", pid: 1 }, { name: "kafka-1", pid: 2 }, { name: "kafka-2", pid: 3 }],
    snap(0, 0, [[1, 0], [2, 0], [3, 0]]),
    snap(10_000, 1000, [[1, 600], [2, 200], [3, 100]]),
    200_000,
  );
  const text = formatBenchCpu(
    { report, threads: { "sink (main thread)": 4 }, brokerThreads: { requests: 2, JIT: 1 } },
    "sink",
    "record",
    "CPU:",
  );
  const names = text.split("\n").slice(3).map((line) => line.match(/^(\s*\S.*?)(\s{2,}|$)/)![1]);
  assert.deepEqual(names.slice(0, 7), [
    "sink",
    "  sink (main thread)",
    "kafka-1",
    "kafka-2",
    "  brokers: network and request threads",
    "  brokers: JIT compilers (C1, C2)",
    "everything else",
  ]);
  // 10 s busy for 200,000 records: 50 µs/record, 40,000 records/s; without the JIT's 1 s: 45.
  assert.match(text, /at 50\.0 µs\/record the machine 100% busy does at most 40,000 records\/s/);
  assert.match(text, /without the brokers' JIT compilers .*: 45\.0 µs\/record, at most 44,444/);
});
