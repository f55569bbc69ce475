/**
 * Where a record goes. Keyed records land where Kafka's Java client puts them
 * (`toPositive(murmur2(key)) % partitions`), so a TypeScript producer and a
 * Java producer agree on which partition holds a key; keyless records follow
 * a strategy; {@linkcode regionPartitioner} is a custom partitioner that keeps
 * each region on its own partition range.
 *
 * @example
 * ```ts
 * import { javaPartition } from "./partitioners.ts";
 * console.log(javaPartition("customer-42", 6)); // the partition Java's client picks too
 * ```
 *
 * @module
 */
import type { IHeaders } from "./upstream.ts";

const SEED = 0x9747b28c;
const M = 0x5bd1e995;
const encoder = new TextEncoder();

/**
 * Kafka's murmur2 hash (`org.apache.kafka.common.utils.Utils.murmur2`), as a
 * signed 32-bit integer exactly like Java returns it.
 *
 * @example
 * ```ts
 * import { murmur2 } from "./partitioners.ts";
 * console.log(murmur2(new TextEncoder().encode("21"))); // -973932308
 * ```
 */
export function murmur2(bytes: Uint8Array): number {
  const length = bytes.length;
  let h = SEED ^ length;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M);
    h ^= k;
  }
  switch (length & 3) {
    case 3:
      h ^= bytes[whole + 2] << 16;
    // falls through
    case 2:
      h ^= bytes[whole + 1] << 8;
    // falls through
    case 1:
      h ^= bytes[whole];
      h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/**
 * Java's `Utils.toPositive`: clears the sign bit (not `Math.abs`, which would
 * differ for negative numbers and overflow for `-2^31`).
 *
 * @example
 * ```ts
 * import { toPositive } from "./partitioners.ts";
 * console.log(toPositive(-973932308)); // 1173551340
 * ```
 */
export function toPositive(n: number): number {
  return n & 0x7fffffff;
}

/** A record key as the producer accepts it. */
export type Key = string | Uint8Array;

/**
 * The key's bytes: UTF-8 for strings (Java's `StringSerializer`), as-is for bytes.
 *
 * @example
 * ```ts
 * import { keyBytes } from "./partitioners.ts";
 * console.log(keyBytes("é").length); // 2
 * ```
 */
export function keyBytes(key: Key): Uint8Array {
  return typeof key === "string" ? encoder.encode(key) : key;
}

function checkPartitions(partitions: number): void {
  if (!Number.isInteger(partitions) || partitions < 1) {
    throw new RangeError(`partitions must be a positive integer, got ${partitions}`);
  }
}

/**
 * The partition Kafka's Java client (and kafkajs's default partitioner)
 * chooses for a keyed record: `toPositive(murmur2(key)) % partitions`.
 *
 * @example
 * ```ts
 * import { javaPartition } from "./partitioners.ts";
 * console.log(javaPartition("foobar", 3)); // same key, same partition, every time
 * ```
 */
export function javaPartition(key: Key, partitions: number): number {
  checkPartitions(partitions);
  return toPositive(murmur2(keyBytes(key))) % partitions;
}

/** What a partitioner looks at: the key and headers of one record. */
export interface PartitionInput {
  /** The record's key; none or null for a keyless record. */
  key?: Key | null;
  /** The record's headers. */
  headers?: IHeaders;
}

/**
 * Picks a partition in `[0, partitions)` for one record.
 *
 * @example
 * ```ts
 * import type { Partitioner } from "./partitioners.ts";
 * const first: Partitioner = () => 0;
 * console.log(first({ key: "k" }, 3)); // 0
 * ```
 */
export type Partitioner = (record: PartitionInput, partitions: number) => number;

/** How records without a key are spread. */
export type KeylessStrategy = "round-robin" | "sticky";

/**
 * A partitioner for keyless records. `round-robin` spreads record by record;
 * `sticky` (what Java's client does since 2.4) keeps one partition for
 * `stickyBatch` records, then moves on, so batches fill up instead of being
 * split across every partition.
 *
 * @example
 * ```ts
 * import { keylessPartitioner } from "./partitioners.ts";
 * const next = keylessPartitioner("round-robin");
 * console.log([next({}, 3), next({}, 3), next({}, 3), next({}, 3)]); // [0, 1, 2, 0]
 * ```
 */
export function keylessPartitioner(
  strategy: KeylessStrategy = "sticky",
  stickyBatch = 1000,
): Partitioner {
  if (strategy !== "round-robin" && strategy !== "sticky") {
    throw new TypeError(`unknown keyless strategy "${strategy}": use round-robin or sticky`);
  }
  let counter = 0;
  return (_record, partitions) => {
    checkPartitions(partitions);
    const slot = strategy === "round-robin" ? counter : Math.floor(counter / stickyBatch);
    counter++;
    return slot % partitions;
  };
}

/**
 * The producer's default: {@linkcode javaPartition} for keyed records, the
 * keyless strategy for the rest.
 *
 * @example
 * ```ts
 * import { defaultPartitioner } from "./partitioners.ts";
 * const p = defaultPartitioner("round-robin");
 * console.log(p({ key: "21" }, 3), p({}, 3));
 * ```
 */
export function defaultPartitioner(
  keyless: KeylessStrategy = "sticky",
  stickyBatch = 1000,
): Partitioner {
  const spread = keylessPartitioner(keyless, stickyBatch);
  return (record, partitions) =>
    record.key === undefined || record.key === null
      ? spread(record, partitions)
      : javaPartition(record.key, partitions);
}

/**
 * A record whose region is missing or not configured.
 *
 * @example
 * ```ts
 * import { regionPartitioner, UnknownRegionError } from "./partitioners.ts";
 * try {
 *   regionPartitioner({ eu: [0, 1] })({ key: "mars:1" }, 2);
 * } catch (e) {
 *   if (e instanceof UnknownRegionError) console.log(e.region); // "mars"
 * }
 * ```
 */
export class UnknownRegionError extends Error {
  /** The record's region (undefined when it has none) and the configured ones. */
  constructor(readonly region: string | undefined, readonly known: string[]) {
    super(
      region === undefined
        ? `record has no region: set a "region" header or key it "<region>:<id>" (known: ${
          known.join(", ")
        })`
        : `unknown region "${region}": add it to regionPartitioner's ranges (known: ${
          known.join(", ")
        })`,
    );
    this.name = "UnknownRegionError";
  }
}

/** Options for {@linkcode regionPartitioner}. */
export interface RegionPartitionerOptions {
  /** Header holding the region (default `region`); it wins over the key prefix. */
  header?: string;
  /** Separator between the region prefix and the rest of the key (default `:`). */
  separator?: string;
}

/**
 * A custom partitioner: each region owns a fixed, inclusive partition range
 * `[first, last]`, so one region's traffic never shares a partition with
 * another's (and a consumer can be pinned to a region). The region comes
 * from the `region` header, else from the key's prefix (`eu:customer-7`);
 * inside its range a record is placed by murmur2 of its key, so one key
 * stays on one partition. Ranges must not overlap.
 *
 * @example
 * ```ts
 * import { regionPartitioner } from "./partitioners.ts";
 * const byRegion = regionPartitioner({ eu: [0, 1], us: [2, 3], apac: [4, 5] });
 * console.log(byRegion({ key: "us:customer-7" }, 6)); // 2 or 3
 * ```
 */
export function regionPartitioner(
  regions: Record<string, readonly [first: number, last: number]>,
  options: RegionPartitionerOptions = {},
): Partitioner {
  const header = options.header ?? "region";
  const separator = options.separator ?? ":";
  const names = Object.keys(regions);
  if (names.length === 0) throw new RangeError("regionPartitioner: give at least one region");
  const owner = new Map<number, string>();
  for (const [name, [first, last]] of Object.entries(regions)) {
    if (!Number.isInteger(first) || !Number.isInteger(last) || first < 0 || last < first) {
      throw new RangeError(`region ${name}: range [${first}, ${last}] is not valid`);
    }
    for (let p = first; p <= last; p++) {
      const other = owner.get(p);
      if (other) throw new RangeError(`regions ${other} and ${name} both claim partition ${p}`);
      owner.set(p, name);
    }
  }
  const maxPartition = Math.max(...owner.keys());
  return (record, partitions) => {
    checkPartitions(partitions);
    if (maxPartition >= partitions) {
      throw new RangeError(
        `regionPartitioner needs ${maxPartition + 1} partitions, the topic has ${partitions}: ` +
          `add partitions (deno task admin topics add-partitions) or shrink the ranges`,
      );
    }
    const fromHeader = record.headers?.[header];
    let region: string | undefined;
    if (fromHeader !== undefined) {
      region = String(Array.isArray(fromHeader) ? fromHeader[0] : fromHeader);
    } else if (record.key !== undefined && record.key !== null) {
      const key = typeof record.key === "string"
        ? record.key
        : new TextDecoder().decode(record.key);
      const at = key.indexOf(separator);
      if (at > 0) region = key.slice(0, at);
    }
    const range = region === undefined ? undefined : regions[region];
    if (!range) throw new UnknownRegionError(region, names);
    const [first, last] = range;
    const width = last - first + 1;
    const hash = record.key === undefined || record.key === null
      ? 0
      : toPositive(murmur2(keyBytes(record.key)));
    return first + (hash % width);
  };
}
