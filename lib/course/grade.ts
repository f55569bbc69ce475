/**
 * Grading a learner's notebooks, and proving the course's own exercises.
 *
 * {@linkcode gradeNotebook} executes a grading copy of a notebook (see
 * {@linkcode gradingNotebook}: the reference solution is defined again after
 * each check, so later exercises run on a correct definition) on the Deno
 * kernel, going on past cells that raise, and reads one grade per exercise
 * back. {@linkcode proveNotebook} executes the proof notebook (see
 * {@linkcode proofNotebook}: stub, every wrong answer and the solution
 * through each check) and pairs each expected verdict with the one read back.
 *
 * @example
 * ```ts
 * import { formatGrades, gradeNotebook } from "./grade.ts";
 * const grade = await gradeNotebook("tests/fixtures/grading_fixture.ipynb");
 * console.log(formatGrades([grade]));
 * ```
 *
 * @module
 */
import { basename, dirname, join, relative, resolve } from "node:path";
import { pathExists } from "../util/repo.ts";
import {
  cellSource,
  ExerciseLayoutError,
  type ExpectedVerdict,
  type GradeRow,
  gradeRows,
  type GradingNotebook,
  gradingNotebook,
  type GradingPlan,
  proofNotebook,
  type ReadVerdict,
  readVerdicts,
} from "./grading.ts";
import {
  type CellError,
  listNotebooks,
  NotebookError,
  NotebookFormatError,
  runNotebook,
} from "./notebooks.ts";
import { jupyterPython } from "./jupyter.ts";
import { type ExerciseKey, parseSolutionBook, SolutionBookError } from "./solutions.ts";

/**
 * The solutions book of a notebook: `solutions/<stem>.md` beside it.
 *
 * @example
 * ```ts
 * import { solutionsBookPath } from "./grade.ts";
 * console.log(solutionsBookPath("notebooks/01_basic_concepts.ipynb"));
 * // notebooks/solutions/01_basic_concepts.md
 * ```
 */
export function solutionsBookPath(notebookPath: string): string {
  return join(dirname(notebookPath), "solutions", basename(notebookPath, ".ipynb") + ".md");
}

/**
 * The parsed solutions book of a notebook, or undefined when it has none.
 * Throws {@linkcode SolutionBookError} when the book does not parse.
 *
 * @example
 * ```ts
 * import { readSolutionBook } from "./grade.ts";
 * const book = await readSolutionBook("tests/fixtures/grading_fixture.ipynb");
 * console.log([...book?.keys() ?? []]); // ["fx.1", "fx.2", "fx.3"]
 * ```
 */
export async function readSolutionBook(
  notebookPath: string,
): Promise<Map<string, ExerciseKey> | undefined> {
  const path = solutionsBookPath(notebookPath);
  if (!(await pathExists(path))) return undefined;
  try {
    return parseSolutionBook(await Deno.readTextFile(path));
  } catch (e) {
    if (e instanceof SolutionBookError) throw new SolutionBookError(`${path}: ${e.message}`);
    throw e;
  }
}

/**
 * Reads a notebook file as JSON. Throws {@linkcode NotebookFormatError} when
 * it is not one (and `Deno.errors.NotFound` when there is no such file).
 *
 * @example
 * ```ts
 * import { readNotebook } from "./grade.ts";
 * console.log((await readNotebook("tests/fixtures/grading_fixture.ipynb")).cells.length);
 * ```
 */
export async function readNotebook(path: string): Promise<GradingNotebook> {
  const text = await Deno.readTextFile(path);
  let nb: unknown;
  try {
    nb = JSON.parse(text);
  } catch (e) {
    throw new NotebookFormatError(`${path}: not valid JSON (${(e as Error).message})`);
  }
  if (!nb || typeof nb !== "object" || !Array.isArray((nb as GradingNotebook).cells)) {
    throw new NotebookFormatError(`${path}: not a Jupyter notebook (no cells array)`);
  }
  return nb as GradingNotebook;
}

/**
 * Whether a notebook has at least one exercise cell (a code cell tagged `exercise`).
 *
 * @example
 * ```ts
 * import { hasExercises, readNotebook } from "./grade.ts";
 * console.log(hasExercises(await readNotebook("tests/fixtures/grading_fixture.ipynb"))); // true
 * ```
 */
export function hasExercises(notebook: GradingNotebook): boolean {
  return notebook.cells.some((c) =>
    c.cell_type === "code" && (c.metadata?.tags ?? []).includes("exercise")
  );
}

/**
 * Every notebook in `dir` (default `notebooks/`) that has exercise cells, sorted.
 *
 * @example
 * ```ts
 * import { notebooksWithExercises } from "./grade.ts";
 * console.log(await notebooksWithExercises());
 * ```
 */
