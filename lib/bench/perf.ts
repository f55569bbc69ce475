/**
 * Benchmark results of two clients side by side: one shape for both tools,
 * the ratio ours/Java per role, and the rows of the comparison table.
 *
 * @example
 * ```ts
 * import { comparisonRows, type PerfResult } from "./perf.ts";
 * import { formatTable } from "../util/table.ts";
 * const java: PerfResult = { tool: "java", role: "producer", records: 1000, bytes: 512000,
 *   seconds: 0.1, recordsPerSec: 10000, mbPerSec: 4.88, p50Ms: 3, p99Ms: 9 };
 * const ours: PerfResult = { ...java, tool: "ours", recordsPerSec: 6000, mbPerSec: 2.93 };
 * const { header, rows } = comparisonRows([java, ours]);
 * console.log(formatTable(header, rows));
 * ```
 *
 * @module
 */

/** Who ran: Kafka's Java tool or our Deno client. */
export type PerfTool = "java" | "ours";

/** What was measured. */
export type PerfRole = "producer" | "consumer";

/** One measured run. */
export interface PerfResult {
  /** Which client ran. */
  readonly tool: PerfTool;
  /** Producer or consumer. */
  readonly role: PerfRole;
  /** Records in the measured interval. */
  readonly records: number;
  /** Payload bytes (record values). */
  readonly bytes: number;
  /** The measured interval. */
  readonly seconds: number;
  /** Records per second. */
  readonly recordsPerSec: number;
  /** Mebibytes (2^20 bytes) per second, as Kafka's tools print it. */
  readonly mbPerSec: number;
  /** Producer send-to-acknowledgement latency percentiles. */
  readonly p50Ms?: number;
  /** 99th percentile of the same. */
  readonly p99Ms?: number;
  /** Time before the measured interval (a consumer's group join), not counted. */
  readonly setupMs?: number;
  /** Anything that disturbed the run (a rebalance, re-deliveries), printed under the table. */
  readonly note?: string;
}

/**
 * Builds a {@linkcode PerfResult} from a count, a size and a duration.
 *
 * @example
 * ```ts
 * import { perfResult } from "./perf.ts";
 * const r = perfResult("ours", "consumer", 2048, 2048 * 512, 0.5);
 * console.log(r.recordsPerSec, r.mbPerSec); // 4096 2
 * ```
 */
export function perfResult(
  tool: PerfTool,
  role: PerfRole,
  records: number,
  bytes: number,
  seconds: number,
  extra: Pick<PerfResult, "p50Ms" | "p99Ms" | "setupMs" | "note"> = {},
): PerfResult {
  if (!(seconds > 0)) throw new RangeError(`perfResult: seconds must be > 0, got ${seconds}`);
  return {
    tool,
    role,
    records,
    bytes,
    seconds,
    recordsPerSec: records / seconds,
    mbPerSec: bytes / 1024 / 1024 / seconds,
    ...extra,
  };
}

/**
 * ours/Java records per second for `role`; `undefined` unless both ran.
 *
 * @example
 * ```ts
 * import { ratio } from "./perf.ts";
 * const base = { role: "producer", records: 1, bytes: 1, seconds: 1, mbPerSec: 0 } as const;
 * console.log(ratio([
 *   { ...base, tool: "java", recordsPerSec: 100 },
 *   { ...base, tool: "ours", recordsPerSec: 60 },
 * ], "producer")); // 0.6
 * ```
 */
export function ratio(results: readonly PerfResult[], role: PerfRole): number | undefined {
  const java = results.find((r) => r.role === role && r.tool === "java");
  const ours = results.find((r) => r.role === role && r.tool === "ours");
  if (!java || !ours || !(java.recordsPerSec > 0)) return undefined;
  return ours.recordsPerSec / java.recordsPerSec;
}

const TOOL_NAMES: Record<PerfTool, string> = {
  java: "Kafka Java tool",
  ours: "ours (Deno, lib/kafka)",
};

function fixed(n: number | undefined, digits: number): string {
  return n === undefined || !Number.isFinite(n) ? "-" : n.toFixed(digits);
}

/**
 * Header and rows for the comparison table: per role, one row per tool; the
 * last column is records/s relative to Java's (Java's own row reads 1.00x).
 *
 * @example
 * ```ts
 * import { comparisonRows } from "./perf.ts";
 * const { header } = comparisonRows([]);
 * console.log(header.at(-1)); // "vs java"
 * ```
 */
export function comparisonRows(
  results: readonly PerfResult[],
): { header: string[]; rows: string[][] } {
  const header = ["role", "client", "records", "records/s", "MB/s", "p50 ms", "p99 ms", "vs java"];
  const rows: string[][] = [];
  for (const role of ["producer", "consumer"] as const) {
    const java = results.find((x) => x.role === role && x.tool === "java");
    for (const tool of ["java", "ours"] as const) {
      const r = results.find((x) => x.role === role && x.tool === tool);
      if (!r) continue;
      const rel = java && java.recordsPerSec > 0 ? r.recordsPerSec / java.recordsPerSec : undefined;
      rows.push([
        role,
        TOOL_NAMES[tool],
        String(r.records),
        fixed(r.recordsPerSec, 0),
        fixed(r.mbPerSec, 2),
        fixed(r.p50Ms, 0),
        fixed(r.p99Ms, 0),
        rel === undefined ? "-" : `${rel.toFixed(2)}x`,
      ]);
    }
  }
  return { header, rows };
}

/**
 * The ratio ours/java each role should reach: the producer at least 0.9 of
 * Java's records/s, the consumer at least as fast as Java's.
 *
 * @example
 * ```ts
 * import { TARGET_RATIO } from "./perf.ts";
 * console.log(TARGET_RATIO.producer); // 0.9
 * ```
 */
export const TARGET_RATIO: Readonly<Record<PerfRole, number>> = { producer: 0.9, consumer: 1.0 };

/**
 * A one-line verdict against the role's target ratio ({@linkcode TARGET_RATIO}).
 *
 * @example
 * ```ts
 * import { verdict } from "./perf.ts";
 * console.log(verdict("producer", 1.15)); // producer: ours/java = 1.15 (target >= 0.9): met
 * ```
 */
export function verdict(
  role: PerfRole,
  q: number | undefined,
  target: number = TARGET_RATIO[role],
): string {
  if (q === undefined) return `${role}: not compared (one side did not run)`;
  return `${role}: ours/java = ${q.toFixed(2)} (target >= ${target}): ${
    q >= target ? "met" : "NOT met"
  }`;
}
