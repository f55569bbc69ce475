/**
 * A persistent, segmented, append-only log on disk: the data structure under
 * every Kafka partition.
 *
 * - `append` / `appendBatch` give each record the next offset; a batch is
 *   one CRC-checked write, so it lands whole or not at all.
 * - `read(offset, maxBytes)` reads from any offset; `reader()` gives
 *   independent positions (readers never remove anything).
 * - The log is a list of segment files (`<base offset>.log` + `.index`); the
 *   active one rolls when it would pass `segmentBytes` or is older than
 *   `segmentMs` (by its first record's timestamp, as Kafka does).
 * - `open` recovers: the active segment is checked batch by batch and cut at
 *   the first torn or corrupt batch.
 * - `applyRetention` deletes old segments by size and time (the active one
 *   too, once its newest record is past `retentionMs`); `compact` keeps the
 *   newest record per key in the closed segments.
 *
 * One process may have a log directory open at a time (there is no lock
 * file). All operations on one `Log` run one after another.
 *
 * @example
 * ```ts
 * import { Log } from "./log.ts";
 * const log = await Log.open(await Deno.makeTempDir(), { segmentBytes: 4096 });
 * const offset = await log.append({ key: "order-1", value: "created" });
 * const { records } = await log.read(offset);
 * console.log(offset, new TextDecoder().decode(records[0].value!)); // 0 created
 * await log.close();
 * ```
 *
 * @module
 */
