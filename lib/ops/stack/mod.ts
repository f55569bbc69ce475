/**
 * The local stack in either mode, chosen once and remembered: Docker when
 * `docker info` succeeds (or `--mode docker`), else native processes. The mode
 * that brought the stack up is recorded in `.cache/stack-mode`, so `down`,
 * `status` and drills talk to the same one.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../../config.ts";
 * import { openStack } from "./mod.ts";
 * const stack = await openStack(loadConfig(), { log: console.log });
 * await stack.up();
 * ```
 *
 * @module
 */
import type { Config } from "../../config.ts";
import { dockerEngineAvailable, DockerStack } from "./docker.ts";
import { NativeStack } from "./native.ts";
import { stackPaths } from "./paths.ts";
import type { RunMode, Stack } from "./types.ts";

export type { RunMode, ServiceStatus, Stack } from "./types.ts";
export { dockerEngineAvailable, DockerStack } from "./docker.ts";
export { NativeStack } from "./native.ts";

/**
 * The mode recorded by the last `up`, if any.
 *
 * @example
 * ```ts
 * import { recordedMode } from "./mod.ts";
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
 * import { recordMode } from "./mod.ts";
 * await recordMode("native");
 * ```
 */
export async function recordMode(mode: RunMode): Promise<void> {
  const { modeFile, cache } = stackPaths();
  await Deno.mkdir(cache, { recursive: true });
  await Deno.writeTextFile(modeFile, mode + "\n");
}

/**
 * Resolves which mode to use: an explicit `docker`/`native`, else the recorded
 * one, else Docker if its engine answers, else native.
 *
 * @example
 * ```ts
 * import { resolveMode } from "./mod.ts";
 * console.log(await resolveMode("auto"));
 * ```
 */
export async function resolveMode(requested: "auto" | RunMode): Promise<RunMode> {
  if (requested !== "auto") return requested;
  const recorded = await recordedMode();
  if (recorded) return recorded;
  return (await dockerEngineAvailable()) ? "docker" : "native";
}

/**
 * The stack for `mode` (default: `config.stack.mode`, resolved as in {@linkcode resolveMode}).
 *
 * @example
 * ```ts
 * import { loadConfig } from "../../config.ts";
 * import { openStack } from "./mod.ts";
 * const stack = await openStack(loadConfig());
 * console.log(stack.mode);
 * ```
 */
export async function openStack(
  config: Config,
  options: { mode?: "auto" | RunMode; log?: (line: string) => void } = {},
): Promise<Stack> {
  const mode = await resolveMode(options.mode ?? config.stack.mode);
  return mode === "docker"
    ? new DockerStack(config, options.log)
    : new NativeStack(config, options.log);
}
