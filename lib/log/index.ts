/**
 * The sparse offset index of one segment, kept in memory and mirrored to a
 * `.index` file beside the segment's `.log`. One entry every
 * `indexIntervalBytes` of log maps an offset to the byte position of the
 * batch that holds it, so a read seeks near its target and scans at most one
 * interval of batch headers, however big the segment is.
 *
 * Entry layout (16 bytes, big-endian), appended in offset order:
 *
 * | field              | type    | meaning                                          |
 * | ------------------ | ------- | ------------------------------------------------ |
 * | relativeOffset     | uint32  | batch base offset minus the segment base offset  |
 * | position           | uint32  | byte position of that batch in the `.log` file   |
 * | maxTimestampBefore | float64 | largest timestamp of every batch before it       |
 *
 * The last column lets a reopened segment learn its largest timestamp (which
 * time-based retention needs) by scanning only the batches after the last
 * entry.
 *
 * @example
 * ```ts
 * import { OffsetIndex } from "./index.ts";
 * const index = new OffsetIndex(100);
 * index.add(150, 4096, 1_700_000_000_000);
 * index.add(230, 8192, 1_700_000_000_500);
 * console.log(index.lookup(200)); // { offset: 150, position: 4096, maxTimestampBefore: 1700000000000 }
 * ```
 *
 * @module
 */

/** Bytes per index entry on disk. */
export const INDEX_ENTRY_SIZE = 16;

/** One index entry with an absolute offset. */
export interface IndexEntry {
  /** Absolute base offset of the indexed batch. */
  offset: number;
  /** Byte position of that batch in the `.log` file. */
  position: number;
  /** Largest timestamp of every batch before this one. */
  maxTimestampBefore: number;
}

/**
 * An in-memory sparse index for the segment starting at `baseOffset`.
 *
 * @example
 * ```ts
 * import { OffsetIndex } from "./index.ts";
 * const index = new OffsetIndex(0);
 * console.log(index.lookup(5)); // undefined: scan from byte 0
 * ```
 */
export class OffsetIndex {
  readonly #entries: IndexEntry[] = [];

  /** An empty index for the segment starting at `baseOffset`. */
  constructor(readonly baseOffset: number) {}

  /** The number of entries. */
  get length(): number {
    return this.#entries.length;
  }

  /** A copy of the entries, in offset order. */
  entries(): IndexEntry[] {
    return this.#entries.map((e) => ({ ...e }));
  }

  /** The last entry, if any. */
  last(): IndexEntry | undefined {
    return this.#entries.at(-1);
  }

  /**
   * Adds an entry; offsets and positions must grow. Returns its encoding.
   *
   * @example
   * ```ts
   * import { OffsetIndex } from "./index.ts";
   * const bytes = new OffsetIndex(10).add(12, 4096, 0);
   * console.log(bytes.length); // 16
   * ```
   */
  add(offset: number, position: number, maxTimestampBefore: number): Uint8Array {
    const last = this.last();
    if (
      offset < this.baseOffset || (last && (offset <= last.offset || position <= last.position))
    ) {
      throw new RangeError(
        `index entries must grow: (${offset}, ${position}) after ${JSON.stringify(last)}`,
      );
    }
    const entry = { offset, position, maxTimestampBefore };
    this.#entries.push(entry);
    return encodeEntry(this.baseOffset, entry);
  }

  /**
   * The entry with the largest offset `<= offset`: the batch to start
   * scanning from. `undefined` means scan from the segment's first byte.
   *
   * @example
   * ```ts
   * import { OffsetIndex } from "./index.ts";
   * const index = new OffsetIndex(0);
   * index.add(10, 100, 0);
   * console.log(index.lookup(9), index.lookup(10)?.position); // undefined 100
   * ```
   */
  lookup(offset: number): IndexEntry | undefined {
    let lo = 0;
    let hi = this.#entries.length - 1;
    let found: IndexEntry | undefined;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#entries[mid].offset <= offset) {
        found = this.#entries[mid];
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  /**
   * Drops every entry at or after byte `position` (after a truncation).
   *
   * @example
   * ```ts
   * import { OffsetIndex } from "./index.ts";
   * const index = new OffsetIndex(0);
   * index.add(5, 100, 0);
   * index.truncateTo(100);
   * console.log(index.length); // 0
   * ```
   */
  truncateTo(position: number): void {
    while ((this.last()?.position ?? -1) >= position) this.#entries.pop();
  }

  /**
   * Parses an index file's bytes. Returns `undefined` when they are not a
   * valid index for a log of `logSize` bytes (torn entry, offsets or
   * positions that do not grow, a position past the end): rebuild it then.
   *
   * @example
   * ```ts
   * import { OffsetIndex } from "./index.ts";
   * const a = new OffsetIndex(0);
   * const bytes = a.add(3, 64, 0);
   * console.log(OffsetIndex.decode(0, bytes, 1000)?.length); // 1
   * ```
   */
  static decode(baseOffset: number, bytes: Uint8Array, logSize: number): OffsetIndex | undefined {
    if (bytes.length % INDEX_ENTRY_SIZE !== 0) return undefined;
    const index = new OffsetIndex(baseOffset);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    for (let p = 0; p < bytes.length; p += INDEX_ENTRY_SIZE) {
      const offset = baseOffset + view.getUint32(p);
      const position = view.getUint32(p + 4);
      if (position >= logSize) return undefined;
      try {
        index.add(offset, position, view.getFloat64(p + 8));
      } catch {
        return undefined;
      }
    }
    return index;
  }

  /**
   * All entries encoded, as the `.index` file holds them.
   *
   * @example
   * ```ts
   * import { OffsetIndex } from "./index.ts";
   * console.log(new OffsetIndex(0).encode().length); // 0
   * ```
   */
  encode(): Uint8Array {
    const out = new Uint8Array(this.#entries.length * INDEX_ENTRY_SIZE);
    this.#entries.forEach((e, i) => out.set(encodeEntry(this.baseOffset, e), i * INDEX_ENTRY_SIZE));
    return out;
  }
}

function encodeEntry(baseOffset: number, e: IndexEntry): Uint8Array {
  const out = new Uint8Array(INDEX_ENTRY_SIZE);
  const view = new DataView(out.buffer);
  view.setUint32(0, e.offset - baseOffset);
  view.setUint32(4, e.position);
  view.setFloat64(8, e.maxTimestampBefore);
  return out;
}
