/**
 * One segment of the log: a `.log` file of batches plus its `.index` file,
 * both named after the segment's base offset (20 digits, as Kafka does).
 * Only the newest segment (the active one) is appended to; older ones are
 * read, deleted whole by retention, or rewritten by compaction.
 *
 * Opening a segment recovers it: batches are checked (length and CRC) from
 * the last index entry on (from byte 0 with `fullScan`), and the file is
 * truncated at the first torn or corrupt batch, so a crash mid-write loses
 * only the batch being written.
 *
 * @example
 * ```ts
 * import { Segment } from "./segment.ts";
 * const dir = await Deno.makeTempDir();
 * const { segment } = await Segment.open(dir, 0, { indexIntervalBytes: 4096 }, true);
 * console.log(segment.size, segment.nextOffset); // 0 0
 * await segment.close();
 * ```
 *
 * @module
 */
import { type FileHandle, open, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CorruptRecordError } from "./errors.ts";
import { OffsetIndex } from "./index.ts";
import {
  type Batch,
  BATCH_HEADER_SIZE,
  type BatchHeader,
  checkFrame,
  decodeBatch,
  FRAME_HEADER_SIZE,
  parseBatchHeader,
} from "./record.ts";

/** Bytes a read fetches at once from a segment file. */
const READ_AHEAD = 64 * 1024;

/** Options a segment needs. */
export interface SegmentOptions {
  /** Bytes of log between two index entries. */
  indexIntervalBytes: number;
}

/** What recovery found when a segment was opened. */
export interface SegmentRecovery {
  /** Bytes cut off the end of the `.log` file (0 when it was intact). */
  truncatedBytes: number;
  /** Why they were cut, when they were. */
  reason?: string;
  /** True when the `.index` file was missing or invalid and was rebuilt. */
  indexRebuilt: boolean;
}

/** A batch header with where it sits in the file. */
export interface PositionedHeader extends BatchHeader {
  /** Byte position of the batch in the `.log` file. */
  position: number;
}

/**
 * The file name of a segment: the base offset padded to 20 digits.
 *
 * @example
 * ```ts
 * import { segmentFileName } from "./segment.ts";
 * console.log(segmentFileName(42, ".log")); // 00000000000000000042.log
 * ```
 */
export function segmentFileName(baseOffset: number, extension: ".log" | ".index"): string {
  return `${String(baseOffset).padStart(20, "0")}${extension}`;
}

async function readAt(fh: FileHandle, position: number, length: number): Promise<Uint8Array> {
  const buf = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(buf, done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done === length ? buf : buf.subarray(0, done);
}

async function writeAll(fh: FileHandle, bytes: Uint8Array, position: number | null) {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await fh.write(
      bytes,
      done,
      bytes.length - done,
      position === null ? null : position + done,
    );
    done += bytesWritten;
  }
}

/** Opens a file for positional reads and writes, creating it (empty) if it is missing. */
async function openOrCreate(path: string): Promise<FileHandle> {
  try {
    return await open(path, "r+");
  } catch (e) {
    if ((e as { code?: string }).code !== "ENOENT") throw e;
    return await open(path, "w+");
  }
}

/**
 * Flushes a directory's entries (new, renamed or deleted files) to disk, so
 * a segment file created or renamed just before a crash is still there.
 *
 * @example
 * ```ts
 * import { syncDir } from "./segment.ts";
 * await syncDir(await Deno.makeTempDir());
 * ```
 */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, "r");
  try {
    await fh.sync();
  } catch {
    // Some platforms cannot fsync a directory; the files themselves are synced.
  } finally {
    await fh.close();
  }
}

