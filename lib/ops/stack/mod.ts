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
import { recordedMode } from "./mode.ts";
import type { RunMode, Stack } from "./types.ts";

export type { RunMode, ServiceStatus, Stack } from "./types.ts";
export { dockerEngineAvailable, DockerStack } from "./docker.ts";
export { NativeStack } from "./native.ts";
export { forgetMode, recordedMode, recordMode } from "./mode.ts";

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
