/**
 * Compression codecs beyond gzip. kafkajs ships gzip only and leaves slots
 * for snappy, lz4 and zstd in `CompressionCodecs`. Checked under Deno 2.9
 * against Kafka 4.4.0 (the broker decompresses every batch to validate it,
 * so an accepted produce proves the bytes are right):
 *
 * - **snappy**: `kafkajs-snappy` (pure JS, on `snappyjs`): works.
 * - **zstd**: `node:zlib`'s `zstdCompress`/`zstdDecompress` (native, in
 *   Deno's Node layer) behind a small adapter: works. Two gaps of Deno
 *   2.9's zstd are closed here: its decompression stops after the first
 *   frame (a batch may hold several), so {@linkcode zstdDecompress} walks
 *   the frames itself and refuses a truncated one, which Deno would decode
 *   short without a word; and its compression appends an empty 9-byte frame
 *   when the output outgrows its chunk, so {@linkcode zstdCompress} gives it
 *   room for the whole frame.
 * - **lz4**: no working codec. `kafka-lz4-lite` depends on a package missing
 *   from npm; `lz4js` writes frames with dependent blocks, which the broker
 *   rejects ("Dependent block stream is unsupported"); `kafkajs-lz4` needs
 *   native bindings.
 *
 * @example
 * ```ts
 * import { registerCodecs } from "./codecs.ts";
 * console.log(await registerCodecs()); // ["gzip", "snappy", "zstd"]
 * ```
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { promisify } from "node:util";
import zlib from "node:zlib";
import { CompressionCodecs, CompressionTypes } from "kafkajs";
import SnappyCodec from "kafkajs-snappy";
import type { Compression } from "./producer.ts";

/** The zstd level (Kafka's default, `compression.zstd.level`, is 3). */
export const ZSTD_LEVEL = 3;

const compressAsync = promisify(zlib.zstdCompress);
const decompressAsync = promisify(zlib.zstdDecompress);

/**
 * One zstd frame of `data`, compressed at `level`.
 *
 * @example
 * ```ts
 * import { zstdCompress, zstdDecompress } from "./codecs.ts";
 * const packed = await zstdCompress(new TextEncoder().encode("abc ".repeat(100)));
 * console.log(packed.length, (await zstdDecompress(packed)).length); // 20 400
 * ```
 */
export function zstdCompress(data: Uint8Array, level = ZSTD_LEVEL): Promise<Buffer> {
  // Room for the whole frame (zstd's compress bound, plus slack), so it is one frame.
  const chunkSize = Math.max(64 * 1024, data.length + (data.length >> 8) + 1024);
  return compressAsync(data, {
    chunkSize,
    params: { [zlib.constants.ZSTD_c_compressionLevel]: level },
  });
}

const ZSTD_MAGIC = 0xfd2fb528;

/**
 * Where each zstd frame of `data` starts and ends (skippable frames marked),
 * read from the frame and block headers (RFC 8878, section 3.1); throws on
 * bytes that are not zstd and on a frame cut short.
 *
 * @example
 * ```ts
 * import { zstdCompress, zstdFrames } from "./codecs.ts";
 * const one = await zstdCompress(new TextEncoder().encode("a"));
 * const two = new Uint8Array([...one, ...one]);
 * console.log(zstdFrames(two).length); // 2
 * ```
 */
export function zstdFrames(data: Uint8Array): { start: number; end: number; skippable: boolean }[] {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const frames = [];
  const need = (at: number, what: string) => {
    if (at > data.length) {
      throw new Error(
        `zstd: data ends inside a frame (${what} needs byte ${at}, have ${data.length})`,
      );
    }
  };
  let at = 0;
  while (at < data.length) {
    const start = at;
    need(at + 4, "the magic number");
    const magic = view.getUint32(at, true);
    if ((magic & 0xfffffff0) === 0x184d2a50) {
      need(at + 8, "a skippable frame's size");
      at += 8 + view.getUint32(at + 4, true);
      need(at, "a skippable frame");
      frames.push({ start, end: at, skippable: true });
      continue;
    }
    if (magic !== ZSTD_MAGIC) {
      throw new Error(`zstd: no frame at byte ${at} (magic 0x${magic.toString(16)})`);
    }
    need(at + 5, "the frame header");
    const descriptor = data[at + 4];
    const singleSegment = (descriptor >> 5) & 1;
    const contentSizeBytes = [singleSegment, 2, 4, 8][descriptor >> 6];
    const dictionaryBytes = [0, 1, 2, 4][descriptor & 3];
    const checksumBytes = (descriptor >> 2) & 1 ? 4 : 0;
    at += 5 + (singleSegment ? 0 : 1) + dictionaryBytes + contentSizeBytes;
    for (let last = false; !last;) {
      need(at + 3, "a block header");
      const header = data[at] | (data[at + 1] << 8) | (data[at + 2] << 16);
      last = (header & 1) === 1;
      const type = (header >> 1) & 3;
      if (type === 3) throw new Error(`zstd: reserved block type at byte ${at}`);
      at += 3 + (type === 1 ? 1 : header >>> 3);
      need(at, "a block");
    }
    at += checksumBytes;
    need(at, "the checksum");
    frames.push({ start, end: at, skippable: false });
  }
  return frames;
}

/**
 * Every frame of `data` decompressed and joined (the zstd format allows
 * several frames back to back; skippable frames are skipped).
 *
 * @example
 * ```ts
 * import { zstdCompress, zstdDecompress } from "./codecs.ts";
 * const a = await zstdCompress(new TextEncoder().encode("kafka "));
 * const b = await zstdCompress(new TextEncoder().encode("zstd"));
 * console.log(new TextDecoder().decode(await zstdDecompress(new Uint8Array([...a, ...b])))); // kafka zstd
 * ```
 */
export async function zstdDecompress(data: Uint8Array): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (const frame of zstdFrames(data)) {
    if (!frame.skippable) parts.push(await decompressAsync(data.subarray(frame.start, frame.end)));
  }
  return parts.length === 1 ? parts[0] : Buffer.concat(parts);
}

let registered: Promise<Compression[]> | undefined;

/**
 * Registers the snappy and zstd codecs with kafkajs (once; later calls
 * return the same answer) and returns the codecs usable now.
 *
 * @example
 * ```ts
 * import { registerCodecs } from "./codecs.ts";
 * import { TopicProducer } from "./producer.ts";
 * await registerCodecs();
 * declare const kafka: import("kafkajs").Kafka;
 * const producer = new TopicProducer(kafka, { topic: "clicks", compression: "zstd" });
 * ```
 */
export function registerCodecs(): Promise<Compression[]> {
  registered ??= (() => {
    const codecs = CompressionCodecs as Record<number, () => unknown>;
    codecs[CompressionTypes.Snappy] = SnappyCodec as () => unknown;
    codecs[CompressionTypes.ZSTD] = () => ({
      compress: (encoder: { buffer: Buffer }) => zstdCompress(encoder.buffer),
      decompress: (buffer: Buffer) => zstdDecompress(buffer),
    });
    return Promise.resolve(["gzip", "snappy", "zstd"] as Compression[]);
  })();
  return registered;
}
