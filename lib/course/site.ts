/**
 * The course as a static site: every notebook executed (or an executed copy
 * reused) and written as an HTML page beside an index, so the course can be
 * read without running it. Exercise notebooks are executed as a learner's
 * would be graded: the stubs stay visible with their "not yet" checks, and the
 * reference solutions the grader defines after each check (so that later
 * cells have working code) are left out of the page.
 *
 * @example
 * ```ts
 * import { writeCourseHtml } from "./site.ts";
 * const site = await writeCourseHtml(["notebooks/01_basic_concepts.ipynb"], { outDir: ".cache/html" });
 * console.log(site.index);
 * ```
 *
 * @module
 */
import { basename, join } from "node:path";
import { pathExists } from "../util/mod.ts";
import { gradeNotebook, hasExercises, readNotebook } from "./grade.ts";
import type { GradingNotebook } from "./grading.ts";
import { runNotebook } from "./notebooks.ts";
import { notebookTitle, renderIndexHtml, renderNotebookHtml } from "./render.ts";

/** Cells the grader and the proof run add; never shown on a page. */
export const HIDDEN_TAGS: readonly string[] = ["grading", "proof"];

/** Options for {@linkcode writeCourseHtml}. */
export interface CourseHtmlOptions {
  /** Where the pages go (created when missing). */
  outDir: string;
  /** Reuse executed copies named `<notebook>.ipynb` from this folder instead of running. */
  fromDir?: string;
  /** Progress lines. */
  log?: (line: string) => void;
}

/** What {@linkcode writeCourseHtml} wrote. */
export interface CourseHtml {
  /** The index page's path. */
  index: string;
  /** One entry per notebook: its page and how many charts the page embeds. */
  pages: { notebook: string; page: string; title: string; charts: number }[];
}

async function executed(
  path: string,
  options: CourseHtmlOptions,
  runDir: string,
): Promise<GradingNotebook> {
  const stem = basename(path, ".ipynb");
  if (options.fromDir) {
    const copy = join(options.fromDir, `${stem}.ipynb`);
    if (!(await pathExists(copy))) {
      throw new Error(`no executed copy of ${stem} in ${options.fromDir}`);
    }
    return await readNotebook(copy);
  }
  options.log?.(`running ${stem} ...`);
  if (hasExercises(await readNotebook(path))) {
    const grade = await gradeNotebook(path, { saveDir: runDir });
    if (!grade.savedTo) {
      throw new Error(`${stem} did not run: ${grade.error ?? "no executed copy"}`);
    }
    return await readNotebook(grade.savedTo);
  }
  const result = await runNotebook(path, { saveDir: runDir });
  return await readNotebook(result.savedTo!);
}

/**
 * Counts the charts (SVG or PNG outputs) of an executed notebook's visible cells.
 *
 * @example
 * ```ts
 * import { countCharts } from "./site.ts";
 * console.log(countCharts({ cells: [] })); // 0
 * ```
 */
export function countCharts(notebook: GradingNotebook): number {
  let charts = 0;
  for (const cell of notebook.cells) {
    if ((cell.metadata?.tags ?? []).some((t) => HIDDEN_TAGS.includes(t))) continue;
    for (const output of cell.outputs ?? []) {
      const data = output.data ?? {};
      if (data["image/svg+xml"] !== undefined || data["image/png"] !== undefined) charts++;
      else if (typeof data["text/html"] === "string" || Array.isArray(data["text/html"])) {
        const html = [data["text/html"]].flat().join("");
        charts += (html.match(/<svg[\s>]/g) ?? []).length;
      }
    }
  }
  return charts;
}

/**
 * Writes one HTML page per notebook and an index into `outDir`.
 *
 * @example
 * ```ts
 * import { writeCourseHtml } from "./site.ts";
 * const site = await writeCourseHtml(["notebooks/00_getting_started.ipynb"], {
 *   outDir: ".cache/html",
 *   fromDir: ".cache/notebooks",
 * });
 * console.log(site.pages.map((p) => `${p.title}: ${p.charts} charts`));
 * ```
 */
export async function writeCourseHtml(
  notebooks: readonly string[],
  options: CourseHtmlOptions,
): Promise<CourseHtml> {
  await Deno.mkdir(options.outDir, { recursive: true });
  const runDir = join(options.outDir, ".executed");
  const pages: CourseHtml["pages"] = [];
  for (const path of notebooks) {
    const stem = basename(path, ".ipynb");
    const notebook = await executed(path, options, runDir);
    const title = notebookTitle(notebook, stem);
    const page = join(options.outDir, `${stem}.html`);
    await Deno.writeTextFile(page, renderNotebookHtml(notebook, { title, hideTags: HIDDEN_TAGS }));
    pages.push({ notebook: path, page, title, charts: countCharts(notebook) });
  }
  const index = join(options.outDir, "index.html");
  await Deno.writeTextFile(
    index,
    renderIndexHtml(pages.map((p) => ({ href: basename(p.page), title: p.title }))),
  );
  return { index, pages };
}
