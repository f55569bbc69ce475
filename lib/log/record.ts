/**
 * The on-disk record format: records are written in batches, as Kafka does
 * (its "record batch", magic v2), in a simplified format of the course's
 * own. All integers are big-endian and fixed-width.
 *
 * A batch (the unit that is appended, checksummed and read):
 *
 * | at | field           | type    | meaning                                            |
 * | -- | --------------- | ------- | -------------------------------------------------- |
 * | 0  | baseOffset      | int64   | offset of the first record                         |
 * | 8  | batchLength     | int32   | bytes that follow this field                       |
 * | 12 | crc             | uint32  | CRC-32C of every other byte of the batch           |
 * | 16 | magic           | int8    | format version, {@linkcode MAGIC}                  |
 * | 17 | attributes      | int16   | reserved, 0                                        |
 * | 19 | lastOffsetDelta | int32   | last record's offset minus baseOffset              |
 * | 23 | baseTimestamp   | int64   | first record's timestamp (ms since the epoch)      |
 * | 31 | maxTimestamp    | int64   | largest timestamp in the batch                     |
 * | 39 | recordCount     | int32   | number of records that follow                      |
 * | 43 | records         |         | `recordCount` records                              |
 *
 * A record inside a batch:
 *
 * | field          | type   | meaning                                              |
 * | -------------- | ------ | ---------------------------------------------------- |
 * | length         | int32  | bytes that follow this field                         |
 * | attributes     | int8   | reserved, 0                                          |
 * | offsetDelta    | int32  | offset minus the batch's baseOffset                  |
 * | timestampDelta | int64  | timestamp minus the batch's baseTimestamp            |
 * | keyLength      | int32  | -1 for a null key, then the key bytes                |
 * | valueLength    | int32  | -1 for a null value (a tombstone), then the bytes    |
 * | headerCount    | int32  | then per header: int32 key length, UTF-8 key,        |
 * |                |        | int32 value length (-1 for null), value bytes        |
 *
 * One CRC covers the whole batch but itself, base offset and length
 * included, so a flipped bit anywhere is caught; every record carries it,
 * and a batch is all or nothing: a torn write fails the CRC and recovery
 * drops the whole batch. Offsets inside a batch may have gaps (compaction
 * removes records but keeps the others' offsets and `lastOffsetDelta`).
 *
 * **What Kafka's v2 batch has that this one leaves out.** Kafka's header is
 * 61 bytes: baseOffset (8), batchLength (4), partitionLeaderEpoch (4),
 * magic (1, = 2), crc (4), attributes (2), lastOffsetDelta (4),
 * baseTimestamp (8), maxTimestamp (8), producerId (8), producerEpoch (2),
 * baseSequence (4), records count (4).
 * - partitionLeaderEpoch: the leader's epoch when the batch was appended,
 *   which replicas use to find where their logs diverge after a leader
 *   change. The course's log is not replicated.
 * - producerId, producerEpoch, baseSequence: what the broker needs to drop
 *   a retried duplicate (idempotent producer) and to fence a zombie
 *   transactional producer (module 2). The course's log has no producers.
 * - attributes: Kafka's bits say the compression codec, the timestamp type
 *   (create or log-append time), transactional, control batch (commit or
 *   abort marker) and whether a delete horizon is set; here they are 0.
 * - Kafka's records are varint-encoded (lengths, deltas, counts), so small
 *   records take far fewer bytes; fixed-width fields are easier to decode
 *   by hand, which notebook 01 does. `magic` is this format's own version
 *   number (1), not Kafka's (whose 2 means the v2 batch).
 * - Kafka's CRC-32C covers only the bytes from `attributes` to the end of
 *   the batch: base offset, length, leader epoch and magic are outside it,
 *   so a broker can assign offsets and stamp its leader epoch on a batch a
 *   producer checksummed without recomputing the CRC. Here the log itself
 *   assigns the offsets before the CRC is computed, so nothing needs to be
 *   left out.
 *
 * @example
 * ```ts
 * import { decodeBatch, encodeBatch } from "./record.ts";
 * const bytes = encodeBatch(7, [{ offsetDelta: 0, timestamp: 1, key: null, value: new Uint8Array([1]), headers: [] }]);
 * console.log(decodeBatch(bytes).records[0].offset); // 7
 * ```
 *
 * @module
 */
import { crc32c } from "./crc32c.ts";
import { InvalidArgumentError } from "./errors.ts";