export async function notebooksWithExercises(dir?: string): Promise<string[]> {
  const found: string[] = [];
  for (const path of await listNotebooks(dir)) {
    if (hasExercises(await readNotebook(path))) found.push(path);
  }
  return found;
}

/**
 * The syntax error in a cell's TypeScript source, as one line with its line
 * number in the cell, or undefined when it parses. (Deno's kernel reports a
 * cell that does not parse only as "Error: Execution failed".)
 *
 * @example
 * ```ts
 * import { syntaxError } from "./grade.ts";
 * console.log(await syntaxError("const a = ;")); // SyntaxError: Expression expected (line 1)
 * ```
 */
export async function syntaxError(source: string): Promise<string | undefined> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["fmt", "--no-config", "--ext", "ts", "-"],
    stdin: "piped",
    stdout: "null",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(source));
  await writer.close();
  const out = await child.output();
  if (out.success) return undefined;
  const text = new TextDecoder().decode(out.stderr);
  const message = /(SyntaxError: [^\n]+)/.exec(text)?.[1];
  if (!message) return undefined;
  const line = /:(\d+):\d+\s*$/m.exec(text)?.[1];
  return line ? `${message} (line ${line})` : message;
}

/** One line that says what went wrong in a cell that raised. */
async function describeError(error: CellError, source: string): Promise<string> {
  if (error.ename === "Error" && error.evalue === "Execution failed") {
    return await syntaxError(source) ??
      'the cell did not compile (the kernel says only "Execution failed"): look for a syntax error';
  }
  const first = error.evalue.split("\n").find((l) => l.trim() !== "")?.trim() ?? "";
  return first ? `${error.ename}: ${first}` : error.ename;
}

/** Options for {@linkcode gradeNotebook}. */
export interface GradeOptions {
  /** Grade the reference solutions instead of the learner's code. */
  solutions?: boolean;
  /** Folder to save the executed grading copy in (as `<stem>.ipynb`); default: not kept. */
  saveDir?: string;
  /** Seconds one cell may run; default 300. */
  cellTimeoutSec?: number;
  /** The interpreter with Jupyter (see `./jupyter.ts`); default: the runner's choice. */
  python?: string;
  /** The runner's own virtual environment; default `.cache/jupyter-venv`. */
  venvDir?: string;
}

/** The grades of one notebook. */
export interface NotebookGrade {
  /** The notebook, as given. */
  readonly path: string;
  /** One row per exercise, in notebook order. */
  readonly rows: readonly GradeRow[];
  /** What the grader noticed besides the grades (reference solutions used, cells that raised). */
  readonly notes: readonly string[];
  /** Set when the notebook could not be graded at all (then `rows` may be empty). */
  readonly error?: string;
  /** Wall time of the run. */
  readonly wallMs: number;
  /** Where the executed grading copy went, when `saveDir` was given. */
  readonly savedTo?: string;
}

