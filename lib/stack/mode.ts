/**
 * Which mode brought the stack up, remembered in `.cache/stack-mode` so that
 * later commands (`down`, `status`, drills) talk to the same stack. Each
 * mode's `up` records itself; `down` and `reset` forget it.
 *
 * @module
 */
import { stackPaths } from "./paths.ts";
import type { RunMode } from "./types.ts";

/**
 * The mode recorded by the last `up`, if any.
 *
 * @example
 * ```ts
 * import { recordedMode } from "./mode.ts";
 * console.log(await recordedMode()); // "native" | "docker" | undefined
 * ```
 */
export async function recordedMode(): Promise<RunMode | undefined> {
  try {
    const m = (await Deno.readTextFile(stackPaths().modeFile)).trim();
    return m === "docker" || m === "native" ? m : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Records `mode` as the one running the stack.
 *
 * @example
 * ```ts
 * import { recordMode } from "./mode.ts";
 * await recordMode("native");
 * ```
 */
export async function recordMode(mode: RunMode): Promise<void> {
  const { modeFile, cache } = stackPaths();
  await Deno.mkdir(cache, { recursive: true });
  await Deno.writeTextFile(modeFile, mode + "\n");
}

/**
 * Forgets the recorded mode (after `down` or `reset`), so the next `up` chooses afresh.
 *
 * @example
 * ```ts
 * import { forgetMode } from "./mode.ts";
 * await forgetMode();
 * ```
 */
export async function forgetMode(): Promise<void> {
  await Deno.remove(stackPaths().modeFile).catch(() => {});
}
