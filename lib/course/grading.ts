/**
 * Notebook transformations for grading: find the exercise and check cells
 * (see `./exercise.ts` for the convention), swap in solutions, build the
 * "proof" notebook that shows every check can fail and can pass, and read the
 * verdicts back from an executed notebook.
 *
 * @example
 * ```ts
 * import { findExercises } from "./grading.ts";
 * const nb = JSON.parse(await Deno.readTextFile("notebooks/01_basic_concepts.ipynb"));
 * for (const e of findExercises(nb)) console.log(e.id, e.title);
 * ```
 *
 * @module
 */
import { EXERCISE_MIME, type ExerciseStatus } from "./exercise.ts";
import type { ExerciseKey } from "./solutions.ts";

/** The parts of a notebook cell the grader reads and writes. */
export interface GradingCell {
  /** `code` or `markdown` (or `raw`). */
  cell_type: string;
  /** A cell id (nbformat 4.5). */
  id?: string;
  /** The source, as one string or a list of lines. */
  source: string | string[];
  /** Cell metadata; exercise cells carry `tags` and `exercise`. */
  metadata: { tags?: string[]; exercise?: { id?: string; title?: string }; [k: string]: unknown };
  /** Outputs of an executed code cell. */
  outputs?: { output_type: string; data?: Record<string, unknown>; [k: string]: unknown }[];
  /** Any other field. */
  [k: string]: unknown;
}

/** The parts of a notebook the grader reads and writes. */
export interface GradingNotebook {
  /** The cells, in order. */
  cells: GradingCell[];
  /** Any other field. */
  [k: string]: unknown;
}

/** One exercise found in a notebook. */
export interface ExerciseRef {
  /** Its id, e.g. `"01.2"`. */
  readonly id: string;
  /** Its title. */
  readonly title: string;
  /** Index of the exercise cell. */
  readonly exerciseIndex: number;
  /** Index of its check cell (after the exercise cell). */
  readonly checkIndex: number;
}

/** A notebook whose exercise and check cells do not follow the convention. */
export class ExerciseLayoutError extends Error {
  /**
   * An error with the message given.
   *
   * @example
   * ```ts
   * import { ExerciseLayoutError } from "./grading.ts";
   * console.log(new ExerciseLayoutError("exercise 01.1 has no check cell").message);
   * ```
   */
  constructor(message: string) {
    super(message);
    this.name = "ExerciseLayoutError";
  }
}

/**
 * The source of a cell as one string.
 *
 * @example
 * ```ts
 * import { cellSource } from "./grading.ts";
 * console.log(cellSource({ cell_type: "code", source: ["a\n", "b"], metadata: {} })); // a\nb
 * ```
 */
export function cellSource(cell: GradingCell): string {
  return Array.isArray(cell.source) ? cell.source.join("") : cell.source;
}

function hasTag(cell: GradingCell, tag: string): boolean {
  return cell.cell_type === "code" && (cell.metadata?.tags ?? []).includes(tag);
}

/**
 * The exercises of a notebook, in order: each exercise cell (tag `exercise`)
 * paired with the first check cell (tag `check`) after it with the same id.
 * Throws {@linkcode ExerciseLayoutError} on a missing id, a duplicate id or a
 * missing check.
 *
 * @example
 * ```ts
 * import { findExercises } from "./grading.ts";
 * const nb = { cells: [
 *   { cell_type: "code", source: "function f() {}", metadata: { tags: ["exercise"], exercise: { id: "x.1", title: "F" } } },
 *   { cell_type: "code", source: "await check()", metadata: { tags: ["check"], exercise: { id: "x.1" } } },
 * ] };
 * console.log(findExercises(nb)); // [{ id: "x.1", title: "F", exerciseIndex: 0, checkIndex: 1 }]
 * ```
 */
export function findExercises(notebook: GradingNotebook): ExerciseRef[] {
  const { found, unchecked } = pairExercises(notebook);
  if (unchecked.length > 0) {
    throw new ExerciseLayoutError(`exercise ${unchecked[0].id} has no check cell after it`);
  }
  return found;
}

