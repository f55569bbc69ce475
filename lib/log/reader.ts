/**
 * A reader of the log with its own position: the consumer side of the
 * log. Reading does not remove anything, so any number of readers can read
 * the same records, each at its own pace, and any of them can rewind and
 * replay. (A work queue is the opposite: see `queue.ts`.)
 *
 * @example
 * ```ts
 * import { Log } from "./log.ts";
 * const log = await Log.open(await Deno.makeTempDir());
 * await log.append({ value: "a" });
 * const billing = log.reader({ name: "billing" });
 * const audit = log.reader({ name: "audit" });
 * console.log((await billing.poll()).length, (await audit.poll()).length); // 1 1
 * await log.close();
 * ```
 *
 * @module
 */
import { InvalidArgumentError } from "./errors.ts";
import type { LogRecord } from "./record.ts";

/** What a reader needs from the log. */
export interface ReadableLog {
  /** Offset of the oldest record still in the log. */
  readonly startOffset: number;
  /** Offset the next appended record will get. */
  readonly endOffset: number;
  /** Records at or after `offset` (up to about `maxBytes`), and where to read next. */
  read(offset: number, maxBytes?: number): Promise<{ records: LogRecord[]; nextOffset: number }>;
}

/** Where a new reader starts. */
export type StartPosition = "earliest" | "latest" | number;

/**
 * A named position in a log. Create one with `log.reader()`.
 *
 * @example
 * ```ts
 * import { Log } from "./log.ts";
 * const log = await Log.open(await Deno.makeTempDir());
 * await log.appendBatch([{ value: "a" }, { value: "b" }]);
 * const r = log.reader({ from: 1 });
 * console.log((await r.poll()).map((x) => x.offset), r.position, r.lag); // [ 1 ] 2 0
 * await log.close();
 * ```
 */
export class LogReader {
  #position: number;

  /** A reader called `name` over `log`, starting at `from`. */
  constructor(readonly log: ReadableLog, readonly name: string, from: StartPosition = "earliest") {
    this.#position = this.#resolve(from);
  }

  #resolve(from: StartPosition): number {
    if (from === "earliest") return this.log.startOffset;
    if (from === "latest") return this.log.endOffset;
    if (!Number.isSafeInteger(from) || from < 0) {
      throw new InvalidArgumentError(
        `a reader starts at "earliest", "latest" or an offset >= 0, got ${from}`,
      );
    }
    return from;
  }

  /** The offset of the next record this reader will get. */
  get position(): number {
    return this.#position;
  }

  /** Records written but not read yet by this reader. */
  get lag(): number {
    return Math.max(0, this.log.endOffset - this.#position);
  }

  /**
   * Reads the next records (up to about `maxBytes`) and moves past them.
   * An empty array means the reader is at the end.
   *
   * @example
   * ```ts
   * import { Log } from "./log.ts";
   * const log = await Log.open(await Deno.makeTempDir());
   * await log.append({ value: "a" });
   * const reader = log.reader();
   * console.log((await reader.poll(64 * 1024)).length, (await reader.poll()).length); // 1 0
   * await log.close();
   * ```
   */
  async poll(maxBytes = 64 * 1024): Promise<LogRecord[]> {
    const { records, nextOffset } = await this.log.read(this.#position, maxBytes);
    this.#position = nextOffset;
    return records;
  }

  /**
   * Moves the position: replay from the start, skip to the end, or go to an
   * offset. Out-of-range offsets fail on the next `poll`.
   *
   * @example
   * ```ts
   * import { Log } from "./log.ts";
   * const log = await Log.open(await Deno.makeTempDir());
   * await log.append({ value: "a" });
   * const reader = log.reader();
   * await reader.poll();
   * reader.seek("earliest"); // replay everything
   * console.log(reader.position); // 0
   * await log.close();
   * ```
   */
  seek(to: StartPosition): void {
    this.#position = this.#resolve(to);
  }
}
