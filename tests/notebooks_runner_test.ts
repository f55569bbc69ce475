/**
 * The headless runner keeps every output. The Deno kernel sometimes publishes
 * a cell's result just after the cell's "idle" status, and plain nbclient drops
 * it; run_notebook.py files such late outputs under their cell. Many cells,
 * each with a result that names its cell, make the race likely; every saved
 * cell must carry its own result. No services needed.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runNotebook } from "../lib/course/notebooks.ts";

const CELLS = 40;

Deno.test("the runner keeps results the kernel sends after a cell's idle status", async () => {
  const dir = await Deno.makeTempDir({ prefix: "runner-test-" });
  try {
    const cells = Array.from({ length: CELLS }, (_, i) => ({
      cell_type: "code",
      id: `c${i}`,
      metadata: {},
      execution_count: null,
      outputs: [],
      source: i % 2
        ? `await Promise.resolve();\n({ [Symbol.for("Jupyter.display")]: () => ({ "text/plain": "cell ${i}" }) })`
        : `"cell ${i}"`,
    }));
    const notebook = {
      cells,
      metadata: {
        kernelspec: { display_name: "Deno", language: "typescript", name: "deno" },
      },
      nbformat: 4,
      nbformat_minor: 5,
    };
    const path = join(dir, "many_results.ipynb");
    await Deno.writeTextFile(path, JSON.stringify(notebook));
    const result = await runNotebook(path, { saveDir: join(dir, "out") });
    assert.ok(result.savedTo, "the executed copy was saved");
    const saved = JSON.parse(await Deno.readTextFile(result.savedTo));
    const missing: number[] = [];
    saved.cells.forEach(
      (cell: { outputs: { data?: Record<string, string | string[]> }[] }, i: number) => {
        const text = cell.outputs.map((o) => [o.data?.["text/plain"] ?? ""].flat().join("")).join(
          "",
        );
        if (!text.includes(`cell ${i}`)) missing.push(i);
      },
    );
    assert.deepEqual(missing, [], `cells whose result was lost: ${missing.join(", ")}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