/** Exercise cells paired with their checks, and those without a check (checkIndex -1). */
function pairExercises(
  notebook: GradingNotebook,
): { found: ExerciseRef[]; unchecked: ExerciseRef[] } {
  const found: ExerciseRef[] = [];
  const unchecked: ExerciseRef[] = [];
  const seen = new Set<string>();
  notebook.cells.forEach((cell, index) => {
    if (!hasTag(cell, "exercise")) return;
    const id = cell.metadata.exercise?.id;
    if (!id) {
      throw new ExerciseLayoutError(`cells[${index}] is tagged exercise but has no exercise.id`);
    }
    if (seen.has(id)) throw new ExerciseLayoutError(`exercise ${id} appears twice`);
    seen.add(id);
    const checkIndex = notebook.cells.findIndex((c, j) =>
      j > index && hasTag(c, "check") && c.metadata.exercise?.id === id
    );
    const ref = {
      id,
      title: cell.metadata.exercise?.title ?? id,
      exerciseIndex: index,
      checkIndex,
    };
    (checkIndex < 0 ? unchecked : found).push(ref);
  });
  return { found, unchecked };
}

function codeCell(source: string, id: string, tags: string[], exerciseId: string): GradingCell {
  return {
    cell_type: "code",
    id,
    source,
    metadata: { tags, exercise: { id: exerciseId } },
    outputs: [],
    execution_count: null,
  };
}

function clone(notebook: GradingNotebook): GradingNotebook {
  return structuredClone(notebook);
}

/**
 * A copy of the notebook with the exercise cells' sources replaced (by id);
 * exercises not in `sources` keep the learner's code.
 *
 * @example
 * ```ts
 * import { withSources } from "./grading.ts";
 * const nb = { cells: [
 *   { cell_type: "code", source: "stub", metadata: { tags: ["exercise"], exercise: { id: "x.1" } } },
 *   { cell_type: "code", source: "check", metadata: { tags: ["check"], exercise: { id: "x.1" } } },
 * ] };
 * console.log(withSources(nb, new Map([["x.1", "solved"]])).cells[0].source); // solved
 * ```
 */
export function withSources(
  notebook: GradingNotebook,
  sources: ReadonlyMap<string, string>,
): GradingNotebook {
  const copy = clone(notebook);
  for (const e of findExercises(copy)) {
    const source = sources.get(e.id);
    if (source !== undefined) copy.cells[e.exerciseIndex].source = source;
  }
  return copy;
}

/** One check run the proof notebook expects, in execution order. */
export interface ExpectedVerdict {
  /** The exercise's id. */
  readonly id: string;
  /** `stub`, `wrong 1`, `wrong 2`, ... or `solution`. */
  readonly variant: string;
  /** The status its check must report. */
  readonly status: ExerciseStatus;
}

/**
 * The proof notebook: after each exercise's check (which runs the shipped
 * stub and must say "not yet"), every wrong answer is defined and checked
 * again (must be "wrong"), then the reference solution (must be "solved"), so
 * the cells after it run on the solution. One execution proves all sides.
 * Throws {@linkcode ExerciseLayoutError} when the book lacks an exercise or
 * has one the notebook lacks.
 *
 * @example
 * ```ts
 * import { proofNotebook } from "./grading.ts";
 * const nb = { cells: [
 *   { cell_type: "code", source: "stub", metadata: { tags: ["exercise"], exercise: { id: "x.1" } } },
 *   { cell_type: "code", source: "check", metadata: { tags: ["check"], exercise: { id: "x.1" } } },
 * ] };
 * const book = new Map([["x.1", { id: "x.1", title: "X", solution: "ok", wrong: [{ why: "w", source: "bad" }] }]]);
 * const { notebook, expected } = proofNotebook(nb, book);
 * console.log(notebook.cells.length, expected.map((e) => e.status)); // 6 ["not yet", "wrong", "solved"]
 * ```
 */
export function proofNotebook(
  notebook: GradingNotebook,
  book: ReadonlyMap<string, ExerciseKey>,
): { notebook: GradingNotebook; expected: ExpectedVerdict[] } {
  const exercises = findExercises(notebook);
  const ids = new Set(exercises.map((e) => e.id));
  for (const id of book.keys()) {
    if (!ids.has(id)) {
      throw new ExerciseLayoutError(`the solutions book has ${id}, the notebook does not`);
    }
  }
  const copy = clone(notebook);
  const expected: ExpectedVerdict[] = [];
  const byCheck = new Map(exercises.map((e) => [e.checkIndex, e]));
  const cells: GradingCell[] = [];
  copy.cells.forEach((cell, index) => {
    cells.push(cell);
    const e = byCheck.get(index);
    if (!e) return;
    const key = book.get(e.id);
    if (!key) throw new ExerciseLayoutError(`exercise ${e.id} has no entry in the solutions book`);
    const check = cellSource(cell);
    expected.push({ id: e.id, variant: "stub", status: "not yet" });
    key.wrong.forEach((w, n) => {
      cells.push(codeCell(w.source, `proof-${e.id}-w${n + 1}`, ["proof"], e.id));
      cells.push(codeCell(check, `proof-${e.id}-w${n + 1}-check`, ["proof", "check"], e.id));
      expected.push({ id: e.id, variant: `wrong ${n + 1}`, status: "wrong" });
    });
    cells.push(codeCell(key.solution, `proof-${e.id}-s`, ["proof"], e.id));
    cells.push(codeCell(check, `proof-${e.id}-s-check`, ["proof", "check"], e.id));
    expected.push({ id: e.id, variant: "solution", status: "solved" });
  });
  copy.cells = cells;
  return { notebook: copy, expected };
}

