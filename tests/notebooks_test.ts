/**
 * Integration: every notebook in notebooks/ is committed stripped,
 * type-checks (with its reference solutions swapped in, too), and runs ONCE
 * to the end on the Deno kernel against the live stack, with no cell raising.
 * New notebooks are picked up by themselves (one step each).
 *
 * A notebook with exercises runs as its proof notebook (`proofNotebook` in
 * lib/course/grading.ts), which doubles as its end-to-end run: after each
 * check (which must say "not yet" for the shipped stub) every wrong answer of
 * notebooks/solutions/<notebook>.md is defined and checked (each must say
 * "wrong"), then the reference solution ("solved"), so the cells after it run
 * on the solution; one step per exercise checks that sequence of verdicts.
 * The run goes top to bottom from a fresh kernel, so it also shows that every
 * exercise cell runs after a kernel restart followed by running the cells
 * above it. Solved notebooks are never committed: the solutions are injected
 * in the copy that runs. A notebook without exercises runs as shipped.
 *
 * The notebooks in {@linkcode RERUN} run their proof a second time right after
 * the first, in a fresh kernel: "Restart and run all" twice in a row must
 * work (fresh names per run, nothing left running). Both run times are
 * printed, not asserted.
 */
import assert from "node:assert/strict";
import { basename, dirname, join, relative } from "node:path";
import {
  checkNotebook,
  hasExercises,
  isStripped,
  listNotebooks,
  NOTEBOOKS_DIR,
  proveNotebook,
  readNotebook,
  readSolutionBook,
  REPO_ROOT,
  runNotebook,
  withSources,
  writeCourseHtml,
} from "../lib/course/mod.ts";
import { requireKafka } from "./support.ts";

const notebooks = await listNotebooks(NOTEBOOKS_DIR);
/** Notebooks whose proof runs twice in a row (see the module doc). */
const RERUN = new Set(["04_shopstream_pipeline.ipynb"]);
const SAVE_DIR = join(REPO_ROOT, ".cache", "notebooks");

/** Outputs that show a raw kafkajs log line (expected faults must read as one line each). */
async function rawClientLogs(savedTo: string | undefined): Promise<string[]> {
  if (!savedTo) return [];
  const found: string[] = [];
  (await readNotebook(savedTo)).cells.forEach((cell, i) => {
    for (const output of cell.outputs ?? []) {
      const text = JSON.stringify(output);
      if (text.includes("[kafkajs")) found.push(`cells[${i}]: ${text.slice(0, 160)}`);
    }
  });
  return found;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** Type-checks the notebook with its exercise cells replaced by the reference solutions. */
async function checkSolved(path: string): Promise<void> {
  const book = await readSolutionBook(path);
  if (!book) return; // tests/exercises_test.ts reports the missing book
  const solved = withSources(
    await readNotebook(path),
    new Map([...book].map(([id, key]) => [id, key.solution])),
  );
  const dir = await Deno.makeTempDir({ prefix: "notebook-solved-" });
  try {
    const copy = join(dir, basename(path));
    await Deno.writeTextFile(copy, JSON.stringify(solved));
    await checkNotebook(copy, { baseDir: dirname(path) });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("notebooks execute", async (t) => {
  assert.ok(notebooks.length > 0, `no notebooks found in ${NOTEBOOKS_DIR}`);
  await t.step("every notebook is committed stripped", async () => {
    const dirty: string[] = [];
    for (const path of notebooks) {
      if (!isStripped(await Deno.readTextFile(path))) dirty.push(relative(REPO_ROOT, path));
    }
    assert.deepEqual(
      dirty,
      [],
      `not stripped: ${dirty.join(", ")}; run \`deno task notebooks strip\``,
    );
  });
  await t.step("every notebook type-checks (deno check of its code cells)", async () => {
    for (const path of notebooks) await checkNotebook(path);
  });
  await t.step("every notebook type-checks with its reference solutions in", async () => {
    for (const path of notebooks) {
      if (hasExercises(await readNotebook(path))) await checkSolved(path);
    }
  });
  await requireKafka();
  for (const path of notebooks) {
    const name = relative(REPO_ROOT, path);
    if (!hasExercises(await readNotebook(path))) {
      await t.step(name, async () => {
        const result = await runNotebook(path, { saveDir: SAVE_DIR });
        console.log(`${name}: ${seconds(result.wallMs)}, ${result.codeCells} code cells`);
        assert.deepEqual(await rawClientLogs(result.savedTo), [], "raw [kafkajs ...] output");
      });
      continue;
    }
    const runs = RERUN.has(basename(path)) ? 2 : 1;
    const times: string[] = [];
    for (let run = 1; run <= runs; run++) {
      const what = run === 1
        ? "proof run: stubs, wrong answers, solutions"
        : "proof run again, fresh kernel";
      await t.step(`${name} (${what})`, async (t) => {
        const proof = await proveNotebook(path, { saveDir: SAVE_DIR });
        times.push(seconds(proof.wallMs));
        console.log(
          `${name}: proof run ${run} of ${runs} ${
            seconds(proof.wallMs)
          }, ${proof.codeCells} code cells, ` +
            `${proof.steps.length} exercises` +
            (run > 1 ? ` (run times: ${times.join(", ")})` : ""),
        );
        for (const step of proof.steps) {
          const wrong = step.expected.filter((e) => e.variant.startsWith("wrong")).length;
          const label = `${step.id}: stub not yet, ${wrong} wrong answer${
            wrong === 1 ? "" : "s"
          } wrong, solution solved`;
          await t.step(label, () => {
            const lines = step.expected.map((e, i) => {
              const got = step.got[i];
              const mark = got?.status === e.status ? "ok  " : "FAIL";
              return `${mark} ${e.variant}: expected ${e.status}, got ${got?.status ?? "nothing"}` +
                (got?.hint ? ` (${got.hint})` : "");
            });
            assert.deepEqual(
              step.got.map((v) => v.status),
              step.expected.map((e) => e.status),
              lines.join("\n"),
            );
          });
        }
        await t.step("no raw kafkajs log line in any output", async () => {
          assert.deepEqual(await rawClientLogs(proof.savedTo), []);
        });
        await t.step("no cell raised", () => {
          assert.deepEqual(
            proof.errors,
            [],
            `cells that raised in the proof run:\n${proof.errors.join("\n")}`,
          );
        });
      });
    }
  }
  await t.step("notebooks html: a page per notebook with its charts, and an index", async () => {
    const outDir = await Deno.makeTempDir({ prefix: "notebooks-html-" });
    try {
      const site = await writeCourseHtml(notebooks, { outDir, fromDir: SAVE_DIR });
      assert.equal(site.pages.length, notebooks.length);
      const index = await Deno.readTextFile(site.index);
      for (const page of site.pages) {
        const html = await Deno.readTextFile(page.page);
        assert.ok(index.includes(basename(page.page)), `index links ${basename(page.page)}`);
        const embedded = (html.match(/<svg[\s>]|<img alt="chart"/g) ?? []).length;
        assert.ok(
          embedded >= page.charts,
          `${basename(page.page)}: ${page.charts} chart(s) executed, ${embedded} on the page`,
        );
      }
      const charts = site.pages.reduce((n, p) => n + p.charts, 0);
      assert.ok(charts > 0, "the executed notebooks hold charts, and the pages show them");
    } finally {
      await Deno.remove(outDir, { recursive: true });
    }
  });
});
