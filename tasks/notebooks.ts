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
} from "../lib/course/mod.ts";

const USAGE = `usage:
  deno task notebooks run [--timeout SEC] [--cwd DIR] [--no-save] [paths...]
  deno task notebooks strip [--check] [paths...]
  deno task notebooks check [--cwd DIR] [paths...]

run     executes each notebook on the Deno kernel (cwd: the notebook's folder unless --cwd),
        stops at the first failing cell (cells[i] is 0-based), saves executed copies
        under .cache/notebooks/ (--no-save: don't); --timeout is per cell, default 300 s
strip   removes outputs and run metadata in place; --check only lists unstripped files
check   type-checks each notebook's code cells as one module (the kernel itself does not)
paths   default: every notebooks/*.ipynb
jupyter ${INSTALL_HINT}`;

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function shown(path: string): string {
  return relative(Deno.cwd(), path) || path;
}

async function paths(args: string[]): Promise<string[]> {
  return args.length > 0 ? args.map((p) => resolve(p)) : await listNotebooks();
}

async function run(args: string[]): Promise<number> {
  let timeout = 300;
  let save = true;
  let cwd: string | undefined;
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--timeout") timeout = Number(args[++i]);
    else if (args[i] === "--no-save") save = false;
    else if (args[i] === "--cwd") cwd = resolve(args[++i]);
    else rest.push(args[i]);
  }
  if (!Number.isFinite(timeout) || timeout <= 0) {
    console.error("--timeout needs a positive number of seconds");
    return 2;
  }
  const notebooks = await paths(rest);
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

async function strip(args: string[]): Promise<number> {
  const check = args.includes("--check");
  const results = await stripFiles(await paths(args.filter((a) => a !== "--check")), { check });
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

async function check(args: string[]): Promise<number> {
  let failed = 0;
  let baseDir: string | undefined;
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--cwd") baseDir = resolve(args[++i]);
    else rest.push(args[i]);
  }
  for (const path of await paths(rest)) {
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

if (import.meta.main) {
  const [command, ...args] = Deno.args;
  if (command === "run") Deno.exit(await run(args));
  if (command === "strip") Deno.exit(await strip(args));
  if (command === "check") Deno.exit(await check(args));
  console.error(USAGE);
  Deno.exit(command === undefined || command === "--help" || command === "-h" ? 0 : 2);
}