/** A verdict read back from an executed notebook. */
export interface ReadVerdict {
  /** The exercise's id. */
  readonly id: string;
  /** Its title. */
  readonly title: string;
  /** What its check reported. */
  readonly status: ExerciseStatus;
  /** The check's hint. */
  readonly hint: string;
  /** The index of the cell that printed it. */
  readonly cellIndex: number;
}

/**
 * Every check verdict in an executed notebook, in cell order.
 *
 * @example
 * ```ts
 * import { readVerdicts } from "./grading.ts";
 * const nb = { cells: [{ cell_type: "code", source: "", metadata: {}, outputs: [
 *   { output_type: "display_data", data: { "application/vnd.shopstream.exercise+json":
 *     { id: "x.1", title: "X", status: "solved", hint: "" } } },
 * ] }] };
 * console.log(readVerdicts(nb)[0].status); // solved
 * ```
 */
export function readVerdicts(notebook: GradingNotebook): ReadVerdict[] {
  const verdicts: ReadVerdict[] = [];
  notebook.cells.forEach((cell, cellIndex) => {
    for (const output of cell.outputs ?? []) {
      const part = output.data?.[EXERCISE_MIME];
      if (!part) continue;
      const v = (typeof part === "string" ? JSON.parse(part) : part) as Omit<
        ReadVerdict,
        "cellIndex"
      >;
      verdicts.push({ id: v.id, title: v.title, status: v.status, hint: v.hint, cellIndex });
    }
  });
  return verdicts;
}

/** Where a cell of a grading copy came from. */
export type CellOrigin =
  /** The learner's notebook, at this index. */
  | { readonly kind: "notebook"; readonly index: number }
  /** The reference solution of this exercise, inserted after its check. */
  | { readonly kind: "reference"; readonly id: string };

/** A grading copy and where its exercises and cells are. */
export interface GradingPlan {
  /** The notebook to execute. */
  readonly notebook: GradingNotebook;
  /** The exercises, with indices into the grading copy, in order. */
  readonly exercises: readonly ExerciseRef[];
  /** For each cell of the grading copy, where it came from. */
  readonly origin: readonly CellOrigin[];
  /**
   * Exercises that cannot be checked, in notebook order then the book's:
   * a check cell or an exercise cell the learner deleted or retagged.
   */
  readonly missing: readonly {
    readonly id: string;
    readonly title: string;
    readonly why: string;
  }[];
}

/**
 * The copy of a learner's notebook the grader executes. After each check
 * cell, the exercise's reference solution is defined again (a cell tagged
 * `grading`), so that later cells, and later exercises that build on this
 * one, run on a correct definition whatever the learner wrote. With
 * `solutions: true` the exercise cells themselves are the reference solutions
 * (and nothing is inserted); an exercise the book lacks is then a
 * {@linkcode ExerciseLayoutError}. An exercise whose check cell is gone gets
 * its reference solution right after its own cell and is listed in
 * `missing`, as is a book entry whose exercise cell is gone. Throws
 * {@linkcode ExerciseLayoutError} on an exercise cell without an id or an id
 * used twice.
 *
 * @example
 * ```ts
 * import { gradingNotebook } from "./grading.ts";
 * const nb = { cells: [
 *   { cell_type: "code", source: "stub", metadata: { tags: ["exercise"], exercise: { id: "x.1", title: "X" } } },
 *   { cell_type: "code", source: "check", metadata: { tags: ["check"], exercise: { id: "x.1" } } },
 *   { cell_type: "code", source: "later", metadata: {} },
 * ] };
 * const book = new Map([["x.1", { id: "x.1", title: "X", solution: "ok", wrong: [] }]]);
 * const plan = gradingNotebook(nb, book);
 * console.log(plan.notebook.cells.map((c) => c.source)); // ["stub", "check", "ok", "later"]
 * ```
 */
