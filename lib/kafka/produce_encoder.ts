/**
 * A speed fix for kafkajs's produce requests: kafkajs builds every record
 * in its own growing `Buffer` (two allocations for a 512 B record), copies
 * each record into the batch, the batch into the partition, the partition
 * into the topic and the topic into the request, and checksums the batch one
 * byte at a time. A CPU profile of `TopicProducer` (512 B records,
 * acks=all) put 45% of the process's time in that encoding, most of it in
 * `Buffer` allocation, copies and the checksum.
 *
 * {@linkcode encodeProduceRequest} writes the same bytes (Produce v3 to v7
 * share the layout) into one buffer sized up front, with a slice-by-8
 * CRC-32C (`crc32c.ts`); a compressed batch's records go to the codec as
 * one buffer too. {@linkcode encodeProducesInPlace} installs it in
 * kafkajs, once, when this module loads: kafkajs loads its produce request
 * module lazily (at the first produce) and v4 to v7 build on v3's, so the
 * module's export is swapped for one whose `encode` is ours. A request this
 * encoder does not handle exactly like kafkajs (a codec kafkajs lacks, a key
 * or value that is neither a string nor a `Buffer`, odd timestamps or headers) goes
 * to kafkajs's own `encode`. The byte-for-byte equivalence with kafkajs is
 * pinned in `tests/kafka_unit_test.ts`.
 *
 * @example
 * ```ts
 * import "./produce_encoder.ts"; // applied on import
 * ```
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { createRequire } from "node:module";
import KafkaEncoder from "kafkajs/src/protocol/encoder.js";
import Long from "kafkajs/src/utils/long.js";
import { CompressionCodecs } from "kafkajs";
import { crc32c } from "./crc32c.ts";

/** One record as kafkajs receives it. */
export interface RecordIn {
  /** The key (a string or Buffer is encoded here; anything else falls back to kafkajs). */
  key?: unknown;
  /** The value (likewise). */
  value?: unknown;
  /** Header names to values. */
  headers?: Record<string, unknown>;
  /** The record's timestamp in ms (kafkajs's default: now). */
  timestamp?: unknown;
}

/** One partition's data in a produce request, as kafkajs's producer builds it. */
export interface PartitionData {
  /** The partition. */
  partition: number;
  /** Its records, in order. */
  messages: RecordIn[];
  /** The idempotent producer's sequence number of the first record. */
  firstSequence?: number;
}

/** The arguments kafkajs passes to its Produce v3 request builder. */
export interface ProduceRequestArgs {
  /** -1, 0 or 1. */
  acks: number;
  /** Broker-side timeout in ms. */
  timeout: number;
  /** Null unless transactional. */
  transactionalId?: string | null;
  /** The idempotent producer's id (a kafkajs Long), -1 without. */
  producerId?: unknown;
  /** The idempotent producer's epoch. */
  producerEpoch?: number;
  /** kafkajs's compression type; only 0 (none) is encoded here. */
  compression?: number;
  /** Topics, each with its partitions' records. */
  topicData: { topic: string; partitions: PartitionData[] }[];
}

/** What kafkajs's `encode()` returns: an encoder holding the request body. */
export interface EncodedRequest {
  /** The bytes (kafkajs reads `buf` up to `offset`). */
  buf: Buffer;
  /** Bytes written. */
  offset: number;
  /** The same bytes as a `Buffer`. */
  readonly buffer: Buffer;
  /** Bytes written. */
  size(): number;
}

interface Header {
  key: string;
  value: string | Buffer;
}

/** A record's parts, measured in the first pass. */
interface Measured {
  key: string | Buffer | null;
  keySize: number;
  value: string | Buffer | null;
  valueSize: number;
  delta: number;
  headers: Header[] | undefined;
  body: number;
}

const sizeOfVarInt = (value: number): number => {
  let v = (value << 1) ^ (value >> 31);
  let bytes = 1;
  while ((v & 0xffffff80) !== 0) {
    bytes++;
    v >>>= 7;
  }
  return bytes;
};

/** Size of a zigzag varlong of a safe integer with |value| <= 2^52. */
const sizeOfVarLong = (value: number): number => {
  let z = value >= 0 ? value * 2 : -value * 2 - 1;
  let bytes = 1;
  while (z >= 128) {
    bytes++;
    z = Math.floor(z / 128);
  }
  return bytes;
};

const byteLength = (v: string | Buffer): number =>
  typeof v === "string" ? Buffer.byteLength(v, "utf8") : v.length;

