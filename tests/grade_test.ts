/**
 * `deno task grade` on the fixture notebook (tests/fixtures/grading_fixture.ipynb,
 * three exercises on plain functions, fx.2 building on fx.1; no services
 * needed): the shipped stubs are all "not yet" (exit 1, `0 passed, 3 failed`),
 * the reference solutions all "solved" (exit 0); a learner's copy with a wrong
 * answer, a deleted check, a syntax error or a raising check gets each of
 * those exercises named "wrong" with its hint while the others are still
 * graded, and a later exercise passes on the reference solution of an earlier
 * one the learner got wrong. The grading rules themselves (which cell's error
 * or verdict decides) are checked on hand-made executed notebooks, without a
 * kernel. Also: --help exits 0, usage mistakes exit 2.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import {
  EXERCISE_MIME,
  type ExerciseKey,
  gradeRows,
  type GradingNotebook,
  gradingNotebook,
  parseSolutionBook,
  proveNotebook,
  REPO_ROOT,
} from "../lib/course/mod.ts";

const FIXTURE = join(REPO_ROOT, "tests", "fixtures", "grading_fixture.ipynb");
const BOOK = join(REPO_ROOT, "tests", "fixtures", "solutions", "grading_fixture.md");
const TASK = join(REPO_ROOT, "tasks", "grade.ts");

interface Graded {
  code: number;
  stdout: string;
  stderr: string;
  rows: Map<string, { status: string; hint: string }>;
  last: string;
}

async function grade(...args: string[]): Promise<Graded> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", TASK, ...args],
    cwd: REPO_ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  const rows = new Map<string, { status: string; hint: string }>();
  for (const line of stdout.split("\n")) {
    const m = /^\s+(fx\.\d)\s+.+?\s{2,}(solved|not yet|wrong)(?:\s{2,}(.*))?$/.exec(line);
    if (m) rows.set(m[1], { status: m[2], hint: (m[3] ?? "").trim() });
  }
  return {
    code: out.code,
    stdout,
    stderr: new TextDecoder().decode(out.stderr),
    rows,
    last: stdout.trimEnd().split("\n").at(-1) ?? "",
  };
}

type Nb = GradingNotebook;

/**
 * A learner's copy of the fixture in a temp folder (with its solutions book),
 * its import made absolute; `edit` changes it cell by cell.
 */
async function learnerCopy(
  dir: string,
  edit: (nb: Nb, book: Map<string, ExerciseKey>) => void,
): Promise<string> {
  const nb = JSON.parse(await Deno.readTextFile(FIXTURE)) as Nb;
  const lib = pathToFileURL(join(REPO_ROOT, "lib", "course", "mod.ts")).href;
  for (const cell of nb.cells) {
    const source = Array.isArray(cell.source) ? cell.source.join("") : cell.source;
    cell.source = source.replace("../../lib/course/mod.ts", lib);
  }
  edit(nb, parseSolutionBook(await Deno.readTextFile(BOOK)));
  await Deno.mkdir(join(dir, "solutions"), { recursive: true });
  await Deno.copyFile(BOOK, join(dir, "solutions", "grading_fixture.md"));
  const path = join(dir, "grading_fixture.ipynb");
  await Deno.writeTextFile(path, JSON.stringify(nb));
  return path;
}

/** The index of the cell tagged `tag` for exercise `id`. */
function cellOf(nb: Nb, tag: string, id: string): number {
  const i = nb.cells.findIndex((c) =>
    (c.metadata.tags ?? []).includes(tag) && c.metadata.exercise?.id === id
  );
  assert.ok(i >= 0, `no ${tag} cell for ${id}`);
  return i;
}

Deno.test("deno task grade: the shipped stubs are all 'not yet'", async () => {
  const r = await grade(FIXTURE);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.equal(r.last, "0 passed, 3 failed");
  assert.deepEqual([...r.rows.keys()], ["fx.1", "fx.2", "fx.3"], r.stdout);
  for (const [id, row] of r.rows) {
    assert.equal(row.status, "not yet", `${id}: ${r.stdout}`);
    assert.ok(row.hint.length > 0, `${id} has the stub's hint`);
  }
  assert.match(r.rows.get("fx.1")!.hint, /add up the numbers/);
  assert.match(r.stdout, /later cells used the reference solution of fx\.1, fx\.2\n/);
});

Deno.test("deno task grade --solutions: the reference solutions are all solved", async () => {
  const r = await grade(FIXTURE, "--solutions");
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(r.last, "3 passed, 0 failed");
  assert.deepEqual([...r.rows.values()].map((v) => v.status), ["solved", "solved", "solved"]);
  assert.doesNotMatch(r.stdout, /reference solution of/);
});