function where(plan: GradingPlan, executed: GradingNotebook, index: number | null): string {
  if (index === null) return "before the first cell";
  const origin = plan.origin[index];
  if (!origin) return `cells[${index}]`;
  if (origin.kind === "reference") return `the reference solution of ${origin.id}`;
  const first = cellSource(executed.cells[index] ?? plan.notebook.cells[index]).split("\n")
    .find((l) => l.trim() !== "")?.trim() ?? "";
  return `cells[${origin.index}]${first ? ` \`${first.slice(0, 60)}\`` : ""}`;
}

/**
 * Grades one notebook: executes its grading copy on the Deno kernel (cwd:
 * the notebook's folder; cells that raise are recorded and the run goes on)
 * and returns one row per exercise. Never throws for what the learner wrote
 * (a broken layout or book is reported in `error`); throws
 * `NotebookSetupError` when Jupyter cannot be found or set up.
 *
 * @example
 * ```ts
 * import { gradeNotebook } from "./grade.ts";
 * const g = await gradeNotebook("tests/fixtures/grading_fixture.ipynb", { solutions: true });
 * console.log(g.rows.map((r) => `${r.id} ${r.status}`));
 * ```
 */
export async function gradeNotebook(
  path: string,
  options: GradeOptions = {},
): Promise<NotebookGrade> {
  const absolute = resolve(path);
  const notebook = await readNotebook(absolute);
  await jupyterPython(options); // a first-run set-up is not part of the run's time
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  let book: Map<string, ExerciseKey> | undefined;
  let plan: GradingPlan;
  const notes: string[] = [];
  try {
    book = await readSolutionBook(absolute);
    if (!book && options.solutions) {
      throw new SolutionBookError(`no solutions book at ${solutionsBookPath(path)}`);
    }
    plan = gradingNotebook(notebook, book ?? new Map(), { solutions: options.solutions });
  } catch (e) {
    if (!(e instanceof ExerciseLayoutError || e instanceof SolutionBookError)) throw e;
    const rows = [...(book?.values() ?? [])].map((k) => ({
      id: k.id,
      title: k.title,
      status: "wrong" as const,
      hint: `not graded: ${e.message}`,
    }));
    return { path, rows, notes, error: e.message, wallMs: elapsed() };
  }
  if (!book) {
    notes.push(`no solutions book (${solutionsBookPath(path)}): later cells ran on your own code`);
  }

  const stem = basename(absolute, ".ipynb");
  const tmp = await Deno.makeTempDir({ prefix: "grade-" });
  const saveDir = options.saveDir ?? join(tmp, "out");
  const copyPath = join(tmp, `${stem}.ipynb`);
  let cellErrors: readonly CellError[] = [];
  let stopped: { cellIndex: number | null; reason: string } | undefined;
  let savedTo: string | undefined;
  let executed: GradingNotebook = plan.notebook;
  try {
    await Deno.writeTextFile(copyPath, JSON.stringify(plan.notebook));
    try {
      const result = await runNotebook(copyPath, {
        cwd: dirname(absolute),
        saveDir,
        continueOnError: true,
        cellTimeoutSec: options.cellTimeoutSec,
        python: options.python,
        venvDir: options.venvDir,
      });
      cellErrors = result.cellErrors;
      savedTo = result.savedTo;
    } catch (e) {
      if (!(e instanceof NotebookError)) throw e;
      savedTo = e.savedTo;
      const reason = e.kind === "timeout" ? e.evalue : `${e.kind}: ${e.ename}: ${e.evalue}`;
      const at = where(plan, plan.notebook, e.cellIndex);
      stopped = { cellIndex: e.cellIndex, reason: `the run stopped at ${at}: ${reason}` };
    }
    if (savedTo && await pathExists(savedTo)) executed = await readNotebook(savedTo);
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }

  const raised = new Map<number, string>();
  for (const error of cellErrors) {
    const source = cellSource(plan.notebook.cells[error.cellIndex]);
    raised.set(error.cellIndex, await describeError(error, source));
  }
  const rows = gradeRows(plan, executed, raised, stopped);
  const exerciseCells = new Set(plan.exercises.flatMap((e) => [e.exerciseIndex, e.checkIndex]));
  for (const [index, what] of raised) {
    if (!exerciseCells.has(index)) notes.push(`${where(plan, executed, index)} raised ${what}`);
  }
  if (stopped) notes.push(stopped.reason);
  const usedLater = (id: string) => {
    const at = plan.origin.findIndex((o) => o.kind === "reference" && o.id === id);
    const end = stopped ? stopped.cellIndex ?? -1 : plan.notebook.cells.length;
    return at >= 0 && at < end &&
      plan.notebook.cells.some((c, i) => i > at && i <= end && c.cell_type === "code");
  };
  const reused = rows.filter((r) => r.status !== "solved" && usedLater(r.id)).map((r) => r.id);
  if (reused.length > 0) {
    notes.push(`later cells used the reference solution of ${reused.join(", ")}`);
  }
  return {
    path,
    rows,
    notes,
    wallMs: elapsed(),
    savedTo: options.saveDir ? savedTo : undefined,
  };
}

function hintShown(row: GradeRow): string {
  if (row.status === "solved") return "";
  const hint = row.hint.replace(/^Exercise \S+ is not solved yet: /, "");
  return row.status === "wrong" && row.hint === "" ? "(no hint)" : hint;
}

/** Columns padded to their widest cell, all left-aligned (ids such as 01.2 are not numbers). */
function leftTable(header: string[], rows: string[][]): string[] {
  const all = [
    header,
    header.map((_h, i) => "-".repeat(Math.max(...[header, ...rows].map((r) => r[i].length)))),
    ...rows,
  ];
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  return all.map((r) => r.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd());
}

function shownPath(path: string): string {
  const rel = relative(Deno.cwd(), resolve(path));
  return rel && !rel.startsWith("..") ? rel : path;
}

/**
 * One notebook's part of the report: its path and run time, a table (id,
 * title, status, hint when not solved) and its notes.
 *
 * @example
 * ```ts
 * import { formatNotebookGrade } from "./grade.ts";
 * console.log(formatNotebookGrade({ path: "nb.ipynb", wallMs: 1200, notes: [], rows: [
 *   { id: "x.1", title: "X", status: "not yet", hint: "Exercise x.1 is not solved yet: do it" },
 * ] }));
 * ```
 */
export function formatNotebookGrade(g: NotebookGrade): string {
  const lines = [`${shownPath(g.path)}  (${(g.wallMs / 1000).toFixed(1)} s)`];
  if (g.error) lines.push(`  could not be graded: ${g.error}`);
  if (g.rows.length > 0) {
    lines.push(
      ...leftTable(
        ["id", "title", "status", "hint"],
        g.rows.map((r) => [r.id, r.title, r.status, hintShown(r)]),
      ).map((l) => `  ${l}`),
    );
  }
  for (const note of g.notes) lines.push(`  note: ${note}`);
  return lines.join("\n");
}

/**
 * The whole report: each notebook's part ({@linkcode formatNotebookGrade}),
 * then `N passed, N failed` as the last line (passed = solved; a notebook
 * that could not be graded and has no rows counts as one failure).
 *
 * @example
 * ```ts
 * import { formatGrades } from "./grade.ts";
 * console.log(formatGrades([])); // 0 passed, 0 failed
 * ```
 */
export function formatGrades(grades: readonly NotebookGrade[]): string {
  const { passed, failed } = countGrades(grades);
  return [...grades.map((g) => formatNotebookGrade(g) + "\n"), `${passed} passed, ${failed} failed`]
    .join("\n");
}

/**
 * Passed (solved) and failed exercises over some notebooks.
 *
 * @example
 * ```ts
 * import { countGrades } from "./grade.ts";
 * console.log(countGrades([])); // { passed: 0, failed: 0 }
 * ```
 */
export function countGrades(grades: readonly NotebookGrade[]): { passed: number; failed: number } {
  let passed = 0;
  let failed = 0;
  for (const g of grades) {
    if (g.rows.length === 0 && g.error) failed++;
    for (const r of g.rows) r.status === "solved" ? passed++ : failed++;
  }
  return { passed, failed };
}

/** One exercise of a proof run: what each variant had to report and what it did. */
export interface ProofStep {
  /** The exercise's id. */
  readonly id: string;
  /** In order: stub, wrong 1, ..., solution. */
  readonly expected: readonly ExpectedVerdict[];
  /** The verdicts read back for this exercise, in order (missing ones absent). */
  readonly got: readonly ReadVerdict[];
}

/** A proof run of one notebook. */
export interface ProofResult {
  /** Per exercise, in notebook order. */
  readonly steps: readonly ProofStep[];
  /** Cells that raised: where, and what (one line each). */
  readonly errors: readonly string[];
  /** Wall time of the run. */
  readonly wallMs: number;
  /** Code cells executed. */
  readonly codeCells: number;
  /** Where the executed proof notebook went, when `saveDir` was given. */
  readonly savedTo?: string;
}

/**
 * Executes a notebook's proof notebook once, top to bottom from a fresh
 * kernel (cells that raise are recorded and the run goes on), and pairs each
 * expected verdict with the ones read back. Throws when the notebook and its
 * book do not match, or when the run stops early (timeout, dead kernel).
 *
 * @example
 * ```ts
 * import { proveNotebook } from "./grade.ts";
 * const proof = await proveNotebook("tests/fixtures/grading_fixture.ipynb");
 * for (const s of proof.steps) console.log(s.id, s.got.map((v) => v.status));
 * ```
 */
export async function proveNotebook(
  path: string,
  options: { saveDir?: string; cellTimeoutSec?: number; python?: string; venvDir?: string } = {},
): Promise<ProofResult> {
  const absolute = resolve(path);
  const book = await readSolutionBook(absolute);
  if (!book) throw new SolutionBookError(`no solutions book at ${solutionsBookPath(path)}`);
  const { notebook, expected } = proofNotebook(await readNotebook(absolute), book);
  const tmp = await Deno.makeTempDir({ prefix: "proof-" });
  try {
    const copy = join(tmp, basename(absolute));
    await Deno.writeTextFile(copy, JSON.stringify(notebook));
    const result = await runNotebook(copy, {
      cwd: dirname(absolute),
      saveDir: options.saveDir ?? join(tmp, "out"),
      continueOnError: true,
      cellTimeoutSec: options.cellTimeoutSec,
      python: options.python,
      venvDir: options.venvDir,
    });
    const executed = await readNotebook(result.savedTo!);
    const got = readVerdicts(executed);
    const ids = [...new Set(expected.map((e) => e.id))];
    const steps = ids.map((id) => ({
      id,
      expected: expected.filter((e) => e.id === id),
      got: got.filter((v) => v.id === id),
    }));
    const errors: string[] = [];
    for (const e of result.cellErrors) {
      const source = cellSource(notebook.cells[e.cellIndex]);
      const first = source.split("\n").find((l) => l.trim() !== "")?.trim() ?? "";
      errors.push(`cells[${e.cellIndex}] \`${first}\`: ${await describeError(e, source)}`);
    }
    return {
      steps,
      errors,
      wallMs: result.wallMs,
      codeCells: result.codeCells,
      savedTo: options.saveDir ? result.savedTo : undefined,
    };
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}
