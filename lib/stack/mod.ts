/**
 * The local stack in either mode, chosen once and remembered: Docker when
 * `docker info` succeeds (or `--mode docker`), else native processes. The mode
 * that brought the stack up is recorded in `.cache/stack-mode`, so `down`,
 * `status` and drills talk to the same one.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { openStack } from "./mod.ts";
 * const stack = await openStack(loadConfig(), { log: console.log });
 * await stack.up();
 * ```
 *
 * @module
 */
export * from "./docker.ts";
export * from "./install.ts";
export * from "./mode.ts";
export * from "./native.ts";
export * from "./open.ts";
export * from "./paths.ts";
export * from "./process.ts";
export * from "./types.ts";
