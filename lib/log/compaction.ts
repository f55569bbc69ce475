/**
 * Compaction (Kafka's `cleanup.policy=compact`): keep only the newest record
 * of each key, as the `_schemas` topic of a Schema Registry or a table's
 * change log needs. A record whose value is null is a *tombstone*: it deletes
 * its key. Tombstones are kept for `deleteRetentionMs`, so readers that are
 * behind still see the delete, then dropped too.
 *
 * The rule is Kafka's cleaner's: the active segment is never cleaned, and
 * its records do not count either. Kafka builds its key → newest-offset map
 * only from the cleanable part of the log, which ends at the *first
 * uncleanable offset*, at most the active segment's base offset (also
 * bounded by the last stable offset and `min.compaction.lag.ms`). So a key
 * whose newer record sits in the active segment keeps its older record in a
 * closed segment until the active segment rolls and a later compaction sees
 * the newer one. As in Kafka, records keep their offsets (offsets get gaps,
 * never change), and a record without a key is removed (Kafka's broker
 * refuses to append one to a compacted topic; the course's log has no
 * cleanup policy, so it can hold them, and compaction drops them).
 *
 * Where the course's log is simpler than Kafka:
 * - compaction runs when `compact()` is called, over every closed segment
 *   (Kafka's cleaner thread picks logs by `min.cleanable.dirty.ratio` and
 *   only maps the dirty part since its last clean; the result is the same);
 * - a tombstone's delay counts from its own timestamp (Kafka starts it when
 *   the cleaner first keeps the tombstone, writing a delete horizon into the
 *   batch, and drops it on a later clean);
 * - each closed segment is rewritten on its own, and one left empty is
 *   deleted, except the first, which stays (maybe empty) so the log start
 *   offset does not move (Kafka merges small cleaned segments into one);
 * - the cleaner holds the records of the closed segments in memory while it
 *   runs (Kafka keeps a bounded map of key hashes): fine for course-sized logs.
 *
 * @example
 * ```ts
 * import { planCompaction } from "./compaction.ts";
 * const enc = new TextEncoder();
 * const r = (offset: number, key: string, value: string | null) => ({
 *   offset, timestamp: 0, key: enc.encode(key), value: value === null ? null : enc.encode(value),
 *   headers: [], crc: 0,
 * });
 * const plan = planCompaction([[r(0, "a", "1"), r(1, "b", "1"), r(2, "a", "2")]], 0, 1000);
 * console.log(plan.keep[0].map((x) => x.offset)); // [ 1, 2 ]
 * ```
 *
 * @module
 */
import type { LogRecord } from "./record.ts";

/** What a compaction did. */
export interface CompactionReport {
  /** Closed segments that were looked at (the active one never is). */
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
  /** Records without a key, dropped. */
  keylessDropped: number;
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
  /** Records without a key, dropped (Kafka cannot compact them). */
  keylessDropped: number;
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
 * Decides which records of the closed segments survive, by Kafka's rule.
 * `closed` holds each closed segment's records, oldest segment first. The
 * active segment is not passed: it is not cleaned, and its records make no
 * older record obsolete. A keyed record survives when no later record of the
 * same key is in `closed`, unless it is a tombstone whose delay has passed
 * (`now - timestamp > deleteRetentionMs`); a record without a key goes.
 *
 * @example
 * ```ts
 * import { planCompaction } from "./compaction.ts";
 * const tomb = { offset: 0, timestamp: 0, key: new Uint8Array([1]), value: null, headers: [], crc: 0 };
 * console.log(planCompaction([[tomb]], 10, 5).tombstonesDropped); // 1: 10 - 0 > 5
 * ```
 */
export function planCompaction(
  closed: readonly (readonly LogRecord[])[],
  now: number,
  deleteRetentionMs: number,
): CompactionPlan {
  const newest = new Map<string, number>();
  for (const records of closed) {
    for (const r of records) if (r.key !== null) newest.set(keyId(r.key), r.offset);
  }
  let tombstonesDropped = 0;
  let keylessDropped = 0;
  const keep = closed.map((records) =>
    records.filter((r) => {
      if (r.key === null) {
        keylessDropped++;
        return false;
      }
      if (newest.get(keyId(r.key)) !== r.offset) return false;
      if (r.value === null && now - r.timestamp > deleteRetentionMs) {
        tombstonesDropped++;
        return false;
      }
      return true;
    })
  );
  return { keep, tombstonesDropped, keylessDropped };
}