export function gradingNotebook(
  notebook: GradingNotebook,
  book: ReadonlyMap<string, ExerciseKey>,
  options: { solutions?: boolean } = {},
): GradingPlan {
  const { found, unchecked } = pairExercises(notebook);
  const ids = new Set([...found, ...unchecked].map((e) => e.id));
  const missing = [
    ...unchecked.map((e) => ({
      id: e.id,
      title: e.title,
      why: "its check cell is missing (deleted, or its metadata changed)",
    })),
    ...[...book.values()].filter((k) => !ids.has(k.id)).map((k) => ({
      id: k.id,
      title: k.title,
      why: "its exercise cell is missing (deleted, or its metadata changed)",
    })),
  ];
  let source = notebook;
  if (options.solutions) {
    const lacking = [...found, ...unchecked].filter((e) => !book.has(e.id)).map((e) => e.id);
    if (lacking.length > 0) {
      throw new ExerciseLayoutError(`no reference solution for ${lacking.join(", ")}`);
    }
    source = withSources(notebook, new Map([...book].map(([id, key]) => [id, key.solution])));
  }
  // The reference goes after the check, or after the exercise cell when the check is gone.
  const byCheck = new Map(
    [
      ...found.map((e) => [e.checkIndex, e] as const),
      ...unchecked.map((e) => [e.exerciseIndex, e] as const),
    ],
  );
  const cells: GradingCell[] = [];
  const origin: CellOrigin[] = [];
  source.cells.forEach((cell, index) => {
    cells.push(structuredClone(cell));
    origin.push({ kind: "notebook", index });
    const e = byCheck.get(index);
    const key = e && book.get(e.id);
    if (!e || !key || options.solutions) return;
    cells.push(codeCell(key.solution, `grading-${e.id}`, ["grading"], e.id));
    origin.push({ kind: "reference", id: e.id });
  });
  const copy: GradingNotebook = { ...structuredClone(notebook), cells };
  return { notebook: copy, exercises: pairExercises(copy).found, origin, missing };
}

/** One exercise's grade. */
export interface GradeRow {
  /** The exercise's id. */
  readonly id: string;
  /** Its title. */
  readonly title: string;
  /** solved, not yet or wrong. */
  readonly status: ExerciseStatus;
  /** What is wrong or what to do; empty when solved. */
  readonly hint: string;
}

/**
 * The grade of each exercise of an executed grading copy: "wrong" with the
 * error's first line when its exercise cell or check cell raised (in
 * `raised`: cell index of the grading copy to a one-line description), else
 * what its check reported, else "wrong: the check did not run" (with
 * `stopped`, the reason the run ended early). Exercises the book has and the
 * notebook lacks come last, "wrong".
 *
 * @example
 * ```ts
 * import { gradeRows, gradingNotebook } from "./grading.ts";
 * const nb = { cells: [
 *   { cell_type: "code", source: "stub", metadata: { tags: ["exercise"], exercise: { id: "x.1", title: "X" } } },
 *   { cell_type: "code", source: "check", metadata: { tags: ["check"], exercise: { id: "x.1" } } },
 * ] };
 * const plan = gradingNotebook(nb, new Map());
 * const rows = gradeRows(plan, plan.notebook, new Map([[0, "SyntaxError: Expression expected"]]));
 * console.log(rows[0].status, rows[0].hint); // wrong SyntaxError: Expression expected
 * ```
 */
export function gradeRows(
  plan: GradingPlan,
  executed: GradingNotebook,
  raised: ReadonlyMap<number, string>,
  stopped?: { readonly cellIndex: number | null; readonly reason: string },
): GradeRow[] {
  const verdicts = readVerdicts(executed);
  const rows: GradeRow[] = plan.exercises.map((e) => {
    const row = (status: ExerciseStatus, hint: string) => ({
      id: e.id,
      title: e.title,
      status,
      hint,
    });
    const failed = raised.get(e.exerciseIndex) ?? raised.get(e.checkIndex);
    if (failed !== undefined) return row("wrong", failed);
    const v = verdicts.filter((v) => v.cellIndex === e.checkIndex && v.id === e.id).at(-1);
    if (v) return row(v.status, v.hint);
    if (stopped && (stopped.cellIndex === e.exerciseIndex || stopped.cellIndex === e.checkIndex)) {
      return row("wrong", stopped.reason);
    }
    return row("wrong", `the check did not run${stopped ? ` (${stopped.reason})` : ""}`);
  });
  for (const m of plan.missing) {
    rows.push({ id: m.id, title: m.title, status: "wrong", hint: m.why });
  }
  return rows;
}

