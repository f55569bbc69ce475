/**
 * Freezing MinIO: the process stays, its sockets stay open, it answers
 * nothing (native: SIGSTOP, then SIGCONT; Docker: `docker compose pause`,
 * then `unpause`). Unlike a stopped MinIO (connection refused at once), a
 * frozen one accepts connections and lets every request hang: only a
 * client-side timeout ends them. MinIO is shared by everything on the stack,
 * so a freeze is always short and always undone: a guard process thaws it
 * after the freeze's bound plus a margin even if the drill itself is killed,
 * and SIGINT/SIGTERM thaw it before the drill exits.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { openStack } from "../stack/mod.ts";
 * import { freezeMinio } from "./freeze.ts";
 * const stack = await openStack(loadConfig());
 * const frozen = await freezeMinio(stack.mode, 15_000);
 * try {
 *   // ... MinIO answers nothing here
 * } finally {
 *   await frozen.thaw();
 * }
 * ```
 *
 * @module
 */
import { isOurProcess } from "../stack/process.ts";
import { stackPaths } from "../stack/paths.ts";
import type { RunMode } from "../stack/types.ts";

/** A frozen MinIO; `thaw()` is idempotent and safe to call from `finally`. */
export interface FrozenMinio {
  /** When the freeze began (ms since the epoch). */
  readonly since: number;
  /** Whether it is still frozen. */
  readonly frozen: boolean;
  /** Thaws MinIO (SIGCONT / unpause) and ends the guard. */
  thaw(): Promise<void>;
}

/** Extra seconds the guard waits beyond the freeze's bound before it thaws MinIO itself. */
export const GUARD_MARGIN_S = 20;

async function run(cmd: string, args: string[]): Promise<void> {
  const out = await new Deno.Command(cmd, { args, stdout: "null", stderr: "piped" }).output();
  if (!out.success) {
    throw new Error(
      `${cmd} ${args.join(" ")} failed (exit ${out.code}): ${new TextDecoder().decode(out.stderr)}`,
    );
  }
}

/** The pid of the native MinIO this stack started (checked against its command line). */
export async function nativeMinioPid(): Promise<number> {
  const paths = stackPaths();
  const file = `${paths.pids}/minio.pid`;
  const pid = Number((await Deno.readTextFile(file).catch(() => "")).trim());
  // The command line names the data folder as it was started (`.cache` may be a symlink).
  const real = await Deno.realPath(paths.minio).catch(() => paths.minio);
  const ours = async () =>
    await isOurProcess(pid, `${paths.minio}/data`) || await isOurProcess(pid, `${real}/data`);
  if (!Number.isInteger(pid) || pid <= 0 || !(await ours())) {
    throw new Error(
      `no native MinIO of this stack runs (pid file ${file}): deno task stack status`,
    );
  }
  return pid;
}

/**
 * Freezes MinIO for at most `boundMs` (the guard thaws it after
 * `boundMs` + {@linkcode GUARD_MARGIN_S} s whatever happens to this process).
 *
 * @example
 * ```ts
 * import { freezeMinio } from "./freeze.ts";
 * const frozen = await freezeMinio("native", 5000);
 * await frozen.thaw();
 * ```
 */
export async function freezeMinio(mode: RunMode, boundMs: number): Promise<FrozenMinio> {
  const guardS = Math.ceil(boundMs / 1000) + GUARD_MARGIN_S;
  let stop: string[];
  let cont: string[];
  let guardScript: string;
  if (mode === "native") {
    const pid = await nativeMinioPid();
    stop = ["kill", "-STOP", String(pid)];
    cont = ["kill", "-CONT", String(pid)];
    guardScript = `sleep ${guardS}; kill -CONT ${pid} 2>/dev/null`;
  } else {
    const compose = ["compose", "-p", "shopstream", "-f", stackPaths().composeFile];
    stop = ["docker", ...compose, "pause", "minio"];
    cont = ["docker", ...compose, "unpause", "minio"];
    guardScript = `sleep ${guardS}; docker ${compose.join(" ")} unpause minio >/dev/null 2>&1`;
  }
  // Started first: it thaws MinIO even if this process dies while MinIO is frozen.
  const guard = new Deno.Command("sh", {
    args: ["-c", guardScript],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  guard.unref();
  let frozen = true;
  let thawing: Promise<void> | undefined;
  const thaw = () => {
    thawing ??= (async () => {
      try {
        await run(cont[0], cont.slice(1));
      } finally {
        frozen = false;
        for (const s of SIGNALS) Deno.removeSignalListener(s, onSignal);
        try {
          guard.kill("SIGKILL");
        } catch { /* already ended */ }
        await guard.status.catch(() => {});
      }
    })();
    return thawing;
  };
  const onSignal = () => {
    thaw().finally(() => Deno.exit(130));
  };
  for (const s of SIGNALS) Deno.addSignalListener(s, onSignal);
  try {
    await run(stop[0], stop.slice(1));
  } catch (e) {
    await thaw().catch(() => {});
    throw e;
  }
  return {
    since: Date.now(),
    get frozen() {
      return frozen;
    },
    thaw,
  };
}

const SIGNALS: Deno.Signal[] = Deno.build.os === "windows" ? [] : ["SIGINT", "SIGTERM"];
