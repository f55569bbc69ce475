/**
 * The course notebooks as code: run them headlessly on the Deno kernel, and
 * keep them committed without outputs.
 *
 * Running goes through a small Python driver beside this file
 * (`run_notebook.py`) that uses Jupyter's own `nbclient`, started with the
 * Python `./jupyter.ts` picks (or sets up, in `.cache/jupyter-venv`, on first
 * use). The committed notebook is never written: the driver executes a copy in
 * memory and, if asked, saves that copy elsewhere.
 *
 * Stripping removes outputs, execution counts and editor metadata, and writes
 * the file in the exact layout Jupyter itself writes (1-space indent, sorted
 * keys, sources split into lines, trailing newline), so a notebook saved from
 * Jupyter and a stripped one differ only in what stripping removes.
 *
 * @example
 * ```ts
 * import { listNotebooks, runNotebook } from "./notebooks.ts";
 * for (const path of await listNotebooks()) {
 *   const result = await runNotebook(path);
 *   console.log(path, result.wallMs);
 * }
 * ```
 *
 * @module
 */
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { pathExists as exists, REPO_ROOT } from "../util/repo.ts";
import { INSTALL_HINT, jupyterPython, NotebookSetupError } from "./jupyter.ts";

export { REPO_ROOT };
export { DEFAULT_PYTHON, INSTALL_HINT, NotebookSetupError } from "./jupyter.ts";

/** Where the course notebooks live. */
export const NOTEBOOKS_DIR: string = join(REPO_ROOT, "notebooks");

/** The Python driver that executes one notebook with nbclient. */
export const DRIVER_PATH: string = fileURLToPath(new URL("./run_notebook.py", import.meta.url));

/** Why a notebook run failed. */
export type NotebookFailureKind =
  | "error"
  | "timeout"
  | "startup"
  | "dead-kernel"
  | "kernel"
  | "aborted"
  | "typecheck"
  | "driver";

/**
 * A notebook that did not run to the end. For a failing cell, `cellIndex` is
 * its 0-based position in the notebook, `firstLine` the first non-blank line
 * of its source, `ename`/`evalue` the error the kernel reported.
 *
 * @example
 * ```ts
 * import { NotebookError, runNotebook } from "./notebooks.ts";
 * try {
 *   await runNotebook("notebooks/00_getting_started.ipynb");
 * } catch (e) {
 *   if (e instanceof NotebookError) console.log(e.cellIndex, e.ename, e.evalue);
 * }
 * ```
 */
