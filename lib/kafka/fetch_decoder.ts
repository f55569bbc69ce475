/**
 * A speed fix for kafkajs's fetch responses: kafkajs decodes every record
 * of a record batch through a `Decoder` object of its own, a `Buffer` slice
 * of the whole record, `BigInt`-backed `Long`s for its timestamp and offset
 * (parsed from the batch's decimal strings once per record) and a header
 * object rebuilt once per header. A heap profile of the lake sink put a
 * third of every byte it allocated in that decoding (about 1.5 KB per
 * record), which the garbage collector then pays for.
 *
 * {@linkcode decodeRecordBatch} reads an uncompressed record batch (magic
 * 2) straight from the response's bytes, with plain numbers, into records
 * of exactly kafkajs's shape: `offset` and `timestamp` as decimal strings,
 * `key` and `value` as `Buffer`s over the response (or null), `headers` as
 * kafkajs builds them (a repeated header key gives an array), the batch's
 * context object shared by its records. {@linkcode decodeFetchesInPlace}
 * installs it in kafkajs, once, when this module loads: it swaps the export
 * of kafkajs's `fetch/v4/decodeMessages.js`, which the Fetch v4 to v11
 * responses load lazily at the first fetch. A batch this decoder does not
 * handle exactly like kafkajs (compressed, numbers beyond 2^53, anything
 * malformed) is decoded by kafkajs, from the same position; the old message
 * sets (magic 0 and 1) too. Like kafkajs, it does not check the batch's
 * CRC (Java's consumer does, by default: `check.crcs=true`). The equivalence
 * with kafkajs, record for record, is pinned in `tests/kafka_fetch_test.ts`.
 *
 * @example
 * ```ts
 * import "./fetch_decoder.ts"; // applied on import
 * ```
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { createRequire } from "node:module";

/** The batch-level fields kafkajs gives every record as `batchContext`. */
export interface RecordBatchContext {
  /** The batch's first offset, decimal. */
  firstOffset: string;
  /** The batch's first timestamp (ms), decimal. */
  firstTimestamp: string;
  /** The leader epoch the batch was written in. */
  partitionLeaderEpoch: number;
  /** Whether the batch belongs to a transaction. */
  inTransaction: boolean;
  /** Whether it is a control batch (a transaction marker). */
  isControlBatch: boolean;
  /** Offset delta of its last record. */
  lastOffsetDelta: number;
  /** The idempotent producer's id, decimal (-1 without). */
  producerId: string;
  /** The idempotent producer's epoch. */
  producerEpoch: number;
  /** The sequence number of its first record. */
  firstSequence: number;
  /** The batch's largest timestamp (ms), decimal. */
  maxTimestamp: string;
  /** 0: create time, 1: log-append time. */
  timestampType: number;
  /** The record format (2). */
  magicByte: number;
}

/** One record as kafkajs's consumer receives it. */
export interface FetchedRecord {
  /** The record format (2). */
  magicByte: number;
  /** Record attributes (unused by Kafka today). */
  attributes: number;
  /** Timestamp (ms), decimal. */
  timestamp: string;
  /** Offset, decimal. */
  offset: string;
  /** Key bytes, or null. */
  key: Buffer | null;
  /** Value bytes, or null (a tombstone). */
  value: Buffer | null;
  /** Header names to values (an array when a name repeats). */
  headers: Record<string, Buffer | null | (Buffer | null)[]>;
  /** Whether the record is a transaction marker. */
  isControlRecord: boolean;
  /** The batch's fields, one object per batch. */
  batchContext: RecordBatchContext;
}

/** What {@linkcode decodeRecordBatch} read: the records and where the next batch starts. */
export interface DecodedBatch {
  /** The batch's records, in order. */
  records: FetchedRecord[];
  /** Byte position just after the batch. */
  next: number;
}

/** Batches decoded here and batches left to kafkajs, since the process started. */
export const fetchDecoderStats = { ours: 0, kafkajs: 0 };

/** {@linkcode decodeRecordBatch}'s answer for a batch cut short by the fetch's size limit. */
export const PARTIAL = "partial";

const RECORD_BATCH_OVERHEAD = 49; // kafkajs's lower bound for "a batch may follow"
const MAGIC_OFFSET = 16;
const COMPRESSION_MASK = 0x07;
const TIMESTAMP_TYPE_FLAG = 0x08;
const TRANSACTIONAL_FLAG = 0x10;
const CONTROL_FLAG = 0x20;
const LOG_APPEND_TIME = 1;

