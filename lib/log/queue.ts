/**
 * A tiny in-memory work queue, the classic message broker's model, kept
 * here to contrast with the log: taking a message removes it, so competing
 * consumers share the work (each message goes to exactly one of them), and
 * a consumer that arrives later, or wants to reprocess, finds nothing.
 *
 * @example
 * ```ts
 * import { WorkQueue } from "./queue.ts";
 * const q = new WorkQueue<string>();
 * q.enqueue("a");
 * q.enqueue("b");
 * console.log(q.take(), q.take(), q.take(), q.size); // a b undefined 0
 * ```
 *
 * @module
 */

/**
 * First in, first out; reads are destructive.
 *
 * @example
 * ```ts
 * import { WorkQueue } from "./queue.ts";
 * const q = new WorkQueue<number>();
 * [1, 2, 3, 4].forEach((n) => q.enqueue(n));
 * const workers = { w1: [] as number[], w2: [] as number[] };
 * for (let m = q.take(), turn = 0; m !== undefined; m = q.take(), turn++) {
 *   (turn % 2 ? workers.w2 : workers.w1).push(m);
 * }
 * console.log(workers); // { w1: [ 1, 3 ], w2: [ 2, 4 ] }
 * ```
 */
export class WorkQueue<T> {
  #items: T[] = [];
  #head = 0;
  #taken = 0;

  /** Messages waiting. */
  get size(): number {
    return this.#items.length - this.#head;
  }

  /** Messages handed out (and gone) so far. */
  get taken(): number {
    return this.#taken;
  }

  /**
   * Adds a message at the back.
   *
   * @example
   * ```ts
   * import { WorkQueue } from "./queue.ts";
   * const q = new WorkQueue<string>();
   * q.enqueue("order-1");
   * console.log(q.size); // 1
   * ```
   */
  enqueue(item: T): void {
    this.#items.push(item);
  }

  /**
   * Removes and returns the front message; `undefined` when empty.
   *
   * @example
   * ```ts
   * import { WorkQueue } from "./queue.ts";
   * const q = new WorkQueue<string>();
   * q.enqueue("x");
   * console.log(q.take(), q.take()); // x undefined
   * ```
   */
  take(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined as T;
    this.#taken++;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }
}
