/**
 * Where the stack keeps downloads, data, logs and pid files: all under the
 * repository's ignored `.cache/` (override the root with `SHOPSTREAM_CACHE`).
 *
 * @example
 * ```ts
 * import { stackPaths } from "./paths.ts";
 * console.log(stackPaths().logs); // /path/to/repo/.cache/logs
 * ```
 *
 * @module
 */
import { REPO_ROOT } from "../util/repo.ts";

/** Folders and files the stack manager uses. */
export interface StackPaths {
  /** The repository root. */
  readonly root: string;
  /** `.cache` (or `SHOPSTREAM_CACHE`). */
  readonly cache: string;
  /** Service logs. */
  readonly logs: string;
  /** Pid files. */
  readonly pids: string;
  /** Records the mode the stack was started in. */
  readonly modeFile: string;
  /** Kafka's jars, broker data and cluster id. */
  readonly kafka: string;
  /** MinIO's binary and data. */
  readonly minio: string;
  /** `compose.yaml`. */
  readonly composeFile: string;
  /** The Maven pom that fetches Kafka's jars. */
  readonly kafkaPom: string;
}

/**
 * The paths for this checkout.
 *
 * @example
 * ```ts
 * import { stackPaths } from "./paths.ts";
 * const { kafka } = stackPaths();
 * ```
 */
export function stackPaths(): StackPaths {
  let cache = `${REPO_ROOT}/.cache`;
  try {
    cache = Deno.env.get("SHOPSTREAM_CACHE") ?? cache;
  } catch { /* no env permission: default */ }
  return {
    root: REPO_ROOT,
    cache,
    logs: `${cache}/logs`,
    pids: `${cache}/pids`,
    modeFile: `${cache}/stack-mode`,
    kafka: `${cache}/kafka`,
    minio: `${cache}/minio`,
    composeFile: `${REPO_ROOT}/compose.yaml`,
    kafkaPom: `${REPO_ROOT}/tasks/kafka-pom.xml`,
  };
}
