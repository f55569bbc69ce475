/**
 * Compression codecs beyond gzip. kafkajs ships gzip only and leaves slots
 * for snappy, lz4 and zstd in `CompressionCodecs`. Checked under Deno 2.9
 * against Kafka 4.4.0 (the broker decompresses every batch to validate it,
 * so an accepted produce proves the bytes are right):
 *
 * - **snappy**: `kafkajs-snappy` (pure JS, on `snappyjs`): works.
 * - **zstd**: `@bokuweb/zstd-wasm` (WebAssembly) behind a small adapter: works.
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
import { CompressionCodecs, CompressionTypes } from "kafkajs";
import SnappyCodec from "kafkajs-snappy";
import * as zstd from "@bokuweb/zstd-wasm";
import type { Compression } from "./producer.ts";

/** The zstd level (Kafka's default, `compression.zstd.level`, is 3). */
export const ZSTD_LEVEL = 3;

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
  registered ??= (async () => {
    const codecs = CompressionCodecs as Record<number, () => unknown>;
    codecs[CompressionTypes.Snappy] = SnappyCodec as () => unknown;
    await zstd.init();
    codecs[CompressionTypes.ZSTD] = () => ({
      compress: (encoder: { buffer: Buffer }) =>
        Promise.resolve(Buffer.from(zstd.compress(encoder.buffer, ZSTD_LEVEL))),
      decompress: (buffer: Buffer) => Promise.resolve(Buffer.from(zstd.decompress(buffer))),
    });
    return ["gzip", "snappy", "zstd"] as Compression[];
  })();
  return registered;
}