async function fileBytes(path: string): Promise<Uint8Array | undefined> {
  try {
    return await Deno.readFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}

/**
 * A segment opened for reading and (if active) appending. Create or open one
 * with {@linkcode Segment.open}; `close()` it when done.
 *
 * @example
 * ```ts
 * import { Segment } from "./segment.ts";
 * import { checkFrame, encodeBatch } from "./record.ts";
 * const dir = await Deno.makeTempDir();
 * const { segment } = await Segment.open(dir, 0, { indexIntervalBytes: 4096 }, true);
 * const bytes = encodeBatch(0, [{ offsetDelta: 0, timestamp: 1, key: null, value: null, headers: [] }]);
 * const check = checkFrame(bytes, 0, false);
 * if (check.kind === "ok") await segment.append(bytes, check.header);
 * console.log(segment.nextOffset); // 1
 * await segment.close();
 * ```
 */
export class Segment {
  /** Bytes of complete batches in the `.log` file. */
  size = 0;
  /** The offset after the last record of this segment. */
  nextOffset: number;
  /** The largest record timestamp in the segment (-Infinity when empty). */
  maxTimestamp: number = -Infinity;
  /** The first batch's timestamp, the clock for rolling by age (null when empty). */
  firstTimestamp: number | null = null;
  #lastIndexedPosition = 0;
  #closed = false;

  private constructor(
    readonly dir: string,
    readonly baseOffset: number,
    readonly options: SegmentOptions,
    readonly index: OffsetIndex,
    private readonly log: FileHandle,
    private indexFile: FileHandle,
  ) {
    this.nextOffset = baseOffset;
  }

  /** The path of the `.log` file. */
  get logPath(): string {
    return join(this.dir, segmentFileName(this.baseOffset, ".log"));
  }

  /** The path of the `.index` file. */
  get indexPath(): string {
    return join(this.dir, segmentFileName(this.baseOffset, ".index"));
  }

  /**
   * Opens (creating it if absent) the segment with `baseOffset` in `dir` and
   * recovers it. `fullScan` checks every batch (do it for the active
   * segment after a possible crash); otherwise only the batches after the
   * last index entry are checked.
   *
   * @example
   * ```ts
   * import { Segment } from "./segment.ts";
   * const dir = await Deno.makeTempDir();
   * const { segment, recovery } = await Segment.open(dir, 100, { indexIntervalBytes: 4096 }, true);
   * console.log(segment.baseOffset, recovery.truncatedBytes); // 100 0
   * await segment.close();
   * ```
   */
  static async open(
    dir: string,
    baseOffset: number,
    options: SegmentOptions,
    fullScan: boolean,
  ): Promise<{ segment: Segment; recovery: SegmentRecovery }> {
    const logPath = join(dir, segmentFileName(baseOffset, ".log"));
    const indexPath = join(dir, segmentFileName(baseOffset, ".index"));
    const log = await openOrCreate(logPath);
    const fileSize = (await log.stat()).size;
    const stored = await fileBytes(indexPath);
    let index = stored && !fullScan ? OffsetIndex.decode(baseOffset, stored, fileSize) : undefined;
    let start = index?.last();
    if (index && start) {
      // The last entry must point at a valid batch with its offset, or the index is stale.
      const head = await readAt(log, start.position, FRAME_HEADER_SIZE);
      const size = head.length === FRAME_HEADER_SIZE
        ? new DataView(head.buffer).getInt32(8) + FRAME_HEADER_SIZE
        : 0;
      const bytes = size > 0 ? await readAt(log, start.position, size) : new Uint8Array();
      const check = checkFrame(bytes, 0, true);
      if (check.kind !== "ok" || check.header.baseOffset !== start.offset) {
        index = undefined;
        start = undefined;
      }
    }
    const indexRebuilt = !fullScan && !index && (stored?.length ?? 0) > 0;
    const fresh = !index;
    index ??= new OffsetIndex(baseOffset);
    const indexFile = await open(indexPath, "a");
    const segment = new Segment(dir, baseOffset, options, index, log, indexFile);
    if (start) {
      segment.#lastIndexedPosition = start.position;
      segment.maxTimestamp = start.maxTimestampBefore;
      const first = await segment.#headerAt(0, fileSize);
      if (first) segment.firstTimestamp = first.baseTimestamp;
    }
    const recovery = await segment.#recover(start?.position ?? 0, fileSize);
    if (fresh || recovery.truncatedBytes > 0 || indexRebuilt) await segment.#rewriteIndex();
    return { segment, recovery: { ...recovery, indexRebuilt } };
  }

  async #headerAt(position: number, end: number): Promise<BatchHeader | undefined> {
    const bytes = await readAt(this.log, position, Math.min(BATCH_HEADER_SIZE, end - position));
    if (bytes.length < BATCH_HEADER_SIZE) return undefined;
    const header = parseBatchHeader(bytes, 0);
    if (typeof header === "string") throw new CorruptRecordError(this.logPath, position, header);
    return header;
  }

  async #recover(from: number, fileSize: number): Promise<Omit<SegmentRecovery, "indexRebuilt">> {
    let position = from;
    let reason: string | undefined;
    while (position < fileSize) {
      const head = await readAt(this.log, position, FRAME_HEADER_SIZE);
      if (head.length < FRAME_HEADER_SIZE) {
        reason = `torn batch header: ${head.length} bytes at the end`;
        break;
      }
      const sizeBytes = new DataView(head.buffer).getInt32(8) + FRAME_HEADER_SIZE;
      if (sizeBytes < BATCH_HEADER_SIZE || position + sizeBytes > fileSize) {
        reason = sizeBytes < BATCH_HEADER_SIZE
          ? `impossible batch length at byte ${position}`
          : `torn batch: ${fileSize - position} of ${sizeBytes} bytes written`;
        break;
      }
      const check = checkFrame(await readAt(this.log, position, sizeBytes), 0, true);
      if (check.kind !== "ok") {
        reason = `${check.reason} at byte ${position}`;
        break;
      }
      const h = check.header;
      const expected = this.nextOffset;
      if (h.baseOffset < expected || h.lastOffset < h.baseOffset) {
        reason = `batch at byte ${position} has offset ${h.baseOffset}, expected >= ${expected}`;
        break;
      }
      this.#track(h, position, false);
      position += h.sizeBytes;
      this.size = position;
    }
    this.size = position;
    if (position < fileSize) {
      await this.log.truncate(position);
      this.index.truncateTo(position);
    }
    return { truncatedBytes: fileSize - position, reason };
  }

  /** Updates size-independent state for a batch at `position`; returns an index entry to write. */
  #track(h: BatchHeader, position: number, returnEntry: boolean): Uint8Array | undefined {
    let entry: Uint8Array | undefined;
    if (position > 0 && position - this.#lastIndexedPosition >= this.options.indexIntervalBytes) {
      const last = this.index.last();
      if (!last || position > last.position) {
        const bytes = this.index.add(h.baseOffset, position, this.maxTimestamp);
        if (returnEntry) entry = bytes;
      }
      this.#lastIndexedPosition = position;
    }
    this.firstTimestamp ??= h.baseTimestamp;
    this.maxTimestamp = Math.max(this.maxTimestamp, h.maxTimestamp);
    this.nextOffset = h.lastOffset + 1;
    return entry;
  }

  async #rewriteIndex(): Promise<void> {
    await this.indexFile.close();
    await writeFile(this.indexPath, this.index.encode());
    this.indexFile = await open(this.indexPath, "a");
  }

  /**
   * Appends an encoded batch (`header` from `checkFrame` of the same bytes).
   * The batch is one write; if it fails, the file is cut back to where it was.
   *
   * @example
   * ```ts
   * import { Segment } from "./segment.ts";
   * import { checkFrame, encodeBatch } from "./record.ts";
   * const dir = await Deno.makeTempDir();
   * const { segment } = await Segment.open(dir, 0, { indexIntervalBytes: 4096 }, true);
   * const bytes = encodeBatch(0, [{ offsetDelta: 0, timestamp: 1, key: null, value: null, headers: [] }]);
   * const check = checkFrame(bytes, 0, false);
   * if (check.kind === "ok") await segment.append(bytes, check.header);
   * console.log(segment.size === bytes.length); // true
   * await segment.close();
   * ```
   */
  async append(bytes: Uint8Array, header: BatchHeader): Promise<void> {
    const position = this.size;
    try {
      await writeAll(this.log, bytes, position);
    } catch (e) {
      await this.log.truncate(position).catch(() => {});
      throw e;
    }
    this.size = position + bytes.length;
    const entry = this.#track(header, position, true);
    if (entry) await writeAll(this.indexFile, entry, null);
  }

  /**
   * Reads whole batches holding records with offsets `>= fromOffset`, starting from the
   * index entry at or below it, until adding a batch would pass `maxBytes`
   * (with `atLeastOne`, the first batch is returned whatever its size).
   * `reachedEnd` says whether the end of the segment was reached.
   *
   * @example
   * ```ts
   * import { Segment } from "./segment.ts";
   * import { checkFrame, encodeBatch } from "./record.ts";
   * const dir = await Deno.makeTempDir();
   * const { segment } = await Segment.open(dir, 0, { indexIntervalBytes: 4096 }, true);
   * const bytes = encodeBatch(0, [{ offsetDelta: 0, timestamp: 1, key: null, value: null, headers: [] }]);
   * const check = checkFrame(bytes, 0, false);
   * if (check.kind === "ok") await segment.append(bytes, check.header);
   * const { batches, reachedEnd } = await segment.readBatches(0, 65536, true);
   * console.log(batches.length, reachedEnd); // 1 true
   * await segment.close();
   * ```
   */
  async readBatches(
    fromOffset: number,
    maxBytes: number,
    atLeastOne: boolean,
  ): Promise<{ batches: Batch[]; bytes: number; reachedEnd: boolean }> {
    const end = this.size;
    let position = this.index.lookup(fromOffset)?.position ?? 0;
    const batches: Batch[] = [];
    let bytes = 0;
    // Read ahead in chunks, so small batches cost one read per chunk, not two per batch.
    let chunk: Uint8Array = new Uint8Array();
    let chunkStart = position;
    const load = async (need: number) => {
      if (position >= chunkStart && position + need <= chunkStart + chunk.length) return;
      chunkStart = position;
      chunk = await readAt(
        this.log,
        position,
        Math.min(Math.max(READ_AHEAD, need), end - position),
      );
    };
    while (position < end) {
      await load(BATCH_HEADER_SIZE);
      const h = parseBatchHeader(chunk, position - chunkStart);
      if (typeof h === "string" || position + h.sizeBytes > end) {
        const reason = typeof h === "string" ? h : "batch runs past the segment end";
        throw new CorruptRecordError(this.logPath, position, reason);
      }
      if (h.lastOffset >= fromOffset) {
        if (bytes + h.sizeBytes > maxBytes && (batches.length > 0 || !atLeastOne)) {
          return { batches, bytes, reachedEnd: false };
        }
        await load(h.sizeBytes);
        let batch: Batch;
        try {
          batch = decodeBatch(chunk, position - chunkStart);
        } catch (e) {
          throw new CorruptRecordError(this.logPath, position, (e as Error).message);
        }
        // After compaction a batch may keep its offset range but no record at or after fromOffset.
        if (batch.records.some((r) => r.offset >= fromOffset)) {
          batches.push(batch);
          bytes += h.sizeBytes;
        }
      }
      position += h.sizeBytes;
    }
    return { batches, bytes, reachedEnd: true };
  }

  /**
   * Every batch header in file order, without reading the records.
   *
   * @example
   * ```ts
   * import { Segment } from "./segment.ts";
   * import { checkFrame, encodeBatch } from "./record.ts";
   * const dir = await Deno.makeTempDir();
   * const { segment } = await Segment.open(dir, 0, { indexIntervalBytes: 4096 }, true);
   * const bytes = encodeBatch(0, [{ offsetDelta: 0, timestamp: 1, key: null, value: null, headers: [] }]);
   * const check = checkFrame(bytes, 0, false);
   * if (check.kind === "ok") await segment.append(bytes, check.header);
   * for (const h of await segment.headers()) console.log(h.position, h.recordCount); // 0 1
   * await segment.close();
   * ```
   */
  async headers(): Promise<PositionedHeader[]> {
    const out: PositionedHeader[] = [];
    const end = this.size;
    for (let position = 0; position < end;) {
      const h = await this.#headerAt(position, end);
      if (!h) throw new CorruptRecordError(this.logPath, position, "torn batch header");
      out.push({ ...h, position });
      position += h.sizeBytes;
    }
    return out;
  }

  /**
   * Every batch, decoded and CRC-checked, in file order.
   *
   * @example
   * ```ts
   * import { Segment } from "./segment.ts";
   * import { checkFrame, encodeBatch } from "./record.ts";
   * const dir = await Deno.makeTempDir();
   * const { segment } = await Segment.open(dir, 0, { indexIntervalBytes: 4096 }, true);
   * const bytes = encodeBatch(0, [{ offsetDelta: 0, timestamp: 1, key: null, value: null, headers: [] }]);
   * const check = checkFrame(bytes, 0, false);
   * if (check.kind === "ok") await segment.append(bytes, check.header);
   * for (const b of await segment.batches()) console.log(b.records.length); // 1
   * await segment.close();
   * ```
   */
  async batches(): Promise<Batch[]> {
    return (await this.readBatches(this.baseOffset, Infinity, true)).batches;
  }

  /**
   * Flushes the `.log` file to disk (fdatasync).
   *
   * @example
   * ```ts
   * import { Segment } from "./segment.ts";
   * import { checkFrame, encodeBatch } from "./record.ts";
   * const dir = await Deno.makeTempDir();
   * const { segment } = await Segment.open(dir, 0, { indexIntervalBytes: 4096 }, true);
   * const bytes = encodeBatch(0, [{ offsetDelta: 0, timestamp: 1, key: null, value: null, headers: [] }]);
   * const check = checkFrame(bytes, 0, false);
   * if (check.kind === "ok") await segment.append(bytes, check.header);
   * await segment.sync(); // the batch is on disk now
   * await segment.close();
   * ```
   */
  async sync(): Promise<void> {
    await this.log.datasync();
  }

  /**
   * Closes both files. Safe to call twice.
   *
   * @example
   * ```ts
   * import { Segment } from "./segment.ts";
   * const { segment } = await Segment.open(await Deno.makeTempDir(), 0, { indexIntervalBytes: 4096 }, true);
   * await segment.close();
   * await segment.close(); // no-op
   * ```
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.log.close();
    await this.indexFile.close();
  }

  /**
   * Closes the segment and deletes its files (retention, compaction).
   *
   * @example
   * ```ts
   * import { Segment } from "./segment.ts";
   * const { segment } = await Segment.open(await Deno.makeTempDir(), 0, { indexIntervalBytes: 4096 }, true);
   * await segment.remove(); // both files are gone
   * ```
   */
  async remove(): Promise<void> {
    await this.close();
    await rm(this.indexPath, { force: true });
    await rm(this.logPath, { force: true });
  }

  /**
   * Replaces this segment's contents with `batches` (encoded, in offset
   * order): writes `.cleaned` files, syncs them, then renames them over the
   * old ones. Returns the reopened segment; this one is closed.
   *
   * @example
   * ```ts
   * import { Segment } from "./segment.ts";
   * import { checkFrame, encodeBatch } from "./record.ts";
   * const dir = await Deno.makeTempDir();
   * const { segment } = await Segment.open(dir, 0, { indexIntervalBytes: 4096 }, true);
   * const bytes = encodeBatch(0, [{ offsetDelta: 0, timestamp: 1, key: null, value: null, headers: [] }]);
   * const check = checkFrame(bytes, 0, false);
   * if (check.kind === "ok") await segment.append(bytes, check.header);
   * const emptied = await segment.replaceWith([]);
   * console.log(emptied.size); // 0
   * await emptied.close();
   * ```
   */
  async replaceWith(batches: readonly Uint8Array[]): Promise<Segment> {
    const tmpLog = `${this.logPath}.cleaned`;
    const fh = await open(tmpLog, "w");
    try {
      let position = 0;
      for (const b of batches) {
        await writeAll(fh, b, position);
        position += b.length;
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
    await this.close();
    // The index goes first: a crash between the renames leaves no stale index, only a rebuild.
    await rm(this.indexPath, { force: true });
    await rename(tmpLog, this.logPath);
    await syncDir(this.dir);
    const { segment } = await Segment.open(this.dir, this.baseOffset, this.options, true);
    return segment;
  }
}

/**
 * True when `path` is a leftover of an interrupted compaction.
 *
 * @example
 * ```ts
 * import { isLeftover } from "./segment.ts";
 * console.log(isLeftover("00000000000000000000.log.cleaned")); // true
 * ```
 */
export function isLeftover(path: string): boolean {
  return path.endsWith(".cleaned");
}
