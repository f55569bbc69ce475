/**
 * Reads the counts out of `deno test`'s closing line, e.g.
 * `ok | 12 passed (40 steps) | 0 failed (3s)` or
 * `FAILED | 10 passed (31 steps) | 2 failed (4 steps) (9s)`; and the first
 * lines of each failure's error, for a digest at the end of a long log.
 *
 * @module
 */

/** `text` without its ANSI colour codes. */
function withoutColour(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/\x1b\[[0-9;]*m/g, "");
}

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
  const plain = withoutColour(output);
  const re = /^(?:ok|FAILED) \| (\d+) passed(?: \((\d+) steps?\))? \| (\d+) failed/gm;
  let last: RegExpExecArray | null = null;
  for (let m; (m = re.exec(plain));) last = m;
  if (!last) return undefined;
  return { passed: Number(last[1]), failed: Number(last[3]), steps: Number(last[2] ?? 0) };
}

/** One failed test (or step) and the first lines of its error. */
export interface FailureReason {
  /** The test's name as deno prints it (steps: `test ... step`). */
  readonly name: string;
  /** Where it is defined, e.g. `./tests/log_test.ts:11:6`. */
  readonly at: string;
  /** The error's first lines, stack frames left out. */
  readonly lines: readonly string[];
}

/**
 * Each failure in the ERRORS section of `deno test`'s output (colour codes
 * allowed), with up to `maxLines` lines of its error (stack frames and blank
 * lines and the echoed source line left out, each line cut at 300 characters). A CI log is often read
 * from its end: printing these after the summary says why without scrolling.
 *
 * @example
 * ```ts
 * import { failureReasons } from "./test_summary.ts";
 * const out = " ERRORS \n\nadds => ./tests/a_test.ts:3:6\nerror: AssertionError: 1 !== 2\n" +
 *   "    at fn (file:///a_test.ts:4:10)\n\n FAILURES \n\nadds => ./tests/a_test.ts:3:6\n";
 * console.log(failureReasons(out));
 * // [{ name: "adds", at: "./tests/a_test.ts:3:6", lines: ["error: AssertionError: 1 !== 2"] }]
 * ```
 */
export function failureReasons(output: string, maxLines = 8): FailureReason[] {
  const plain = withoutColour(output);
  const starts = [...plain.matchAll(/^ ERRORS $/gm)];
  if (starts.length === 0) return [];
  const from = starts.at(-1)!.index! + " ERRORS ".length;
  const rest = plain.slice(from);
  const end = /^ FAILURES $/m.exec(rest)?.index;
  const section = rest.slice(0, end).split("\n");
  const out: { name: string; at: string; lines: string[] }[] = [];
  for (const line of section) {
    const head = / => (\.\/\S+:\d+:\d+)$/.exec(line);
    if (head) {
      out.push({ name: line.slice(0, head.index), at: head[1], lines: [] });
      continue;
    }
    const uncaught = /^(\.\/\S+) \(uncaught error\)$/.exec(line);
    if (uncaught) {
      out.push({ name: "uncaught error", at: uncaught[1], lines: [] });
      continue;
    }
    const current = out.at(-1);
    if (!current || current.lines.length >= maxLines) continue;
    if (/^\s*\^\s*$/.test(line)) { // a caret under the source line deno echoes: drop both
      current.lines.pop();
      continue;
    }
    if (line.trim() === "" || /^\s+at /.test(line)) continue;
    current.lines.push(line.length > 300 ? `${line.slice(0, 300)}...` : line);
  }
  return out;
}