/** Thrown inside the decoder for input it leaves to kafkajs. */
const NOT_HERE = Symbol("leave it to kafkajs");

/** A signed 64-bit big-endian integer as a number; throws NOT_HERE beyond ±2^53. */
function int64(buf: Buffer, at: number): number {
  const high = buf.readInt32BE(at);
  if (high >= 0x200000 || high < -0x200000) throw NOT_HERE;
  return high * 4294967296 + buf.readUInt32BE(at + 4);
}

/**
 * The zigzag varint at `cursor[0]` (moved past it), read as kafkajs's
 * `Decoder.readVarInt` reads it, bit for bit; throws NOT_HERE past 5 bytes.
 */
function varint(buf: Buffer, cursor: number[]): number {
  let p = cursor[0], result = 0, shift = 0, b: number;
  do {
    if (shift > 28) throw NOT_HERE;
    b = buf[p++];
    result += (b & 0x7f) << shift;
    shift += 7;
  } while (b >= 0x80);
  cursor[0] = p;
  return (result >>> 1) ^ -(result & 1);
}

/** A zigzag varlong as a number (at most 7 bytes, 49 bits); throws NOT_HERE beyond. */
function varlong(buf: Buffer, cursor: number[]): number {
  let p = cursor[0], raw = 0, scale = 1, b: number;
  do {
    if (scale > 2 ** 42) throw NOT_HERE;
    b = buf[p++];
    raw += (b & 0x7f) * scale;
    scale *= 128;
  } while (b >= 0x80);
  cursor[0] = p;
  return raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2;
}

/** `len` bytes at the cursor as a Buffer (null for -1), within `end`. */
function bytes(buf: Buffer, cursor: number[], end: number): Buffer | null {
  const len = varint(buf, cursor);
  if (len === -1) return null;
  const at = cursor[0];
  if (len < 0 || at + len > end) throw NOT_HERE;
  cursor[0] = at + len;
  return buf.subarray(at, at + len);
}

/**
 * A record's headers, merged as kafkajs merges them: the first value of a
 * name as is, then an array. Like kafkajs, the lookup goes through the
 * object's prototype (a header named `toString` meets the inherited
 * function) and each name becomes an own property, `__proto__` included.
 */
