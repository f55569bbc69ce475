/**
 * A speed fix for kafkajs under Deno: its protocol encoder allocates one
 * `Buffer` per varint it writes, and {@linkcode writeVarintsInPlace} makes it
 * write the same bytes into its own buffer instead. `TopicProducer` imports
 * this module, so every producer in the process gets it. The byte-for-byte
 * equivalence is pinned in `tests/bench_clients_test.ts`.
 *
 * @example
 * ```ts
 * import "./varint.ts"; // applied on import
 * ```
 *
 * @module
 */
import KafkaEncoder from "kafkajs/src/protocol/encoder.js";

/** The part of kafkajs's internal protocol encoder that {@linkcode writeVarintsInPlace} touches. */
interface EncoderInternals {
  buf: Uint8Array;
  offset: number;
  ensureAvailable(length: number): void;
  writeUVarInt(value: number): EncoderInternals;
}

/**
 * kafkajs writes every varint of a record (about six per record) through
 * `Buffer.from([...bytes])`, and under Deno's `node:buffer` each of those
 * allocations is costly: a CPU profile of `TopicProducer` showed 38% of the
 * time in Buffer allocation. This writes the same LEB128 bytes straight into
 * the encoder's buffer instead, once, when this module loads; with it our
 * producer went from 65-68k to 87-90k records/s (512 B, acks=all; see
 * BENCHMARKS.md). Left alone (returns false) if a kafkajs version lacks the
 * methods. Applied when this module is first imported; calling it again is
 * harmless.
 *
 * @example
 * ```ts
 * import { writeVarintsInPlace } from "./varint.ts";
 * console.log(writeVarintsInPlace()); // true with the pinned kafkajs 2.2.4
 * ```
 */
export function writeVarintsInPlace(): boolean {
  const proto = (KafkaEncoder as { prototype?: Partial<EncoderInternals> }).prototype;
  if (typeof proto?.writeUVarInt !== "function" || typeof proto.ensureAvailable !== "function") {
    return false;
  }
  proto.writeUVarInt = function (this: EncoderInternals, value: number): EncoderInternals {
    this.ensureAvailable(5); // a 32-bit value takes at most 5 bytes
    let rest = value;
    while ((rest & 0xffffff80) !== 0) {
      this.buf[this.offset++] = (rest & 0x7f) | 0x80;
      rest >>>= 7;
    }
    this.buf[this.offset++] = rest & 0x7f;
    return this;
  };
  return true;
}
writeVarintsInPlace();
