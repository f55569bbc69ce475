/**
 * Retention: which whole segments to delete, by size and by time. Like
 * Kafka, it never deletes the active (newest) segment and only deletes from
 * the oldest end, so the log stays a contiguous range of offsets.
 *
 * - **by time** (`retentionMs`, Kafka's `retention.ms`): a segment goes when
 *   its newest record is older than `now - retentionMs`;
 * - **by size** (`retentionBytes`, Kafka's `retention.bytes`): the oldest
 *   segments go while the log would still hold at least `retentionBytes`
 *   without them, so it settles between `retentionBytes` and that plus one
 *   segment.
 *
 * A negative limit turns that rule off.
 *
 * @example
 * ```ts
 * import { planRetention } from "./retention.ts";
 * const segments = [
 *   { baseOffset: 0, sizeBytes: 100, maxTimestamp: 1_000 },
 *   { baseOffset: 10, sizeBytes: 100, maxTimestamp: 5_000 },
 *   { baseOffset: 20, sizeBytes: 50, maxTimestamp: 9_000 },
 * ];
 * console.log(planRetention(segments, { retentionMs: 3_000, retentionBytes: -1 }, 6_000));
 * // [ { baseOffset: 0, reason: "time" } ]
 * ```
 *
 * @module
 */

/** What retention needs to know about a segment. */
export interface RetentionCandidate {
  /** Offset of the segment's first record. */
  baseOffset: number;
  /** Bytes of the segment's `.log` file. */
  sizeBytes: number;
  /** Newest record timestamp in the segment (-Infinity when empty). */
  maxTimestamp: number;
}

/** Retention limits; negative means unlimited. */
export interface RetentionPolicy {
  /** Delete a segment once its newest record is older than this (ms). */
  retentionMs: number;
  /** Delete the oldest segments while the log would still hold this many bytes without them. */
  retentionBytes: number;
}

/** A segment to delete and the rule that chose it. */
export interface RetentionDecision {
  /** Base offset of the segment to delete. */
  baseOffset: number;
  /** `time`: past `retentionMs`; `size`: over `retentionBytes`. */
  reason: "time" | "size";
}

/**
 * The segments (oldest first, the last one active) that retention deletes at
 * time `now`.
 *
 * @example
 * ```ts
 * import { planRetention } from "./retention.ts";
 * const s = (baseOffset: number) => ({ baseOffset, sizeBytes: 100, maxTimestamp: 0 });
 * console.log(planRetention([s(0), s(5), s(9)], { retentionMs: -1, retentionBytes: 150 }, 0).length); // 1
 * ```
 */
export function planRetention(
  segments: readonly RetentionCandidate[],
  policy: RetentionPolicy,
  now: number,
): RetentionDecision[] {
  const decisions: RetentionDecision[] = [];
  let total = segments.reduce((sum, s) => sum + s.sizeBytes, 0);
  for (const segment of segments.slice(0, -1)) {
    const expired = policy.retentionMs >= 0 && segment.maxTimestamp < now - policy.retentionMs;
    const oversize = policy.retentionBytes >= 0 &&
      total - segment.sizeBytes >= policy.retentionBytes;
    if (!expired && !oversize) break;
    decisions.push({ baseOffset: segment.baseOffset, reason: expired ? "time" : "size" });
    total -= segment.sizeBytes;
  }
  return decisions;
}
