/**
 * Opening the stack in the right mode: an explicit one, else the recorded
 * one, else Docker when its engine answers, else native processes.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { openStack } from "./open.ts";
 * const stack = await openStack(loadConfig());
 * console.log(stack.mode);
 * ```
 *
 * @module
 */
import type { Config } from "../config.ts";
import { dockerEngineAvailable, DockerStack } from "./docker.ts";
import { NativeStack } from "./native.ts";
import { recordedMode } from "./mode.ts";
import type { RunMode, Stack } from "./types.ts";

/**
 * Resolves which mode to use: an explicit `docker`/`native`, else the recorded
 * one, else Docker if its engine answers, else native.
 *
 * @example
 * ```ts
 * import { resolveMode } from "./open.ts";
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
 * import { loadConfig } from "../config.ts";
 * import { openStack } from "./open.ts";
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
