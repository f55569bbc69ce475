/**
 * Reads the counts out of `deno test`'s closing line, e.g.
 * `ok | 12 passed (40 steps) | 0 failed (3s)` or
 * `FAILED | 10 passed (31 steps) | 2 failed (4 steps) (9s)`.
 *
 * @module
 */

/** Top-level tests passed and failed, and the steps that passed. */
export interface TestSummary {
  /** Top-level tests that passed. */
  readonly passed: number;
  /** Top-level tests that failed. */
  readonly failed: number;
  /** Steps that passed. */
  readonly steps: number;
}

/**
 * The last summary line in `output` (colour codes allowed), or undefined.
 *
 * @example
 * ```ts
 * import { parseDenoTestSummary } from "./test_summary.ts";
 * console.log(parseDenoTestSummary("ok | 3 passed (5 steps) | 0 failed (2s)"));
 * // { passed: 3, failed: 0, steps: 5 }
 * ```
 */
export function parseDenoTestSummary(output: string): TestSummary | undefined {
  // deno-lint-ignore no-control-regex
  const plain = output.replace(/\x1b\[[0-9;]*m/g, "");
  const re = /^(?:ok|FAILED) \| (\d+) passed(?: \((\d+) steps?\))? \| (\d+) failed/gm;
  let last: RegExpExecArray | null = null;
  for (let m; (m = re.exec(plain));) last = m;
  if (!last) return undefined;
  return { passed: Number(last[1]), failed: Number(last[3]), steps: Number(last[2] ?? 0) };
}
