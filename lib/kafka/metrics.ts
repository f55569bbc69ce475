/**
 * Counters and a latency histogram for clients: records, bytes, errors and
 * per-record latency with p50/p95/p99. Pure: no I/O, no timers; the caller
 * says what happened and when.
 *
 * The histogram keeps counts in logarithmic buckets 1% wide, so a million
 * latencies cost a few kilobytes and every percentile is within 1% of the
 * exact value (min, max and mean are exact).
 *
 * @example
 * ```ts
 * import { ClientMetrics } from "./metrics.ts";
 * const m = new ClientMetrics(0);
 * m.recordSent(100, 51_200);
 * for (let i = 1; i <= 100; i++) m.latency.record(i);
 * console.log(m.snapshot(1000).recordsPerSec, m.latency.percentile(99)); // 100 ~99
 * ```
 *
 * @module
 */

/** Smallest latency the histogram tells apart (1 µs); anything below counts here. */
const FLOOR_MS = 0.001;
/** Bucket growth factor: each bucket is 1% wider than the one before. */
const GROWTH = 1.01;
const LOG_GROWTH = Math.log(GROWTH);

/**
 * A latency histogram in milliseconds with 1% relative precision.
 *
 * @example
 * ```ts
 * import { LatencyHistogram } from "./metrics.ts";
 * const h = new LatencyHistogram();
 * [1, 2, 3, 4, 100].forEach((ms) => h.record(ms));
 * console.log(h.count, h.max, h.percentile(50)); // 5 100 ~3
 * ```
 */
export class LatencyHistogram {
  #buckets = new Map<number, number>();
  #count = 0;
  #sum = 0;
  #min = Infinity;
  #max = -Infinity;

  /** Adds one latency (ms); `times` records the same value several times. */
  record(ms: number, times = 1): void {
    if (!Number.isFinite(ms) || ms < 0) {
      throw new RangeError(`latency must be a finite number >= 0 ms, got ${ms}`);
    }
    if (!Number.isInteger(times) || times < 1) {
      throw new RangeError(`times must be a positive integer, got ${times}`);
    }
    const index = ms <= FLOOR_MS ? 0 : Math.ceil(Math.log(ms / FLOOR_MS) / LOG_GROWTH);
    this.#buckets.set(index, (this.#buckets.get(index) ?? 0) + times);
    this.#count += times;
    this.#sum += ms * times;
    if (ms < this.#min) this.#min = ms;
    if (ms > this.#max) this.#max = ms;
  }

  /** Number of latencies recorded. */
  get count(): number {
    return this.#count;
  }

  /** Exact smallest latency, `NaN` when empty. */
  get min(): number {
    return this.#count ? this.#min : NaN;
  }

  /** Exact largest latency, `NaN` when empty. */
  get max(): number {
    return this.#count ? this.#max : NaN;
  }

  /** Exact mean latency, `NaN` when empty. */
  get mean(): number {
    return this.#count ? this.#sum / this.#count : NaN;
  }

  /**
   * The latency below or at which `p` percent of the records fall (nearest
   * rank), within 1%; clamped to the exact min and max. `NaN` when empty.
   */
  percentile(p: number): number {
    if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be in 0..100, got ${p}`);
    if (this.#count === 0) return NaN;
    const rank = Math.max(1, Math.ceil((p / 100) * this.#count));
    const indices = [...this.#buckets.keys()].sort((a, b) => a - b);
    let seen = 0;
    for (const index of indices) {
      seen += this.#buckets.get(index)!;
      if (seen >= rank) {
        const upper = index === 0 ? FLOOR_MS : FLOOR_MS * GROWTH ** index;
        return Math.min(this.#max, Math.max(this.#min, upper));
      }
    }
    return this.#max;
  }

  /** Adds every count of `other` into this histogram. */
  merge(other: LatencyHistogram): void {
    for (const [index, n] of other.#buckets) {
      this.#buckets.set(index, (this.#buckets.get(index) ?? 0) + n);
    }
    this.#count += other.#count;
    this.#sum += other.#sum;
    this.#min = Math.min(this.#min, other.#min);
    this.#max = Math.max(this.#max, other.#max);
  }

  /** Forgets everything recorded. */
  reset(): void {
    this.#buckets.clear();
    this.#count = 0;
    this.#sum = 0;
    this.#min = Infinity;
    this.#max = -Infinity;
  }
}

/** A point-in-time view of {@linkcode ClientMetrics}. */
export interface MetricsSnapshot {
  /** Records sent or received. */
  records: number;
  /** Bytes of keys and values. */
  bytes: number;
  /** Failed records or calls. */
  errors: number;
  /** Requests sent or batches fetched. */
  batches: number;
  /** Records sent again because the first answer left their partition out (see verified.ts). */
  resent: number;
  /** Milliseconds from the start to the snapshot. */
  elapsedMs: number;
  /** Records per second since the start. */
  recordsPerSec: number;
  /** Megabytes (10^6 bytes) per second. */
  mbPerSec: number;
  /** Median latency, ms. */
  latencyP50Ms: number;
  /** 95th percentile latency, ms. */
  latencyP95Ms: number;
  /** 99th percentile latency, ms. */
  latencyP99Ms: number;
  /** Largest latency, ms. */
  latencyMaxMs: number;
}

/**
 * What a producer or consumer did: records, bytes (keys + values), errors,
 * batches (requests or fetched batches) and a {@linkcode LatencyHistogram}.
 *
 * @example
 * ```ts
 * import { ClientMetrics } from "./metrics.ts";
 * const m = new ClientMetrics(performance.now());
 * m.recordSent(10, 5120);
 * m.recordError();
 * console.log(m.snapshot(performance.now()).errors); // 1
 * ```
 */
export class ClientMetrics {
  /** Records sent or received. */
  records = 0;
  /** Bytes of keys and values. */
  bytes = 0;
  /** Failed records or calls. */
  errors = 0;
  /** Requests sent or batches fetched. */
  batches = 0;
  /** Records sent again because the first answer left their partition out. */
  resent = 0;
  /** Latency of each request or batch, ms. */
  readonly latency: LatencyHistogram = new LatencyHistogram();

  /** `startedAt` is a `performance.now()`-style timestamp in ms. */
  constructor(public startedAt: number = performance.now()) {}

  /** Counts one batch of `records` records totalling `bytes` bytes. */
  recordSent(records: number, bytes: number): void {
    this.records += records;
    this.bytes += bytes;
    this.batches++;
  }

  /** Counts `n` failed records (or failed calls). */
  recordError(n = 1): void {
    this.errors += n;
  }

  /** Rates and percentiles as of `now` (a `performance.now()`-style ms timestamp). */
  snapshot(now: number = performance.now()): MetricsSnapshot {
    const elapsedMs = Math.max(0, now - this.startedAt);
    const seconds = elapsedMs / 1000;
    return {
      records: this.records,
      bytes: this.bytes,
      errors: this.errors,
      batches: this.batches,
      resent: this.resent,
      elapsedMs,
      recordsPerSec: seconds > 0 ? this.records / seconds : 0,
      mbPerSec: seconds > 0 ? this.bytes / 1e6 / seconds : 0,
      latencyP50Ms: this.latency.percentile(50),
      latencyP95Ms: this.latency.percentile(95),
      latencyP99Ms: this.latency.percentile(99),
      latencyMaxMs: this.latency.max,
    };
  }

  /** Zeroes every counter and restarts the clock at `now`. */
  reset(now: number = performance.now()): void {
    this.records =
      this.bytes =
      this.errors =
      this.batches =
      this.resent =
        0;
    this.latency.reset();
    this.startedAt = now;
  }
}
