/**
 * A bound on a task's clean shutdown. A task that handles SIGINT/SIGTERM
 * (leave the consumer group, commit, close the registry) talks to Kafka on
 * its way out; with a broker stopped or frozen those requests can wait for
 * their 30 s timeout or longer. {@linkcode boundShutdown} lets the clean
 * shutdown run, and ends the process anyway once `graceMs` has passed since
 * the signal, saying so; a second signal ends it at once.
 *
 * @example
 * ```ts
 * import { boundShutdown } from "./shutdown.ts";
 * const release = boundShutdown("consume"); // before installing the task's own handlers
 * // ... run; on SIGINT the task's handlers shut down, bounded to 8 s
 * release(); // when the task ends by itself
 * ```
 *
 * @module
 */

/** How long a clean shutdown may take by default (tasks promise to end within 10 s). */
export const SHUTDOWN_GRACE_MS = 8_000;

/**
 * Arms the bound: on the first SIGINT or SIGTERM a timer starts that exits
 * with `status` (default 1) after `graceMs`; a second signal exits at once.
 * The timer does not keep the process alive. Returns a function that removes
 * the listeners (a shutdown already under way stays bounded). Only for tasks
 * that install their own signal handlers: a listener replaces Deno's default
 * of ending the process on SIGINT.
 *
 * @example
 * ```ts
 * import { boundShutdown } from "./shutdown.ts";
 * const release = boundShutdown("monitor", { graceMs: 5000 });
 * release();
 * ```
 */
export function boundShutdown(
  name: string,
  options: { graceMs?: number; status?: number } = {},
): () => void {
  const graceMs = options.graceMs ?? SHUTDOWN_GRACE_MS;
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  let first: Deno.Signal | undefined;
  const handler = (signal: Deno.Signal) => () => {
    if (first) {
      console.error(`${name}: ${signal} again, exiting now`);
      Deno.exit(options.status ?? 1);
    }
    first = signal;
    const timer = setTimeout(() => {
      console.error(
        `${name}: still shutting down ${graceMs / 1000} s after ${signal} ` +
          "(Kafka or another service is not answering: a broker stopped or frozen?); exiting now",
      );
      Deno.exit(options.status ?? 1);
    }, graceMs);
    Deno.unrefTimer(timer);
  };
  const installed = signals.map((s) => [s, handler(s)] as const);
  for (const [s, h] of installed) Deno.addSignalListener(s, h);
  return () => {
    for (const [s, h] of installed) {
      try {
        Deno.removeSignalListener(s, h);
      } catch { /* already removed */ }
    }
  };
}