function headers(buf: Buffer, cursor: number[], end: number): FetchedRecord["headers"] {
  const out: FetchedRecord["headers"] = {};
  const count = varint(buf, cursor);
  if (count < -1) throw NOT_HERE;
  for (let i = 0; i < count; i++) {
    const keyBytes = bytes(buf, cursor, end);
    const key = keyBytes === null ? "null" : keyBytes.toString("utf8");
    const value = bytes(buf, cursor, end);
    const prev = out[key];
    const merged = prev === undefined ? value : Array.isArray(prev) ? prev.concat([value]) : [
      prev,
      value,
    ];
    // An own property for every name; assigning `__proto__` would set the prototype instead.
    if (key === "__proto__") {
      Object.defineProperty(out, key, {
        value: merged,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } else out[key] = merged;
  }
  return out;
}

/**
 * Decodes the record batch at `start` of `buf` (a fetch response's record
 * set) into kafkajs's record shape. Returns {@linkcode PARTIAL} when the
 * batch is cut short (the fetch's size limit; kafkajs stops there too), or
 * undefined when it leaves the batch to kafkajs: compressed, a number past
 * 2^53, or bytes that do not parse.
 *
 * @example
 * ```ts
 * import { Buffer } from "node:buffer";
 * import { decodeRecordBatch } from "./fetch_decoder.ts";
 * const empty = Buffer.alloc(61); // a batch of no records, offset 0
 * empty.writeInt32BE(49, 8);
 * empty.writeInt8(2, 16);
 * console.log(decodeRecordBatch(empty, 0)); // { records: [], next: 61 }
 * ```
 */
export function decodeRecordBatch(
  buf: Buffer,
  start: number,
): DecodedBatch | typeof PARTIAL | undefined {
  try {
    return decodeOrThrow(buf, start);
  } catch (e) {
    if (e === NOT_HERE || e instanceof RangeError) return undefined;
    throw e;
  }
}

function decodeOrThrow(buf: Buffer, start: number): DecodedBatch | typeof PARTIAL {
  const firstOffset = int64(buf, start);
  const length = buf.readInt32BE(start + 8);
  const body = start + 12;
  if (buf.length - body < length) return PARTIAL;
  if (length < RECORD_BATCH_OVERHEAD - 12) throw NOT_HERE;
  const end = body + length;
  const attributes = buf.readInt16BE(body + 9);
  if ((attributes & COMPRESSION_MASK) !== 0) throw NOT_HERE;
  const firstTimestamp = int64(buf, body + 15);
  const context: RecordBatchContext = {
    firstOffset: String(firstOffset),
    firstTimestamp: String(firstTimestamp),
    partitionLeaderEpoch: buf.readInt32BE(body),
    inTransaction: (attributes & TRANSACTIONAL_FLAG) > 0,
    isControlBatch: (attributes & CONTROL_FLAG) > 0,
    lastOffsetDelta: buf.readInt32BE(body + 11),
    producerId: String(int64(buf, body + 31)),
    producerEpoch: buf.readInt16BE(body + 39),
    firstSequence: buf.readInt32BE(body + 41),
    maxTimestamp: String(int64(buf, body + 23)),
    timestampType: (attributes & TIMESTAMP_TYPE_FLAG) > 0 ? LOG_APPEND_TIME : 0,
    magicByte: buf.readInt8(body + 4),
  };
  const count = buf.readInt32BE(body + 45);
  if (count < -1) throw NOT_HERE;
  const records: FetchedRecord[] = new Array(Math.max(0, count));
  const cursor = [body + 49];
  const logAppend = context.timestampType === LOG_APPEND_TIME && context.maxTimestamp !== "";
  for (let i = 0; i < count; i++) {
    const recordLength = varint(buf, cursor);
    const recordStart = cursor[0];
    const recordEnd = recordStart + recordLength;
    if (recordLength < 0 || recordEnd > end) throw NOT_HERE;
    const recordAttributes = buf.readInt8(recordStart);
    cursor[0] = recordStart + 1;
    const timestampDelta = varlong(buf, cursor);
    const offsetDelta = varint(buf, cursor);
    const timestamp = firstTimestamp + timestampDelta;
    const offset = firstOffset + offsetDelta;
    if (!Number.isSafeInteger(timestamp) || !Number.isSafeInteger(offset)) throw NOT_HERE;
    const key = bytes(buf, cursor, recordEnd);
    const value = bytes(buf, cursor, recordEnd);
    const recordHeaders = headers(buf, cursor, recordEnd);
    if (cursor[0] > recordEnd) throw NOT_HERE;
    cursor[0] = recordEnd;
    records[i] = {
      magicByte: context.magicByte,
      attributes: recordAttributes,
      timestamp: logAppend ? context.maxTimestamp : String(timestamp),
      offset: String(offset),
      key,
      value,
      headers: recordHeaders,
      isControlRecord: context.isControlBatch,
      batchContext: context,
    };
  }
  return { records, next: end };
}

/** kafkajs's `Decoder` as far as the record sets use it. */
interface KafkajsDecoder {
  buffer: Buffer;
  offset: number;
  readInt32(): number;
  canReadBytes(n: number): boolean;
  readBytes(n: number): Buffer;
}

type DecodeMessages = (decoder: KafkajsDecoder) => Promise<unknown[]>;
type RecordBatchDecoder = (decoder: KafkajsDecoder) => Promise<{ records: unknown[] }>;

let kafkajsDecodeMessages: DecodeMessages | undefined;

/**
 * kafkajs's own record-set decoding (`fetch/v4/decodeMessages.js`), as it
 * was before {@linkcode decodeFetchesInPlace}: the reference the tests
 * compare this module with.
 *
 * @example
 * ```ts
 * import { kafkajsDecodeRecordSet } from "./fetch_decoder.ts";
 * console.log(typeof kafkajsDecodeRecordSet); // "function"
 * ```
 */
export function kafkajsDecodeRecordSet(recordSet: Buffer): Promise<unknown[]> {
  // Not installed: kafkajs's module still exports its own.
  const original = kafkajsDecodeMessages ?? kafkajs().decodeMessages;
  return original(sizedDecoder(recordSet));
}

/**
 * This module's record-set decoding: every batch through
 * {@linkcode decodeRecordBatch}, the rest through kafkajs.
 *
 * @example
 * ```ts
 * import { Buffer } from "node:buffer";
 * import { decodeRecordSet } from "./fetch_decoder.ts";
 * console.log(await decodeRecordSet(Buffer.alloc(0))); // []
 * ```
 */
export function decodeRecordSet(recordSet: Buffer): Promise<unknown[]> {
  return decodeMessages(sizedDecoder(recordSet));
}

/** A kafkajs Decoder over `recordSet` preceded by its int32 size, as the response holds it. */
function sizedDecoder(recordSet: Buffer): KafkajsDecoder {
  const sized = Buffer.alloc(4 + recordSet.length);
  sized.writeInt32BE(recordSet.length, 0);
  recordSet.copy(sized, 4);
  return new (kafkajs().Decoder)(sized);
}

const DECODE_MESSAGES = "kafkajs/src/protocol/requests/fetch/v4/decodeMessages.js";

let modules: {
  Decoder: new (b: Buffer) => KafkajsDecoder;
  batch: RecordBatchDecoder;
  decodeMessages: DecodeMessages;
} | undefined;

function kafkajs() {
  if (!modules) {
    const require = createRequire(import.meta.resolve("kafkajs"));
    modules = {
      Decoder: require("kafkajs/src/protocol/decoder.js"),
      batch: require("kafkajs/src/protocol/recordBatch/v0/decoder.js"),
      decodeMessages: require(DECODE_MESSAGES),
    };
  }
  return modules;
}

/** The replacement for kafkajs's `decodeMessages(decoder)`. */
async function decodeMessages(decoder: KafkajsDecoder): Promise<unknown[]> {
  const at = decoder.offset;
  const size = decoder.readInt32();
  if (size <= 0 || !decoder.canReadBytes(size)) return [];
  if (size <= MAGIC_OFFSET || decoder.buffer.readInt8(decoder.offset + MAGIC_OFFSET) !== 2) {
    decoder.offset = at; // message sets (magic 0, 1) and odd sizes: kafkajs's own path
    return kafkajsDecodeMessages!(decoder);
  }
  const buf: Buffer = decoder.readBytes(size);
  const records: unknown[] = [];
  let p = 0;
  while (buf.length - p >= RECORD_BATCH_OVERHEAD) {
    const ours = decodeRecordBatch(buf, p);
    if (ours === PARTIAL) break;
    if (ours) {
      fetchDecoderStats.ours++;
      for (const r of ours.records) records.push(r);
      p = ours.next;
      continue;
    }
    fetchDecoderStats.kafkajs++;
    const { Decoder, batch } = kafkajs();
    const fallback = new Decoder(buf);
    fallback.offset = p;
    try {
      const decoded = await batch(fallback);
      for (const r of decoded.records) records.push(r);
    } catch (e) {
      if ((e as Error).name === "KafkaJSPartialMessageError") break;
      throw e;
    }
    p = fallback.offset;
  }
  return records;
}

/**
 * Makes kafkajs decode fetched record batches with
 * {@linkcode decodeRecordBatch}. Returns false when it cannot: kafkajs's
 * module is missing or not the expected shape, or a fetch response module
 * already holds kafkajs's own (a fetch ran before this module loaded).
 * Applied when this module is first imported; calling it again is harmless.
 *
 * @example
 * ```ts
 * import { decodeFetchesInPlace } from "./fetch_decoder.ts";
 * console.log(decodeFetchesInPlace()); // true with the pinned kafkajs 2.2.4
 * ```
 */
export function decodeFetchesInPlace(): boolean {
  if (kafkajsDecodeMessages) return true;
  try {
    const require = createRequire(import.meta.resolve("kafkajs"));
    const path = require.resolve(DECODE_MESSAGES);
    for (let v = 4; v <= 11; v++) {
      const response = require.resolve(`kafkajs/src/protocol/requests/fetch/v${v}/response.js`);
      if (require.cache[response]) return false;
    }
    const original = require(path) as DecodeMessages;
    const module = require.cache[path];
    if (typeof original !== "function" || !module) return false;
    kafkajsDecodeMessages = original;
    module.exports = decodeMessages;
    return true;
  } catch {
    return false;
  }
}
decodeFetchesInPlace();