export class NotebookError extends Error {
  /** Where it failed, why, and the error as the kernel reported it. */
  constructor(
    readonly notebook: string,
    readonly kind: NotebookFailureKind,
    readonly cellIndex: number | null,
    readonly firstLine: string,
    readonly ename: string,
    readonly evalue: string,
    readonly traceback: string,
    readonly savedTo?: string,
  ) {
    const where = cellIndex === null
      ? ""
      : ` cells[${cellIndex}]${firstLine ? ` \`${firstLine}\`` : ""}`;
    const saved = savedTo ? `\n  executed copy: ${savedTo}` : "";
    const trace = traceback.trim() ? `\n${indent(lastLines(traceback, 60))}` : "";
    super(
      `${notebook}:${where} ${
        kind === "error" ? "" : `[${kind}] `
      }${ename}: ${evalue}${saved}${trace}`,
    );
    this.name = "NotebookError";
  }
}

/** A notebook file whose JSON is not a notebook. */
export class NotebookFormatError extends Error {
  /** An error with this message. */
  constructor(message: string) {
    super(message);
    this.name = "NotebookFormatError";
  }
}

/** Options for {@linkcode runNotebook}. */
export interface RunNotebookOptions {
  /** The interpreter with nbclient; default: what {@linkcode jupyterPython} picks. */
  python?: string;
  /** The runner's own virtual environment, if one is needed; default `.cache/jupyter-venv`. */
  venvDir?: string;
  /** Kernelspec name; default `deno`. */
  kernel?: string;
  /** Seconds one cell may run; default 300. */
  cellTimeoutSec?: number;
  /** Seconds the kernel may take to start; default 120. */
  startupTimeoutSec?: number;
  /** The kernel's working directory; default the notebook's own folder. */
  cwd?: string;
  /** Folder to save the executed copy in (outputs included); default: not saved. */
  saveDir?: string;
  /** Install the `deno` kernelspec when it is missing; default true. */
  installKernel?: boolean;
  /** Stops the run: the driver shuts the kernel down, and the call rejects with the reason. */
  signal?: AbortSignal;
  /**
   * Record a cell that raises (in {@linkcode NotebookRunResult.cellErrors}) and
   * go on with the next one, instead of stopping there; default false. A
   * timeout or a dead kernel still stops the run.
   */
  continueOnError?: boolean;
}

/** A cell that raised during a run with `continueOnError`. */
export interface CellError {
  /** Its 0-based position in the notebook. */
  readonly cellIndex: number;
  /** The first non-blank line of its source. */
  readonly firstLine: string;
  /** The error's name, e.g. `TypeError`. */
  readonly ename: string;
  /** The error's message. */
  readonly evalue: string;
}

/** A notebook that ran to the end. */
export interface NotebookRunResult {
  /** The path as given. */
  readonly path: string;
  /** Wall time of the whole run, driver start to exit. */
  readonly wallMs: number;
  /** Time until the kernel answered. */
  readonly kernelStartMs: number;
  /** Cells in the notebook. */
  readonly cells: number;
  /** Code cells in the notebook. */
  readonly codeCells: number;
  /** The slowest code cell: 0-based index and milliseconds. */
  readonly slowestCell: { readonly index: number; readonly ms: number } | null;
  /** Where the executed copy went, when `saveDir` was given. */
  readonly savedTo?: string;
  /** The cells that raised (only with `continueOnError`; otherwise the run throws). */
  readonly cellErrors: readonly CellError[];
}

interface DriverError {
  kind: NotebookFailureKind;
  cellIndex: number | null;
  firstLine: string;
  ename: string;
  evalue: string;
  traceback: string;
}

interface DriverSummary {
  ok: boolean;
  cellCount: number;
  codeCells: number;
  kernelStartMs: number | null;
  wallMs: number;
  cellMs: [number, number][];
  cellErrors?: CellError[];
  error?: DriverError;
}

// deno-lint-ignore no-control-regex
const ANSI = /\x1b\[[0-9;?]*[ -/]*[@-~]/g;

function indent(text: string): string {
  return text.split("\n").map((l) => `    ${l}`).join("\n");
}

function lastLines(text: string, n: number): string {
  const lines = text.trimEnd().split("\n");
  return (lines.length > n ? ["...", ...lines.slice(-n)] : lines).join("\n");
}

async function driver(
  python: string,
  args: string[],
  cwd: string,
  signal?: AbortSignal,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(python, {
    args: [DRIVER_PATH, ...args],
    cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal,
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b).replace(ANSI, "");
  const stdout = decode(out.stdout);
  const stderr = decode(out.stderr);
  if (out.code === 3) {
    throw new NotebookSetupError(
      stderr.trim() ||
        `${python} has no nbclient/jupyter_client. Needed: ${INSTALL_HINT}`,
    );
  }
  return { code: out.code, stdout, stderr };
}

/**
 * The installed Jupyter kernelspecs, as name to launch command (argv).
 *
 * @example
 * ```ts
 * import { listKernelspecs } from "./notebooks.ts";
 * const specs = await listKernelspecs();
 * console.log("deno" in specs);
 * ```
 */
export async function listKernelspecs(
  options: { python?: string; venvDir?: string } = {},
): Promise<Record<string, string[]>> {
  const python = await jupyterPython(options);
  const { code, stdout, stderr } = await driver(python, ["kernels"], REPO_ROOT);
  if (code !== 0) {
    throw new NotebookSetupError(`listing Jupyter kernelspecs failed (exit ${code}): ${stderr}`);
  }
  return JSON.parse(stdout) as Record<string, string[]>;
}

const ensured = new Map<string, Promise<void>>();

/**
 * Makes sure the Deno kernelspec is installed and points at a deno binary
 * that exists; runs `deno jupyter --install` (with the running deno) when not.
 * "Installed" means: visible to the Jupyter of the Python the runner uses.
 * `deno jupyter --install` writes to the user's Jupyter data folder, which
 * every environment searches unless told otherwise (`JUPYTER_DATA_DIR`); when
 * the runner's Python still does not see the kernel and runs in a virtual
 * environment, the same kernelspec is installed into that environment.
 * Checked once per process, interpreter and kernel name.
 *
 * @example
 * ```ts
 * import { ensureKernelspec } from "./notebooks.ts";
 * await ensureKernelspec(); // installs ~/.local/share/jupyter/kernels/deno if needed
 * ```
 */
export async function ensureKernelspec(
  options: { python?: string; venvDir?: string; kernel?: string } = {},
): Promise<void> {
  const kernel = options.kernel ?? "deno";
  const python = await jupyterPython(options);
  const key = `${python}\0${kernel}`;
  let pending = ensured.get(key);
  if (!pending) {
    pending = installIfMissing(python, kernel);
    pending.catch(() => ensured.delete(key));
    ensured.set(key, pending);
  }
  return pending;
}

async function installIfMissing(python: string, kernel: string): Promise<void> {
  const options = { python };
  const before = await listKernelspecs(options);
  const argv = before[kernel];
  if (argv && argv.length > 0 && await exists(argv[0])) return;
  const args = ["jupyter", "--install", "--name", kernel];
  if (argv) args.push("--force"); // installed, but its deno binary is gone
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stderr).replace(ANSI, "");
  if ((await listKernelspecs(options))[kernel]) return;
  // deno writes to the user's Jupyter folder, which this Python's Jupyter does
  // not search (e.g. JUPYTER_DATA_DIR is set): install the same kernelspec into
  // its environment's own folder.
  const spec = await Deno.makeTempDir({ prefix: "deno-kernelspec-" });
  try {
    await Deno.writeTextFile(
      join(spec, "kernel.json"),
      JSON.stringify({
        argv: [Deno.execPath(), "jupyter", "--kernel", "--conn", "{connection_file}"],
        display_name: "Deno",
        language: "typescript",
      }),
    );
    const into = await driver(python, ["install-kernel", spec, "--name", kernel], REPO_ROOT);
    if (into.code === 0 && (await listKernelspecs(options))[kernel]) return;
    throw new NotebookSetupError(
      `could not install the Deno Jupyter kernel "${kernel}" where ${python} looks for it: ` +
        `\`${Deno.execPath()} ${args.join(" ")}\` said ${
          text.trim().split("\n").filter((l) => !/is unstable/.test(l)).join(" ") ||
          `exit ${out.code}`
        }; installing it into the environment said ${into.stderr.trim() || `exit ${into.code}`}`,
    );
  } finally {
    await Deno.remove(spec, { recursive: true }).catch(() => {});
  }
}