import { mkdir, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { type CompactionReport, planCompaction } from "./compaction.ts";
import {
  InvalidArgumentError,
  LogClosedError,
  OffsetOutOfRangeError,
  RecordTooLargeError,
} from "./errors.ts";
import {
  checkFrame,
  encodeBatch,
  type LogRecord,
  normalizeRecord,
  type RecordInput,
} from "./record.ts";
import { LogReader, type StartPosition } from "./reader.ts";
import { planRetention, type RetentionDecision } from "./retention.ts";
import { isLeftover, Segment, type SegmentRecovery, syncDir } from "./segment.ts";

/** Settings of a log; every one has a default. Sizes in bytes, times in ms. */
export interface LogOptions {
  /** Roll the active segment before it would pass this size. Default 1 MiB. */
  segmentBytes?: number;
  /** Roll the active segment when its first record is this old. Default 7 days. */
  segmentMs?: number;
  /** Bytes of log between two sparse index entries. Default 4096. */
  indexIntervalBytes?: number;
  /** Largest encoded batch `append`/`appendBatch` accepts. Default 1 MiB. */
  maxBatchBytes?: number;
  /** `"batch"`: fsync after every append (durable, slow); `"never"`: leave it to the OS. */
  fsync?: "batch" | "never";
  /** Delete segments whose newest record is older than this; -1 keeps forever (default). */
  retentionMs?: number;
  /** Delete oldest segments while the log stays at least this big; -1: no limit (default). */
  retentionBytes?: number;
  /** How long compaction keeps tombstones. Default 1 day. */
  deleteRetentionMs?: number;
  /** The clock for timestamps, rolling and retention. Default `Date.now`. */
  clock?: () => number;
}

/** Resolved settings. */
export type ResolvedLogOptions = Required<LogOptions>;

/** What `read` returns: records at or after the offset, and where to read next. */
export interface ReadResult {
  /** Records at or after the requested offset, in offset order. */
  records: LogRecord[];
  /** The offset to read next. */
  nextOffset: number;
}

/** One row of {@linkcode Log.describe}. */
export interface SegmentInfo {
  /** Offset of the segment's first record (its file name). */
  baseOffset: number;
  /** Offset after the segment's last record. */
  nextOffset: number;
  /** Records in the segment. */
  records: number;
  /** Batches in the segment. */
  batches: number;
  /** Bytes of the `.log` file. */
  sizeBytes: number;
  /** Entries in the segment's offset index. */
  indexEntries: number;
  /** Newest record timestamp, null when empty. */
  maxTimestamp: number | null;
  /** True for the segment that receives appends. */
  active: boolean;
  /** Path of the segment's `.log` file. */
  file: string;
}

/** What `open` found and repaired. */
export interface RecoveryReport {
  /** Segments opened. */
  segments: number;
  /** Bytes cut off torn or corrupt tails, over all segments. */
  truncatedBytes: number;
  /** Why, per segment that was cut. */
  reasons: string[];
  /** Segments whose index file was invalid and rebuilt. */
  indexesRebuilt: number;
}

/** What `applyRetention` deleted. */
export interface RetentionReport {
  /** The segments deleted, each with the rule that chose it. */
  deleted: RetentionDecision[];
  /** Bytes freed. */
  bytesDeleted: number;
  /** The log start offset afterwards. */
  startOffset: number;
  /** True when every segment went, the active one included, after rolling an empty one. */
  rolled: boolean;
}

const DEFAULTS: ResolvedLogOptions = {
  segmentBytes: 1024 * 1024,
  segmentMs: 7 * 24 * 3600 * 1000,
  indexIntervalBytes: 4096,
  maxBatchBytes: 1024 * 1024,
  fsync: "never",
  retentionMs: -1,
  retentionBytes: -1,
  deleteRetentionMs: 24 * 3600 * 1000,
  clock: Date.now,
};

function resolveOptions(options: LogOptions): ResolvedLogOptions {
  const o = { ...DEFAULTS, ...options };
  for (const name of ["segmentBytes", "indexIntervalBytes", "maxBatchBytes"] as const) {
    if (!Number.isSafeInteger(o[name]) || o[name] <= 0) {
      throw new InvalidArgumentError(`${name} must be a positive integer, got ${o[name]}`);
    }
  }
  for (const name of ["segmentMs", "retentionMs", "retentionBytes", "deleteRetentionMs"] as const) {
    if (!Number.isFinite(o[name])) {
      throw new InvalidArgumentError(`${name} must be a number of ms or bytes, got ${o[name]}`);
    }
  }
  if (o.segmentBytes > 0x7fffffff) {
    throw new InvalidArgumentError(
      `segmentBytes must be below 2 GiB (index positions are 32-bit), got ${o.segmentBytes}`,
    );
  }
  if (o.fsync !== "batch" && o.fsync !== "never") {
    throw new InvalidArgumentError(`fsync must be "batch" or "never", got ${o.fsync}`);
  }
  return o;
}

/**
 * An open log. Get one with {@linkcode Log.open}, `close()` it when done.
 *
 * @example
 * ```ts
 * import { Log } from "./log.ts";
 * const dir = await Deno.makeTempDir();
 * const log = await Log.open(dir);
 * await log.appendBatch([{ key: "a", value: "1" }, { key: "b", value: "2" }]);
 * await log.close();
 * const again = await Log.open(dir);
 * console.log(again.endOffset); // 2: the records survived the restart
 * await again.close();
 * ```
 */
export class Log {
  #segments: Segment[];
  #closed = false;
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly dir: string,
    readonly options: ResolvedLogOptions,
    segments: Segment[],
    readonly recovery: RecoveryReport,
  ) {
    this.#segments = segments;
  }

  /**
   * Opens the log in `dir` (created if missing) and recovers it.
   *
   * @example
   * ```ts
   * import { Log } from "./log.ts";
   * const log = await Log.open(await Deno.makeTempDir(), { segmentBytes: 1024, fsync: "batch" });
   * console.log(log.recovery.truncatedBytes); // 0
   * await log.close();
   * ```
   */
  static async open(dir: string, options: LogOptions = {}): Promise<Log> {
    const resolved = resolveOptions(options);
    await mkdir(dir, { recursive: true });
    const names = await readdir(dir);
    for (const name of names.filter(isLeftover)) await rm(join(dir, name), { force: true });
    const bases = names
      .filter((n) => /^\d{20}\.log$/.test(n))
      .map((n) => Number(n.slice(0, 20)))
      .sort((a, b) => a - b);
    if (bases.length === 0) bases.push(0);
    const segments: Segment[] = [];
    const report: RecoveryReport = {
      segments: bases.length,
      truncatedBytes: 0,
      reasons: [],
      indexesRebuilt: 0,
    };
    try {
      for (const [i, base] of bases.entries()) {
        const { segment, recovery } = await Segment.open(
          dir,
          base,
          { indexIntervalBytes: resolved.indexIntervalBytes },
          i === bases.length - 1,
        );
        segments.push(segment);
        addRecovery(report, segment, recovery);
      }
    } catch (e) {
      for (const s of segments) await s.close();
      throw e;
    }
    return new Log(dir, resolved, segments, report);
  }

  /** The first offset still in the log (moves up with retention). */
  get startOffset(): number {
    return this.#segments[0].baseOffset;
  }

  /** The offset the next record will get (Kafka's log end offset). */
  get endOffset(): number {
    return this.#segments.at(-1)!.nextOffset;
  }

  /** Bytes of all segment `.log` files. */
  get sizeBytes(): number {
    return this.#segments.reduce((sum, s) => sum + s.size, 0);
  }

  /** Number of segments, the active one included. */
  get segmentCount(): number {
    return this.#segments.length;
  }

  /** True after `close()`. */
  get closed(): boolean {
    return this.#closed;
  }

  #exclusive<T>(operation: string, work: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(() => {
      if (this.#closed) throw new LogClosedError(this.dir, operation);
      return work();
    });
    this.#queue = run.catch(() => {});
    return run;
  }

  /**
   * Appends one record and returns its offset.
   *
   * @example
   * ```ts
   * import { Log } from "./log.ts";
   * const log = await Log.open(await Deno.makeTempDir());
   * console.log(await log.append({ key: "k", value: "v", headers: { source: "web" } })); // 0
   * await log.close();
   * ```
   */
  async append(record: RecordInput): Promise<number> {
    return (await this.appendBatch([record])).firstOffset;
  }

  /**
   * Appends records as one batch: consecutive offsets, one write, one CRC,
   * all or nothing.
   *
   * @example
   * ```ts
   * import { Log } from "./log.ts";
   * const log = await Log.open(await Deno.makeTempDir());
   * console.log(await log.appendBatch([{ value: "a" }, { value: "b" }])); // { firstOffset: 0, lastOffset: 1 }
   * await log.close();
   * ```
   */
  appendBatch(
    records: readonly RecordInput[],
  ): Promise<{ firstOffset: number; lastOffset: number }> {
    return this.#exclusive("append", async () => {
      if (!Array.isArray(records) || records.length === 0) {
        throw new InvalidArgumentError("appendBatch needs a non-empty array of records");
      }
      const now = this.options.clock();
      const normalized = records.map((r, i) => normalizeRecord(r, i, now));
      const base = this.endOffset;
      const bytes = encodeBatch(base, normalized);
      if (bytes.length > this.options.maxBatchBytes) {
        throw new RecordTooLargeError(bytes.length, this.options.maxBatchBytes);
      }
      const check = checkFrame(bytes, 0, false);
      if (check.kind !== "ok") throw new Error(`encoded an invalid batch: ${check.reason}`);
      let active = this.#segments.at(-1)!;
      const full = active.size + bytes.length > this.options.segmentBytes;
      const old = active.firstTimestamp !== null &&
        check.header.maxTimestamp - active.firstTimestamp >= this.options.segmentMs;
      if (active.size > 0 && (full || old)) active = await this.#roll();
      await active.append(bytes, check.header);
      if (this.options.fsync === "batch") await active.sync();
      return { firstOffset: base, lastOffset: base + records.length - 1 };
    });
  }

  async #roll(): Promise<Segment> {
    const previous = this.#segments.at(-1)!;
    await previous.sync();
    const { segment } = await Segment.open(
      this.dir,
      this.endOffset,
      { indexIntervalBytes: this.options.indexIntervalBytes },
      true,
    );
    if (this.options.fsync === "batch") await syncDir(this.dir);
    this.#segments.push(segment);
    return segment;
  }

  /**
   * Reads records with offsets `>= offset`, whole batches up to about
   * `maxBytes` (at least one batch if there is one, like Kafka's fetch).
   * Reading at `endOffset` returns no records. Throws
   * {@linkcode OffsetOutOfRangeError} outside `[startOffset, endOffset]`.
   *
   * @example
   * ```ts
   * import { Log } from "./log.ts";
   * const log = await Log.open(await Deno.makeTempDir());
   * await log.appendBatch([{ value: "a" }, { value: "b" }, { value: "c" }]);
   * const { records, nextOffset } = await log.read(1);
   * console.log(records.map((r) => r.offset), nextOffset); // [ 1, 2 ] 3
   * await log.close();
   * ```
   */
  read(offset: number, maxBytes = 1024 * 1024): Promise<ReadResult> {
    return this.#exclusive("read", async () => {
      if (!Number.isSafeInteger(offset)) {
        throw new InvalidArgumentError(`offset must be an integer, got ${offset}`);
      }
      if (!(maxBytes > 0)) {
        throw new InvalidArgumentError(`maxBytes must be positive, got ${maxBytes}`);
      }
      if (offset < this.startOffset || offset > this.endOffset) {
        throw new OffsetOutOfRangeError(offset, this.startOffset, this.endOffset);
      }
      const segments = this.#segments;
      let i = segments.length - 1;
      while (i > 0 && segments[i].baseOffset > offset) i--;
      const records: LogRecord[] = [];
      let bytes = 0;
      let next = offset;
      for (; i < segments.length; i++) {
        const part = await segments[i].readBatches(next, maxBytes - bytes, records.length === 0);
        for (const batch of part.batches) {
          for (const r of batch.records) if (r.offset >= offset) records.push(r);
          next = Math.max(next, batch.lastOffset + 1);
          bytes += batch.sizeBytes;
        }
        if (!part.reachedEnd) break;
        next = Math.max(next, segments[i + 1]?.baseOffset ?? segments[i].nextOffset);
      }
      return { records, nextOffset: next };
    });
  }

  /**
   * A new reader with its own position (default: the start of the log).
   *
   * @example
   * ```ts
   * import { Log } from "./log.ts";
   * const log = await Log.open(await Deno.makeTempDir());
   * await log.append({ value: "x" });
   * const tail = log.reader({ name: "tail", from: "latest" });
   * console.log(tail.position, (await tail.poll()).length); // 1 0
   * await log.close();
   * ```
   */
  reader(options: { name?: string; from?: StartPosition } = {}): LogReader {
    if (this.#closed) throw new LogClosedError(this.dir, "create a reader");
    return new LogReader(this, options.name ?? "reader", options.from ?? "earliest");
  }

  /**
   * One row per segment: offsets, records, bytes, index entries (reads the
   * batch headers, not the records).
   *
   * @example
   * ```ts
   * import { Log } from "./log.ts";
   * const log = await Log.open(await Deno.makeTempDir());
   * await log.append({ value: "x" });
   * console.log((await log.describe())[0].records); // 1
   * await log.close();
   * ```
   */
  describe(): Promise<SegmentInfo[]> {
    return this.#exclusive("describe", async () => {
      const rows: SegmentInfo[] = [];
      for (const [i, s] of this.#segments.entries()) {
        const headers = await s.headers();
        rows.push({
          baseOffset: s.baseOffset,
          nextOffset: s.nextOffset,
          records: headers.reduce((n, h) => n + h.recordCount, 0),
          batches: headers.length,
          sizeBytes: s.size,
          indexEntries: s.index.length,
          maxTimestamp: Number.isFinite(s.maxTimestamp) ? s.maxTimestamp : null,
          active: i === this.#segments.length - 1,
          file: s.logPath,
        });
      }
      return rows;
    });
  }

  /**
   * Forces everything appended so far to disk (fsync of the active segment).
   *
   * @example
   * ```ts
   * import { Log } from "./log.ts";
   * const log = await Log.open(await Deno.makeTempDir());
   * await log.append({ value: "must survive a power cut" });
   * await log.flush();
   * await log.close();
   * ```
   */
  flush(): Promise<void> {
    return this.#exclusive("flush", () => this.#segments.at(-1)!.sync());
  }

  /**
   * Deletes whole segments by `retentionBytes`, then `retentionMs` (as of
   * `now`), oldest first, as Kafka does: the active segment too once its
   * newest record is past `retentionMs` (or when `retentionBytes` is 0). The
   * log always keeps a segment: before deleting every one, it rolls a new,
   * empty active segment at the end offset. Pass `policy` to override the
   * log's settings for this run.
   *
   * @example
   * ```ts
   * import { Log } from "./log.ts";
   * const log = await Log.open(await Deno.makeTempDir(), { segmentBytes: 200 });
   * for (let i = 0; i < 10; i++) await log.append({ value: "x".repeat(50) });
   * const report = await log.applyRetention({ retentionBytes: 300 });
   * console.log(report.startOffset > 0); // true
   * await log.close();
   * ```
   */
  applyRetention(
    policy: { retentionMs?: number; retentionBytes?: number; now?: number } = {},
  ): Promise<RetentionReport> {
    return this.#exclusive("apply retention", async () => {
      const decisions = planRetention(
        this.#segments.map((s) => ({
          baseOffset: s.baseOffset,
          sizeBytes: s.size,
          maxTimestamp: s.maxTimestamp,
        })),
        {
          retentionMs: policy.retentionMs ?? this.options.retentionMs,
          retentionBytes: policy.retentionBytes ?? this.options.retentionBytes,
        },
        policy.now ?? this.options.clock(),
      );
      // A log always has an active segment: roll an empty one before deleting them all.
      const rolled = decisions.length === this.#segments.length;
      if (rolled) await this.#roll();
      let bytesDeleted = 0;
      for (const _ of decisions) {
        const oldest = this.#segments.shift()!;
        bytesDeleted += oldest.size;
        await oldest.remove();
      }
      if (rolled && this.options.fsync === "batch") await syncDir(this.dir);
      return { deleted: decisions, bytesDeleted, startOffset: this.startOffset, rolled };
    });
  }

  /**
   * Compacts the closed segments by Kafka's rule: keeps the newest record
   * per key *among the closed segments*, drops keyless records and
   * tombstones older than `deleteRetentionMs`. The active segment is neither
   * rewritten nor looked at, so a key's newer record there does not remove
   * an older one yet: that happens on the first compaction after the active
   * segment rolls. Offsets do not change.
   *
   * @example
   * ```ts
   * import { Log } from "./log.ts";
   * const log = await Log.open(await Deno.makeTempDir(), { segmentBytes: 150 });
   * for (const v of ["1", "2", "3"]) await log.append({ key: "price", value: v });
   * await log.append({ key: "other", value: "x" });
   * const report = await log.compact();
   * console.log(report.recordsBefore, report.recordsAfter);
   * await log.close();
   * ```
   */
  compact(options: { now?: number; deleteRetentionMs?: number } = {}): Promise<CompactionReport> {
    return this.#exclusive("compact", async () => {
      const closed = this.#segments.slice(0, -1);
      const active = this.#segments.at(-1)!;
      const closedBatches = [];
      for (const s of closed) closedBatches.push(await s.batches());
      const activeRecords = (await active.headers()).reduce((n, h) => n + h.recordCount, 0);
      const plan = planCompaction(
        closedBatches.map((batches) => batches.flatMap((b) => b.records)),
        options.now ?? this.options.clock(),
        options.deleteRetentionMs ?? this.options.deleteRetentionMs,
      );
      const report: CompactionReport = {
        segmentsExamined: closed.length,
        segmentsRewritten: 0,
        segmentsDeleted: 0,
        recordsBefore: activeRecords,
        recordsAfter: activeRecords,
        tombstonesDropped: plan.tombstonesDropped,
        keylessDropped: plan.keylessDropped,
        bytesBefore: this.sizeBytes,
        bytesAfter: 0,
      };
      const survivors: Segment[] = [];
      for (const [i, segment] of closed.entries()) {
        const batches = closedBatches[i];
        const before = batches.reduce((n, b) => n + b.records.length, 0);
        const kept = new Set(plan.keep[i].map((r) => r.offset));
        report.recordsBefore += before;
        report.recordsAfter += kept.size;
        if (kept.size === before) {
          survivors.push(segment);
        } else if (kept.size === 0 && i > 0) {
          await segment.remove();
          report.segmentsDeleted++;
        } else {
          const encoded = batches.flatMap((b) => {
            const records = b.records.filter((r) => kept.has(r.offset));
            if (records.length === 0) return [];
            return [encodeBatch(
              b.baseOffset,
              records.map((r) => ({ ...r, offsetDelta: r.offset - b.baseOffset })),
              b.lastOffset - b.baseOffset,
            )];
          });
          survivors.push(await segment.replaceWith(encoded));
          report.segmentsRewritten++;
        }
      }
      this.#segments = [...survivors, active];
      report.bytesAfter = this.sizeBytes;
      return report;
    });
  }

  /**
   * Flushes and closes every segment. Later calls fail with
   * {@linkcode LogClosedError}; closing twice is fine.
   *
   * @example
   * ```ts
   * import { Log } from "./log.ts";
   * const log = await Log.open(await Deno.makeTempDir());
   * await log.close();
   * await log.append({ value: "x" }).catch((e) => console.log(e.name)); // LogClosedError
   * ```
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.#queue;
    if (this.#closed) return;
    this.#closed = true;
    await this.#segments.at(-1)!.sync();
    for (const s of this.#segments) await s.close();
  }
}

function addRecovery(report: RecoveryReport, segment: Segment, r: SegmentRecovery): void {
  report.truncatedBytes += r.truncatedBytes;
  if (r.reason) report.reasons.push(`${segment.logPath}: ${r.reason}`);
  if (r.indexRebuilt) report.indexesRebuilt++;
}
