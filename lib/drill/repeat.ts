/**
 * The loop every drill shares: run 1..N one after the other, report each
 * run's row as it ends, return the rows.
 *
 * @module
 */

/**
 * Runs `runOne(1)` .. `runOne(runs)` in order, calling `onRun` with each row
 * as it ends.
 *
 * @example
 * ```ts
 * import { repeatRuns } from "./repeat.ts";
 * const rows = await repeatRuns(3, (run) => Promise.resolve({ run }), (r) => console.log(r.run));
 * console.log(rows.length); // 3
 * ```
 */
export async function repeatRuns<R>(
  runs: number,
  runOne: (run: number) => Promise<R>,
  onRun?: (row: R) => void,
): Promise<R[]> {
  const rows: R[] = [];
  for (let run = 1; run <= runs; run++) {
    const row = await runOne(run);
    rows.push(row);
    onRun?.(row);
  }
  return rows;
}
