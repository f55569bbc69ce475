/**
 * The Python the notebook runner drives Jupyter with, set up without manual
 * steps.
 *
 * The runner needs a Python with `nbclient`, `jupyter-client` and `nbformat`.
 * It uses `$NOTEBOOK_PYTHON` when that has them, else Debian's
 * `/usr/bin/python3` when that has them (the `python3-nbclient` packages are
 * optional), else a virtual environment of its own under
 * `.cache/jupyter-venv` (`$NOTEBOOK_VENV` moves it). On first use it creates
 * that environment from the first Python that can make one (`python3 -m venv`;
 * Debian's interpreter needs the `python3-venv` package for that) and
 * installs {@linkcode JUPYTER_PACKAGES}, pinned, from PyPI, printing one
 * progress line. pip's own download cache is reused.
 *
 * @example
 * ```ts
 * import { jupyterPython } from "./jupyter.ts";
 * const python = await jupyterPython(); // may install into .cache/jupyter-venv first
 * console.log(python);
 * ```
 *
 * @module
 */
import { join, relative } from "node:path";
import { pathExists, REPO_ROOT } from "../util/repo.ts";

/** Debian's interpreter, used when it has the Jupyter packages (python3-nbclient etc.). */
export const DEFAULT_PYTHON = "/usr/bin/python3";

/** Where the runner's own virtual environment goes unless `$NOTEBOOK_VENV` says otherwise. */
export const DEFAULT_VENV_DIR: string = join(REPO_ROOT, ".cache", "jupyter-venv");

/** What the runner installs into its virtual environment, pinned. */
export const JUPYTER_PACKAGES: readonly string[] = [
  "nbclient==0.11.0",
  "jupyter-client==8.10.0",
  "ipykernel==7.4.0",
  "nbformat==5.11.1",
];

/** How a learner fixes a machine on which the runner cannot set itself up. */
export const INSTALL_HINT: string =
  "nothing, usually: the runner installs nbclient, jupyter-client and ipykernel into " +
  ".cache/jupyter-venv on first use; that needs a python3 that can create a virtual " +
  "environment (Debian/Ubuntu: apt-get install python3-venv). Or set NOTEBOOK_PYTHON to a " +
  "python3 that has nbclient and jupyter-client";

/** The modules the driver (`run_notebook.py`) imports. */
const REQUIRED_MODULES = "nbclient, jupyter_client, nbformat";

/** The file that marks a finished environment; it holds the pins it was built with. */
const READY_MARK = ".shopstream-ready";

/**
 * The runner cannot work on this machine (no Python, no nbclient, no kernel).
 * The message says what to install.
 *
 * @example
 * ```ts
 * import { jupyterPython, NotebookSetupError } from "./jupyter.ts";
 * try {
 *   await jupyterPython({ python: "/nope/python3" });
 * } catch (e) {
 *   if (e instanceof NotebookSetupError) console.log(e.message);
 * }
 * ```
 */
export class NotebookSetupError extends Error {
  /** Says what is missing and how to install it. */
  constructor(message: string) {
    super(message);
    this.name = "NotebookSetupError";
  }
}

/** Options for {@linkcode jupyterPython}. */
export interface JupyterPythonOptions {
  /** The interpreter to use if it has Jupyter; default `$NOTEBOOK_PYTHON`. */
  python?: string;
  /** The runner's virtual environment; default `$NOTEBOOK_VENV` or `.cache/jupyter-venv`. */
  venvDir?: string;
  /** Where the one progress line goes; default stderr. */
  log?: (line: string) => void;
}

function env(name: string): string | undefined {
  try {
    return Deno.env.get(name) || undefined;
  } catch {
    return undefined;
  }
}

/**
 * The interpreter inside a virtual environment.
 *
 * @example
 * ```ts
 * import { DEFAULT_VENV_DIR, venvPython } from "./jupyter.ts";
 * console.log(venvPython(DEFAULT_VENV_DIR)); // .../.cache/jupyter-venv/bin/python
 * ```
 */
export function venvPython(venvDir: string): string {
  return Deno.build.os === "windows"
    ? join(venvDir, "Scripts", "python.exe")
    : join(venvDir, "bin", "python");
}

