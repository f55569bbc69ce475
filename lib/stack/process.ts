/**
 * Background processes we start and own: spawned detached with output to a
 * log file, tracked by a pid file, stopped by signal. A pid file is trusted
 * only while `/proc/<pid>/cmdline` still holds the marker we started it with,
 * so a reused pid is never killed by mistake.
 *
 * @example
 * ```ts
 * import { ManagedProcess } from "./process.ts";
 * const p = new ManagedProcess({
 *   name: "sleeper",
 *   cmd: ["sleep", "60"],
 *   marker: "sleep",
 *   pidFile: "/tmp/sleeper.pid",
 *   logFile: "/tmp/sleeper.log",
 * });
 * await p.start();
 * console.log(await p.pid()); // the sleep process
 * await p.stop();
 * ```
 *
 * @module
 */
import { sleep } from "../util/deadline.ts";

/** What to run and where its traces go. */
export interface ProcessSpec {
  /** Service name for messages (e.g. `kafka-1`). */
  readonly name: string;
  /** Program and arguments. */
  readonly cmd: readonly string[];
  /** A string that must appear in the process command line for the pid to count as ours. */
  readonly marker: string;
  /** Where the pid is kept. */
  readonly pidFile: string;
  /** Where output is appended. */
  readonly logFile: string;
  /** Working directory. */
  readonly cwd?: string;
  /** Extra environment variables, on top of the inherited ones. */
  readonly env?: Record<string, string>;
}

/**
 * True when a process with this pid exists, is not a zombie, and its command
 * line contains `marker`. Asks `ps`, because Deno allows reading `/proc` only
 * with --allow-all, which tests do not have.
 *
 * @example
 * ```ts
 * import { isOurProcess } from "./process.ts";
 * console.log(await isOurProcess(Deno.pid, "deno")); // true
 * ```
 */
export async function isOurProcess(pid: number, marker: string): Promise<boolean> {
  const ps = await psLine(pid);
  return ps !== undefined && !ps.stat.startsWith("Z") && ps.args.includes(marker);
}

/** `ps`'s state and command line of `pid`; undefined when there is no such process. */
async function psLine(pid: number): Promise<{ stat: string; args: string } | undefined> {
  try {
    const out = await new Deno.Command("ps", {
      args: ["-o", "stat=", "-o", "args=", "-p", String(pid)],
      stdout: "piped",
      stderr: "null",
    }).output();
    if (!out.success) return undefined;
    const line = new TextDecoder().decode(out.stdout).trim();
    const space = line.indexOf(" ");
    if (line === "") return undefined;
    return space < 0
      ? { stat: line, args: "" }
      : { stat: line.slice(0, space), args: line.slice(space + 1).trimStart() };
  } catch {
    return undefined;
  }
}

/** A process this project starts in the background and can find again later. */
export class ManagedProcess {
  /** A handle on the process `spec` describes; nothing starts before `start()`. */
  constructor(readonly spec: ProcessSpec) {}

  /** The pid if the process recorded in the pid file is alive and ours, else undefined. */
  async pid(): Promise<number | undefined> {
    let text: string;
    try {
      text = await Deno.readTextFile(this.spec.pidFile);
    } catch {
      return undefined;
    }
    const pid = Number(text.trim());
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    return (await isOurProcess(pid, this.spec.marker)) ? pid : undefined;
  }

  /**
   * Starts the process detached (its own session, stdin from /dev/null, output
   * appended to the log file) unless it already runs; returns its pid.
   */
  async start(): Promise<number> {
    const running = await this.pid();
    if (running) return running;
    const { cmd, logFile, pidFile, cwd, env } = this.spec;
    await Deno.mkdir(dirname(logFile), { recursive: true });
    await Deno.mkdir(dirname(pidFile), { recursive: true });
    await Deno.writeTextFile(
      logFile,
      `---- ${new Date().toISOString()} starting ${cmd.join(" ")}\n`,
      {
        append: true,
      },
    );
    // `setsid` execs in place (a background job is never a group leader), so $! is the
    // program itself, not a wrapper shell. Descriptors 3-9 are closed for it: a service
    // outlives whoever started it and must not keep their files open, e.g. the lock fd
    // of `flock -x lockfile deno test ...` (a broker or MinIO restarted by a fault test
    // would otherwise hold the exclusive lock for as long as it runs).
    const out = await new Deno.Command("sh", {
      args: [
        "-c",
        'setsid "$@" >>"$SHOPSTREAM_LOG" 2>&1 </dev/null 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- & echo $!',
        "sh",
        ...cmd,
      ],
      cwd,
      env: { ...env, SHOPSTREAM_LOG: logFile },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const pid = Number(new TextDecoder().decode(out.stdout).trim());
    if (!out.success || !Number.isInteger(pid) || pid <= 0) {
      throw new Error(
        `${this.spec.name}: could not start ${cmd[0]}: ${new TextDecoder().decode(out.stderr)}`,
      );
    }
    await Deno.writeTextFile(pidFile, `${pid}\n`);
    // The child execs twice (sh -> setsid -> the program). While it does, ps can show an
    // empty or foreign command line, and a liveness check would take the service for dead
    // (seen once: MinIO "exited" 25 ms after its start and was started two more times).
    // Return once the program itself runs, or it is gone.
    const until = Date.now() + 5000;
    while (Date.now() < until) {
      const ps = await psLine(pid);
      if (ps === undefined || ps.stat.startsWith("Z") || ps.args.startsWith(cmd[0])) break;
      await sleep(10);
    }
    return pid;
  }

  /** Sends `signal`; resolves true if the process was running. */
  async signal(signal: Deno.Signal): Promise<boolean> {
    const pid = await this.pid();
    if (!pid) return false;
    try {
      Deno.kill(pid, signal);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Stops the process: SIGTERM, then SIGKILL after `graceMs`. Removes the pid
   * file. Resolves whether it had been running.
   */
  async stop(graceMs = 20_000): Promise<boolean> {
    const pid = await this.pid();
    if (!pid) {
      await Deno.remove(this.spec.pidFile).catch(() => {});
      return false;
    }
    try {
      Deno.kill(pid, "SIGTERM");
    } catch { /* already gone */ }
    const deadline = Date.now() + graceMs;
    while (Date.now() < deadline && await isOurProcess(pid, this.spec.marker)) await sleep(100);
    if (await isOurProcess(pid, this.spec.marker)) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch { /* gone */ }
      while (await isOurProcess(pid, this.spec.marker)) await sleep(50);
    }
    await Deno.remove(this.spec.pidFile).catch(() => {});
    return true;
  }

  /** SIGKILL without grace (for fault drills); the pid file stays until `stop`/`start`. */
  async kill(): Promise<boolean> {
    const pid = await this.pid();
    if (!pid) return false;
    Deno.kill(pid, "SIGKILL");
    while (await isOurProcess(pid, this.spec.marker)) await sleep(50);
    return true;
  }

  /** The last `lines` lines of the log file ("" if there is none). */
  async tail(lines = 40): Promise<string> {
    try {
      const text = await Deno.readTextFile(this.spec.logFile);
      return text.split("\n").slice(-lines - 1).join("\n");
    } catch {
      return "";
    }
  }
}

function dirname(path: string): string {
  const i = path.lastIndexOf("/");
  return i <= 0 ? "/" : path.slice(0, i);
}
