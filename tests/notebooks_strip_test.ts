/**
 * Unit: stripping notebooks (no kernel, no services).
 */
import assert from "node:assert/strict";
import {
  formatNotebook,
  isStripped,
  NotebookFormatError,
  notebookToModule,
  stripFiles,
  stripNotebook,
} from "../lib/course/notebooks.ts";

/** A notebook as Jupyter leaves it after a run: outputs, counts, timing, editor state. */
function executedNotebook(): Record<string, unknown> {
  return {
    cells: [
      {
        cell_type: "markdown",
        id: "intro",
        metadata: { tags: ["intro"] },
        source: "# Title\n\nSome *text* · ünïcödé",
      },
      {
        cell_type: "code",
        execution_count: 7,
        id: "code-1",
        metadata: {
          collapsed: false,
          scrolled: true,
          execution: { "iopub.status.busy": "2026-01-01T00:00:00Z" },
          ExecuteTime: { end_time: "2026-01-01T00:00:01Z" },
          tags: ["keep-me"],
          jupyter: { outputs_hidden: true, source_hidden: true },
        },
        outputs: [
          { name: "stdout", output_type: "stream", text: ["hello\n", "world\n"] },
          {
            data: { "text/html": ["<b>x</b>"], "text/plain": ["x"] },
            execution_count: 7,
            metadata: {},
            output_type: "execute_result",
          },
          { ename: "Error", evalue: "boom", output_type: "error", traceback: ["Error: boom"] },
        ],
        source: ["const a = 1;\n", "a + 1"],
      },
      {
        cell_type: "code",
        execution_count: null,
        id: "empty",
        metadata: {},
        outputs: [],
        source: [],
      },
    ],
    metadata: {
      kernelspec: { display_name: "Deno", language: "typescript", name: "deno", env: { X: "1" } },
      language_info: {
        codemirror_mode: "typescript",
        file_extension: ".ts",
        mimetype: "text/x.typescript",
        name: "typescript",
        nbconvert_exporter: "script",
        pygments_lexer: "typescript",
        version: "6.0.3",
      },
      vscode: { interpreter: { hash: "abc" } },
      widgets: { state: {} },
      title: "Kept",
    },
    nbformat: 4,
    nbformat_minor: 5,
  };
}

type Nb = {
  cells: Record<string, unknown>[];
  metadata: Record<string, Record<string, unknown> | string>;
};

Deno.test("stripNotebook", async (t) => {
  const executed = JSON.stringify(executedNotebook());
  const stripped = stripNotebook(executed);
  const nb = JSON.parse(stripped) as Nb;

  await t.step("removes outputs and execution counts", () => {
    const code = nb.cells.filter((c) => c.cell_type === "code");
    assert.equal(code.length, 2);
    for (const cell of code) {
      assert.deepEqual(cell.outputs, []);
      assert.equal(cell.execution_count, null);
    }
    assert.equal("outputs" in nb.cells[0], false, "markdown cells get no outputs");
  });

  await t.step("removes run and view metadata, keeps the rest", () => {
    assert.deepEqual(nb.cells[1].metadata, {
      tags: ["keep-me"],
      jupyter: { source_hidden: true },
    });
    assert.deepEqual(nb.cells[0].metadata, { tags: ["intro"] });
  });

  await t.step("keeps kernelspec and language_info basics only", () => {
    assert.deepEqual(nb.metadata.kernelspec, {
      display_name: "Deno",
      language: "typescript",
      name: "deno",
    });
    assert.deepEqual(nb.metadata.language_info, {
      codemirror_mode: "typescript",
      file_extension: ".ts",
      mimetype: "text/x.typescript",
      name: "typescript",
      nbconvert_exporter: "script",
      pygments_lexer: "typescript",
    });
    assert.equal(nb.metadata.title, "Kept");
    assert.deepEqual(Object.keys(nb.metadata).sort(), ["kernelspec", "language_info", "title"]);
  });

  await t.step("keeps sources, ids and non-ASCII text", () => {
    assert.deepEqual(nb.cells.map((c) => c.id), ["intro", "code-1", "empty"]);
    assert.deepEqual(nb.cells[0].source, ["# Title\n", "\n", "Some *text* · ünïcödé"]);
    assert.deepEqual(nb.cells[1].source, ["const a = 1;\n", "a + 1"]);
    assert.deepEqual(nb.cells[2].source, []);
    assert.ok(stripped.includes("ünïcödé"), "non-ASCII is written as is, like nbformat");
  });

  await t.step("is idempotent and recognised as stripped", () => {
    assert.equal(stripNotebook(stripped), stripped);
    assert.equal(isStripped(stripped), true);
    assert.equal(isStripped(executed), false);
  });

  await t.step("writes Jupyter's layout", () => {
    assert.ok(stripped.startsWith('{\n "cells": [\n  {\n   "cell_type": "markdown",\n'));
    assert.ok(stripped.endsWith('\n "nbformat": 4,\n "nbformat_minor": 5\n}\n'));
    // Same content in another layout (2-space indent, no trailing newline) is not stripped.
    assert.equal(isStripped(JSON.stringify(JSON.parse(stripped), null, 2)), false);
  });

  await t.step("gives cells without an id a stable one (nbformat 4.5)", () => {
    const raw = executedNotebook() as { cells: Record<string, unknown>[] };
    for (const cell of raw.cells) delete cell.id;
    const a = JSON.parse(stripNotebook(JSON.stringify(raw))) as Nb;
    const b = JSON.parse(stripNotebook(JSON.stringify(raw))) as Nb;
    const ids = a.cells.map((c) => c.id as string);
    assert.equal(new Set(ids).size, 3);
    for (const id of ids) assert.match(id, /^[0-9a-f]{8}$/);
    assert.deepEqual(b.cells.map((c) => c.id), ids);
  });

  await t.step("rejects what is not a notebook", () => {
    assert.throws(() => stripNotebook("{"), NotebookFormatError);
    assert.throws(() => stripNotebook('{"cells": 1}'), NotebookFormatError);
    assert.throws(
      () => stripNotebook('{"cells": [], "metadata": {}, "nbformat": 3}'),
      /nbformat 3 is not supported/,
    );
  });
});

