/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum Kafka's
 * record batches use. Table-driven, one byte at a time: simple and fast
 * enough for a teaching log.
 *
 * @example
 * ```ts
 * import { crc32c } from "./crc32c.ts";
 * console.log(crc32c(new TextEncoder().encode("123456789")).toString(16)); // e3069283
 * ```
 *
 * @module
 */

const POLY = 0x82f63b78;

const TABLE: Uint32Array = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/**
 * The CRC-32C of `bytes[start, end)` as an unsigned 32-bit number. Pass a
 * previous result as `crc` to continue a checksum over several chunks.
 *
 * @example
 * ```ts
 * import { crc32c } from "./crc32c.ts";
 * const data = new TextEncoder().encode("hello, log");
 * const whole = crc32c(data);
 * const parts = crc32c(data, crc32c(data, 0, 0, 5), 5);
 * console.log(whole === parts); // true
 * ```
 */
export function crc32c(bytes: Uint8Array, crc = 0, start = 0, end = bytes.length): number {
  let c = ~crc >>> 0;
  for (let i = start; i < end; i++) c = TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}
