/**
 * The solutions book of a notebook: `notebooks/solutions/<notebook>.md`, one
 * file per notebook, keyed by exercise id. Kept apart from the notebooks so
 * that no answer is visible before a learner runs a check.
 *
 * Format: a `## <id> <title>` heading per exercise; under it a `### solution`
 * heading followed by one fenced `ts` block (the whole source of the exercise
 * cell, solved), and one `### wrong: <why it is wrong>` heading per plausible
 * wrong answer, each followed by one fenced `ts` block. Text between the
 * headings and the blocks is for human readers and is ignored.
 *
 * @example
 * ```ts
 * import { parseSolutionBook } from "./solutions.ts";
 * const fence = "`".repeat(3);
 * const md = [
 *   "## 01.1 Segment lookup",
 *   "### solution",
 *   fence + "ts",
 *   "function f() { return 1; }",
 *   fence,
 *   "### wrong: off by one",
 *   fence + "ts",
 *   "function f() { return 2; }",
 *   fence,
 * ].join("\n");
 * const book = parseSolutionBook(md);
 * console.log(book.get("01.1")?.wrong[0].why); // off by one
 * ```
 *
 * @module
 */

/** One plausible wrong answer and why it is wrong. */
export interface WrongAnswer {
  /** Why it is wrong, as the heading says. */
  readonly why: string;
  /** The exercise cell's whole source. */
  readonly source: string;
}

/** The reference solution and wrong answers of one exercise. */
export interface ExerciseKey {
  /** The exercise's id, e.g. `"01.2"`. */
  readonly id: string;
  /** Its title. */
  readonly title: string;
  /** The exercise cell's whole source, solved. */
  readonly solution: string;
  /** Plausible wrong answers, each of which its check must reject. */
  readonly wrong: readonly WrongAnswer[];
}

/** A solutions-book format error, with the line it is on. */
export class SolutionBookError extends Error {
  /**
   * An error with this message (it names the line).
   *
   * @example
   * ```ts
   * import { SolutionBookError } from "./solutions.ts";
   * console.log(new SolutionBookError("line 3: a block without a heading").message);
   * ```
   */
  constructor(message: string) {
    super(message);
    this.name = "SolutionBookError";
  }
}

/**
 * Parses a solutions book into a map from exercise id to its key. Throws
 * {@linkcode SolutionBookError} on an exercise without a solution, a block
 * outside an exercise, or an unclosed fence.
 *
 * @example
 * ```ts
 * import { parseSolutionBook } from "./solutions.ts";
 * console.log(parseSolutionBook("").size); // 0
 * ```
 */
export function parseSolutionBook(markdown: string): Map<string, ExerciseKey> {
  const lines = markdown.split("\n");
  const book = new Map<
    string,
    { id: string; title: string; solution?: string; wrong: WrongAnswer[] }
  >();
  let current: { id: string; title: string; solution?: string; wrong: WrongAnswer[] } | undefined;
  let slot: { kind: "solution" } | { kind: "wrong"; why: string } | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const exercise = /^## +(\S+) +(.+?)\s*$/.exec(line);
    if (exercise) {
      current = { id: exercise[1], title: exercise[2], wrong: [] };
      if (book.has(current.id)) {
        throw new SolutionBookError(`line ${i + 1}: exercise ${current.id} appears twice`);
      }
      book.set(current.id, current);
      slot = undefined;
      continue;
    }
    if (/^### +solution\s*$/.test(line)) {
      slot = { kind: "solution" };
      continue;
    }
    const wrong = /^### +wrong: *(.+?)\s*$/.exec(line);
    if (wrong) {
      slot = { kind: "wrong", why: wrong[1] };
      continue;
    }
    const fence = /^(`{3,}|~{3,})\s*(ts|typescript)\s*$/.exec(line);
    if (!fence) continue;
    if (!current || !slot) {
      throw new SolutionBookError(`line ${i + 1}: a code block outside a solution or wrong answer`);
    }
    const end = lines.findIndex((l, j) => j > i && l.trim() === fence[1]);
    if (end < 0) throw new SolutionBookError(`line ${i + 1}: the code block is never closed`);
    const source = lines.slice(i + 1, end).join("\n");
    if (slot.kind === "solution") current.solution = source;
    else current.wrong.push({ why: slot.why, source });
    slot = undefined;
    i = end;
  }
  const keys = new Map<string, ExerciseKey>();
  for (const [id, key] of book) {
    if (key.solution === undefined) throw new SolutionBookError(`exercise ${id} has no solution`);
    keys.set(id, { id, title: key.title, solution: key.solution, wrong: key.wrong });
  }
  return keys;
}