Deno.test("formatNotebook splits text outputs into lines like nbformat", () => {
  const text = formatNotebook({
    cells: [{
      cell_type: "code",
      execution_count: 1,
      metadata: {},
      outputs: [
        { name: "stdout", output_type: "stream", text: "a\nb\n" },
        {
          data: { "application/json": { k: "v\n" }, "text/plain": "x\r\ny" },
          metadata: {},
          output_type: "display_data",
        },
      ],
      source: "x",
    }],
    metadata: {},
    nbformat: 4,
    nbformat_minor: 5,
  });
  const nb = JSON.parse(text) as {
    cells: { outputs: { text?: string[]; data?: Record<string, unknown> }[] }[];
  };
  assert.deepEqual(nb.cells[0].outputs[0].text, ["a\n", "b\n"]);
  assert.deepEqual(nb.cells[0].outputs[1].data, {
    "application/json": { k: "v\n" },
    "text/plain": ["x\r\n", "y"],
  });
});

Deno.test("stripFiles rewrites in place, or only reports with check", async () => {
  const dir = await Deno.makeTempDir({ prefix: "notebooks-strip-" });
  try {
    const dirty = `${dir}/a.ipynb`;
    const broken = `${dir}/b.ipynb`;
    await Deno.writeTextFile(dirty, JSON.stringify(executedNotebook()));
    await Deno.writeTextFile(broken, "not json");

    const checked = await stripFiles([dirty, broken], { check: true });
    assert.equal(checked[0].changed, true);
    assert.match(checked[1].error ?? "", /not valid JSON/);
    assert.equal(isStripped(await Deno.readTextFile(dirty)), false, "check writes nothing");

    const [written] = await stripFiles([dirty]);
    assert.equal(written.changed, true);
    assert.equal(isStripped(await Deno.readTextFile(dirty)), true);
    const [again] = await stripFiles([dirty], { check: true });
    assert.equal(again.changed, false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("notebookToModule joins code cells and makes relative imports absolute", () => {
  const text = JSON.stringify({
    cells: [
      { cell_type: "code", metadata: {}, source: 'import { a } from "../lib/a.ts";\na' },
      { cell_type: "markdown", metadata: {}, source: "# not code" },
      { cell_type: "code", metadata: {}, source: ['const m = await import("./m.ts");\n', "m"] },
      { cell_type: "code", metadata: {}, source: 'import { Kafka } from "kafkajs";' },
    ],
    metadata: {},
    nbformat: 4,
    nbformat_minor: 5,
  });
  const mod = notebookToModule(text, "/repo/notebooks");
  assert.equal(
    mod.source,
    [
      "// cells[0]",
      'import { a } from "file:///repo/lib/a.ts";',
      "a",
      "// cells[2]",
      'const m = await import("file:///repo/notebooks/m.ts");',
      "m",
      "// cells[3]",
      'import { Kafka } from "kafkajs";',
      "export {};",
      "",
    ].join("\n"),
  );
  assert.deepEqual(mod.cells, [
    { index: 0, line: 2 },
    { index: 2, line: 5 },
    { index: 3, line: 8 },
  ]);
});
