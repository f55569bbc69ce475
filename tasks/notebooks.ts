/**
 * `deno task notebooks run [paths...]`: execute notebooks headlessly on the Deno kernel.
 * `deno task notebooks strip [--check] [paths...]`: strip outputs (or, with --check,
 * list the notebooks that still have them and exit 1).
 * `deno task notebooks check [paths...]`: type-check the code cells with `deno check`.
 *
 * Without paths: every notebooks/*.ipynb, sorted. Logic: lib/course/notebooks.ts.
 *
 * @module
 */
import { relative, resolve } from "node:path";
import {
  checkNotebook,
  INSTALL_HINT,
  listNotebooks,
  NotebookError,
  NotebookSetupError,
  REPO_ROOT,
  runNotebook,
  stripFiles,
  writeCourseHtml,
} from "../lib/course/mod.ts";
import { defineCommands } from "../lib/util/mod.ts";

const USAGE = `usage:
  deno task notebooks run [--timeout SEC] [--cwd DIR] [--no-save] [paths...]
  deno task notebooks strip [--check] [paths...]
  deno task notebooks check [--cwd DIR] [paths...]
  deno task notebooks html [--out DIR] [--from DIR] [paths...]

run     executes each notebook on the Deno kernel (cwd: the notebook's folder unless --cwd),
        stops at the first failing cell (cells[i] is 0-based), saves executed copies
        under .cache/notebooks/ (--no-save: don't); --timeout is per cell, default 300 s
strip   removes outputs and run metadata in place; --check only lists unstripped files
check   type-checks each notebook's code cells as one module (the kernel itself does not)
html    writes each notebook, executed, as a static HTML page plus an index (default --out
        .cache/html): charts embedded, exercises as a learner sees them before solving
        (the grader's reference cells are not shown); --from DIR renders executed copies
        found there (e.g. .cache/notebooks after \`deno task test\`) instead of running
paths   default: every notebooks/*.ipynb
jupyter ${INSTALL_HINT}`;

/** The command line of `deno task notebooks`. */
export const CLI = defineCommands({
  name: "notebooks",
  usage: USAGE,
  commands: {
    run: {
      flags: {
        timeout: { type: "number", above: 0, default: 300 },
        cwd: { type: "string" },
        "no-save": { type: "boolean" },
      },
      args: { name: "paths" },
    },
    strip: { flags: { check: { type: "boolean" } }, args: { name: "paths" } },
    check: { flags: { cwd: { type: "string" } }, args: { name: "paths" } },
    html: {
      flags: { out: { type: "string", default: ".cache/html" }, from: { type: "string" } },
      args: { name: "paths" },
    },
  },
});

type Parsed<C extends string> = Extract<ReturnType<typeof CLI.parse>, { command: C }>;

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function shown(path: string): string {
  return relative(Deno.cwd(), path) || path;
}

async function paths(args: string[]): Promise<string[]> {
  return args.length > 0 ? args.map((p) => resolve(p)) : await listNotebooks();
}

async function run({ values, args }: Parsed<"run">): Promise<number> {
  const timeout = values.timeout;
  const save = !values["no-save"];
  const cwd = values.cwd === undefined ? undefined : resolve(values.cwd);
  const notebooks = await paths(args);
  if (notebooks.length === 0) {
    console.error("no notebooks found");
    return 1;
  }
  const saveDir = save ? resolve(REPO_ROOT, ".cache/notebooks") : undefined;
  const total = performance.now();
  for (const [i, path] of notebooks.entries()) {
    const tag = `[${i + 1}/${notebooks.length}] ${shown(path)}`;
    try {
      const r = await runNotebook(path, { cellTimeoutSec: timeout, saveDir, cwd });
      const slow = r.slowestCell
        ? `, slowest cells[${r.slowestCell.index}] ${seconds(r.slowestCell.ms)}`
        : "";
      console.log(
        `ok   ${tag}  ${seconds(r.wallMs)}  (${r.codeCells} code cells, kernel start ${
          seconds(r.kernelStartMs)
        }${slow})`,
      );
    } catch (e) {
      if (e instanceof NotebookError) {
        console.log(`FAIL ${tag}`);
        console.error(e.message);
        return 1;
      }
      if (e instanceof NotebookSetupError) {
        console.error(e.message);
        return 3;
      }
      throw e;
    }
  }
  console.log(`${notebooks.length} notebook(s) ran in ${seconds(performance.now() - total)}`);
  return 0;
}

async function strip({ values, args }: Parsed<"strip">): Promise<number> {
  const check = values.check;
  const results = await stripFiles(await paths(args), { check });
  let bad = 0;
  for (const r of results) {
    if (r.error) {
      bad++;
      console.error(`error    ${shown(r.path)}: ${r.error}`);
    } else if (r.changed) {
      if (check) bad++;
      console.log(`${check ? "unstripped" : "stripped"} ${shown(r.path)}`);
    }
  }
  if (check && bad > 0) {
    console.error(`${bad} notebook(s) not stripped: run \`deno task notebooks strip\``);
  } else if (bad === 0) {
    const clean = results.filter((r) => !r.changed).length;
    console.log(`${results.length} notebook(s) checked, ${clean} already stripped`);
  }
  return bad > 0 ? 1 : 0;
}

async function check({ values, args }: Parsed<"check">): Promise<number> {
  let failed = 0;
  const baseDir = values.cwd === undefined ? undefined : resolve(values.cwd);
  for (const path of await paths(args)) {
    try {
      await checkNotebook(path, { baseDir });
      console.log(`ok   ${shown(path)}`);
    } catch (e) {
      if (!(e instanceof NotebookError)) throw e;
      failed++;
      console.log(`FAIL ${shown(path)}`);
      console.error(e.message);
    }
  }
  return failed > 0 ? 1 : 0;
}

async function html({ values, args }: Parsed<"html">): Promise<number> {
  const site = await writeCourseHtml(await paths(args), {
    outDir: resolve(values.out),
    fromDir: values.from === undefined ? undefined : resolve(values.from),
    log: (line) => console.log(line),
  });
  for (const p of site.pages) {
    console.log(`wrote ${shown(p.page)}  (${p.title}; ${p.charts} chart(s))`);
  }
  console.log(`index: ${shown(site.index)}`);
  return 0;
}

if (import.meta.main) {
  Deno.exit(
    await CLI.run(Deno.args, (cli) => {
      switch (cli.command) {
        case "run":
          return run(cli);
        case "strip":
          return strip(cli);
        case "check":
          return check(cli);
        case "html":
          return html(cli);
      }
    }),
  );
}