/**
 * Executes a notebook headlessly on the Deno kernel and resolves when every
 * cell ran. Throws {@linkcode NotebookError} at the first failing cell (with
 * `continueOnError`, only when the run cannot go on: a timeout, a dead
 * kernel) and {@linkcode NotebookSetupError} when no Python with Jupyter can
 * be found or set up, or the kernel is missing.
 * The notebook file is only read.
 *
 * @example
 * ```ts
 * import { runNotebook } from "./notebooks.ts";
 * const r = await runNotebook("notebooks/00_getting_started.ipynb", {
 *   saveDir: ".cache/notebooks",
 * });
 * console.log(`${r.codeCells} code cells in ${r.wallMs} ms, saved to ${r.savedTo}`);
 * ```
 */
export async function runNotebook(
  path: string,
  options: RunNotebookOptions = {},
): Promise<NotebookRunResult> {
  const kernel = options.kernel ?? "deno";
  const absolute = resolve(path);
  if (!(await exists(absolute))) {
    throw new NotebookSetupError(`notebook ${path} does not exist`);
  }
  const python = await jupyterPython(options);
  if (options.installKernel ?? true) await ensureKernelspec({ python, kernel });

  const cwd = resolve(options.cwd ?? dirname(absolute));
  const tmp = await Deno.makeTempDir({ prefix: "notebook-run-" });
  const resultFile = join(tmp, "result.json");
  const kernelLog = join(tmp, "kernel.log");
  let savedTo: string | undefined;
  const args = [
    "run",
    absolute,
    "--cwd",
    cwd,
    "--result",
    resultFile,
    "--kernel-log",
    kernelLog,
    "--kernel",
    kernel,
    "--timeout",
    String(options.cellTimeoutSec ?? 300),
    "--startup-timeout",
    String(options.startupTimeoutSec ?? 120),
  ];
  if (options.continueOnError) args.push("--continue-on-error");
  if (options.saveDir) {
    await Deno.mkdir(options.saveDir, { recursive: true });
    savedTo = join(resolve(options.saveDir), basename(absolute));
    args.push("--save", savedTo);
  }
  const started = performance.now();
  try {
    const { code, stderr } = await driver(python, args, cwd, options.signal);
    const wallMs = Math.round(performance.now() - started);
    if (options.signal?.aborted) throw options.signal.reason;
    const kernelOutput = await Deno.readTextFile(kernelLog).catch(() => "");
    let summary: DriverSummary;
    try {
      summary = JSON.parse(await Deno.readTextFile(resultFile)) as DriverSummary;
    } catch {
      throw new NotebookError(
        path,
        "driver",
        null,
        "",
        "DriverError",
        `the notebook driver exited with ${code} and wrote no result`,
        [relevantStderr(stderr), relevantStderr(kernelOutput)].join("\n"),
      );
    }
    if (!summary.ok || code !== 0) {
      const e = summary.error ?? {
        kind: "driver" as const,
        cellIndex: null,
        firstLine: "",
        ename: "DriverError",
        evalue: `exit code ${code}`,
        traceback: "",
      };
      const trace = e.kind === "error" ? e.traceback : e.kind === "timeout"
        ? "" // the message says it all; nbclient's text only repeats the source
        : [e.traceback, relevantStderr(stderr), relevantStderr(kernelOutput)].join("\n");
      throw new NotebookError(
        path,
        e.kind,
        e.cellIndex,
        e.firstLine,
        e.ename,
        e.evalue,
        withoutHeadline(trace, `${e.ename}: ${e.evalue}`),
        savedTo,
      );
    }
    const slowest = summary.cellMs.reduce<{ index: number; ms: number } | null>(
      (best, [index, ms]) => (best === null || ms > best.ms ? { index, ms } : best),
      null,
    );
    return {
      path,
      wallMs,
      kernelStartMs: summary.kernelStartMs ?? 0,
      cells: summary.cellCount,
      codeCells: summary.codeCells,
      slowestCell: slowest,
      savedTo,
      cellErrors: summary.cellErrors ?? [],
    };
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}

/** The traceback without a first line that only repeats `ename: evalue`. */
function withoutHeadline(trace: string, headline: string): string {
  const lines = trace.trim().split("\n");
  return (lines[0]?.trim() === headline.trim() ? lines.slice(1) : lines).join("\n").trim();
}

/** Process output without the lines that are always there. */
function relevantStderr(stderr: string): string {
  return stderr.replace(ANSI, "").split("\n")
    .filter((l) => !/"deno jupyter" is unstable|^Task was destroyed|^task: <Task pending/.test(l))
    .join("\n").trim();
}

/**
 * Every `*.ipynb` directly in `dir` (default `notebooks/`), sorted by name.
 *
 * @example
 * ```ts
 * import { listNotebooks } from "./notebooks.ts";
 * console.log(await listNotebooks()); // [".../notebooks/00_getting_started.ipynb", ...]
 * ```
 */
export async function listNotebooks(dir: string = NOTEBOOKS_DIR): Promise<string[]> {
  const paths: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile && entry.name.endsWith(".ipynb")) paths.push(join(dir, entry.name));
  }
  return paths.sort();
}