/** A key or value kafkajs writes as-is (null, a string, a Buffer); undefined otherwise. */
function plain(v: unknown): string | Buffer | null | undefined {
  if (v === null || v === undefined) return null;
  if (typeof v === "string" || Buffer.isBuffer(v)) return v as string | Buffer;
  return undefined;
}

/** A record's headers flattened as kafkajs flattens them; undefined if it would not encode them plainly. */
function flatHeaders(headers: unknown): Header[] | null | undefined {
  if (headers === undefined) return null;
  if (headers === null || typeof headers !== "object") return undefined;
  const out: Header[] = [];
  for (const key of Object.keys(headers)) {
    const v = (headers as Record<string, unknown>)[key];
    for (const one of Array.isArray(v) ? v : [v]) {
      if (typeof one !== "string" && !Buffer.isBuffer(one)) return undefined;
      out.push({ key, value: one as string | Buffer });
    }
  }
  return out;
}

const MAX_DELTA = 2 ** 52;

/**
 * One partition's records measured, with kafkajs's timestamps (the smallest
 * and largest given timestamp in string order, else now); undefined when
 * kafkajs would encode something differently or fail.
 */
function measure(messages: RecordIn[], now: number): MeasuredPartition | undefined {
  const given = messages.map((m) => m.timestamp).filter((t) => t != null).sort();
  const stamps = given.length === 0 ? [now] : given;
  const first = stamps[0];
  const max = stamps[stamps.length - 1];
  if (
    !(typeof first === "number" || typeof first === "string") ||
    !(typeof max === "number" || typeof max === "string")
  ) return undefined;
  const records: Measured[] = new Array(messages.length);
  let bytes = 0;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i];
    const key = plain(m.key);
    const value = plain(m.value);
    const headers = flatHeaders(m.headers);
    if (key === undefined || value === undefined || headers === undefined) return undefined;
    const delta = ((m.timestamp || now) as number) - (first as number);
    if (!Number.isSafeInteger(delta) || Math.abs(delta) > MAX_DELTA) return undefined;
    const keySize = key === null ? -1 : byteLength(key);
    const valueSize = value === null ? -1 : byteLength(value);
    let body = 1 + sizeOfVarLong(delta) + sizeOfVarInt(i) +
      sizeOfVarInt(keySize) + Math.max(0, keySize) +
      sizeOfVarInt(valueSize) + Math.max(0, valueSize) +
      sizeOfVarInt(headers?.length ?? 0);
    if (headers) {
      for (const h of headers) {
        const k = Buffer.byteLength(h.key, "utf8");
        const v = byteLength(h.value);
        body += sizeOfVarInt(k) + k + sizeOfVarInt(v) + v;
      }
    }
    records[i] = { key, keySize, value, valueSize, delta, headers: headers ?? undefined, body };
    bytes += sizeOfVarInt(body) + body;
  }
  return { records, bytes, first, max };
}

/** One partition's records measured, and the batch's first and largest timestamps. */
interface MeasuredPartition {
  records: Measured[];
  bytes: number;
  first: number | string;
  max: number | string;
}

/** Fixed bytes of a record batch before its records (offset, length, epoch, magic, crc, ...). */
const BATCH_HEADER = 8 + 4 + 4 + 1 + 4 + 2 + 4 + 8 + 8 + 8 + 2 + 4 + 4;
/** Where the checksummed part of a batch starts (the attributes). */
const CRC_FROM = 8 + 4 + 4 + 1 + 4;

