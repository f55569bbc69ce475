/**
 * CRC-32C (Castagnoli), the checksum of Kafka's record batches (magic 2):
 * the broker recomputes it over every batch it receives and refuses a batch
 * whose checksum does not match. kafkajs computes it one byte at a time;
 * {@linkcode crc32c} reads eight bytes per step ("slice-by-8": eight lookup
 * tables, each folding in one byte of the eight), about four times fewer
 * steps for the same answer.
 *
 * @example
 * ```ts
 * import { crc32c } from "./crc32c.ts";
 * console.log(crc32c(new TextEncoder().encode("123456789")).toString(16)); // e3069283
 * ```
 *
 * @module
 */

/** The reflected CRC-32C polynomial (0x1EDC6F41 bit-reversed). */
const POLY = 0x82f63b78;

/** Eight tables of 256 entries: table k folds a byte that is k bytes further from the end. */
const TABLES = (() => {
  const t = new Int32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    for (let k = 1; k < 8; k++) {
      const prev = t[(k - 1) * 256 + n];
      t[k * 256 + n] = (prev >>> 8) ^ t[prev & 0xff];
    }
  }
  return t;
})();

/**
 * The CRC-32C of `data[start..end)` as an unsigned 32-bit number.
 *
 * @example
 * ```ts
 * import { crc32c } from "./crc32c.ts";
 * const bytes = new TextEncoder().encode("xx123456789");
 * console.log(crc32c(bytes, 2) === 0xe3069283); // true
 * ```
 */
export function crc32c(data: Uint8Array, start = 0, end = data.length): number {
  const t = TABLES;
  let crc = -1;
  let i = start;
  for (const stop = end - 8; i <= stop; i += 8) {
    const lo = crc ^ (data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24));
    const hi = data[i + 4] | (data[i + 5] << 8) | (data[i + 6] << 16) | (data[i + 7] << 24);
    crc = t[1792 + (lo & 0xff)] ^ t[1536 + ((lo >>> 8) & 0xff)] ^
      t[1280 + ((lo >>> 16) & 0xff)] ^ t[1024 + (lo >>> 24)] ^
      t[768 + (hi & 0xff)] ^ t[512 + ((hi >>> 8) & 0xff)] ^
      t[256 + ((hi >>> 16) & 0xff)] ^ t[hi >>> 24];
  }
  for (; i < end; i++) crc = t[(crc ^ data[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
}
