/**
 * Integration: every notebook in notebooks/ is committed stripped, type-checks,
 * and runs to the end on the Deno kernel against the live stack. New notebooks
 * are picked up by themselves (one step each).
 */
import assert from "node:assert/strict";
import { join, relative } from "node:path";
import {
  checkNotebook,
  isStripped,
  listNotebooks,
  NOTEBOOKS_DIR,
  REPO_ROOT,
  runNotebook,
} from "../lib/course/notebooks.ts";
import { requireKafka } from "./support.ts";

const notebooks = await listNotebooks(NOTEBOOKS_DIR);

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
  await requireKafka();
  for (const path of notebooks) {
    const name = relative(REPO_ROOT, path);
    await t.step(name, async () => {
      const result = await runNotebook(path, { saveDir: join(REPO_ROOT, ".cache", "notebooks") });
      console.log(
        `${name}: ${(result.wallMs / 1000).toFixed(1)} s, ${result.codeCells} code cells`,
      );
    });
  }
});
