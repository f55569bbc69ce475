/**
 * Set-up without manual steps: when the Python the notebook runner would use
 * has no Jupyter (here a fresh `python3 -m venv` with nothing installed,
 * given as NOTEBOOK_PYTHON), `deno task notebooks run` creates its own
 * virtual environment (NOTEBOOK_VENV points it at a temp folder, so the
 * shared .cache is untouched), installs the pinned nbclient, jupyter-client,
 * ipykernel and nbformat from PyPI with one progress line, and runs a
 * one-cell notebook; a second run reuses it without installing. With its own
 * JUPYTER_DATA_DIR the venv does not see the user's Deno kernelspec, so the
 * runner installs the kernelspec into the venv. Needs PyPI (pip's own
 * cache is reused) but no services.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  JUPYTER_PACKAGES,
  jupyterPython,
  NotebookSetupError,
  REPO_ROOT,
  venvPython,
} from "../lib/course/mod.ts";

/** A one-cell notebook. */
async function tinyNotebook(dir: string): Promise<string> {
  const path = join(dir, "tiny.ipynb");
  const cell = {
    cell_type: "code",
    metadata: {},
    source: '"tiny " + (6 * 7)',
    outputs: [],
    execution_count: null,
  };
  const nb = {
    cells: [cell],
    metadata: { kernelspec: { display_name: "Deno", language: "typescript", name: "deno" } },
    nbformat: 4,
    nbformat_minor: 5,
  };
  await Deno.writeTextFile(path, JSON.stringify(nb));
  return path;
}

async function run(command: string, args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(command, {
    args,
    cwd: REPO_ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", ...env },
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

/** A virtual environment with nothing but pip, from the first python3 that can make one. */
async function bareVenv(dir: string): Promise<string> {
  for (const base of ["python3", "/usr/bin/python3"]) {
    if ((await run(base, ["-m", "venv", dir]).catch(() => ({ code: 1 }))).code === 0) {
      return venvPython(dir);
    }
  }
  throw new Error("no python3 here can create a virtual environment");
}

Deno.test("the notebook runner installs Jupyter into its own venv when the python lacks it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "jupyter-setup-" });
  try {
    const bare = await bareVenv(join(dir, "bare"));
    const probe = await run(bare, ["-c", "import nbclient"]);
    assert.notEqual(probe.code, 0, "the bare venv must not have nbclient");
    const venv = join(dir, "jupyter-venv");
    // A Jupyter data folder of its own: the Deno kernelspec in the user's folder
    // is out of the venv's sight, so the runner has to install it where the venv looks.
    const env = {
      NOTEBOOK_PYTHON: bare,
      NOTEBOOK_VENV: venv,
      JUPYTER_DATA_DIR: join(dir, "jupyter-data"),
    };
    const notebook = await tinyNotebook(dir);
    const args = ["run", "-A", join(REPO_ROOT, "tasks", "notebooks.ts"), "run", "--no-save"];

    const first = await run(Deno.execPath(), [...args, notebook], env);
    assert.equal(first.code, 0, first.stdout + first.stderr);
    assert.match(first.stdout, /^ok {3}\[1\/1\] .*tiny\.ipynb/m);
    const installing = first.stderr.split("\n").filter((l) => l.includes("installing Jupyter"));
    assert.equal(installing.length, 1, `one progress line:\n${first.stderr}`);
    assert.match(
      installing[0],
      /^notebooks: installing Jupyter \(nbclient, jupyter-client, ipykernel\) into .*jupyter-venv, first run only \.\.\.$/,
    );
    const freeze = await run(venvPython(venv), ["-m", "pip", "freeze"]);
    for (const pin of JUPYTER_PACKAGES) {
      const [name, version] = pin.split("==");
      const line = new RegExp(`^${name.replace(/[-_]/g, "[-_]")}==${version}$`, "im");
      assert.match(freeze.stdout, line, `${pin} installed`);
    }

    const spec = JSON.parse(
      await Deno.readTextFile(join(venv, "share", "jupyter", "kernels", "deno", "kernel.json")),
    );
    assert.equal(spec.argv[0], Deno.execPath(), "the venv's kernelspec runs this deno");

    const second = await run(Deno.execPath(), [...args, notebook], env);
    assert.equal(second.code, 0, second.stdout + second.stderr);
    assert.doesNotMatch(second.stderr, /installing Jupyter/, "the second run reuses the venv");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a NOTEBOOK_PYTHON that does not exist is a set-up error that says what to do", async () => {
  await assert.rejects(
    () => jupyterPython({ python: "/nonexistent/python3" }),
    (e: unknown) =>
      e instanceof NotebookSetupError && /NOTEBOOK_PYTHON=\/nonexistent\/python3: no such file/
        .test(e.message),
  );
});