async function run(
  command: string,
  args: string[],
): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  try {
    const out = await new Deno.Command(command, {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = (b: Uint8Array) => new TextDecoder().decode(b);
    return { ok: out.success, stdout: text(out.stdout), stderr: text(out.stderr) };
  } catch (e) {
    return { ok: false, stdout: "", stderr: (e as Error).message };
  }
}

/**
 * Whether `python` runs and can import what the driver needs.
 *
 * @example
 * ```ts
 * import { hasJupyter } from "./jupyter.ts";
 * console.log(await hasJupyter("/usr/bin/python3"));
 * ```
 */
export async function hasJupyter(python: string): Promise<boolean> {
  return (await run(python, ["-c", `import ${REQUIRED_MODULES}`])).ok;
}

const resolved = new Map<string, Promise<string>>();

/**
 * The interpreter the runner should use: `options.python` (or
 * `$NOTEBOOK_PYTHON`) when it has Jupyter, else `/usr/bin/python3` when it
 * has Jupyter, else the runner's virtual environment, created and filled on
 * first use. Throws {@linkcode NotebookSetupError} when a given interpreter
 * does not exist, or when no Python can create the environment or pip fails.
 * Resolved once per process and setting.
 *
 * @example
 * ```ts
 * import { jupyterPython } from "./jupyter.ts";
 * const python = await jupyterPython({ venvDir: "/tmp/my-jupyter-venv" });
 * console.log(python);
 * ```
 */
export function jupyterPython(options: JupyterPythonOptions = {}): Promise<string> {
  const requested = options.python ?? env("NOTEBOOK_PYTHON");
  const venvDir = options.venvDir ?? env("NOTEBOOK_VENV") ?? DEFAULT_VENV_DIR;
  const key = `${requested ?? ""}\0${venvDir}`;
  let pending = resolved.get(key);
  if (!pending) {
    pending = choose(requested, venvDir, options.log);
    pending.catch(() => resolved.delete(key));
    resolved.set(key, pending);
  }
  return pending;
}

async function choose(
  requested: string | undefined,
  venvDir: string,
  log: ((line: string) => void) | undefined,
): Promise<string> {
  if (requested !== undefined) {
    if (!(await pathExists(requested))) {
      throw new NotebookSetupError(
        `NOTEBOOK_PYTHON=${requested}: no such file. Unset it to let the runner set Jupyter ` +
          `up by itself, or point it at a python3 that has nbclient and jupyter-client.`,
      );
    }
    if (await hasJupyter(requested)) return requested;
  } else if (await pathExists(DEFAULT_PYTHON) && await hasJupyter(DEFAULT_PYTHON)) {
    return DEFAULT_PYTHON;
  }
  const python = venvPython(venvDir);
  if (await isReady(venvDir)) return python;
  await withLock(`${venvDir}.lock`, async () => {
    if (await isReady(venvDir)) return; // another process built it meanwhile
    await build(venvDir, requested, log ?? ((line) => console.error(line)));
  });
  return python;
}

async function isReady(venvDir: string): Promise<boolean> {
  try {
    const mark = await Deno.readTextFile(join(venvDir, READY_MARK));
    return mark.trim() === JUPYTER_PACKAGES.join(" ") && await pathExists(venvPython(venvDir));
  } catch {
    return false;
  }
}

async function withLock(path: string, fn: () => Promise<void>): Promise<void> {
  await Deno.mkdir(join(path, ".."), { recursive: true });
  const file = await Deno.open(path, { create: true, write: true });
  try {
    await file.lock(true); // released by the kernel if this process dies
    await fn();
  } finally {
    file.close();
  }
}

/** Interpreters that may be able to create a virtual environment, best first. */
function baseCandidates(requested: string | undefined): string[] {
  const names = [requested, "python3", DEFAULT_PYTHON, "python"].filter((p): p is string => !!p);
  return [...new Set(names)];
}

function shown(path: string): string {
  const rel = relative(Deno.cwd(), path);
  return rel && !rel.startsWith("..") ? rel : path;
}

function tail(text: string, lines: number): string {
  return text.trim().split("\n").slice(-lines).join("\n");
}

async function build(
  venvDir: string,
  requested: string | undefined,
  log: (line: string) => void,
): Promise<void> {
  log(
    `notebooks: installing Jupyter (nbclient, jupyter-client, ipykernel) into ` +
      `${shown(venvDir)}, first run only ...`,
  );
  await Deno.remove(venvDir, { recursive: true }).catch(() => {});
  const tried: string[] = [];
  let made = false;
  for (const base of baseCandidates(requested)) {
    const out = await run(base, ["-m", "venv", venvDir]);
    if (out.ok && await pathExists(venvPython(venvDir))) {
      made = true;
      break;
    }
    const reason = out.stderr.trim().split("\n").find((l) => l.trim() !== "") ?? "failed";
    tried.push(`  ${base} -m venv: ${reason}`);
    await Deno.remove(venvDir, { recursive: true }).catch(() => {});
  }
  if (!made) {
    throw new NotebookSetupError(
      `no Python here can create a virtual environment for Jupyter:\n${tried.join("\n")}\n` +
        `Install a python3 with venv (Debian/Ubuntu: apt-get install python3-venv), or set ` +
        `NOTEBOOK_PYTHON to a python3 that has nbclient and jupyter-client.`,
    );
  }
  const python = venvPython(venvDir);
  const pip = await run(python, [
    "-m",
    "pip",
    "install",
    "--quiet",
    "--disable-pip-version-check",
    "--no-input",
    ...JUPYTER_PACKAGES,
  ]);
  if (!pip.ok) {
    await Deno.remove(venvDir, { recursive: true }).catch(() => {});
    throw new NotebookSetupError(
      `installing ${JUPYTER_PACKAGES.join(" ")} from PyPI into ${shown(venvDir)} failed:\n` +
        `${tail(pip.stderr || pip.stdout, 15)}`,
    );
  }
  if (!(await hasJupyter(python))) {
    throw new NotebookSetupError(
      `${python} still cannot import ${REQUIRED_MODULES} after pip install`,
    );
  }
  await Deno.writeTextFile(join(venvDir, READY_MARK), JUPYTER_PACKAGES.join(" ") + "\n");
}
