/**
 * Typed errors of the log. Each message says what went wrong and what to do
 * next; each class carries the numbers a caller needs to recover.
 *
 * @example
 * ```ts
 * import { LogError, OffsetOutOfRangeError } from "./errors.ts";
 * const e = new OffsetOutOfRangeError(42, 0, 10);
 * console.log(e instanceof LogError, e.message);
 * ```
 *
 * @module
 */

/**
 * The base class of every error the log throws.
 *
 * @example
 * ```ts
 * import { LogError } from "./errors.ts";
 * try {
 *   throw new LogError("boom");
 * } catch (e) {
 *   if (e instanceof LogError) console.log(e.name); // LogError
 * }
 * ```
 */
export class LogError extends Error {
  /** An error with this message. */
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/**
 * A read asked for an offset the log does not hold: below the log start
 * (deleted by retention) or beyond the end (not written yet).
 *
 * @example
 * ```ts
 * import { OffsetOutOfRangeError } from "./errors.ts";
 * const e = new OffsetOutOfRangeError(3, 5, 9);
 * console.log(e.startOffset, e.endOffset); // 5 9
 * ```
 */
export class OffsetOutOfRangeError extends LogError {
  /** The offset asked for and the range the log holds. */
  constructor(
    readonly offset: number,
    readonly startOffset: number,
    readonly endOffset: number,
  ) {
    super(
      offset < startOffset
        ? `offset ${offset} is below the log start ${startOffset} (deleted by retention or ` +
          `compaction). Read from ${startOffset} (the earliest offset) instead.`
        : `offset ${offset} is beyond the log end ${endOffset} (the next offset to be written). ` +
          `Read from an offset in [${startOffset}, ${endOffset}].`,
    );
  }
}

/**
 * The log (or a reader of it) was used after `close()`.
 *
 * @example
 * ```ts
 * import { LogClosedError } from "./errors.ts";
 * console.log(new LogClosedError("/tmp/log", "append").message);
 * ```
 */
export class LogClosedError extends LogError {
  /** The log's directory and the operation that was refused. */
  constructor(readonly dir: string, readonly operation: string) {
    super(`cannot ${operation}: the log in ${dir} is closed. Open it again with Log.open().`);
  }
}

/**
 * An append whose encoded batch exceeds the configured `maxBatchBytes`.
 *
 * @example
 * ```ts
 * import { RecordTooLargeError } from "./errors.ts";
 * console.log(new RecordTooLargeError(2_000_000, 1_048_576).message);
 * ```
 */
export class RecordTooLargeError extends LogError {
  /** The encoded record's size and the limit it exceeds. */
  constructor(readonly sizeBytes: number, readonly maxBytes: number) {
    super(
      `the batch is ${sizeBytes} bytes encoded, more than maxBatchBytes = ${maxBytes}. ` +
        `Split it into smaller batches, shrink the records, or open the log with a larger ` +
        `maxBatchBytes.`,
    );
  }
}

/**
 * Bytes on disk that fail their CRC (or do not parse) where a complete batch
 * was expected, found while reading. Recovery on open truncates a corrupt
 * tail; corruption in the middle of a closed segment is reported here.
 *
 * @example
 * ```ts
 * import { CorruptRecordError } from "./errors.ts";
 * console.log(new CorruptRecordError("/tmp/log/00000000000000000000.log", 128, "bad crc").message);
 * ```
 */
export class CorruptRecordError extends LogError {
  /** The segment file, the byte position of the bad record and what is wrong with it. */
  constructor(readonly file: string, readonly position: number, readonly reason: string) {
    super(
      `corrupt batch in ${file} at byte ${position}: ${reason}. The segment is damaged; ` +
        `restore it from a replica or delete the segment files from this one on.`,
    );
  }
}

/**
 * An invalid argument or option (negative offset, bad size, wrong type).
 *
 * @example
 * ```ts
 * import { InvalidArgumentError } from "./errors.ts";
 * console.log(new InvalidArgumentError("maxBytes must be a positive integer, got -1").message);
 * ```
 */
export class InvalidArgumentError extends LogError {}
