/**
 * CPU time by component, from Linux's `/proc`: each process's user + system
 * time (`/proc/<pid>/stat`, which already sums the process's threads) and the
 * whole machine's busy time (`/proc/stat`), read once before and once after a
 * measured interval. What the listed processes did not use is "everything
 * else" on the machine (other jobs, the kernel's own work).
 *
 * Deno lets a program read `/proc` only with `--allow-all`, so the files are
 * read by `cat` (needs `--allow-run`), as `lib/stack` reads process state.
 *
 * @example
 * ```ts
 * import { cpuReport, cpuSnapshot, cpuTable } from "./cpu.ts";
 * import { formatTable } from "../util/table.ts";
 * const components = [{ name: "this process", pid: Deno.pid }];
 * const before = await cpuSnapshot(components.map((c) => c.pid));
 * for (let i = 0, x = 0; i < 1e7; i++) x += i;
 * const after = await cpuSnapshot(components.map((c) => c.pid));
 * const report = cpuReport(components, before, after, 1000);
 * const { header, rows } = cpuTable(report);
 * console.log(formatTable(header, rows));
 * ```
 *
 * @module
 */
import type { Config } from "../config.ts";
import { openStack } from "../stack/open.ts";
import { formatTable } from "../util/table.ts";

/** The fields of one `/proc/<pid>/stat` line this module uses. */
export interface ProcStat {
  /** Process id. */
  readonly pid: number;
  /** The command name (up to 15 characters; may hold spaces and parentheses). */
  readonly comm: string;
  /** State letter (R running, S sleeping, Z zombie, ...). */
  readonly state: string;
  /** User-mode CPU time, clock ticks. */
  readonly utime: number;
  /** Kernel-mode CPU time, clock ticks. */
  readonly stime: number;
}

/**
 * Parses one `/proc/<pid>/stat` line. The command name sits between the
 * first `(` and the LAST `)`, since it may itself hold `)` and spaces; the
 * numbered fields follow it (utime is field 14, stime field 15).
 *
 * @example
 * ```ts
 * import { parseProcStat } from "./cpu.ts";
 * const s = parseProcStat("42 (a) b) S 1 42 42 0 -1 4194304 0 0 0 0 250 30 0 0 20 0 3 0 1");
 * console.log(s.comm, s.utime, s.stime); // a) b 250 30
 * ```
 */
export function parseProcStat(line: string): ProcStat {
  const open = line.indexOf("(");
  const close = line.lastIndexOf(")");
  if (open < 0 || close < open) throw new SyntaxError(`not a /proc/<pid>/stat line: ${line}`);
  const pid = Number(line.slice(0, open).trim());
  const fields = line.slice(close + 1).trim().split(/\s+/);
  // fields[0] is field 3 (state): field n sits at index n - 3.
  const utime = Number(fields[14 - 3]), stime = Number(fields[15 - 3]);
  if (!Number.isInteger(pid) || !Number.isFinite(utime) || !Number.isFinite(stime)) {
    throw new SyntaxError(`not a /proc/<pid>/stat line: ${line}`);
  }
  return { pid, comm: line.slice(open + 1, close), state: fields[0], utime, stime };
}

/** The machine's CPU time from `/proc/stat`'s first (`cpu `) line, clock ticks, all cores. */
export interface MachineCpu {
  /** Ticks spent running anything: user, nice, system, irq, softirq, steal. */
  readonly busy: number;
  /** busy + idle + iowait. */
  readonly total: number;
  /** Number of `cpuN` lines: the cores the kernel schedules on. */
  readonly cores: number;
}

/**
 * Parses `/proc/stat`'s aggregate `cpu` line and counts the `cpuN` lines.
 * Guest time is already inside user time, so it is not added again.
 *
 * @example
 * ```ts
 * import { parseMachineCpu } from "./cpu.ts";
 * const m = parseMachineCpu("cpu  100 5 50 800 20 1 2 3 0 0\ncpu0 50 2 25 400 10 0 1 1 0 0\ncpu1 50 3 25 400 10 1 1 2 0 0\n");
 * console.log(m.busy, m.total, m.cores); // 161 981 2
 * ```
 */