/** The format version written in every batch. */
export const MAGIC = 1;
/** Bytes before `batchLength` ends: baseOffset + batchLength. */
export const FRAME_HEADER_SIZE = 12;
/** Bytes of a batch before its first record. */
export const BATCH_HEADER_SIZE = 43;
const CRC_START = 16;
const RECORD_FIXED_SIZE = 4 + 1 + 4 + 8 + 4 + 4 + 4;

/** One header of a record: a string key and a byte value (or null). */
export interface Header {
  /** Header name. */
  key: string;
  /** Header value; null when absent. */
  value: Uint8Array | null;
}

/** What a caller appends. Strings are encoded as UTF-8. */
export interface RecordInput {
  /** Records with the same key are compacted together; null: no key. */
  key?: Uint8Array | string | null;
  /** The payload; null marks a tombstone (deletes the key on compaction). */
  value: Uint8Array | string | null;
  /** Metadata, as `[key, value]` pairs or a plain object. */
  headers?: Record<string, Uint8Array | string | null> | [string, Uint8Array | string | null][];
  /** Milliseconds since the epoch; the log's clock when omitted. */
  timestamp?: number;
}

/** A record as stored: its offset inside the batch is set. */
export interface EncodableRecord {
  /** Offset relative to the batch's base offset. */
  offsetDelta: number;
  /** Milliseconds since the epoch. */
  timestamp: number;
  /** Key bytes; null: no key. */
  key: Uint8Array | null;
  /** Value bytes; null: a tombstone. */
  value: Uint8Array | null;
  /** The record's headers, in order. */
  headers: Header[];
}

/** A record read back from the log. */
export interface LogRecord {
  /** Absolute offset in the log. */
  offset: number;
  /** Milliseconds since the epoch. */
  timestamp: number;
  /** Key bytes; null: no key. */
  key: Uint8Array | null;
  /** Value bytes; null: a tombstone. */
  value: Uint8Array | null;
  /** The record's headers, in order. */
  headers: Header[];
  /** The CRC-32C of the batch the record was written in (verified on read). */
  crc: number;
}

/** The fixed fields of a batch, readable without decoding its records. */
export interface BatchHeader {
  /** Offset of the batch's first record. */
  baseOffset: number;
  /** Total bytes of the batch on disk, frame header included. */
  sizeBytes: number;
  /** The stored CRC-32C of the batch. */
  crc: number;
  /** Offset of the batch's last record (kept when compaction removes records). */
  lastOffset: number;
  /** Timestamp of the batch's first record. */
  baseTimestamp: number;
  /** Largest record timestamp in the batch. */
  maxTimestamp: number;
  /** Records in the batch. */
  recordCount: number;
}

