/**
 * The lake sink's commit arithmetic, pure: which offset of each partition may
 * be committed. The rule (point 4 of the delivery contract in
 * lib/shopstream/mod.ts): the committed position of a
 * partition is the smallest offset still held (buffered or being uploaded),
 * or the last processed offset + 1 when nothing is held, so a crash never
 * commits past a record that is not yet in the lake. (The other half, the
 * skip rule, is `lastOffsets` in `bronze.ts`.)
 *
 * @example
 * ```ts
 * import { OffsetLedger } from "./offsets.ts";
 * const ledger = new OffsetLedger();
 * ledger.process(0, 10n, 1); // offset 10 buffered by holder 1
 * ledger.process(0, 11n); // offset 11 dead-lettered: processed, not held
 * console.log(ledger.positions().get(0)); // 10n
 * ledger.release(1); // holder 1 uploaded
 * console.log(ledger.positions().get(0)); // 12n
 * ```
 *
 * @module
 */

/**
 * Commit positions from what was processed and what is still held.
 *
 * @example
 * ```ts
 * import { OffsetLedger } from "./offsets.ts";
 * const l = new OffsetLedger();
 * l.process(3, 5n, 7);
 * l.process(3, 6n, 8);
 * l.release(8);
 * console.log(l.due()); // Map(1) { 3 => 5n }
 * ```
 */
export class OffsetLedger {
  readonly #processed = new Map<number, bigint>();
  readonly #holders = new Map<number, Map<number, bigint>>();
  readonly #committed = new Map<number, bigint>();

  /**
   * Marks `offset` of `partition` processed; with `holder`, the record is
   * also held (buffered) by that holder until {@linkcode release}. Offsets of
   * one partition must arrive in increasing order.
   */
  process(partition: number, offset: bigint, holder?: number): void {
    const last = this.#processed.get(partition);
    if (last !== undefined && offset <= last) {
      throw new RangeError(
        `partition ${partition}: offset ${offset} processed after ${last}; offsets must increase`,
      );
    }
    this.#processed.set(partition, offset);
    if (holder === undefined) return;
    let firsts = this.#holders.get(holder);
    if (!firsts) {
      firsts = new Map();
      this.#holders.set(holder, firsts);
    }
    if (!firsts.has(partition)) firsts.set(partition, offset);
  }

  /** The records of `holder` are safe (uploaded) or given up (rewound): no longer held. */
  release(holder: number): void {
    this.#holders.delete(holder);
  }

  /** Per partition: the offset a commit may name now (the next record to read after a restart). */
  positions(): Map<number, bigint> {
    const out = new Map<number, bigint>();
    for (const [partition, last] of this.#processed) out.set(partition, last + 1n);
    for (const firsts of this.#holders.values()) {
      for (const [partition, first] of firsts) {
        const current = out.get(partition);
        if (current === undefined || first < current) out.set(partition, first);
      }
    }
    return out;
  }

  /** Positions that moved past the last committed one (see {@linkcode committed}). */
  due(): Map<number, bigint> {
    const out = new Map<number, bigint>();
    for (const [partition, position] of this.positions()) {
      const done = this.#committed.get(partition);
      if (done === undefined || position > done) out.set(partition, position);
    }
    return out;
  }

  /** Records that `positions` were committed. */
  committed(positions: ReadonlyMap<number, bigint>): void {
    for (const [partition, position] of positions) {
      const done = this.#committed.get(partition);
      if (done === undefined || position > done) this.#committed.set(partition, position);
    }
  }

  /** Offsets held by any holder. */
  get holders(): number {
    return this.#holders.size;
  }

  /** Forgets everything (a rebalance rewinds every position to the committed one). */
  reset(): void {
    this.#processed.clear();
    this.#holders.clear();
    this.#committed.clear();
  }
}
