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
