/**
 * The exercises' structure, read from the files without a kernel (fast):
 * every notebook in notebooks/ with exercise cells has a solutions book
 * (notebooks/solutions/<notebook>.md) whose entries match its exercises one
 * to one, each with at least one wrong answer; no shipped exercise cell
 * contains its solution; the convention's shapes hold (`exerciseProblems` in
 * lib/course/grading.ts says which). Every book belongs to a notebook. And the
 * course has enough of them: at least 3 exercises per module (module 1 =
 * notebooks 00 and 01, module 2 = 02a-02d together, module 3 = 03, module 4 =
 * 04) and at least 14 in all. The structure checks are shown to catch
 * mistakes planted in the fixture notebook's copy. That every check fails
 * for the stub and each wrong answer and passes for the solution is proven by
 * executing the proof notebooks, in tests/notebooks_test.ts.
 */
import assert from "node:assert/strict";
import { basename, join } from "node:path";
import {
  cellSource,
  type ExerciseKey,
  exerciseProblems,
  findExercises,
  type GradingNotebook,
  listNotebooks,
  NOTEBOOKS_DIR,
  notebooksWithExercises,
  parseSolutionBook,
  readNotebook,
  readSolutionBook,
  REPO_ROOT,
  solutionsBookPath,
} from "../lib/course/mod.ts";

const MIN_PER_MODULE = 3;
const MIN_TOTAL = 14;

/** The course module a notebook belongs to, from its number. */
function moduleOf(path: string): number {
  const n = Number(/^(\d\d)/.exec(basename(path))?.[1] ?? NaN);
  return n === 0 ? 1 : n;
}

Deno.test("exercises: every notebook with exercises and its solutions book agree", async (t) => {
  const notebooks = await notebooksWithExercises(NOTEBOOKS_DIR);
  for (const path of notebooks) {
    await t.step(basename(path), async () => {
      const book = await readSolutionBook(path);
      assert.ok(book, `${solutionsBookPath(path)} is missing`);
      const problems = exerciseProblems(await readNotebook(path), book);
      assert.deepEqual(problems, [], problems.join("\n"));
    });
  }
});

Deno.test("exercises: every solutions book belongs to a notebook with exercises", async () => {
  const withExercises = new Set(
    (await notebooksWithExercises(NOTEBOOKS_DIR)).map((p) => basename(p, ".ipynb")),
  );
  const orphans: string[] = [];
  try {
    for await (const entry of Deno.readDir(join(NOTEBOOKS_DIR, "solutions"))) {
      if (!entry.name.endsWith(".md")) continue;
      if (!withExercises.has(basename(entry.name, ".md"))) orphans.push(entry.name);
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  assert.deepEqual(orphans, [], `books without a notebook that has exercises: ${orphans}`);
});

Deno.test(
  `exercises: at least ${MIN_PER_MODULE} per module and ${MIN_TOTAL} in all`,
  async () => {
    const perModule = new Map<number, string[]>([[1, []], [2, []], [3, []], [4, []]]);
    for (const path of await listNotebooks(NOTEBOOKS_DIR)) {
      const ids = findExercises(await readNotebook(path)).map((e) => e.id);
      perModule.get(moduleOf(path))?.push(...ids);
    }
    const summary = [...perModule].map(([m, ids]) => `module ${m}: ${ids.length}`).join(", ");
    console.log(summary);
    for (const [m, ids] of perModule) {
      assert.ok(
        ids.length >= MIN_PER_MODULE,
        `module ${m} has ${ids.length} exercise(s) (${
          ids.join(", ")
        }), at least ${MIN_PER_MODULE} wanted`,
      );
    }
    const total = [...perModule.values()].flat().length;
    assert.ok(total >= MIN_TOTAL, `${total} exercises in all, at least ${MIN_TOTAL} wanted`);
  },
);

// ---------------------------------------------------------------- the checks can fail

const FIXTURE = join(REPO_ROOT, "tests", "fixtures", "grading_fixture.ipynb");

async function fixture(): Promise<{ nb: GradingNotebook; book: Map<string, ExerciseKey> }> {
  const nb = await readNotebook(FIXTURE);
  const book = parseSolutionBook(await Deno.readTextFile(solutionsBookPath(FIXTURE)));
  return { nb, book };
}

function exerciseCell(nb: GradingNotebook, id: string) {
  return nb.cells[findExercises(nb).find((e) => e.id === id)!.exerciseIndex];
}

Deno.test("exercises: the structure checks pass the fixture and catch planted mistakes", async (t) => {
  await t.step("the fixture as shipped has no problem", async () => {
    const { nb, book } = await fixture();
    assert.deepEqual(exerciseProblems(nb, book), []);
  });
  const cases: [string, (nb: GradingNotebook, book: Map<string, ExerciseKey>) => void, RegExp][] = [
    ["shipped solved", (nb, book) => {
      exerciseCell(nb, "fx.1").source = book.get("fx.1")!.solution;
    }, /fx\.1: the shipped cell contains its whole solution/],
    ["solution in a comment", (nb, book) => {
      const cell = exerciseCell(nb, "fx.3");
      const answer = book.get("fx.3")!.solution.split("\n").map((l) => `// ${l}`).join("\n");
      cell.source = `${cellSource(cell)}\n${answer}`;
    }, /fx\.3: the shipped cell contains its whole solution/],
    ["a stub without todo", (nb) => {
      const cell = exerciseCell(nb, "fx.2");
      cell.source = cellSource(cell).replace(/return todo\([^;]*;/s, "return 0;");
    }, /fx\.2: the shipped exercise cell does not call todo\("fx\.2", \.\.\.\)/],
    ["a top-level const", (nb) => {
      exerciseCell(nb, "fx.2").source = 'const mean = (_xs: number[]) => todo("fx.2", "x");';
    }, /fx\.2: the exercise cell has a top-level const/],
    ["no wrong answer", (_nb, book) => {
      const key = book.get("fx.2")!;
      book.set("fx.2", { ...key, wrong: [] });
    }, /fx\.2: the solutions book has no wrong answer/],
    ["a wrong answer that is the solution", (_nb, book) => {
      const key = book.get("fx.3")!;
      book.set("fx.3", { ...key, wrong: [{ why: "same", source: key.solution }] });
    }, /fx\.3: wrong answer 1 \(same\) is the solution itself/],
    ["a book entry without an exercise", (_nb, book) => {
      book.set("fx.9", { ...book.get("fx.1")!, id: "fx.9" });
    }, /the solutions book has fx\.9, the notebook does not/],
    ["an exercise without a book entry", (_nb, book) => {
      book.delete("fx.3");
    }, /fx\.3 has no entry in the solutions book/],
    ["titles that differ", (_nb, book) => {
      book.set("fx.1", { ...book.get("fx.1")!, title: "Sum" });
    }, /fx\.1: titled "Total" in the notebook, "Sum" in the book/],
  ];
  for (const [name, plant, expected] of cases) {
    await t.step(name, async () => {
      const { nb, book } = await fixture();
      plant(nb, book);
      const problems = exerciseProblems(nb, book);
      assert.ok(problems.some((p) => expected.test(p)), `expected ${expected}, got ${problems}`);
    });
  }
});
