/**
 * The repository on disk: where it is, and whether a path exists in it.
 *
 * @example
 * ```ts
 * import { pathExists, REPO_ROOT } from "./repo.ts";
 * console.log(await pathExists(`${REPO_ROOT}/deno.json`)); // true
 * ```
 *
 * @module
 */
import { fileURLToPath } from "node:url";

/** The repository root (the folder holding deno.json), without a trailing slash. */
export const REPO_ROOT: string = fileURLToPath(new URL("../../", import.meta.url)).replace(
  /\/$/,
  "",
);

/**
 * True when `path` exists (file, folder or anything else `stat` can see).
 *
 * @example
 * ```ts
 * import { pathExists } from "./repo.ts";
 * if (!(await pathExists(".cache"))) console.log("first run");
 * ```
 */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * The `--v8-flags=...` argument of a `deno task` in the repository's
 * deno.json (undefined when the task has none), so a benchmark can run code
 * under the same V8 heap settings as the task it measures.
 *
 * @example
 * ```ts
 * import { taskV8Flags } from "./repo.ts";
 * console.log(taskV8Flags("pipeline")); // --v8-flags=--max-semi-space-size=8,--max-old-space-size=512
 * ```
 */
export function taskV8Flags(task: string, denoJson = `${REPO_ROOT}/deno.json`): string | undefined {
  const tasks = (JSON.parse(Deno.readTextFileSync(denoJson)) as {
    tasks?: Record<string, string | { command?: string }>;
  }).tasks ?? {};
  const entry = tasks[task];
  if (entry === undefined) throw new Error(`${denoJson}: no task "${task}"`);
  const command = typeof entry === "string" ? entry : entry.command ?? "";
  return command.match(/(?:^|\s)(--v8-flags=\S+)/)?.[1];
}