const TOP_LEVEL_BINDING = /^(?:export\s+)?(?:const|let|var|class)\s/m;

/** The source without whitespace, for containment tests that ignore layout. */
function squeezed(text: string): string {
  return text.replace(/\s+/g, "");
}

/**
 * What breaks the exercise convention in a notebook and its solutions book,
 * one sentence each (empty when nothing does): an exercise without a book
 * entry or a book entry without an exercise, a title that differs, an entry
 * without a wrong answer, a shipped exercise cell that does not call
 * `todo("<id>", ...)` or that contains every line of its solution (as code
 * or in a comment; scaffolding lines may be given), a solution that still calls `todo`, a wrong answer identical to
 * the solution, a top-level `const`/`let`/`class` in an exercise cell or
 * book block (a later definition could not replace it), a check cell that
 * does not call `check("<id>", ...)`.
 *
 * @example
 * ```ts
 * import { exerciseProblems } from "./grading.ts";
 * const nb = { cells: [
 *   { cell_type: "code", source: "function f() { return todo(\"x.1\", \"...\"); }", metadata: { tags: ["exercise"], exercise: { id: "x.1", title: "F" } } },
 *   { cell_type: "code", source: "await check(\"x.1\", \"F\", () => {})", metadata: { tags: ["check"], exercise: { id: "x.1" } } },
 * ] };
 * console.log(exerciseProblems(nb, new Map())); // ["x.1 has no entry in the solutions book"]
 * ```
 */
export function exerciseProblems(
  notebook: GradingNotebook,
  book: ReadonlyMap<string, ExerciseKey>,
): string[] {
  const problems: string[] = [];
  let exercises: ExerciseRef[];
  try {
    exercises = findExercises(notebook);
  } catch (e) {
    return [(e as Error).message];
  }
  const ids = new Set(exercises.map((e) => e.id));
  for (const id of book.keys()) {
    if (!ids.has(id)) problems.push(`the solutions book has ${id}, the notebook does not`);
  }
  for (const e of exercises) {
    const shipped = cellSource(notebook.cells[e.exerciseIndex]);
    if (!new RegExp(`\\btodo\\(\\s*["'\`]${e.id.replace(/\./g, "\\.")}["'\`]`).test(shipped)) {
      problems.push(`${e.id}: the shipped exercise cell does not call todo("${e.id}", ...)`);
    }
    if (TOP_LEVEL_BINDING.test(shipped)) {
      problems.push(`${e.id}: the exercise cell has a top-level const/let/var/class`);
    }
    const checkSource = cellSource(notebook.cells[e.checkIndex]);
    if (!new RegExp(`\\bcheck\\(\\s*["'\`]${e.id.replace(/\./g, "\\.")}["'\`]`).test(checkSource)) {
      problems.push(`${e.id}: the check cell does not call check("${e.id}", ...)`);
    }
    const key = book.get(e.id);
    if (!key) {
      problems.push(`${e.id} has no entry in the solutions book`);
      continue;
    }
    if (key.title !== e.title) {
      problems.push(`${e.id}: titled "${e.title}" in the notebook, "${key.title}" in the book`);
    }
    if (key.wrong.length === 0) problems.push(`${e.id}: the solutions book has no wrong answer`);
    if (/\btodo\(/.test(key.solution)) problems.push(`${e.id}: the solution still calls todo(...)`);
    if (TOP_LEVEL_BINDING.test(key.solution)) {
      problems.push(`${e.id}: the solution has a top-level const/let/var/class`);
    }
    key.wrong.forEach((w, n) => {
      if (squeezed(w.source) === squeezed(key.solution)) {
        problems.push(`${e.id}: wrong answer ${n + 1} (${w.why}) is the solution itself`);
      }
    });
    // Scaffolding may be given (in code or in a comment); the whole answer may not.
    const shippedCode = squeezed(shipped);
    const code = key.solution.split("\n").map((l) => l.trim())
      .filter((l) => l !== "" && !l.startsWith("//"));
    if (code.every((l) => shippedCode.includes(squeezed(l)))) {
      problems.push(`${e.id}: the shipped cell contains its whole solution`);
    }
  }
  return problems;
}
