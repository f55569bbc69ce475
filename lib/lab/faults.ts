/**
 * The faults the operations lab injects into the shared stack, and their
 * undoing: MinIO frozen with SIGSTOP (Docker: `docker compose pause`) and
 * thawed with SIGCONT, guarded by a detached watchdog that thaws it anyway
 * after a bound even if the process that froze it dies; and the heal that
 * brings the stack back: MinIO resumed (or started), every stopped broker
 * started.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { openStack } from "../stack/mod.ts";
 * import { pauseMinio } from "./faults.ts";
 * const paused = await pauseMinio(await openStack(loadConfig()), { maxMs: 20_000 });
 * try {
 *   // ... MinIO answers nothing now
 * } finally {
 *   await paused.resume();
 * }
 * ```
 *
 * @module
 */
import type { Stack } from "../stack/types.ts";
import { stackPaths } from "../stack/paths.ts";

/** A frozen MinIO; `resume()` thaws it (safe to call twice) and cancels the watchdog. */
export interface PausedMinio {
  /** The frozen process (native mode). */
  readonly pid?: number;
  /** When it was frozen, epoch ms. */
  readonly atMs: number;
  /** Thaws MinIO now. */
  resume(): Promise<void>;
}

async function run(cmd: string, args: string[]): Promise<{ ok: boolean; out: string }> {
  try {
    const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
    return { ok: out.success, out: new TextDecoder().decode(out.stdout).trim() };
  } catch {
    return { ok: false, out: "" };
  }
}

function compose(...args: string[]): string[] {
  return ["compose", "-p", "shopstream", "-f", stackPaths().composeFile, ...args];
}

/**
 * MinIO's process id in native mode (undefined when it is not running, or in
 * Docker mode).
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { openStack } from "../stack/mod.ts";
 * import { minioPid } from "./faults.ts";
 * console.log(await minioPid(await openStack(loadConfig())));
 * ```
 */
export async function minioPid(stack: Stack): Promise<number | undefined> {
  if (stack.mode !== "native") return undefined;
  const row = (await stack.status()).find((s) => s.service === "minio");
  return row?.pid;
}

/**
 * Whether MinIO runs, is frozen (SIGSTOP; Docker: paused) or is not running.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { openStack } from "../stack/mod.ts";
 * import { minioState } from "./faults.ts";
 * console.log(await minioState(await openStack(loadConfig()))); // "running"
 * ```
 */
export async function minioState(stack: Stack): Promise<"running" | "paused" | "stopped"> {
  if (stack.mode === "docker") {
    const row = (await stack.status()).find((s) => s.service === "minio");
    if (!row || row.state.startsWith("stopped") || row.state.startsWith("exited")) return "stopped";
    return row.state.startsWith("paused") ? "paused" : "running";
  }
  const pid = await minioPid(stack);
  if (!pid) return "stopped";
  const ps = await run("ps", ["-o", "stat=", "-p", String(pid)]);
  return ps.out.startsWith("T") ? "paused" : "running";
}

/**
 * Starts a detached shell (its own session, so it outlives whoever started
 * it) that runs `script` after `seconds`; returns its process group id.
 */
async function watchdog(seconds: number, script: string): Promise<number | undefined> {
  const line = `sleep ${Math.ceil(seconds)}; ${script}`;
  const r = await run("sh", [
    "-c",
    `setsid sh -c '${line}' </dev/null >/dev/null 2>&1 & echo $!`,
  ]);
  const pid = Number(r.out);
  return r.ok && Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

function cancel(group: number | undefined): void {
  if (!group) return;
  try {
    Deno.kill(-group, "SIGKILL"); // the watchdog's session: its shell and its sleep
  } catch { /* it already ran, or is gone */ }
}

/**
 * Freezes MinIO: native mode SIGSTOP (the process keeps its port, so clients
 * connect and then hear nothing, like a hung server), Docker mode `docker
 * compose pause minio`. A detached watchdog thaws it after `maxMs` (default
 * 60 s) whatever happens to the caller; `resume()` thaws it at once and
 * cancels the watchdog.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { openStack } from "../stack/mod.ts";
 * import { pauseMinio } from "./faults.ts";
 * const paused = await pauseMinio(await openStack(loadConfig()));
 * await paused.resume();
 * ```
 */
export async function pauseMinio(
  stack: Stack,
  options: { maxMs?: number } = {},
): Promise<PausedMinio> {
  const seconds = (options.maxMs ?? 60_000) / 1000;
  if (stack.mode === "docker") {
    const dog = await watchdog(seconds, `docker ${compose("unpause", "minio").join(" ")}`);
    const r = await run("docker", compose("pause", "minio"));
    if (!r.ok) {
      cancel(dog);
      throw new Error("docker compose pause minio failed: is the stack up?");
    }
    let done = false;
    return {
      atMs: Date.now(),
      async resume() {
        if (done) return;
        done = true;
        cancel(dog);
        await run("docker", compose("unpause", "minio"));
      },
    };
  }
  const pid = await minioPid(stack);
  if (!pid) throw new Error("MinIO is not running: `deno task stack up` starts it");
  const dog = await watchdog(seconds, `kill -CONT ${pid}`);
  if (!dog) throw new Error("could not start the watchdog that thaws MinIO; not freezing it");
  Deno.kill(pid, "SIGSTOP");
  let done = false;
  return {
    pid,
    atMs: Date.now(),
    resume() {
      if (!done) {
        done = true;
        try {
          Deno.kill(pid, "SIGCONT");
        } finally {
          cancel(dog);
        }
      }
      return Promise.resolve();
    },
  };
}

/**
 * Brings the stack's processes back: thaws a frozen MinIO, starts MinIO if
 * it is not running, starts every broker that is not running (and waits for
 * its listener). Returns one line per action; empty when nothing was needed.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { openStack } from "../stack/mod.ts";
 * import { healProcesses } from "./faults.ts";
 * console.log(await healProcesses(await openStack(loadConfig())));
 * ```
 */
export async function healProcesses(stack: Stack): Promise<string[]> {
  const actions: string[] = [];
  const minio = await minioState(stack);
  if (minio === "paused") {
    if (stack.mode === "docker") await run("docker", compose("unpause", "minio"));
    else Deno.kill((await minioPid(stack))!, "SIGCONT");
    actions.push("MinIO was frozen: resumed it");
  } else if (minio === "stopped") {
    await stack.startMinio();
    actions.push("MinIO was not running: started it");
  }
  for (const row of await stack.status()) {
    const m = /^kafka-(\d+)$/.exec(row.service);
    if (!m || row.state.startsWith("running")) continue;
    await stack.startBroker(Number(m[1]));
    actions.push(`${row.service} was ${row.state}: started it`);
  }
  return actions;
}
