/**
 * Exercises in the course notebooks: the stub a learner replaces, and the
 * check that says what is wrong.
 *
 * The convention, which the grader relies on:
 * - An **exercise cell** is a code cell whose metadata has `"tags":
 *   ["exercise"]` and `"exercise": {"id": "01.2", "title": "..."}`. It defines
 *   one or more *functions* (never `const`/`let`, so a later definition in the
 *   same kernel replaces it); the shipped body calls {@linkcode todo}.
 * - A **check cell** follows it, tagged `"check"` with the same
 *   `"exercise": {"id": ...}`, and ends with `await check(id, title, fn)`. `fn`
 *   calls the learner's functions and asserts; {@linkcode check} never throws,
 *   so "Run all" goes on past an unsolved exercise.
 * - Reference solutions and plausible wrong answers live apart, in
 *   `notebooks/solutions/<notebook>.md` (see `./solutions.ts`).
 *
 * The check's output carries a machine-readable MIME part
 * ({@linkcode EXERCISE_MIME}) next to the HTML line a learner reads; the grader
 * reads that part from the executed notebook.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { check, todo } from "./exercise.ts";
 * function double(_n: number): number {
 *   return todo("00.1", "return twice n");
 * }
 * const verdict = await check("00.1", "Double", () => assert.equal(double(2), 4));
 * console.log(verdict.status); // "not yet"
 * ```
 *
 * @module
 */
import { escapeHtml } from "./html.ts";

/** The MIME type of a check's machine-readable result. */
export const EXERCISE_MIME = "application/vnd.shopstream.exercise+json";

/** What a check found. */
export type ExerciseStatus = "solved" | "not yet" | "wrong";

/** Thrown by a stub: the learner has not written this part yet. */
export class NotSolvedError extends Error {
  /** The exercise's id, e.g. `"01.2"`. */
  readonly exerciseId: string;
  /**
   * Names the exercise and what is left to write.
   *
   * @example
   * ```ts
   * import { NotSolvedError } from "./exercise.ts";
   * console.log(new NotSolvedError("01.2", "return the segment's base offset").message);
   * ```
   */
  constructor(id: string, whatToDo: string) {
    super(`Exercise ${id} is not solved yet: ${whatToDo}`);
    this.name = "NotSolvedError";
    this.exerciseId = id;
  }
}

/**
 * The body of a shipped stub: throws {@linkcode NotSolvedError}. Its return
 * type is `never`, so `return todo(...)` type-checks in any function.
 *
 * @example
 * ```ts
 * import { todo } from "./exercise.ts";
 * function segmentFor(_bases: number[], _offset: number): number {
 *   return todo("01.1", "return the base offset of the segment that holds the offset");
 * }
 * try { segmentFor([0, 100], 150); } catch (e) { console.log((e as Error).message); }
 * ```
 */
export function todo(id: string, whatToDo: string): never {
  throw new NotSolvedError(id, whatToDo);
}

/** The result of one check, as a notebook shows it and the grader reads it. */
export interface CheckVerdict {
  /** The exercise's id. */
  readonly id: string;
  /** Its title. */
  readonly title: string;
  /** solved, not yet (a stub was reached) or wrong (an assertion or error). */
  readonly status: ExerciseStatus;
  /** What is wrong or what to do; empty when solved. */
  readonly hint: string;
  /** Jupyter rich display: an HTML line plus {@linkcode EXERCISE_MIME}. */
  [key: symbol]: () => Record<string, unknown>;
}

const DISPLAY = Symbol.for("Jupyter.display");

function hintOf(error: unknown): string {
  if (error instanceof Error) {
    const first = error.message.split("\n").filter((l) => l.trim() !== "").slice(0, 6);
    return first.join(" ").replace(/\s+/g, " ").trim() || error.name;
  }
  return String(error);
}

function isNotSolved(error: unknown): error is NotSolvedError {
  return error instanceof Error && error.name === "NotSolvedError";
}

/**
 * Runs an exercise's assertions and returns a verdict that displays as one
 * line: "✓ solved", "… not yet: what to do" or "✗ wrong: what is wrong". Never
 * throws; a check that takes longer than `timeoutMs` is wrong.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { check } from "./exercise.ts";
 * const v = await check("00.2", "Sum", () => assert.equal(1 + 1, 3, "1 + 1 should be 2"));
 * console.log(v.status, v.hint); // wrong 1 + 1 should be 2
 * ```
 */
export async function check(
  id: string,
  title: string,
  fn: () => void | Promise<void>,
  options: { timeoutMs?: number } = {},
): Promise<CheckVerdict> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  let status: ExerciseStatus = "solved";
  let hint = "";
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`the check did not finish within ${timeoutMs / 1000} s`)),
        timeoutMs,
      );
    });
    await Promise.race([Promise.resolve().then(fn), timeout]);
  } catch (error) {
    status = isNotSolved(error) ? "not yet" : "wrong";
    hint = hintOf(error);
  } finally {
    clearTimeout(timer);
  }
  return verdict(id, title, status, hint);
}

/**
 * Builds a verdict by hand (the grader uses it for exercises it could not run).
 *
 * @example
 * ```ts
 * import { verdict } from "./exercise.ts";
 * console.log(verdict("01.1", "Segment lookup", "solved", "").status);
 * ```
 */
export function verdict(
  id: string,
  title: string,
  status: ExerciseStatus,
  hint: string,
): CheckVerdict {
  const mark = status === "solved" ? "✓" : status === "not yet" ? "…" : "✗";
  const colour = status === "solved" ? "#1a7f37" : status === "not yet" ? "#9a6700" : "#cf222e";
  const text = status === "solved"
    ? `${mark} Exercise ${id} (${title}): solved`
    : `${mark} Exercise ${id} (${title}): ${status === "wrong" ? "wrong: " : ""}${hint}`;
  return {
    id,
    title,
    status,
    hint,
    [DISPLAY]: () => ({
      "text/plain": text,
      "text/html": `<div style="color:${colour};font-family:monospace">${escapeHtml(text)}</div>`,
      [EXERCISE_MIME]: { id, title, status, hint },
    }),
  };
}
