/**
 * Compaction (Kafka's `cleanup.policy=compact`): keep only the newest record
 * of each key, as the `_schemas` topic of a Schema Registry or a table's
 * change log needs. A record whose value is null is a *tombstone*: it deletes
 * its key. Tombstones are kept for `deleteRetentionMs` after their timestamp
 * (so readers that are behind still see the delete), then dropped too.
 *
 * As in Kafka: the active segment is never rewritten (but its records do
 * count as "newer"), records keep their offsets (offsets get gaps, never
 * change), records without a key are kept, and a segment left empty is
 * deleted (the first one is kept, empty, so the log start offset does not
 * move). Unlike Kafka, small cleaned segments are not merged, and the
 * cleaner holds the records of the whole log in memory while it runs (Kafka
 * keeps a bounded map of key hashes): fine for course-sized logs.
 *
 * @example
 * ```ts
 * import { planCompaction } from "./compaction.ts";
 * const enc = new TextEncoder();
 * const r = (offset: number, key: string, value: string | null) => ({
 *   offset, timestamp: 0, key: enc.encode(key), value: value === null ? null : enc.encode(value),
 *   headers: [], crc: 0,
 * });
 * const plan = planCompaction([[r(0, "a", "1"), r(1, "b", "1"), r(2, "a", "2")]], [], 0, 1000);
 * console.log(plan.keep[0].map((x) => x.offset)); // [ 1, 2 ]
 * ```
 *
 * @module
 */
import type { LogRecord } from "./record.ts";

/** What a compaction did. */
export interface CompactionReport {
  /** Closed segments that were looked at. */
  segmentsExamined: number;
  /** Segments rewritten with fewer records. */
  segmentsRewritten: number;
  /** Segments deleted because nothing in them survived. */
  segmentsDeleted: number;
  /** Records in the whole log before compaction. */
  recordsBefore: number;
  /** Records in the whole log after compaction. */
  recordsAfter: number;
  /** Tombstones dropped because their delete delay had passed. */
  tombstonesDropped: number;
  /** Log size in bytes before compaction. */
  bytesBefore: number;
  /** Log size in bytes after compaction. */
  bytesAfter: number;
}

/** What {@linkcode planCompaction} decides for each closed segment. */
export interface CompactionPlan {
  /** Per closed segment, the records that survive, in offset order. */
  keep: LogRecord[][];
  /** Tombstones dropped because their delete delay had passed. */
  tombstonesDropped: number;
}

/**
 * A map key for a record key (byte-exact).
 *
 * @example
 * ```ts
 * import { keyId } from "./compaction.ts";
 * console.log(keyId(new Uint8Array([104, 105]))); // "hi"
 * ```
 */
export function keyId(key: Uint8Array): string {
  let s = "";
  for (let i = 0; i < key.length; i++) s += String.fromCharCode(key[i]);
  return s;
}

/**
 * Decides which records of the closed segments survive. `closed` holds each
 * closed segment's records (oldest segment first); `active` the active
 * segment's, which only make older records of the same key obsolete.
 *
 * @example
 * ```ts
 * import { planCompaction } from "./compaction.ts";
 * const tomb = { offset: 0, timestamp: 0, key: new Uint8Array([1]), value: null, headers: [], crc: 0 };
 * console.log(planCompaction([[tomb]], [], 10, 5).tombstonesDropped); // 1: 10 - 0 > 5
 * ```
 */
export function planCompaction(
  closed: readonly (readonly LogRecord[])[],
  active: readonly LogRecord[],
  now: number,
  deleteRetentionMs: number,
): CompactionPlan {
  const newest = new Map<string, number>();
  for (const records of [...closed, active]) {
    for (const r of records) if (r.key !== null) newest.set(keyId(r.key), r.offset);
  }
  let tombstonesDropped = 0;
  const keep = closed.map((records) =>
    records.filter((r) => {
      if (r.key === null) return true;
      if (newest.get(keyId(r.key)) !== r.offset) return false;
      if (r.value === null && now - r.timestamp > deleteRetentionMs) {
        tombstonesDropped++;
        return false;
      }
      return true;
    })
  );
  return { keep, tombstonesDropped };
}
