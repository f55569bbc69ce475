/**
 * The stream processor's summary as an aligned table, and a one-line
 * progress report, for `deno task stream`.
 *
 * @example
 * ```ts
 * import { formatStreamSummary } from "./summary.ts";
 * import type { StreamSnapshot } from "./processor.ts";
 * declare const snapshot: StreamSnapshot;
 * console.log(formatStreamSummary(snapshot));
 * ```
 *
 * @module
 */
import { formatTable } from "../../util/table.ts";
import type { StreamSnapshot } from "./processor.ts";

function when(ms: number): string {
  if (ms === Infinity) return "+infinity (end of input)";
  if (!Number.isFinite(ms)) return "-infinity (a partition has no event yet)";
  return new Date(ms).toISOString();
}

/**
 * The figures of a run: input, windows closed, late events, join matches,
 * transactions, throughput.
 *
 * @example
 * ```ts
 * import { formatStreamSummary } from "./summary.ts";
 * import type { StreamSnapshot } from "./processor.ts";
 * declare const s: StreamSnapshot;
 * console.log(formatStreamSummary(s).split("\n")[0]); // figure  value
 * ```
 */
export function formatStreamSummary(s: StreamSnapshot): string {
  const rows: [string, unknown][] = [
    ["input records read", s.records],
    ["orders placed counted", s.orders],
    ["payments captured", s.payments],
    ["other event types skipped", s.skipped],
    ["invalid (the sink dead-letters them)", s.invalid],
    ["copies ignored (duplicates)", s.duplicates],
    ["late events (to the late topic)", s.late],
    ["window records written (updates, finals)", s.windowRecords],
    ["windows closed (final results)", s.windowsClosed],
    ["windows still open", s.openWindows],
    ["join matches (paid within the bound)", s.paid],
    ["unpaid after the bound", s.unpaid],
    ["orphan payments", s.orphanPayments],
    ["transactions committed", s.transactions],
    ["watermark", when(s.watermark)],
    ["processing throughput", `${Math.round(s.recordsPerSec)} records/s`],
  ];
  if (s.restored) {
    const r = s.restored;
    rows.push([
      "restored at start",
      `${r.openWindows} open + ${r.closedWindows} closed windows, ${r.joinEntries} join entries`,
    ]);
  }
  return formatTable(["figure", "value"], rows);
}

/**
 * One progress line while the processor runs.
 *
 * @example
 * ```ts
 * import { formatStreamProgress } from "./summary.ts";
 * import type { StreamSnapshot } from "./processor.ts";
 * declare const s: StreamSnapshot;
 * console.log(formatStreamProgress(s, 1500)); // "   1.5 s  stream records 12000  closed 40  late 2  paid 300 ..."
 * ```
 */
export function formatStreamProgress(s: StreamSnapshot, elapsedMs: number): string {
  return `${(elapsedMs / 1000).toFixed(1).padStart(6)} s  stream records ${s.records}  ` +
    `closed ${s.windowsClosed}  open ${s.openWindows}  late ${s.late}  paid ${s.paid}  ` +
    `unpaid ${s.unpaid}  transactions ${s.transactions}  watermark ${when(s.watermark)}`;
}