Deno.test("deno task grade: a wrong answer is named with its hint, the rest still graded", async () => {
  const dir = await Deno.makeTempDir({ prefix: "grade-test-" });
  try {
    const path = await learnerCopy(dir, (nb, book) => {
      // fx.1 skips the first number; fx.2 (which calls total) and fx.3 are right,
      // but fx.3's check cell was deleted by the learner (emptied).
      nb.cells[cellOf(nb, "exercise", "fx.1")].source = book.get("fx.1")!.wrong[1].source;
      nb.cells[cellOf(nb, "exercise", "fx.2")].source = book.get("fx.2")!.solution;
      nb.cells[cellOf(nb, "exercise", "fx.3")].source = book.get("fx.3")!.solution;
      nb.cells[cellOf(nb, "check", "fx.3")].source = "// (check removed)";
    });
    const r = await grade(path);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.equal(r.last, "1 passed, 2 failed", r.stdout);
    assert.equal(r.rows.get("fx.1")?.status, "wrong", r.stdout);
    assert.match(r.rows.get("fx.1")!.hint, /a list of one number adds up to that number/);
    assert.equal(
      r.rows.get("fx.2")?.status,
      "solved",
      `fx.2 ran on the reference total: ${r.stdout}`,
    );
    assert.deepEqual(r.rows.get("fx.3"), { status: "wrong", hint: "the check did not run" });
    assert.match(r.stdout, /note: later cells used the reference solution of fx\.1\n/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task grade: a syntax error or a raising check is wrong, the rest still graded", async () => {
  const dir = await Deno.makeTempDir({ prefix: "grade-test-" });
  try {
    const path = await learnerCopy(dir, (nb, book) => {
      nb.cells[cellOf(nb, "exercise", "fx.1")].source = book.get("fx.1")!.solution;
      nb.cells[cellOf(nb, "exercise", "fx.2")].source =
        "function mean(xs: number[]): number {\n  return total(xs) / xs.length;\n";
      nb.cells[cellOf(nb, "exercise", "fx.3")].source = book.get("fx.3")!.solution;
      nb.cells[cellOf(nb, "check", "fx.3")].source = 'assertWords("one two", 2);';
    });
    const r = await grade(path);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.equal(r.last, "1 passed, 2 failed", r.stdout);
    assert.equal(r.rows.get("fx.1")?.status, "solved", r.stdout);
    assert.equal(r.rows.get("fx.2")?.status, "wrong", r.stdout);
    assert.match(r.rows.get("fx.2")!.hint, /^SyntaxError: .+ \(line \d\)$/);
    assert.deepEqual(r.rows.get("fx.3"), {
      status: "wrong",
      hint: "ReferenceError: assertWords is not defined",
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task grade: --help exits 0, mistakes exit 2", async () => {
  const help = await grade("--help");
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^usage: deno task grade/);
  const flag = await grade("--solution");
  assert.equal(flag.code, 2);
  assert.match(flag.stderr, /grade: .*--solution/);
  const plain = await grade(join(REPO_ROOT, "tests", "fixtures", "missing.ipynb"));
  assert.equal(plain.code, 2);
  assert.match(plain.stderr, /missing\.ipynb does not exist/);
});

// ---------------------------------------------------------------- the rules, without a kernel

function verdictOutput(id: string, status: string, hint: string) {
  return {
    output_type: "execute_result",
    data: { [EXERCISE_MIME]: { id, title: id, status, hint } },
  };
}

function fixtureNotebook(): Nb {
  const code = (source: string, metadata: Nb["cells"][number]["metadata"] = {}) => ({
    cell_type: "code",
    source,
    metadata,
    outputs: [],
  });
  return {
    cells: [
      code("stub a", { tags: ["exercise"], exercise: { id: "a", title: "A" } }),
      code("check a", { tags: ["check"], exercise: { id: "a" } }),
      code("stub b", { tags: ["exercise"], exercise: { id: "b", title: "B" } }),
      code("check b", { tags: ["check"], exercise: { id: "b" } }),
      code("stub c", { tags: ["exercise"], exercise: { id: "c", title: "C" } }),
      code("check c", { tags: ["check"], exercise: { id: "c" } }),
    ],
  };
}

const BOOK_ABC = new Map(["a", "b", "c", "d"].map((id) => [id, {
  id,
  title: id.toUpperCase(),
  solution: `solution ${id}`,
  wrong: [{ why: "w", source: `wrong ${id}` }],
}]));

Deno.test("grading copy: the reference solution follows each check (or a checkless exercise); --solutions swaps them in", () => {
  const plan = gradingNotebook(fixtureNotebook(), BOOK_ABC);
  assert.deepEqual(plan.notebook.cells.map((c) => c.source), [
    "stub a",
    "check a",
    "solution a",
    "stub b",
    "check b",
    "solution b",
    "stub c",
    "check c",
    "solution c",
  ]);
  assert.deepEqual(plan.exercises.map((e) => [e.id, e.exerciseIndex, e.checkIndex]), [
    ["a", 0, 1],
    ["b", 3, 4],
    ["c", 6, 7],
  ]);
  assert.deepEqual(plan.origin[2], { kind: "reference", id: "a" });
  assert.deepEqual(plan.missing, [{
    id: "d",
    title: "D",
    why: "its exercise cell is missing (deleted, or its metadata changed)",
  }], "d is in the book only");
  const nb = fixtureNotebook();
  nb.cells.splice(3, 1); // the learner deleted b's check cell
  const unchecked = gradingNotebook(nb, BOOK_ABC);
  assert.deepEqual(unchecked.notebook.cells.map((c) => c.source), [
    "stub a",
    "check a",
    "solution a",
    "stub b",
    "solution b",
    "stub c",
    "check c",
    "solution c",
  ]);
  assert.deepEqual(unchecked.exercises.map((e) => e.id), ["a", "c"]);
  assert.deepEqual(unchecked.missing.map((m) => `${m.id}: ${m.why}`), [
    "b: its check cell is missing (deleted, or its metadata changed)",
    "d: its exercise cell is missing (deleted, or its metadata changed)",
  ]);
  const solved = gradingNotebook(fixtureNotebook(), BOOK_ABC, { solutions: true });
  assert.deepEqual(solved.notebook.cells.map((c) => c.source), [
    "solution a",
    "check a",
    "solution b",
    "check b",
    "solution c",
    "check c",
  ]);
});

Deno.test("grade rules: a raising cell beats a verdict; no verdict is 'the check did not run'", () => {
  const plan = gradingNotebook(fixtureNotebook(), BOOK_ABC);
  const executed = structuredClone(plan.notebook);
  executed.cells[1].outputs = [verdictOutput("a", "wrong", "total([7]) should be 7")];
  executed.cells[4].outputs = [verdictOutput("b", "solved", "")];
  const raised = new Map([[3, "SyntaxError: Expression expected (line 2)"]]);
  const rows = gradeRows(plan, executed, raised);
  assert.deepEqual(rows.map((r) => [r.id, r.status, r.hint]), [
    ["a", "wrong", "total([7]) should be 7"],
    ["b", "wrong", "SyntaxError: Expression expected (line 2)"],
    ["c", "wrong", "the check did not run"],
    ["d", "wrong", "its exercise cell is missing (deleted, or its metadata changed)"],
  ]);
  const stopped = gradeRows(plan, executed, new Map(), {
    cellIndex: 7,
    reason: "the run stopped at cells[5]: the cell ran longer than 300 s",
  });
  assert.deepEqual(stopped.map((r) => r.status), ["wrong", "solved", "wrong", "wrong"]);
  assert.equal(stopped[2].hint, "the run stopped at cells[5]: the cell ran longer than 300 s");
});

Deno.test("proveNotebook: each variant's verdict comes back in order; a passing 'wrong answer' shows", async () => {
  const dir = await Deno.makeTempDir({ prefix: "proof-test-" });
  try {
    const path = await learnerCopy(dir, () => {});
    // A "wrong answer" that is in fact right: the proof must catch it.
    const book = await Deno.readTextFile(join(dir, "solutions", "grading_fixture.md"));
    const right = "```ts\nfunction countWords(text: string): number {\n" +
      '  return text.trim() === "" ? 0 : text.trim().split(/\\s+/).length;\n}\n```\n';
    await Deno.writeTextFile(
      join(dir, "solutions", "grading_fixture.md"),
      `${book}\n### wrong: not wrong at all\n\n${right}`,
    );
    const proof = await proveNotebook(path);
    assert.deepEqual(proof.errors, []);
    const seen = proof.steps.map((s) => [s.id, s.got.map((v) => v.status)]);
    assert.deepEqual(seen, [
      ["fx.1", ["not yet", "wrong", "wrong", "solved"]],
      ["fx.2", ["not yet", "wrong", "solved"]],
      ["fx.3", ["not yet", "wrong", "solved", "solved"]],
    ]);
    assert.deepEqual(
      proof.steps[2].expected.map((e) => `${e.variant} ${e.status}`),
      ["stub not yet", "wrong 1 wrong", "wrong 2 wrong", "solution solved"],
    );
    assert.match(proof.steps[0].got[1].hint, /Reduce of empty array with no initial value/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