export function parseMachineCpu(text: string): MachineCpu {
  const lines = text.split("\n");
  const first = lines.find((l) => l.startsWith("cpu "));
  if (!first) throw new SyntaxError("no aggregate cpu line in /proc/stat");
  const [user, nice, system, idle, iowait, irq, softirq, steal] = first.trim().split(/\s+/)
    .slice(1).map((v) => Number(v ?? 0) || 0);
  const busy = user + nice + system + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0);
  const cores = lines.filter((l) => /^cpu\d+\s/.test(l)).length;
  return { busy, total: busy + idle + (iowait ?? 0), cores };
}

/** CPU counters read at one moment. */
export interface CpuSnapshot {
  /** `performance.now()` when read, ms. */
  readonly at: number;
  /** Clock ticks per second of the counters (USER_HZ, 100 on Linux). */
  readonly ticksPerSec: number;
  /** The whole machine. */
  readonly machine: MachineCpu;
  /** utime + stime per pid that was alive, ticks. */
  readonly ticks: ReadonlyMap<number, number>;
  /**
   * With `threadsOf`: each listed process's live threads, pid to (tid to name
   * and utime + stime ticks).
   */
  readonly threadsByPid?: ReadonlyMap<number, ReadonlyMap<number, { comm: string; ticks: number }>>;
}

let ticksPerSecCache: number | undefined;

async function ticksPerSec(): Promise<number> {
  if (ticksPerSecCache === undefined) {
    try {
      const out = await new Deno.Command("getconf", { args: ["CLK_TCK"], stdout: "piped" })
        .output();
      const n = Number(new TextDecoder().decode(out.stdout).trim());
      ticksPerSecCache = out.success && n > 0 ? n : 100;
    } catch {
      ticksPerSecCache = 100;
    }
  }
  return ticksPerSecCache;
}

/**
 * Reads `/proc/stat` and `/proc/<pid>/stat` of each pid in one `cat`, and with
 * `threadsOf` the threads of each process it lists
 * (`/proc/<pid>/task/<tid>/stat`). A pid that no longer exists is left out of
 * `ticks` (its CPU then counts as everything else).
 *
 * @example
 * ```ts
 * import { cpuSnapshot } from "./cpu.ts";
 * const s = await cpuSnapshot([Deno.pid], { threadsOf: [Deno.pid] });
 * console.log(s.machine.cores, s.ticks.get(Deno.pid), s.threadsByPid?.get(Deno.pid)?.size);
 * ```
 */
