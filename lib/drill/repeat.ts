/**
 * The loop every drill shares: run 1..N one after the other, report each
 * run's row as it ends, return the rows (with the drill's totals:
 * {@linkcode repeatDrill}).
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

/** What {@linkcode repeatDrill} reports: the rows and the totals every drill prints. */
export interface DrillRuns<R> {
  /** The seed of the runs. */
  readonly seed: number;
  /** One row per run. */
  readonly rows: readonly R[];
  /** Runs that `ok` did not pass. */
  readonly failedRuns: number;
  /** Wall time of all runs, seconds. */
  readonly wallSeconds: number;
}

/**
 * {@linkcode repeatRuns} with a drill's usual settings (`runs` default 1,
 * `seed` default 1, `onRun`), counting the rows `ok` does not pass and the
 * wall time.
 *
 * @example
 * ```ts
 * import { repeatDrill } from "./repeat.ts";
 * const report = await repeatDrill({ runs: 2 }, (run) => Promise.resolve({ run }), (r) => r.run < 2);
 * console.log(report.failedRuns); // 1
 * ```
 */
export async function repeatDrill<R>(
  options: { runs?: number; seed?: number; onRun?: (row: R) => void },
  runOne: (run: number) => Promise<R>,
  ok: (row: R) => boolean,
): Promise<DrillRuns<R>> {
  const started = performance.now();
  const rows = await repeatRuns(options.runs ?? 1, runOne, options.onRun);
  return {
    seed: options.seed ?? 1,
    rows,
    failedRuns: rows.filter((r) => !ok(r)).length,
    wallSeconds: (performance.now() - started) / 1000,
  };
}
