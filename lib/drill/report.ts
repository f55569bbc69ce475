/**
 * The drills' output: one table row per run and a summary line, as aligned
 * text (task output) or as rows for a notebook table.
 *
 * @example
 * ```ts
 * import { brokerKillSummary } from "./report.ts";
 * console.log(brokerKillSummary({
 *   client: "raw", seed: 1, rows: [], acknowledged: 0, lost: 0, lossyRuns: 0, wallSeconds: 0,
 * }));
 * ```
 *
 * @module
 */
import { formatTable } from "../util/table.ts";
import type { BrokerKillReport, BrokerKillRow } from "./broker_kill.ts";
import type { ConsumerKillReport, ConsumerKillRow } from "./consumer_kill.ts";

/**
 * Column names of the broker-kill table.
 *
 * @example
 * ```ts
 * import { BROKER_KILL_COLUMNS } from "./report.ts";
 * console.log(BROKER_KILL_COLUMNS.join(" | "));
 * ```
 */
export const BROKER_KILL_COLUMNS = [
  "run",
  "client",
  "killed",
  "kill at",
  "sent",
  "acknowledged",
  "in the log",
  "lost",
  "duplicated",
  "re-sent by the guard",
  "retried by kafkajs",
  "s",
] as const;

/**
 * One broker-kill row's cells, in {@linkcode BROKER_KILL_COLUMNS} order.
 *
 * @example
 * ```ts
 * import { brokerKillCells } from "./report.ts";
 * declare const row: import("./broker_kill.ts").BrokerKillRow;
 * console.log(brokerKillCells(row));
 * ```
 */
export function brokerKillCells(r: BrokerKillRow): string[] {
  return [
    String(r.run),
    r.client,
    `broker ${r.broker} (p${r.partition})`,
    String(r.killAt),
    String(r.sent),
    String(r.acknowledged),
    String(r.inLog),
    String(r.lost),
    String(r.duplicated),
    r.client === "raw" ? "-" : String(r.resent),
    String(r.retried),
    r.seconds.toFixed(1),
  ];
}

/**
 * The broker-kill rows as an aligned table.
 *
 * @example
 * ```ts
 * import { brokerKillTable } from "./report.ts";
 * console.log(brokerKillTable([]));
 * ```
 */
export function brokerKillTable(rows: readonly BrokerKillRow[]): string {
  return formatTable(BROKER_KILL_COLUMNS, rows.map(brokerKillCells));
}

/**
 * The summary line of a broker-kill drill: totals, loss rate, wall time.
 *
 * @example
 * ```ts
 * import { brokerKillSummary } from "./report.ts";
 * declare const report: import("./broker_kill.ts").BrokerKillReport;
 * console.log(brokerKillSummary(report));
 * ```
 */
export function brokerKillSummary(r: BrokerKillReport): string {
  const rate = r.acknowledged > 0 ? (100 * r.lost) / r.acknowledged : 0;
  const resent = r.rows.reduce((n, x) => n + x.resent, 0);
  return `${r.client}: ${r.rows.length} runs (seed ${r.seed}), ${r.acknowledged} acknowledged, ` +
    `${r.lost} lost (${rate.toFixed(2)}%) in ${r.lossyRuns} of ${r.rows.length} runs, ` +
    `${r.rows.reduce((n, x) => n + x.duplicated, 0)} duplicated` +
    (r.client === "guarded" ? `, ${resent} re-sent by the guard` : "") +
    `, ${r.rows.reduce((n, x) => n + x.retried, 0)} send attempts retried by kafkajs` +
    `; wall time ${r.wallSeconds.toFixed(1)} s`;
}

/**
 * Column names of the consumer-kill table.
 *
 * @example
 * ```ts
 * import { CONSUMER_KILL_COLUMNS } from "./report.ts";
 * console.log(CONSUMER_KILL_COLUMNS.length);
 * ```
 */
export const CONSUMER_KILL_COLUMNS = [
  "run",
  "records",
  "killed after",
  "processed",
  "in the log",
  "missing",
  "duplicated",
  "s",
] as const;

/**
 * The consumer-kill rows as an aligned table.
 *
 * @example
 * ```ts
 * import { consumerKillTable } from "./report.ts";
 * console.log(consumerKillTable([]));
 * ```
 */
export function consumerKillTable(rows: readonly ConsumerKillRow[]): string {
  return formatTable(
    CONSUMER_KILL_COLUMNS,
    rows.map((r) => [
      r.run,
      r.records,
      r.killedAt,
      r.processed,
      r.inLog,
      r.missing,
      r.duplicated,
      r.seconds.toFixed(1),
    ]),
  );
}

/**
 * The summary line of a consumer-kill drill.
 *
 * @example
 * ```ts
 * import { consumerKillSummary } from "./report.ts";
 * console.log(consumerKillSummary({ seed: 1, rows: [], missing: 0, wallSeconds: 0 }));
 * ```
 */
export function consumerKillSummary(r: ConsumerKillReport): string {
  return `consumer-kill: ${r.rows.length} runs (seed ${r.seed}), ${r.missing} missing, ` +
    `${r.rows.reduce((n, x) => n + x.duplicated, 0)} processed twice; ` +
    `wall time ${r.wallSeconds.toFixed(1)} s`;
}
