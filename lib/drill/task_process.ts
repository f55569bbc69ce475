/**
 * A `deno task` entry point (`tasks/<name>.ts`) run as a child process the
 * way a user runs it, for drills that check what a task does under a fault:
 * its stdin fed line by line, its stdout kept as lines, its stderr kept as
 * text, and its exit timed after a signal.
 *
 * @example
 * ```ts
 * import { TaskProcess } from "./task_process.ts";
 * const produce = TaskProcess.start("produce", ["--topic", "demo"], { stdin: true });
 * await produce.write("hello\nworld\n");
 * await produce.closeStdin();
 * console.log((await produce.wait(60_000))?.code, produce.stderr);
 * ```
 *
 * @module
 */
import { REPO_ROOT } from "../util/repo.ts";

/** Options of {@linkcode TaskProcess.start}. */
export interface TaskProcessOptions {
  /** Keep stdin open for {@linkcode TaskProcess.write} (default: no stdin). */
  stdin?: boolean;
  /** Extra environment variables. */
  env?: Record<string, string>;
}

/** One running task. */
export class TaskProcess {
  /** Complete stdout lines so far. */
  readonly lines: string[] = [];
  #stderr = "";
  #writer: WritableStreamDefaultWriter<Uint8Array> | undefined;
  #stdinBroken = false;
  readonly #done: Promise<void>;
  readonly #encoder = new TextEncoder();

  private constructor(readonly name: string, readonly child: Deno.ChildProcess) {
    this.#writer = undefined;
    const out = (async () => {
      let rest = "";
      for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
        const parts = (rest + chunk).split("\n");
        rest = parts.pop() ?? "";
        for (const line of parts) this.lines.push(line);
      }
      if (rest) this.lines.push(rest);
    })();
    const err = (async () => {
      for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
        this.#stderr += chunk;
      }
    })();
    this.#done = Promise.all([out, err]).then(() => {}, () => {});
  }

  /** Starts `tasks/<name>.ts` with `args` (all permissions, from the repository root). */
  static start(name: string, args: string[], options: TaskProcessOptions = {}): TaskProcess {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", `${REPO_ROOT}/tasks/${name}.ts`, ...args],
      cwd: REPO_ROOT,
      env: options.env,
      stdin: options.stdin ? "piped" : "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const task = new TaskProcess(name, child);
    if (options.stdin) task.#writer = child.stdin.getWriter();
    return task;
  }

  /** Everything the task wrote to stderr so far. */
  get stderr(): string {
    return this.#stderr;
  }

  /** The last `n` lines of stderr, for a failure message. */
  stderrTail(n = 8): string {
    return this.#stderr.trimEnd().split("\n").slice(-n).join("\n");
  }

  /** Whether stdin could not be written (the task had ended). */
  get stdinBroken(): boolean {
    return this.#stdinBroken;
  }

  /** Writes `text` to stdin; false (and no throw) once the task no longer reads it. */
  async write(text: string): Promise<boolean> {
    if (!this.#writer || this.#stdinBroken) return false;
    try {
      await this.#writer.write(this.#encoder.encode(text));
      return true;
    } catch {
      this.#stdinBroken = true;
      return false;
    }
  }

  /** Closes stdin: the task sees the end of its input. */
  async closeStdin(): Promise<void> {
    const writer = this.#writer;
    this.#writer = undefined;
    await writer?.close().catch(() => {});
  }

  /** The exit status, or undefined if the task is still running after `ms`. */
  async wait(ms: number): Promise<Deno.CommandStatus | undefined> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<undefined>((r) => timer = setTimeout(() => r(undefined), ms));
    try {
      const status = await Promise.race([this.child.status, late]);
      if (status) await this.#done;
      return status;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Sends `signal` and waits up to `ms` for the exit: the status (undefined if
   * still running) and how long the task took to end.
   */
  async stop(
    signal: Deno.Signal,
    ms: number,
  ): Promise<{ status: Deno.CommandStatus | undefined; seconds: number }> {
    const started = performance.now();
    try {
      this.child.kill(signal);
    } catch { /* already gone */ }
    const status = await this.wait(ms);
    return { status, seconds: (performance.now() - started) / 1000 };
  }

  /** SIGKILL if still running, then wait for the end (cleanup in `finally`). */
  async kill(): Promise<void> {
    await this.closeStdin();
    try {
      this.child.kill("SIGKILL");
    } catch { /* already gone */ }
    await this.child.status.catch(() => {});
    await this.#done;
  }
}
