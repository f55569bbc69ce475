/**
 * The fetch-decoding benchmark: one fetch response's record set (record
 * batches as a producer writes them, ShopStream-sized records: a 38-byte
 * key, a value of ~230 bytes, no headers) decoded over and over, by
 * kafkajs's own decoder and by `lib/kafka/fetch_decoder.ts`, in turns. The
 * time per record includes the garbage collection each decoder's
 * allocations cause. No services needed.
 *
 * @example
 * ```ts
 * import { benchFetchDecode } from "./decode.ts";
 * const r = await benchFetchDecode({ seconds: 0.2, rounds: 1 });
 * console.log(r.kafkajsUsPerRecord, r.oursUsPerRecord, r.speedup);
 * ```
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { createRequire } from "node:module";
import { decodeRecordSet, kafkajsDecodeRecordSet } from "../kafka/fetch_decoder.ts";
import { seededRandom } from "../util/random.ts";

/** Options of {@linkcode benchFetchDecode}. */
export interface DecodeBenchOptions {
  /** Records in the record set (default 4,000: about one 1 MiB fetch). */
  readonly records?: number;
  /** Records per batch (default 500). */
  readonly batchRecords?: number;
  /** Value bytes per record (default 230). */
  readonly valueBytes?: number;
  /** Seconds each decoder decodes per round (default 1). */
  readonly seconds?: number;
  /** Timed rounds after one warm-up; medians are shown (default 3). */
  readonly rounds?: number;
}

/** What {@linkcode benchFetchDecode} measured (medians over the rounds). */
export interface DecodeBenchResult {
  /** Records in the record set. */
  readonly records: number;
  /** Its size in bytes. */
  readonly bytes: number;
  /** kafkajs's decoder, µs per record. */
  readonly kafkajsUsPerRecord: number;
  /** This library's decoder, µs per record. */
  readonly oursUsPerRecord: number;
  /** kafkajs's time / ours. */
  readonly speedup: number;
}

type RecordBatchEncoder = (args: Record<string, unknown>) => Promise<{ buffer: Buffer }>;

/**
 * A record set of `records` records in batches of `batchRecords`, written
 * by kafkajs's own record-batch encoder.
 *
 * @example
 * ```ts
 * import { recordSet } from "./decode.ts";
 * console.log((await recordSet(1000, 500, 230)).length > 230_000); // true
 * ```
 */
export async function recordSet(
  records: number,
  batchRecords: number,
  valueBytes: number,
): Promise<Buffer> {
  const require = createRequire(import.meta.resolve("kafkajs"));
  const { RecordBatch } = require("kafkajs/src/protocol/recordBatch/v0/index.js") as {
    RecordBatch: RecordBatchEncoder;
  };
  const Record = require("kafkajs/src/protocol/recordBatch/record/v0/index.js") as (
    args: Record<string, unknown>,
  ) => unknown;
  const Long = require("kafkajs/src/utils/long.js") as { fromValue(v: number): unknown };
  const rand = seededRandom(7);
  const batches: Buffer[] = [];
  const t0 = 1_764_000_000_000;
  for (let first = 0; first < records; first += batchRecords) {
    const n = Math.min(batchRecords, records - first);
    const batch = Array.from({ length: n }, (_, i) => {
      const value = Buffer.alloc(valueBytes);
      for (let k = 0; k < valueBytes; k++) value[k] = Math.floor(rand() * 256);
      const key = `o-${Math.floor(rand() * 2 ** 52).toString(16).padStart(36, "0")}`;
      return Record({ offsetDelta: i, timestampDelta: i * 3, key, value });
    });
    batches.push(
      (await RecordBatch({
        firstOffset: Long.fromValue(1_000_000 + first),
        firstTimestamp: t0 + first,
        maxTimestamp: t0 + first + 3 * n,
        lastOffsetDelta: n - 1,
        producerId: Long.fromValue(4021),
        producerEpoch: 0,
        firstSequence: first,
        records: batch,
      })).buffer,
    );
  }
  return Buffer.concat(batches);
}

/**
 * Decodes one record set with each decoder in turns and returns the medians.
 *
 * @example
 * ```ts
 * import { benchFetchDecode } from "./decode.ts";
 * const r = await benchFetchDecode({ records: 1000, seconds: 0.1, rounds: 1 });
 * console.log(r.records); // 1000
 * ```
 */
export async function benchFetchDecode(
  options: DecodeBenchOptions = {},
): Promise<DecodeBenchResult> {
  const records = options.records ?? 4000;
  const set = await recordSet(records, options.batchRecords ?? 500, options.valueBytes ?? 230);
  const seconds = options.seconds ?? 1;
  const rounds = options.rounds ?? 3;
  const time = async (decode: (b: Buffer) => Promise<unknown[]>): Promise<number> => {
    const until = performance.now() + seconds * 1000;
    const t0 = performance.now();
    let n = 0;
    do {
      const out = await decode(set);
      if (out.length !== records) throw new Error(`decoded ${out.length} of ${records} records`);
      n += out.length;
    } while (performance.now() < until);
    return (performance.now() - t0) * 1000 / n;
  };
  const theirs: number[] = [], ours: number[] = [];
  for (let round = 0; round <= rounds; round++) {
    const a = await time(kafkajsDecodeRecordSet);
    const b = await time(decodeRecordSet);
    if (round === 0) continue; // warm-up: both JIT-compiled before anything counts
    theirs.push(a);
    ours.push(b);
  }
  const median = (xs: number[]) => xs.sort((x, y) => x - y)[Math.floor(xs.length / 2)];
  const kafkajsUsPerRecord = median(theirs), oursUsPerRecord = median(ours);
  return {
    records,
    bytes: set.length,
    kafkajsUsPerRecord,
    oursUsPerRecord,
    speedup: kafkajsUsPerRecord / oursUsPerRecord,
  };
}
