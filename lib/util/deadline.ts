/**
 * One way to give a promise a deadline: it settles as `promise` does, or
 * rejects with a message that says what did not finish in time. The timer is
 * always cleared, so Deno's op sanitizer stays quiet.
 *
 * @example
 * ```ts
 * import { withDeadline } from "./deadline.ts";
 * const slow = new Promise((r) => setTimeout(r, 50));
 * await withDeadline(slow, 1000, "the slow thing"); // fine
 * ```
 *
 * @module
 */

/**
 * `promise`, or a rejection after `ms` milliseconds. `what` names the work
 * (the error reads "`what` timed out after `ms` ms"); pass a function to build
 * a whole message from the state at the moment of expiry.
 *
 * @example
 * ```ts
 * import { withDeadline } from "./deadline.ts";
 * let count = 0;
 * await withDeadline(Promise.resolve(), 10, () => `read ${count} records in 10 ms`);
 * ```
 */
export async function withDeadline<T>(
  promise: Promise<T>,
  ms: number,
  what: string | (() => string),
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(new Error(typeof what === "string" ? `${what} timed out after ${ms} ms` : what())),
      ms,
    );
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Resolves after `ms` milliseconds: the one pause used by retry loops with
 * backoff. (To wait for a condition, poll it with a deadline instead.)
 *
 * @example
 * ```ts
 * import { sleep } from "./deadline.ts";
 * await sleep(10);
 * ```
 */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
