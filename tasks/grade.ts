/**
 * `deno task grade [notebook...] [--solutions]`: grade the exercises of the
 * notebooks (default: every notebooks/*.ipynb with exercise cells) on the
 * Deno kernel; one row per exercise, then `N passed, N failed`. Exit 0 when
 * every exercise is solved, 1 otherwise, 2 on a usage error. Logic:
 * lib/course/grade.ts.
 *
 * @example
 * ```sh
 * deno task grade notebooks/01_basic_concepts.ipynb
 * ```
 *
 * @module
 */
import { dirname, join, resolve } from "node:path";
import { loadConfig } from "../lib/config.ts";
import {
  countGrades,
  formatNotebookGrade,
  gradeNotebook,
  hasExercises,
  type NotebookGrade,
  NOTEBOOKS_DIR,
  NotebookSetupError,
  notebooksWithExercises,
  readNotebook,
  REPO_ROOT,
} from "../lib/course/mod.ts";
import { checkHealth } from "../lib/observe/mod.ts";
import { openStack } from "../lib/stack/mod.ts";
import { defineCli, UsageError } from "../lib/util/mod.ts";

const USAGE = `usage: deno task grade [notebook...] [--solutions]

Executes each notebook on the Deno kernel and prints one row per exercise: its id,
title, status (solved, not yet, wrong) and, when not solved, the check's hint; ends
with "N passed, N failed". An exercise that fails does not stop the others: after
each check the reference solution (notebooks/solutions/<notebook>.md) is defined
again, so later cells run on a correct definition.

  notebook      default: every notebooks/*.ipynb that has exercise cells
  --solutions   grade the reference solutions instead of your code

The course's notebooks need the stack: it is started when it is not up.
Executed copies go to .cache/grade/. Exit 0 when every exercise is solved, else 1.`;

interface GradeFlags {
  paths: string[];
  solutions: boolean;
}

/** The command line of `deno task grade`. */
export const CLI = defineCli({
  name: "grade",
  usage: USAGE,
  flags: { solutions: { type: "boolean" } },
  args: { name: "notebook" },
});

function flagsOf(args: string[], solutions: boolean | undefined): GradeFlags {
  for (const p of args) {
    if (!p.endsWith(".ipynb")) throw new UsageError(`${p} is not a notebook (.ipynb)`);
  }
  return { paths: args.map((p) => resolve(p)), solutions: solutions ?? false };
}

async function ensureStack(paths: string[]): Promise<void> {
  if (!paths.some((p) => dirname(p) === NOTEBOOKS_DIR)) return;
  const config = loadConfig();
  if ((await checkHealth(config)).ok) return;
  console.log("the stack is not (all) up: starting it");
  const stack = await openStack(config, { log: (l) => console.log(`  ${l}`) });
  await stack.up();
}

async function grade(flags: GradeFlags): Promise<number> {
  for (const path of flags.paths) {
    let problem = "";
    try {
      if (!hasExercises(await readNotebook(path))) problem = `${path} has no exercise cells`;
    } catch (e) {
      problem = e instanceof Deno.errors.NotFound ? `${path} does not exist` : (e as Error).message;
    }
    if (problem) {
      console.error(`grade: ${problem}\n\n${USAGE}`);
      return 2;
    }
  }
  const paths = flags.paths.length > 0 ? flags.paths : await notebooksWithExercises();
  if (paths.length === 0) {
    console.log("no notebook in notebooks/ has exercise cells\n0 passed, 0 failed");
    return 1;
  }
  try {
    await ensureStack(paths);
  } catch (e) {
    console.error(`the stack did not come up: ${(e as Error).message}`);
    return 1;
  }
  const grades: NotebookGrade[] = [];
  const saveDir = join(REPO_ROOT, ".cache", "grade");
  for (const path of paths) {
    try {
      const g = await gradeNotebook(path, { solutions: flags.solutions, saveDir });
      grades.push(g);
      console.log(formatNotebookGrade(g) + "\n");
    } catch (e) {
      if (!(e instanceof NotebookSetupError)) throw e;
      console.error(e.message);
      return 1;
    }
  }
  const { passed, failed } = countGrades(grades);
  console.log(`${passed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

if (import.meta.main) {
  Deno.exit(
    await CLI.run(Deno.args, async ({ values, args }) => {
      let flags: GradeFlags;
      try {
        flags = flagsOf(args, values.solutions);
      } catch (e) {
        if (!(e instanceof UsageError)) throw e;
        console.error(`grade: ${e.message}\n\n${USAGE}`);
        return 2;
      }
      return await grade(flags);
    }),
  );
}
