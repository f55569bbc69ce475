/**
 * Retention: which whole segments to delete, by size and by time, as
 * Kafka's `cleanup.policy=delete` decides. Segments go only from the oldest
 * end, so the log stays a contiguous range of offsets, and the log start
 * offset moves up to the first segment left.
 *
 * - **by size** (`retentionBytes`, Kafka's `retention.bytes`), first: the
 *   oldest segments go while the log would still hold at least
 *   `retentionBytes` without them, so it settles between `retentionBytes`
 *   and that plus one segment. It reaches the active segment only when
 *   `retentionBytes` is 0.
 * - **by time** (`retentionMs`, Kafka's `retention.ms`), then: a segment goes
 *   when its newest record is more than `retentionMs` old
 *   (`now - maxTimestamp > retentionMs`). This includes the **active
 *   segment**: once even its newest record is past retention, it goes too.
 *   A log always keeps one segment, so the log first rolls a new, empty
 *   active segment at the log end offset; the log is then empty, with start
 *   and end offset equal, and the next append continues the offsets.
 *
 * An empty active segment is never deleted (it would only be recreated). A
 * negative limit turns that rule off. Kafka also never deletes a segment
 * holding records at or above the high watermark (not yet on every in-sync
 * replica); the course's log has a single copy, so its high watermark is its
 * end offset and that condition always holds.
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
 * time `now`, oldest first. When the active segment is among them, the
 * caller must roll a new, empty active segment before deleting.
 *
 * @example
 * ```ts
 * import { planRetention } from "./retention.ts";
 * const s = (baseOffset: number, maxTimestamp: number) => ({ baseOffset, sizeBytes: 100, maxTimestamp });
 * console.log(planRetention([s(0, 0), s(5, 10)], { retentionMs: 50, retentionBytes: -1 }, 100).length); // 2
 * ```
 */
export function planRetention(
  segments: readonly RetentionCandidate[],
  policy: RetentionPolicy,
  now: number,
): RetentionDecision[] {
  const decisions: RetentionDecision[] = [];
  const last = segments.length - 1;
  let next = 0;
  const deletable = (i: number) => i <= last && !(i === last && segments[i].sizeBytes === 0);
  const total = segments.reduce((sum, s) => sum + s.sizeBytes, 0);
  if (policy.retentionBytes >= 0 && total >= policy.retentionBytes) {
    let excess = total - policy.retentionBytes;
    while (deletable(next) && excess - segments[next].sizeBytes >= 0) {
      excess -= segments[next].sizeBytes;
      decisions.push({ baseOffset: segments[next++].baseOffset, reason: "size" });
    }
  }
  if (policy.retentionMs >= 0) {
    while (deletable(next) && now - segments[next].maxTimestamp > policy.retentionMs) {
      decisions.push({ baseOffset: segments[next++].baseOffset, reason: "time" });
    }
  }
  return decisions;
}