/** A decoded batch. */
export interface Batch extends BatchHeader {
  /** The batch's records, in offset order. */
  records: LogRecord[];
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function toBytes(v: Uint8Array | string | null | undefined): Uint8Array | null {
  if (v === null || v === undefined) return null;
  if (typeof v === "string") return encoder.encode(v);
  if (v instanceof Uint8Array) return v;
  throw new InvalidArgumentError(
    `record keys, values and header values must be a string, a Uint8Array or null, got ${typeof v}`,
  );
}

/**
 * Turns a caller's record into the stored form (bytes, header list).
 *
 * @example
 * ```ts
 * import { normalizeRecord } from "./record.ts";
 * const r = normalizeRecord({ key: "k", value: "v", headers: { source: "web" } }, 0, 1000);
 * console.log(r.headers[0].key, r.timestamp); // source 1000
 * ```
 */
export function normalizeRecord(
  input: RecordInput,
  offsetDelta: number,
  defaultTimestamp: number,
): EncodableRecord {
  if (input === null || typeof input !== "object" || !("value" in input)) {
    throw new InvalidArgumentError(
      "a record is an object with at least a `value` (use null for a tombstone)",
    );
  }
  const timestamp = input.timestamp ?? defaultTimestamp;
  if (!Number.isSafeInteger(timestamp)) {
    throw new InvalidArgumentError(`timestamp must be an integer (ms), got ${timestamp}`);
  }
  const pairs = Array.isArray(input.headers) ? input.headers : Object.entries(input.headers ?? {});
  return {
    offsetDelta,
    timestamp,
    key: toBytes(input.key),
    value: toBytes(input.value),
    headers: pairs.map(([key, value]) => ({ key: String(key), value: toBytes(value) })),
  };
}

function recordBodySize(r: EncodableRecord, headerKeys: Uint8Array[]): number {
  let size = RECORD_FIXED_SIZE - 4 + (r.key?.length ?? 0) + (r.value?.length ?? 0);
  r.headers.forEach((h, i) => size += 8 + headerKeys[i].length + (h.value?.length ?? 0));
  return size;
}

/**
 * Encodes records (in offset order) as one batch starting at `baseOffset`.
 *
 * @example
 * ```ts
 * import { encodeBatch } from "./record.ts";
 * const bytes = encodeBatch(0, [{ offsetDelta: 0, timestamp: 5, key: null, value: null, headers: [] }]);
 * console.log(bytes.length); // 72: a 43-byte batch header and a 29-byte record
 * ```
 */
export function encodeBatch(
  baseOffset: number,
  records: readonly EncodableRecord[],
  lastOffsetDelta = records.at(-1)?.offsetDelta ?? 0,
): Uint8Array {
  if (records.length === 0) throw new InvalidArgumentError("a batch needs at least one record");
  const headerKeys = records.map((r) => r.headers.map((h) => encoder.encode(h.key)));
  const bodies = records.map((r, i) => recordBodySize(r, headerKeys[i]));
  const size = BATCH_HEADER_SIZE + bodies.reduce((a, b) => a + b + 4, 0);
  const buf = new Uint8Array(size);
  const view = new DataView(buf.buffer);
  const baseTimestamp = records[0].timestamp;
  const maxTimestamp = records.reduce((max, r) => Math.max(max, r.timestamp), -Infinity);
  view.setBigInt64(0, BigInt(baseOffset));
  view.setInt32(8, size - FRAME_HEADER_SIZE);
  view.setInt8(16, MAGIC);
  view.setInt16(17, 0);
  view.setInt32(19, lastOffsetDelta);
  view.setBigInt64(23, BigInt(baseTimestamp));
  view.setBigInt64(31, BigInt(maxTimestamp));
  view.setInt32(39, records.length);
  let p = BATCH_HEADER_SIZE;
  const bytes = (b: Uint8Array | null) => {
    view.setInt32(p, b === null ? -1 : b.length);
    p += 4;
    if (b) {
      buf.set(b, p);
      p += b.length;
    }
  };
  records.forEach((r, i) => {
    view.setInt32(p, bodies[i]);
    view.setInt8(p + 4, 0);
    view.setInt32(p + 5, r.offsetDelta);
    view.setBigInt64(p + 9, BigInt(r.timestamp - baseTimestamp));
    p += 17;
    bytes(r.key);
    bytes(r.value);
    view.setInt32(p, r.headers.length);
    p += 4;
    r.headers.forEach((h, j) => {
      bytes(headerKeys[i][j]);
      bytes(h.value);
    });
  });
  view.setUint32(12, batchCrc(buf, 0, size));
  return buf;
}

/**
 * Parses the fixed 43-byte header of the batch at `buf[pos]` without reading
 * its records. Returns a reason string when the bytes cannot be a header.
 *
 * @example
 * ```ts
 * import { encodeBatch, parseBatchHeader } from "./record.ts";
 * const b = encodeBatch(5, [{ offsetDelta: 0, timestamp: 1, key: null, value: null, headers: [] }]);
 * const h = parseBatchHeader(b.subarray(0, 43), 0);
 * console.log(typeof h === "string" ? h : h.baseOffset); // 5
 * ```
 */
export function parseBatchHeader(buf: Uint8Array, pos: number): BatchHeader | string {
  const available = buf.length - pos;
  if (available < BATCH_HEADER_SIZE) return `${available} bytes, less than a batch header`;
  const view = new DataView(buf.buffer, buf.byteOffset + pos, BATCH_HEADER_SIZE);
  const length = view.getInt32(8);
  if (length < BATCH_HEADER_SIZE - FRAME_HEADER_SIZE) return `impossible batch length ${length}`;
  const magic = view.getInt8(16);
  if (magic !== MAGIC) return `unknown magic ${magic}`;
  const baseOffset = Number(view.getBigInt64(0));
  const lastOffsetDelta = view.getInt32(19);
  const recordCount = view.getInt32(39);
  if (baseOffset < 0 || lastOffsetDelta < 0 || recordCount < 0) {
    return `negative base offset, offset delta or record count`;
  }
  return {
    baseOffset,
    sizeBytes: length + FRAME_HEADER_SIZE,
    crc: view.getUint32(12),
    lastOffset: baseOffset + lastOffsetDelta,
    baseTimestamp: Number(view.getBigInt64(23)),
    maxTimestamp: Number(view.getBigInt64(31)),
    recordCount,
  };
}

/** The result of looking at the bytes where a batch should start. */
export type FrameCheck =
  | { kind: "ok"; header: BatchHeader }
  | { kind: "incomplete"; reason: string }
  | { kind: "corrupt"; reason: string };

/**
 * Is there a whole batch at `buf[pos]`, and (with `verifyCrc`) do its bytes
 * match its CRC?
 *
 * @example
 * ```ts
 * import { checkFrame, encodeBatch } from "./record.ts";
 * const b = encodeBatch(0, [{ offsetDelta: 0, timestamp: 1, key: null, value: null, headers: [] }]);
 * console.log(checkFrame(b, 0, true).kind, checkFrame(b.subarray(0, 10), 0, true).kind); // ok incomplete
 * ```
 */
export function checkFrame(buf: Uint8Array, pos: number, verifyCrc: boolean): FrameCheck {
  const available = buf.length - pos;
  if (available < BATCH_HEADER_SIZE) {
    return { kind: "incomplete", reason: `${available} bytes, less than a batch header` };
  }
  const header = parseBatchHeader(buf, pos);
  if (typeof header === "string") return { kind: "corrupt", reason: header };
  if (available < header.sizeBytes) {
    return { kind: "incomplete", reason: `${available} of ${header.sizeBytes} bytes` };
  }
  if (verifyCrc) {
    const actual = batchCrc(buf, pos, pos + header.sizeBytes);
    if (actual !== header.crc) {
      return {
        kind: "corrupt",
        reason: `CRC mismatch: stored ${hex(header.crc)}, computed ${hex(actual)}`,
      };
    }
  }
  return { kind: "ok", header };
}

/** CRC-32C over the batch at `buf[start, end)` minus its own CRC field. */
function batchCrc(buf: Uint8Array, start: number, end: number): number {
  return crc32c(buf, crc32c(buf, 0, start, start + 12), start + CRC_START, end);
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, "0")}`;
}

/**
 * Decodes one whole batch (CRC verified) that starts at `buf[pos]`. Throws
 * an `Error` describing the problem when the bytes are not a valid batch.
 *
 * @example
 * ```ts
 * import { decodeBatch, encodeBatch } from "./record.ts";
 * const b = encodeBatch(3, [{ offsetDelta: 0, timestamp: 1, key: null, value: new Uint8Array([9]), headers: [] }]);
 * console.log(decodeBatch(b).records[0].value); // Uint8Array [ 9 ]
 * ```
 */
export function decodeBatch(buf: Uint8Array, pos = 0): Batch {
  const check = checkFrame(buf, pos, true);
  if (check.kind !== "ok") throw new Error(check.reason);
  const h = check.header;
  const end = pos + h.sizeBytes;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.length);
  let p = pos + BATCH_HEADER_SIZE;
  const need = (n: number) => {
    if (n < 0 || p + n > end) throw new Error(`record field overruns the batch at byte ${p}`);
  };
  const bytes = (): Uint8Array | null => {
    need(4);
    const len = view.getInt32(p);
    p += 4;
    if (len === -1) return null;
    need(len);
    const out = buf.slice(p, p + len);
    p += len;
    return out;
  };
  const records: LogRecord[] = [];
  for (let i = 0; i < h.recordCount; i++) {
    need(RECORD_FIXED_SIZE - 12);
    const recordEnd = p + 4 + view.getInt32(p);
    const offset = h.baseOffset + view.getInt32(p + 5);
    const timestamp = h.baseTimestamp + Number(view.getBigInt64(p + 9));
    p += 17;
    const key = bytes();
    const value = bytes();
    need(4);
    const count = view.getInt32(p);
    p += 4;
    const headers: Header[] = [];
    for (let j = 0; j < count; j++) {
      const k = bytes();
      headers.push({ key: decoder.decode(k ?? new Uint8Array()), value: bytes() });
    }
    if (p !== recordEnd) throw new Error(`record ${offset} length does not match its fields`);
    records.push({ offset, timestamp, key, value, headers, crc: h.crc });
  }
  if (p !== end) throw new Error(`batch at offset ${h.baseOffset} has trailing bytes`);
  return { ...h, records };
}

/**
 * Decodes UTF-8 bytes (a key or value) to text; null stays null.
 *
 * @example
 * ```ts
 * import { text } from "./record.ts";
 * console.log(text(new TextEncoder().encode("hi")), text(null)); // hi null
 * ```
 */
export function text(bytes: Uint8Array | null): string | null {
  return bytes === null ? null : decoder.decode(bytes);
}