export async function cpuSnapshot(
  pids: readonly number[],
  options: { threadsOf?: readonly number[] } = {},
): Promise<CpuSnapshot> {
  const hz = await ticksPerSec();
  const each = [...new Set(options.threadsOf ?? [])];
  const script = 'cat /proc/stat "$@"' +
    each.map((p) => `; echo "--threads ${p}--"; cat /proc/${p}/task/*/stat`).join("");
  const out = await new Deno.Command("sh", {
    args: ["-c", script, "sh", ...pids.map((p) => `/proc/${p}/stat`)],
    stdout: "piped",
    stderr: "null",
  }).output();
  const at = performance.now();
  const text = new TextDecoder().decode(out.stdout);
  const [head, ...sections] = text.split(/^--threads (?=\d+--$)/m);
  const ticks = new Map<number, number>();
  // /proc/stat's lines start with a word; a /proc/<pid>/stat line starts with its pid.
  for (const line of head.split("\n")) {
    if (!/^\d+ \(/.test(line)) continue;
    const s = parseProcStat(line);
    if (s.state !== "Z") ticks.set(s.pid, s.utime + s.stime);
  }
  const threadsByPid = new Map<number, Map<number, { comm: string; ticks: number }>>();
  for (const section of sections) {
    const threads = new Map<number, { comm: string; ticks: number }>();
    const [pid, ...lines] = section.split("\n");
    for (const line of lines) {
      if (!/^\d+ \(/.test(line)) continue;
      const s = parseProcStat(line);
      threads.set(s.pid, { comm: s.comm, ticks: s.utime + s.stime });
    }
    threadsByPid.set(parseInt(pid), threads);
  }
  return {
    at,
    ticksPerSec: hz,
    machine: parseMachineCpu(head),
    ticks,
    threadsByPid: options.threadsOf ? threadsByPid : undefined,
  };
}

/**
 * What a thread of a Kafka broker's JVM does, from its name (Linux keeps a
 * name's first 15 characters): `requests` (the `data-plane-kafka-*` network
 * and request handler threads that serve produce and fetch requests),
 * `replication` (the follower's `ReplicaFetcherThread`s), `JIT` (HotSpot's
 * C1 and C2 compiler threads), `GC` (G1's and the VM thread), else `other`.
 *
 * @example
 * ```ts
 * import { brokerThreadKind } from "./cpu.ts";
 * console.log(brokerThreadKind("C2 CompilerThre"), brokerThreadKind("data-plane-kafk")); // JIT requests
 * ```
 */
export function brokerThreadKind(comm: string): BrokerThreadKind {
  if (comm.startsWith("data-plane-kafk")) return "requests";
  if (comm.startsWith("ReplicaFetcher")) return "replication";
  if (/^C[12] CompilerThre/.test(comm)) return "JIT";
  if (/^(GC Thread|G1 |VM Thread)/.test(comm)) return "GC";
  return "other";
}

/** The kinds {@linkcode brokerThreadKind} tells apart. */
export type BrokerThreadKind = "requests" | "replication" | "JIT" | "GC" | "other";

/**
 * CPU seconds of processes `pids` over an interval, summed by thread kind
 * (`kindOf` of a thread's name). What threads that ended during the interval
 * used (a process's CPU minus that of its threads alive at the end) counts
 * as `ended`. Needs both snapshots taken with every pid in `threadsOf`;
 * undefined otherwise.
 *
 * @example
 * ```ts
 * import { brokerThreadKind, threadKinds, type CpuSnapshot } from "./cpu.ts";
 * const snap = (jit: number, req: number): CpuSnapshot => ({
 *   at: 0, ticksPerSec: 100, machine: { busy: 0, total: 0, cores: 2 },
 *   ticks: new Map([[7, jit + req]]),
 *   threadsByPid: new Map([[7, new Map([[8, { comm: "C2 CompilerThre", ticks: jit }],
 *     [9, { comm: "data-plane-kafk", ticks: req }]])]]),
 * });
 * console.log(threadKinds([7], snap(0, 0), snap(50, 150), brokerThreadKind)); // { JIT: 0.5, requests: 1.5 }
 * ```
 */
export function threadKinds(
  pids: readonly number[],
  before: CpuSnapshot,
  after: CpuSnapshot,
  kindOf: (comm: string) => string,
): Record<string, number> | undefined {
  const hz = after.ticksPerSec;
  const out: Record<string, number> = {};
  const add = (kind: string, ticks: number) => {
    if (ticks > 0) out[kind] = (out[kind] ?? 0) + ticks / hz;
  };
  for (const pid of pids) {
    const d = ticksByKind(pid, before, after, kindOf);
    if (!d) return undefined;
    for (const [kind, ticks] of d.kinds) add(kind, ticks);
    add("ended", d.ended);
  }
  return out;
}

/**
 * One process's CPU ticks between two snapshots by the kind of each thread
 * alive at the end, what the threads that ended used (the process's ticks
 * minus its live threads', at least 0) and those threads' names; undefined
 * without both snapshots' threads of `pid`.
 */
function ticksByKind(
  pid: number,
  before: CpuSnapshot,
  after: CpuSnapshot,
  kindOf: (comm: string) => string,
): { kinds: Map<string, number>; ended: number; endedComms: string[] } | undefined {
  const t0 = before.threadsByPid?.get(pid), t1 = after.threadsByPid?.get(pid);
  const p0 = before.ticks.get(pid), p1 = after.ticks.get(pid);
  if (!t0 || !t1 || p0 === undefined || p1 === undefined) return undefined;
  const kinds = new Map<string, number>();
  let alive = 0;
  for (const [tid, t] of t1) {
    const d = t.ticks - (t0.get(tid)?.ticks ?? 0);
    alive += d;
    const kind = kindOf(t.comm);
    kinds.set(kind, (kinds.get(kind) ?? 0) + d);
  }
  const endedComms = [...t0].filter(([tid]) => !t1.has(tid)).map(([, t]) => t.comm);
  return { kinds, ended: Math.max(0, p1 - p0 - alive), endedComms };
}

/**
 * Splits one Deno process's CPU between its threads over an interval: its
 * `Worker`s (threads named `worker-N`), the runtime's helpers (V8's garbage
 * collection and compiler threads `V8 ...`, the I/O runtime `tokio-...`),
 * and the rest: the main thread (where the program's own code runs).
 * A worker that ended during the interval (a sink stopped before the end)
 * is credited with what the threads that ended used: the process's CPU
 * minus that of the threads alive at the end. Needs both snapshots taken
 * with `threadsOf: [pid]`; undefined otherwise.
 *
 * @example
 * ```ts
 * import { threadSplit, type CpuSnapshot } from "./cpu.ts";
 * const snap = (main: number, worker: number | undefined, all: number): CpuSnapshot => ({
 *   at: 0, ticksPerSec: 100, machine: { busy: 0, total: 0, cores: 2 },
 *   ticks: new Map([[9, all]]),
 *   threadsByPid: new Map([[9, new Map([[9, { comm: "deno", ticks: main }],
 *     ...(worker === undefined ? [] : [[11, { comm: "worker-1", ticks: worker }] as const])])]]),
 * });
 * // The worker ended: of the process's 300 ticks, 100 were the main thread's, 200 the worker's.
 * console.log(threadSplit(9, snap(0, 0, 0), snap(100, undefined, 300))); // { main: 1, workers: 2, runtime: 0 }
 * ```
 */
export function threadSplit(
  pid: number,
  before: CpuSnapshot,
  after: CpuSnapshot,
): { main: number; workers: number; runtime: number } | undefined {
  const d = ticksByKind(
    pid,
    before,
    after,
    (comm) =>
      comm.startsWith("worker-")
        ? "workers"
        : comm.startsWith("V8 ") || comm.startsWith("tokio")
        ? "runtime"
        : "main",
  );
  if (!d) return undefined;
  const hz = after.ticksPerSec;
  let workers = d.kinds.get("workers") ?? 0, runtime = d.kinds.get("runtime") ?? 0;
  if (d.endedComms.some((c) => c.startsWith("worker-"))) workers += d.ended;
  else runtime += d.ended;
  return { main: (d.kinds.get("main") ?? 0) / hz, workers: workers / hz, runtime: runtime / hz };
}

/** A process to account for, under a name (`kafka-1`, `minio`, ...). */
export interface CpuComponent {
  /** Row name. */
  readonly name: string;
  /** Its pid. */
  readonly pid: number;
}

/** One row of a {@linkcode CpuReport}. */
export interface CpuRow {
  /** Component name, or `everything else`. */
  readonly name: string;
  /** CPU seconds in the interval (user + system, all threads). */
  readonly seconds: number;
  /** CPU microseconds per unit of work (per event). */
  readonly usPerUnit: number;
  /** Share of the machine's busy time in the interval, 0..1. */
  readonly share: number;
}

/** CPU by component over one interval, per unit of work. */
export interface CpuReport {
  /** One row per component found at both ends, then `everything else`. */
  readonly rows: CpuRow[];
  /** Components missing at either end (ended or restarted during the interval). */
  readonly missing: string[];
  /** Wall-clock seconds between the snapshots. */
  readonly wallSeconds: number;
  /** The machine's busy CPU seconds (all cores). */
  readonly busySeconds: number;
  /** Busy time / (busy + idle) over the interval, 0..1. */
  readonly busyShare: number;
  /** Cores. */
  readonly cores: number;
  /** Units of work done in the interval. */
  readonly units: number;
  /** Busy CPU microseconds per unit, every row together. */
  readonly usPerUnit: number;
  /**
   * Units per second the machine could do at 100% busy on every core at this
   * cost: cores * 1e6 / usPerUnit.
   */
  readonly maxUnitsPerSec: number;
  /**
   * Busy CPU microseconds per unit of the components alone (without
   * everything else: other jobs sharing the machine inflate only that row).
   */
  readonly componentsUsPerUnit: number;
  /** cores * 1e6 / componentsUsPerUnit: the limit were the components alone on the machine. */
  readonly componentsMaxUnitsPerSec: number;
}

/**
 * CPU per component between two snapshots, for `units` units of work.
 * "everything else" is the machine's busy time minus the components' (never
 * below 0: the counters are read a few milliseconds apart).
 *
 * @example
 * ```ts
 * import { cpuReport, type CpuSnapshot } from "./cpu.ts";
 * const snap = (at: number, busy: number, a: number): CpuSnapshot => ({
 *   at, ticksPerSec: 100, machine: { busy, total: at / 10, cores: 2 }, ticks: new Map([[7, a]]),
 * });
 * const r = cpuReport([{ name: "a", pid: 7 }], snap(0, 0, 0), snap(1000, 150, 100), 10_000);
 * console.log(r.rows.map((x) => [x.name, x.seconds, x.usPerUnit])); // [["a", 1, 100], ["everything else", 0.5, 50]]
 * console.log(r.maxUnitsPerSec); // 13333.33...
 * ```
 */
export function cpuReport(
  components: readonly CpuComponent[],
  before: CpuSnapshot,
  after: CpuSnapshot,
  units: number,
): CpuReport {
  const hz = after.ticksPerSec;
  const busySeconds = (after.machine.busy - before.machine.busy) / hz;
  const totalTicks = after.machine.total - before.machine.total;
  const perUnit = (s: number) => units > 0 ? s * 1e6 / units : NaN;
  const share = (s: number) => busySeconds > 0 ? s / busySeconds : 0;
  const rows: CpuRow[] = [];
  const missing: string[] = [];
  let known = 0;
  for (const c of components) {
    const t0 = before.ticks.get(c.pid), t1 = after.ticks.get(c.pid);
    if (t0 === undefined || t1 === undefined || t1 < t0) {
      missing.push(c.name);
      continue;
    }
    const seconds = (t1 - t0) / hz;
    known += seconds;
    rows.push({ name: c.name, seconds, usPerUnit: perUnit(seconds), share: share(seconds) });
  }
  const rest = Math.max(0, busySeconds - known);
  rows.push({
    name: "everything else",
    seconds: rest,
    usPerUnit: perUnit(rest),
    share: share(rest),
  });
  const all = known + rest;
  const cores = after.machine.cores || 1;
  const usPerUnit = perUnit(all);
  return {
    rows,
    missing,
    wallSeconds: (after.at - before.at) / 1000,
    busySeconds: all,
    busyShare: totalTicks > 0 ? (after.machine.busy - before.machine.busy) / totalTicks : 0,
    cores,
    units,
    usPerUnit,
    maxUnitsPerSec: usPerUnit > 0 ? cores * 1e6 / usPerUnit : Infinity,
    componentsUsPerUnit: perUnit(known),
    componentsMaxUnitsPerSec: perUnit(known) > 0 ? cores * 1e6 / perUnit(known) : Infinity,
  };
}

/** Indented rows of a {@linkcode cpuTable}: CPU seconds by part, under the row named `under`. */
export interface CpuDetail {
  /** The row the parts go under. */
  readonly under: string;
  /** CPU seconds by part name. */
  readonly parts: Record<string, number>;
}

/**
 * Header and rows of the CPU table: component, CPU seconds, CPU µs per unit,
 * share of the machine's busy time; a last row sums them. Each of `details` adds
 * indented rows (CPU seconds by part, e.g. {@linkcode threadSplit}'s) under
 * the row named `under`.
 *
 * @example
 * ```ts
 * import { cpuTable } from "./cpu.ts";
 * const { header } = cpuTable({ rows: [], missing: [], wallSeconds: 1, busySeconds: 0,
 *   busyShare: 0, cores: 2, units: 1, usPerUnit: 0, maxUnitsPerSec: Infinity,
 *   componentsUsPerUnit: 0, componentsMaxUnitsPerSec: Infinity });
 * console.log(header); // ["component", "CPU s", "CPU µs/event", "share"]
 * ```
 */
export function cpuTable(
  report: CpuReport,
  unit = "event",
  details: readonly CpuDetail[] = [],
): { header: string[]; rows: string[][] } {
  const row = (name: string, s: number, us: number, share: number) => [
    name,
    s.toFixed(2),
    us.toFixed(1),
    `${(share * 100).toFixed(0)}%`,
  ];
  const rows: string[][] = [];
  for (const r of report.rows) {
    rows.push(row(r.name, r.seconds, r.usPerUnit, r.share));
    for (const d of details.filter((d) => d.under === r.name)) {
      for (const [name, s] of Object.entries(d.parts)) {
        const us = report.units > 0 ? s * 1e6 / report.units : NaN;
        rows.push(row(`  ${name}`, s, us, report.busySeconds > 0 ? s / report.busySeconds : 0));
      }
    }
  }
  rows.push(row("total (machine busy)", report.busySeconds, report.usPerUnit, 1));
  return { header: ["component", "CPU s", `CPU µs/${unit}`, "share"], rows };
}

/**
 * The limit the report implies, in two lines: at this CPU per unit, a machine
 * with every core 100% busy does at most cores * 1e6 / (µs per unit) units/s;
 * then the same for the listed components alone (as if nothing else ran).
 *
 * @example
 * ```ts
 * import { cpuLimitLine } from "./cpu.ts";
 * console.log(cpuLimitLine({ rows: [], missing: [], wallSeconds: 10, busySeconds: 15,
 *   busyShare: 0.75, cores: 2, units: 100_000, usPerUnit: 150, maxUnitsPerSec: 13_333,
 *   componentsUsPerUnit: 90, componentsMaxUnitsPerSec: 22_222 }));
 * ```
 */
export function cpuLimitLine(report: CpuReport, unit = "event"): string {
  const r = report;
  return `limit: ${r.cores} cores = ${(r.cores * 1e6).toLocaleString("en-US")} µs of CPU per ` +
    `second; at ${r.usPerUnit.toFixed(1)} µs/${unit} the machine 100% busy does at most ` +
    `${Math.round(r.maxUnitsPerSec).toLocaleString("en-US")} ${unit}s/s ` +
    `(measured: ${(r.busyShare * 100).toFixed(0)}% busy over ${r.wallSeconds.toFixed(1)} s)\n` +
    `without everything else: ${r.componentsUsPerUnit.toFixed(1)} µs/${unit}, at most ` +
    `${Math.round(r.componentsMaxUnitsPerSec).toLocaleString("en-US")} ${unit}s/s`;
}

/**
 * One more limit line: the machine's limit were `seconds` of the report's
 * CPU not spent (e.g. the brokers' JIT compilers, work a warm broker no longer
 * does), named `label`.
 *
 * @example
 * ```ts
 * import { cpuLimitWithout } from "./cpu.ts";
 * const r = { rows: [], missing: [], wallSeconds: 10, busySeconds: 15, busyShare: 0.75,
 *   cores: 2, units: 100_000, usPerUnit: 150, maxUnitsPerSec: 13_333,
 *   componentsUsPerUnit: 90, componentsMaxUnitsPerSec: 22_222 };
 * console.log(cpuLimitWithout(r, 5, "the JIT")); // without the JIT: 100.0 µs/event, at most 20,000 events/s
 * ```
 */
export function cpuLimitWithout(
  report: CpuReport,
  seconds: number,
  label: string,
  unit = "event",
): string {
  const us = report.usPerUnit - (report.units > 0 ? seconds * 1e6 / report.units : 0);
  const max = us > 0 ? report.cores * 1e6 / us : Infinity;
  return `without ${label}: ${us.toFixed(1)} µs/${unit}, at most ` +
    `${Math.round(max).toLocaleString("en-US")} ${unit}s/s`;
}

/**
 * The stack's running services as CPU components (`kafka-1`, ..., `minio`,
 * `schema-registry`), found as `deno task stack status` finds them, and the
 * names of those it found no process for (all of them in Docker mode, where
 * the stack reports no host pids).
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { stackComponents } from "./cpu.ts";
 * const { found, notFound } = await stackComponents(loadConfig());
 * console.log(found.map((c) => c.name), notFound);
 * ```
 */
export async function stackComponents(
  config: Config,
): Promise<{ found: CpuComponent[]; notFound: string[] }> {
  const stack = await openStack(config);
  const found: CpuComponent[] = [], notFound: string[] = [];
  for (const s of await stack.status()) {
    if (s.pid !== undefined) found.push({ name: s.service, pid: s.pid });
    else notFound.push(s.service);
  }
  return { found, notFound };
}

/**
 * This process first (as the row `selfName`), then the brokers, MinIO and
 * the registry as the stack finds them; the services it found no process for
 * (their CPU then counts as everything else).
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { benchComponents } from "./cpu.ts";
 * const { components } = await benchComponents(loadConfig(), "sink");
 * console.log(components.map((c) => c.name)); // ["sink", "kafka-1", ..., "minio", "schema-registry"]
 * ```
 */
export async function benchComponents(
  config: Config,
  selfName: string,
): Promise<{ components: CpuComponent[]; notFound: string[] }> {
  const order = (name: string) =>
    name.startsWith("kafka-") ? 0 : name === "minio" ? 1 : name === "schema-registry" ? 2 : 3;
  const { found, notFound } = await stackComponents(config)
    .catch((e: Error) => ({ found: [], notFound: [`the stack (${e.message})`] }));
  found.sort((a, b) => order(a.name) - order(b.name) || a.name.localeCompare(b.name));
  return { components: [{ name: selfName, pid: Deno.pid }, ...found], notFound };
}

/** What a benchmark measured of the CPU over its run (see {@linkcode formatBenchCpu}). */
export interface BenchCpu {
  /** CPU by component. */
  readonly report: CpuReport;
  /** The benchmark's process by thread (row name to CPU seconds), shown under its row. */
  readonly threads?: Record<string, number>;
  /** The brokers by {@linkcode brokerThreadKind}, CPU seconds, all brokers together. */
  readonly brokerThreads?: Record<string, number>;
}

/**
 * A snapshot for {@linkcode benchCpu}: every component's CPU, and the
 * threads of this process and of the brokers (`kafka-*` rows).
 *
 * @example
 * ```ts
 * import { benchSnapshot } from "./cpu.ts";
 * const snap = await benchSnapshot([{ name: "me", pid: Deno.pid }]);
 * console.log(snap.threadsByPid?.has(Deno.pid)); // true on Linux
 * ```
 */
export function benchSnapshot(components: readonly CpuComponent[]): Promise<CpuSnapshot> {
  const threadsOf = [Deno.pid, ...brokerPids(components)];
  return cpuSnapshot(components.map((c) => c.pid), { threadsOf });
}

/** The pids of the `kafka-*` components. */
function brokerPids(components: readonly CpuComponent[]): number[] {
  return components.filter((c) => c.name.startsWith("kafka-")).map((c) => c.pid);
}

/** Row names for this process's threads in {@linkcode benchCpu} (a part left out is not shown). */
export interface SelfThreadRows {
  /** The main thread. */
  readonly main: string;
  /** Its `Worker` threads. */
  readonly workers?: string;
  /** V8's garbage collection and compiler threads, the I/O runtime. */
  readonly runtime: string;
}

/**
 * CPU between two {@linkcode benchSnapshot}s of `components`, for `units`
 * units of work: the report (components missing at an end, and `notFound`,
 * listed as missing), this process by thread under `rows`' names, the
 * brokers by thread kind.
 *
 * @example
 * ```ts
 * import { benchCpu, benchSnapshot } from "./cpu.ts";
 * const components = [{ name: "me", pid: Deno.pid }];
 * const before = await benchSnapshot(components);
 * for (let i = 0; i < 1e7; i++) Math.sqrt(i);
 * const cpu = benchCpu(components, [], before, await benchSnapshot(components), 1e7,
 *   { main: "main", runtime: "helpers" });
 * console.log(cpu.report.rows[0].name, Object.keys(cpu.threads ?? {})); // me ["main", "helpers"]
 * ```
 */
export function benchCpu(
  components: readonly CpuComponent[],
  notFound: readonly string[],
  before: CpuSnapshot,
  after: CpuSnapshot,
  units: number,
  rows: SelfThreadRows,
): BenchCpu {
  const report = cpuReport(components, before, after, units);
  const gone = report.missing.map((m) => `${m} (ended or restarted during the run)`);
  const split = threadSplit(Deno.pid, before, after);
  let threads: Record<string, number> | undefined;
  if (split) {
    threads = { [rows.main]: split.main };
    if (rows.workers) threads[rows.workers] = split.workers;
    threads[rows.runtime] = split.runtime;
  }
  const brokers = brokerPids(components);
  return {
    report: { ...report, missing: [...notFound, ...gone] },
    threads,
    brokerThreads: brokers.length
      ? threadKinds(brokers, before, after, brokerThreadKind)
      : undefined,
  };
}

/** Row names of the brokers' CPU by thread kind, all brokers together. */
const BROKER_PARTS: Record<string, string> = {
  requests: "brokers: network and request threads",
  replication: "brokers: follower fetches (replication)",
  JIT: "brokers: JIT compilers (C1, C2)",
  GC: "brokers: garbage collection",
  other: "brokers: other threads",
  ended: "brokers: other threads",
};

/**
 * The brokers' CPU by thread kind ({@linkcode threadKinds} with
 * {@linkcode brokerThreadKind}) under readable row names, in a fixed order.
 *
 * @example
 * ```ts
 * import { brokerParts } from "./cpu.ts";
 * console.log(brokerParts({ GC: 1, requests: 4, ended: 0.5, other: 0.5 }));
 * // { "brokers: network and request threads": 4, "brokers: garbage collection": 1, "brokers: other threads": 1 }
 * ```
 */
export function brokerParts(kinds: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  const known = Object.keys(BROKER_PARTS);
  const kindsInOrder = [...known, ...Object.keys(kinds).filter((k) => !known.includes(k))];
  for (const kind of kindsInOrder) {
    if (!(kind in kinds)) continue;
    const name = BROKER_PARTS[kind] ?? BROKER_PARTS.other;
    out[name] = (out[name] ?? 0) + kinds[kind];
  }
  return out;
}

/**
 * The CPU section of a benchmark's output: `heading`, the table by component
 * (this process's threads under its row `selfRow`, the brokers' thread kinds
 * under the last broker), the components not found, the limit lines, and the
 * limit without the brokers' JIT compilers when they worked.
 *
 * @example
 * ```ts
 * import { formatBenchCpu } from "./cpu.ts";
 * const report = { rows: [{ name: "sink", seconds: 2, usPerUnit: 20, share: 1 }], missing: [],
 *   wallSeconds: 2, busySeconds: 2, busyShare: 0.5, cores: 2, units: 100_000, usPerUnit: 20,
 *   maxUnitsPerSec: 100_000, componentsUsPerUnit: 20, componentsMaxUnitsPerSec: 100_000 };
 * console.log(formatBenchCpu({ report }, "sink", "record", "CPU by component:"));
 * ```
 */
export function formatBenchCpu(
  cpu: BenchCpu,
  selfRow: string,
  unit: string,
  heading: string,
): string {
  const details: CpuDetail[] = [];
  if (cpu.threads) details.push({ under: selfRow, parts: cpu.threads });
  const lastBroker = cpu.report.rows.filter((x) => x.name.startsWith("kafka-")).at(-1)?.name;
  if (cpu.brokerThreads && lastBroker) {
    details.push({ under: lastBroker, parts: brokerParts(cpu.brokerThreads) });
  }
  const { header, rows } = cpuTable(cpu.report, unit, details);
  const lines = [heading, formatTable(header, rows)];
  if (cpu.report.missing.length) {
    lines.push(`not found (counted in everything else): ${cpu.report.missing.join(", ")}`);
  }
  lines.push(cpuLimitLine(cpu.report, unit));
  if (cpu.brokerThreads?.JIT) {
    lines.push(cpuLimitWithout(
      cpu.report,
      cpu.brokerThreads.JIT,
      "the brokers' JIT compilers (warm-up work a long-running broker no longer does)",
      unit,
    ));
  }
  return lines.join("\n");
}