// ------------------------------------------------------------- type checking

/** One TypeScript module made of a notebook's code cells, and where each cell starts in it. */
export interface NotebookModule {
  /** The code cells, one after another. */
  readonly source: string;
  /** For each code cell: its index in the notebook and its first line (1-based) in `source`. */
  readonly cells: readonly { readonly index: number; readonly line: number }[];
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

const RELATIVE_IMPORT = /(\bfrom\s*|\bimport\s*\(?\s*)(["'])(\.\.?\/[^"'\n]+)\2/g;

/**
 * The code cells of a notebook joined into one module, for `deno check`.
 * Relative imports are made absolute against `notebookDir`, so the module can
 * live anywhere. The Deno kernel does not type-check cells; this does.
 *
 * @example
 * ```ts
 * import { notebookToModule } from "./notebooks.ts";
 * const text = await Deno.readTextFile("notebooks/00_getting_started.ipynb");
 * const { source } = notebookToModule(text, "notebooks");
 * console.log(source.split("\n").length);
 * ```
 */
export function notebookToModule(text: string, notebookDir: string): NotebookModule {
  const nb = parseNotebook(text);
  const base = pathToFileURL(resolve(notebookDir) + "/");
  const parts: string[] = [];
  const cells: { index: number; line: number }[] = [];
  let line = 1;
  (nb.cells as Json[]).forEach((cell, index) => {
    if (!isObject(cell) || cell.cell_type !== "code") return;
    const code = joined(cell.source).replace(
      RELATIVE_IMPORT,
      (_all, lead: string, quote: string, spec: string) =>
        `${lead}${quote}${new URL(spec, base).href}${quote}`,
    );
    parts.push(`// cells[${index}]`);
    cells.push({ index, line: line + 1 });
    parts.push(code);
    line += 1 + code.split("\n").length;
  });
  parts.push("export {};");
  return { source: parts.join("\n") + "\n", cells };
}

/**
 * Type-checks a notebook's code cells with `deno check` and the repo's
 * deno.json. Resolves with nothing when clean; throws {@linkcode NotebookError}
 * (kind "typecheck") with the diagnostics, each location
 * rewritten as `cells[i] line:col`. Relative imports resolve against
 * `baseDir` (default: the notebook's folder, as the kernel's cwd). Note: the kernel lets a later cell
 * redeclare a `const`; a module does not, so such notebooks fail this check.
 *
 * @example
 * ```ts
 * import { checkNotebook } from "./notebooks.ts";
 * await checkNotebook("notebooks/00_getting_started.ipynb");
 * ```
 */
export async function checkNotebook(
  path: string,
  options: { baseDir?: string } = {},
): Promise<void> {
  const absolute = resolve(path);
  const baseDir = resolve(options.baseDir ?? dirname(absolute));
  const mod = notebookToModule(await Deno.readTextFile(absolute), baseDir);
  const tmp = await Deno.makeTempDir({ prefix: "notebook-check-" });
  const file = join(tmp, basename(absolute).replace(/\.ipynb$/, ".ts"));
  try {
    await Deno.writeTextFile(file, mod.source);
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["check", "--quiet", "--config", join(REPO_ROOT, "deno.json"), file],
      cwd: REPO_ROOT,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    if (out.success) return;
    const where = (lineNo: number, col: string) => {
      const cell = [...mod.cells].reverse().find((c) => c.line <= lineNo);
      return cell ? `cells[${cell.index}] ${lineNo - cell.line + 1}:${col}` : `${lineNo}:${col}`;
    };
    const location = new RegExp(`${escapeRegExp(pathToFileURL(file).href)}:(\\d+):(\\d+)`, "g");
    const text = new TextDecoder().decode(out.stderr).replace(ANSI, "")
      .replace(location, (_all, l: string, c: string) => where(Number(l), c))
      .split("\n").filter((l) => !/^Stack backtrace:|^\s+\d+: <unknown>/.test(l)).join("\n");
    const count = (text.match(/ERROR\]/g) ?? []).length;
    throw new NotebookError(
      path,
      "typecheck",
      null,
      "",
      "TypeError",
      `${count || "some"} type error(s) in the code cells`,
      text.trim(),
    );
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}

// ---------------------------------------------------------------- stripping

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** Notebook-level metadata kept by {@linkcode stripNotebook}; everything else goes. */
export const KEPT_NOTEBOOK_METADATA: Readonly<Record<string, readonly string[] | true>> = {
  kernelspec: ["display_name", "language", "name"],
  language_info: [
    "codemirror_mode",
    "file_extension",
    "mimetype",
    "name",
    "nbconvert_exporter",
    "pygments_lexer",
  ],
  title: true,
  authors: true,
};

/** Cell metadata that only records a run or an editor's view state. */
export const NOISY_CELL_METADATA: readonly string[] = [
  "execution",
  "ExecuteTime",
  "collapsed",
  "scrolled",
  "trusted",
  "papermill",
  "vscode",
];

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** Python's `str.splitlines(True)`: the line breaks nbformat splits sources on. */
function splitLines(text: string): string[] {
  const lines: string[] = [];
  // deno-lint-ignore no-control-regex -- \x1c-\x1e are line breaks to Python
  const re = /\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/g;
  let start = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    lines.push(text.slice(start, m.index + m[0].length));
    start = m.index + m[0].length;
  }
  if (start < text.length) lines.push(text.slice(start));
  return lines;
}

function joined(value: Json | undefined): string {
  if (Array.isArray(value)) return value.map((v) => String(v)).join("");
  return typeof value === "string" ? value : "";
}

function isJsonMime(mime: string): boolean {
  return mime === "application/json" || (mime.startsWith("application/") && mime.endsWith("+json"));
}

function splitBundle(bundle: Json | undefined): void {
  if (!isObject(bundle)) return;
  for (const [mime, value] of Object.entries(bundle)) {
    if (!isJsonMime(mime) && typeof value === "string") bundle[mime] = splitLines(value);
  }
}

function sortKeys(value: Json): Json {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (!isObject(value)) return value;
  const out: JsonObject = {};
  for (const key of Object.keys(value).sort()) out[key] = sortKeys(value[key]);
  return out;
}

/**
 * Serializes a parsed notebook the way nbformat writes files: sources and
 * text outputs as lists of lines, keys sorted, 1-space indent, non-ASCII
 * kept as is, a trailing newline.
 *
 * @example
 * ```ts
 * import { formatNotebook } from "./notebooks.ts";
 * const text = formatNotebook({ cells: [], metadata: {}, nbformat: 4, nbformat_minor: 5 });
 * console.log(text); // {\n "cells": [],\n "metadata": {},\n ...}\n
 * ```
 */
export function formatNotebook(notebook: unknown): string {
  const nb = structuredClone(notebook) as JsonObject;
  const cells = Array.isArray(nb.cells) ? nb.cells : [];
  for (const cell of cells) {
    if (!isObject(cell)) continue;
    if (typeof cell.source === "string") cell.source = splitLines(cell.source);
    if (isObject(cell.attachments)) {
      for (const attachment of Object.values(cell.attachments)) splitBundle(attachment);
    }
    if (cell.cell_type === "code" && Array.isArray(cell.outputs)) {
      for (const output of cell.outputs) {
        if (!isObject(output)) continue;
        if (output.output_type === "stream" && typeof output.text === "string") {
          output.text = splitLines(output.text);
        } else if (
          output.output_type === "execute_result" || output.output_type === "display_data"
        ) {
          splitBundle(output.data);
        }
      }
    }
  }
  return JSON.stringify(sortKeys(nb), null, 1) + "\n";
}

function parseNotebook(text: string): JsonObject {
  let nb: unknown;
  try {
    nb = JSON.parse(text);
  } catch (e) {
    throw new NotebookFormatError(`not valid JSON: ${(e as Error).message}`);
  }
  if (!isObject(nb) || !Array.isArray(nb.cells) || typeof nb.nbformat !== "number") {
    throw new NotebookFormatError("not a Jupyter notebook (no cells array or nbformat number)");
  }
  if (nb.nbformat !== 4) {
    throw new NotebookFormatError(`nbformat ${nb.nbformat} is not supported; save it as version 4`);
  }
  return nb;
}

function pick(value: Json | undefined, keys: readonly string[] | true): Json | undefined {
  if (keys === true || !isObject(value)) return value;
  const out: JsonObject = {};
  for (const key of keys) if (value[key] !== undefined) out[key] = value[key];
  return out;
}

/** 8 hex digits from the text (FNV-1a), for cell ids that stay the same on every strip. */
function stableId(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, "0");
}

function stripCellMetadata(metadata: Json | undefined): JsonObject {
  const out: JsonObject = {};
  if (!isObject(metadata)) return out;
  for (const [key, value] of Object.entries(metadata)) {
    if (NOISY_CELL_METADATA.includes(key)) continue;
    if (key === "jupyter" && isObject(value)) {
      const { outputs_hidden: _hidden, ...rest } = value;
      if (Object.keys(rest).length > 0) out[key] = rest;
      continue;
    }
    out[key] = value;
  }
  return out;
}

/**
 * Strips a notebook given as JSON text: code cells lose outputs and execution
 * counts, cells lose run and view metadata, the notebook keeps only its
 * kernelspec and basic language_info (see {@linkcode KEPT_NOTEBOOK_METADATA}).
 * Cells of an nbformat 4.5+ notebook without an id get a stable one. The
 * result is in Jupyter's layout, and stripping it again changes nothing.
 *
 * @example
 * ```ts
 * import { stripNotebook } from "./notebooks.ts";
 * const path = "notebooks/00_getting_started.ipynb";
 * await Deno.writeTextFile(path, stripNotebook(await Deno.readTextFile(path)));
 * ```
 */
export function stripNotebook(text: string): string {
  const nb = parseNotebook(text);
  const metadata: JsonObject = {};
  const source = isObject(nb.metadata) ? nb.metadata : {};
  for (const [key, keys] of Object.entries(KEPT_NOTEBOOK_METADATA)) {
    const value = pick(source[key], keys);
    if (value !== undefined) metadata[key] = value;
  }
  const minor = typeof nb.nbformat_minor === "number" ? nb.nbformat_minor : 0;
  const ids = new Set<string>();
  const cells = (nb.cells as Json[]).map((raw, index) => {
    if (!isObject(raw) || typeof raw.cell_type !== "string") {
      throw new NotebookFormatError(`cell ${index} has no cell_type`);
    }
    const cell: JsonObject = {
      cell_type: raw.cell_type,
      metadata: stripCellMetadata(raw.metadata),
      source: joined(raw.source),
    };
    if (typeof raw.id === "string" && raw.id !== "") cell.id = raw.id;
    if (raw.attachments !== undefined && raw.cell_type !== "code") {
      cell.attachments = raw.attachments;
    }
    if (raw.cell_type === "code") {
      cell.execution_count = null;
      cell.outputs = [];
    }
    return cell;
  });
  for (const cell of cells) if (typeof cell.id === "string") ids.add(cell.id);
  if (minor >= 5) {
    cells.forEach((cell, index) => {
      if (typeof cell.id === "string") return;
      let id = stableId(`${index}\0${cell.source}`);
      while (ids.has(id)) id = stableId(`${id}!`);
      ids.add(id);
      cell.id = id;
    });
  }
  return formatNotebook({ ...nb, metadata, cells });
}

/**
 * True when the notebook text is exactly what {@linkcode stripNotebook}
 * would write: no outputs, no noisy metadata, Jupyter's layout.
 *
 * @example
 * ```ts
 * import { isStripped } from "./notebooks.ts";
 * const text = await Deno.readTextFile("notebooks/00_getting_started.ipynb");
 * if (!isStripped(text)) console.log("run: deno task notebooks strip");
 * ```
 */
export function isStripped(text: string): boolean {
  return stripNotebook(text) === text;
}

/** What {@linkcode stripFiles} did to one file. */
export interface StripFileResult {
  /** The file. */
  readonly path: string;
  /** The file was (or, with `check`, would be) rewritten. */
  readonly changed: boolean;
  /** Set when the file is not a readable notebook. */
  readonly error?: string;
}

/**
 * Strips notebook files in place; with `check: true` only reports which files
 * are not stripped and writes nothing.
 *
 * @example
 * ```ts
 * import { listNotebooks, stripFiles } from "./notebooks.ts";
 * const results = await stripFiles(await listNotebooks(), { check: true });
 * const dirty = results.filter((r) => r.changed || r.error);
 * if (dirty.length > 0) Deno.exit(1);
 * ```
 */
export async function stripFiles(
  paths: readonly string[],
  options: { check?: boolean } = {},
): Promise<StripFileResult[]> {
  const results: StripFileResult[] = [];
  for (const path of paths) {
    try {
      const text = await Deno.readTextFile(path);
      const stripped = stripNotebook(text);
      const changed = stripped !== text;
      if (changed && !options.check) await Deno.writeTextFile(path, stripped);
      results.push({ path, changed });
    } catch (e) {
      results.push({ path, changed: false, error: (e as Error).message });
    }
  }
  return results;
}