class Writer {
  at = 0;
  constructor(readonly buf: Buffer) {}
  int8(v: number) {
    this.buf.writeInt8(v, this.at);
    this.at += 1;
  }
  int16(v: number) {
    this.buf.writeInt16BE(v, this.at);
    this.at += 2;
  }
  int32(v: number) {
    this.buf.writeInt32BE(v, this.at);
    this.at += 4;
  }
  int64(v: unknown) {
    const long = Long.fromValue(v as number);
    this.buf.writeInt32BE(long.getHighBits(), this.at);
    this.buf.writeInt32BE(long.getLowBits(), this.at + 4);
    this.at += 8;
  }
  string(v: string | null) {
    if (v === null) return this.int16(-1);
    const n = Buffer.byteLength(v, "utf8");
    this.int16(n);
    this.buf.write(v, this.at, n, "utf8");
    this.at += n;
  }
  uvarint(value: number) {
    const buf = this.buf;
    let v = value;
    while ((v & 0xffffff80) !== 0) {
      buf[this.at++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[this.at++] = v & 0x7f;
  }
  varint(value: number) {
    this.uvarint((value << 1) ^ (value >> 31));
  }
  varlong(value: number) {
    const buf = this.buf;
    let z = value >= 0 ? value * 2 : -value * 2 - 1;
    while (z >= 128) {
      buf[this.at++] = (z % 128) | 0x80;
      z = Math.floor(z / 128);
    }
    buf[this.at++] = z;
  }
  bytes(v: string | Buffer, size: number) {
    if (typeof v === "string") this.buf.write(v, this.at, size, "utf8");
    else this.buf.set(v, this.at);
    this.at += size;
  }
}

/** Writes `records` as a record batch's records (kafkajs's layout, no count). */
function writeRecords(w: Writer, records: Measured[]): void {
  for (let r = 0; r < records.length; r++) {
    const rec = records[r];
    w.varint(rec.body);
    w.buf[w.at++] = 0; // record attributes
    w.varlong(rec.delta);
    w.varint(r);
    w.varint(rec.keySize);
    if (rec.key !== null) w.bytes(rec.key, rec.keySize);
    w.varint(rec.valueSize);
    if (rec.value !== null) w.bytes(rec.value, rec.valueSize);
    const headers = rec.headers;
    w.varint(headers?.length ?? 0);
    if (headers) {
      for (const h of headers) {
        const k = Buffer.byteLength(h.key, "utf8");
        w.varint(k);
        w.bytes(h.key, k);
        const v = byteLength(h.value);
        w.varint(v);
        w.bytes(h.value, v);
      }
    }
  }
}

/** A kafkajs encoder holding `buf[0..size)`. */
function asEncoder(buf: Buffer, size: number): EncodedRequest {
  const encoder = new KafkaEncoder(0) as unknown as EncodedRequest;
  encoder.buf = buf;
  encoder.offset = size;
  return encoder;
}

/** A compression codec as kafkajs registers it. */
interface Codec {
  compress(encoder: EncodedRequest): Promise<Buffer>;
}

/**
 * The body of a Produce request (v3 to v7), byte for byte what kafkajs 2.2.4
 * writes: the records of each partition written once into one buffer (or,
 * compressed, into one buffer per partition handed to the codec kafkajs has
 * registered); undefined when kafkajs would write something else or fail
 * (no codec registered, keys or values that are neither strings nor
 * `Buffer`s, header values that are not, timestamps that are not plain
 * numbers), so the caller falls back to kafkajs.
 *
 * @example
 * ```ts
 * import { Buffer } from "node:buffer";
 * import { encodeProduceRequest } from "./produce_encoder.ts";
 * const body = await encodeProduceRequest({
 *   acks: -1,
 *   timeout: 30_000,
 *   topicData: [{
 *     topic: "t",
 *     partitions: [{ partition: 0, messages: [{ value: Buffer.from("v"), timestamp: "1" }] }],
 *   }],
 * });
 * console.log(body?.size()); // 98
 * ```
 */
export async function encodeProduceRequest(
  args: ProduceRequestArgs,
): Promise<EncodedRequest | undefined> {
  const {
    acks,
    timeout,
    transactionalId = null,
    producerId = Long.fromInt(-1),
    producerEpoch = 0,
    compression = 0,
    topicData,
  } = args;
  let codec: Codec | undefined;
  if (compression !== 0) {
    const factory = (CompressionCodecs as Record<number, (() => unknown) | undefined>)[compression];
    if (!factory) return undefined;
    try {
      codec = factory() as Codec;
    } catch {
      return undefined; // kafkajs's placeholder for a codec it lacks throws: let kafkajs say so
    }
    if (typeof codec?.compress !== "function") return undefined;
  }
  const now = Date.now();
  let size = 2 + (transactionalId === null ? 0 : Buffer.byteLength(transactionalId, "utf8")) +
    2 + 4 + 4;
  const measured: MeasuredPartition[][] = [];
  const packed: Buffer[][] = [];
  for (const { topic, partitions } of topicData) {
    size += 2 + Buffer.byteLength(topic, "utf8") + 4;
    const parts: MeasuredPartition[] = [];
    const packs: Buffer[] = [];
    for (const p of partitions) {
      const m = measure(p.messages, now);
      if (m === undefined) return undefined;
      parts.push(m);
      if (codec) {
        const w = new Writer(Buffer.allocUnsafe(m.bytes));
        writeRecords(w, m.records);
        const compressed = await codec.compress(asEncoder(w.buf, m.bytes));
        packs.push(compressed);
        size += 4 + 4 + BATCH_HEADER + compressed.length;
      } else {
        size += 4 + 4 + BATCH_HEADER + m.bytes;
      }
    }
    measured.push(parts);
    packed.push(packs);
  }
  const w = new Writer(Buffer.allocUnsafe(size));
  w.string(transactionalId);
  w.int16(acks);
  w.int32(timeout);
  w.int32(topicData.length);
  topicData.forEach(({ topic, partitions }, t) => {
    w.string(topic);
    w.int32(partitions.length);
    partitions.forEach(({ partition, firstSequence = 0 }, i) => {
      const { records, first, max } = measured[t][i];
      const bytes = codec ? packed[t][i].length : measured[t][i].bytes;
      w.int32(partition);
      w.int32(BATCH_HEADER + bytes);
      const start = w.at;
      w.int64(0); // first offset
      w.int32(BATCH_HEADER - 12 + bytes); // length of what follows
      w.int32(0); // partition leader epoch
      w.int8(2); // magic
      const crcAt = w.at;
      w.at += 4;
      // Attributes: the codec in the low 3 bits, the transactional bit.
      w.int16((compression & 0x07) | (transactionalId ? 16 : 0));
      w.int32(records.length - 1); // last offset delta
      w.int64(first);
      w.int64(max);
      w.int64(producerId);
      w.int16(producerEpoch);
      w.int32(firstSequence);
      w.int32(records.length);
      if (codec) w.bytes(packed[t][i], bytes);
      else writeRecords(w, records);
      w.buf.writeUInt32BE(crc32c(w.buf, start + CRC_FROM, w.at), crcAt);
    });
  });
  if (w.at !== size) throw new Error(`produce encoder: wrote ${w.at} bytes, sized ${size}`);
  return asEncoder(w.buf, size);
}

/** Produce requests encoded by {@linkcode encodeProduceRequest} and by kafkajs's fallback, in this process. */
export const produceEncoderStats = { ours: 0, kafkajs: 0 };

type RequestFactory = (args: ProduceRequestArgs) => { encode: () => Promise<unknown> };

let kafkajsFactory: RequestFactory | undefined;

/**
 * kafkajs's own encoding of a produce request (v3 layout), for comparing
 * with {@linkcode encodeProduceRequest}; throws if kafkajs's produce module
 * could not be found.
 *
 * @example
 * ```ts
 * import { Buffer } from "node:buffer";
 * import { kafkajsProduceRequest } from "./produce_encoder.ts";
 * const body = await kafkajsProduceRequest({
 *   acks: -1,
 *   timeout: 30_000,
 *   topicData: [{
 *     topic: "t",
 *     partitions: [{ partition: 0, messages: [{ value: Buffer.from("v"), timestamp: "1" }] }],
 *   }],
 * });
 * console.log(body.length); // 98
 * ```
 */
export async function kafkajsProduceRequest(args: ProduceRequestArgs): Promise<Buffer> {
  if (!kafkajsFactory) throw new Error("kafkajs's produce request module was not found");
  return ((await kafkajsFactory(args).encode()) as EncodedRequest).buffer;
}

/**
 * Makes kafkajs encode produce requests with {@linkcode encodeProduceRequest}
 * (kafkajs's own encoder for the requests it does not handle). Returns false
 * when it cannot: kafkajs's produce module is missing or not the expected
 * shape. Applied when this module is first imported; calling it again is
 * harmless.
 *
 * @example
 * ```ts
 * import { encodeProducesInPlace } from "./produce_encoder.ts";
 * console.log(encodeProducesInPlace()); // true with the pinned kafkajs 2.2.4
 * ```
 */
export function encodeProducesInPlace(): boolean {
  if (kafkajsFactory) return true;
  try {
    const require = createRequire(import.meta.resolve("kafkajs"));
    const path = require.resolve("kafkajs/src/protocol/requests/produce/v3/request.js");
    const original = require(path) as RequestFactory;
    const module = require.cache[path];
    if (typeof original !== "function" || !module) return false;
    const factory: RequestFactory = (args) => {
      const request = original(args);
      const kafkajsEncode = request.encode;
      request.encode = async () => {
        const ours = await encodeProduceRequest(args);
        if (ours) {
          produceEncoderStats.ours++;
          return ours;
        }
        produceEncoderStats.kafkajs++;
        return kafkajsEncode();
      };
      return request;
    };
    module.exports = factory;
    kafkajsFactory = original;
    return true;
  } catch {
    return false;
  }
}
encodeProducesInPlace();
