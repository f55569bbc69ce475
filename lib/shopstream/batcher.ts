/**
 * The lake sink's batching policy, pure (no timers, no I/O): records are
 * buffered per region, and a region's buffer is due for a flush when it holds
 * `maxRecords` records or `maxBytes` bytes, or when its oldest record has
 * waited `maxAgeMs`. The caller says what arrived and when, and takes the
 * batches it should write.
 *
 * @example
 * ```ts
 * import { RegionBatcher } from "./batcher.ts";
 * const batcher = new RegionBatcher<string>({ maxRecords: 2, maxBytes: 1e6, maxAgeMs: 5000 });
 * console.log(batcher.add("EU", "a", 10, 0)); // undefined
 * console.log(batcher.add("EU", "b", 10, 1)); // "records"
 * console.log(batcher.take("EU", "records")?.records); // [ "a", "b" ]
 * ```
 *
 * @module
 */

/** When a region's buffer is flushed. */
export interface BatchPolicy {
  /** Flush once the buffer holds this many records. */
  readonly maxRecords: number;
  /** Flush once the buffered records' value bytes reach this. */
  readonly maxBytes: number;
  /** Flush once the oldest buffered record has waited this long (ms). */
  readonly maxAgeMs: number;
}

/**
 * The sink's default policy: 10 000 records, 8 MiB or 5 s per region buffer.
 *
 * Why: Parquet pays per object (footer, column chunks, a PUT), so objects
 * should hold thousands of rows; 10 000 rows of ~300-byte events make ~1 MB
 * zstd objects. 5 s bounds how stale bronze is at low rates. 8 MiB of
 * encoded values stops a buffer of unusually large events from growing
 * unbounded. 4 topics x 3 regions = 12 buffers of at most 10 000 records,
 * held as Arrow columns (about the size of the Avro values), and fetching
 * pauses at 60 000 pending in all: the sink's peak RSS stays under the
 * 300 MB target (262-301 MB measured by `deno task bench sink`, 131 MB of
 * it before the sink starts).
 *
 * @example
 * ```ts
 * import { DEFAULT_BATCH_POLICY } from "./batcher.ts";
 * console.log(DEFAULT_BATCH_POLICY.maxRecords); // 10000
 * ```
 */
export const DEFAULT_BATCH_POLICY: BatchPolicy = Object.freeze({
  maxRecords: 10_000,
  maxBytes: 8 * 1024 * 1024,
  maxAgeMs: 5_000,
});

/** Why a buffer was flushed (`pressure`: the sink holds too much in total). */
export type FlushReason = "records" | "bytes" | "age" | "pressure" | "drain" | "shutdown";

/** A region's buffered records, taken for a flush. */
export interface RegionBatch<T> {
  /** The region the records belong to. */
  readonly region: string;
  /** The records, in arrival order. */
  readonly records: T[];
  /** Sum of the bytes given with each record. */
  readonly bytes: number;
  /** When the first record arrived (the caller's clock, ms). */
  readonly openedAt: number;
  /** Which limit (or event) caused the flush. */
  readonly reason: FlushReason;
}

interface Buffer<T> {
  records: T[];
  bytes: number;
  openedAt: number;
}

/**
 * Checks a policy: every limit a positive number (records an integer).
 *
 * @example
 * ```ts
 * import { checkPolicy } from "./batcher.ts";
 * try {
 *   checkPolicy({ maxRecords: 0, maxBytes: 1, maxAgeMs: 1 });
 * } catch (e) {
 *   console.log((e as Error).message); // maxRecords must be a positive integer, got 0
 * }
 * ```
 */
export function checkPolicy(policy: BatchPolicy): BatchPolicy {
  if (!Number.isInteger(policy.maxRecords) || policy.maxRecords < 1) {
    throw new RangeError(`maxRecords must be a positive integer, got ${policy.maxRecords}`);
  }
  for (const key of ["maxBytes", "maxAgeMs"] as const) {
    if (!(Number.isFinite(policy[key]) && policy[key] > 0)) {
      throw new RangeError(`${key} must be a positive number, got ${policy[key]}`);
    }
  }
  return policy;
}

/**
 * Per-region buffers under one {@linkcode BatchPolicy}.
 *
 * @example
 * ```ts
 * import { RegionBatcher } from "./batcher.ts";
 * const b = new RegionBatcher<number>({ maxRecords: 100, maxBytes: 1000, maxAgeMs: 50 });
 * b.add("US", 1, 10, 0);
 * console.log(b.due(49), b.due(50)); // [] [ "US" ]
 * ```
 */
export class RegionBatcher<T> {
  /** The limits every region's buffer is flushed at. */
  readonly policy: BatchPolicy;
  readonly #buffers = new Map<string, Buffer<T>>();
  #records = 0;
  #bytes = 0;

  /** Empty buffers under `policy` (checked with {@linkcode checkPolicy}). */
  constructor(policy: BatchPolicy = DEFAULT_BATCH_POLICY) {
    this.policy = checkPolicy(policy);
  }

  /** Records buffered over all regions. */
  get records(): number {
    return this.#records;
  }

  /** Bytes buffered over all regions. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Regions with buffered records, in order of their first record. */
  get regions(): string[] {
    return [...this.#buffers.keys()];
  }

  /** The records buffered for `region`, oldest first (read only). */
  peek(region: string): readonly T[] {
    return this.#buffers.get(region)?.records ?? [];
  }

  /**
   * Buffers `record` (`bytes` long) for `region` at time `now` (ms); returns
   * why the region is now due (`records` or `bytes`), or undefined.
   */
  add(region: string, record: T, bytes: number, now: number): FlushReason | undefined {
    let buffer = this.#buffers.get(region);
    if (!buffer) {
      buffer = { records: [], bytes: 0, openedAt: now };
      this.#buffers.set(region, buffer);
    }
    buffer.records.push(record);
    buffer.bytes += bytes;
    this.#records++;
    this.#bytes += bytes;
    if (buffer.records.length >= this.policy.maxRecords) return "records";
    if (buffer.bytes >= this.policy.maxBytes) return "bytes";
    return undefined;
  }

  /** Regions whose oldest record has waited at least `maxAgeMs` at `now`. */
  due(now: number): string[] {
    const out: string[] = [];
    for (const [region, buffer] of this.#buffers) {
      if (now - buffer.openedAt >= this.policy.maxAgeMs) out.push(region);
    }
    return out;
  }

  /** Empties `region`'s buffer and returns it (undefined when it holds nothing). */
  take(region: string, reason: FlushReason): RegionBatch<T> | undefined {
    const buffer = this.#buffers.get(region);
    if (!buffer) return undefined;
    this.#buffers.delete(region);
    this.#records -= buffer.records.length;
    this.#bytes -= buffer.bytes;
    return { region, reason, ...buffer };
  }

  /** Empties every buffer (e.g. on shutdown) and returns the batches. */
  takeAll(reason: FlushReason): RegionBatch<T>[] {
    return this.regions.map((region) => this.take(region, reason)!);
  }

  /** Forgets everything buffered (e.g. when a rebalance rewinds the positions). */
  clear(): void {
    this.#buffers.clear();
    this.#records = 0;
    this.#bytes = 0;
  }
}
