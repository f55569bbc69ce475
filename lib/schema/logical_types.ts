/**
 * Avro logical types mapped to JavaScript values, for avsc: `timestamp-millis`
 * (a `long`) reads and writes `Date`, `decimal` (on `bytes`) reads and writes
 * {@linkcode Decimal}, exactly. Pass {@linkcode avroOptions}() to every
 * `avsc.Type.forSchema` call (the loader and the serde do).
 *
 * @example
 * ```ts
 * import avsc from "avsc";
 * import { avroOptions } from "./logical_types.ts";
 * import { Decimal } from "./decimal.ts";
 * const t = avsc.Type.forSchema({
 *   type: "bytes", logicalType: "decimal", precision: 9, scale: 2,
 * }, avroOptions());
 * console.log(t.fromBuffer(t.toBuffer(Decimal.parse("19.99"))).toString()); // "19.99"
 * ```
 *
 * @module
 */
import avsc from "avsc";
import { Buffer } from "node:buffer";
import { Decimal } from "./decimal.ts";
import { LogicalType } from "./upstream.ts";

/**
 * Any avsc type, typed loosely like avsc's `LogicalType`.
 *
 * @internal
 */
// deno-lint-ignore no-explicit-any
type AnyType = any;

/**
 * `{"type": "long", "logicalType": "timestamp-millis"}` as a `Date`.
 *
 * @example
 * ```ts
 * import avsc from "avsc";
 * import { avroOptions } from "./logical_types.ts";
 * const t = avsc.Type.forSchema({ type: "long", logicalType: "timestamp-millis" }, avroOptions());
 * console.log(t.isValid(new Date()), t.isValid("2026-01-01")); // true false
 * ```
 */
export class TimestampMillisType extends LogicalType {
  /** A Date from epoch milliseconds. */
  _fromValue(value: number): Date {
    return new Date(value);
  }

  /** Epoch milliseconds of a valid Date; undefined (invalid) for anything else. */
  _toValue(value: unknown): number | undefined {
    return value instanceof Date && !Number.isNaN(value.getTime()) ? value.getTime() : undefined;
  }

  /** Readable from another timestamp-millis or a plain long/int. */
  _resolve(writer: AnyType): ((v: number) => Date) | undefined {
    // A logical writer has already turned the long into a Date: keep it.
    if (writer instanceof TimestampMillisType) return (v: Date | number) => new Date(v);
    if (writer.typeName === "long" || writer.typeName === "int") {
      return (v: number) => this._fromValue(v);
    }
    return undefined;
  }
}

function toTwosComplement(value: bigint): Buffer {
  if (value === 0n) return Buffer.from([0]);
  const bytes: number[] = [];
  let v = value;
  // Emit bytes until the remaining value is pure sign extension of the last byte.
  while (true) {
    const byte = Number(v & 0xffn);
    bytes.unshift(byte);
    v >>= 8n;
    const signBit = (byte & 0x80) !== 0;
    if ((v === 0n && !signBit) || (v === -1n && signBit)) break;
  }
  return Buffer.from(bytes);
}

function fromTwosComplement(buf: Uint8Array): bigint {
  if (buf.length === 0) return 0n;
  let v = 0n;
  for (const b of buf) v = (v << 8n) | BigInt(b);
  if (buf[0] & 0x80) v -= 1n << BigInt(buf.length * 8);
  return v;
}

/**
 * `{"type": "bytes", "logicalType": "decimal", "precision": p, "scale": s}` as
 * {@linkcode Decimal}. A value with more digits after the point than `scale`,
 * or more than `precision` digits, is invalid (never rounded).
 *
 * @example
 * ```ts
 * import avsc from "avsc";
 * import { avroOptions } from "./logical_types.ts";
 * import { Decimal } from "./decimal.ts";
 * const t = avsc.Type.forSchema(
 *   { type: "bytes", logicalType: "decimal", precision: 4, scale: 2 }, avroOptions());
 * console.log(t.isValid(Decimal.parse("12.34")), t.isValid(Decimal.parse("1.234"))); // true false
 * ```
 */
export class DecimalType extends LogicalType {
  /** Total digits allowed. */
  readonly precision: number;
  /** Digits after the point. */
  readonly scale: number;

  /** Reads `precision` and `scale` from the schema; avsc passes its options along. */
  constructor(schema: { precision?: unknown; scale?: unknown }, opts: unknown) {
    super(schema, opts);
    const precision = Number(schema.precision);
    const scale = schema.scale === undefined ? 0 : Number(schema.scale);
    if (!Number.isInteger(precision) || precision < 1) {
      throw new Error(`decimal needs a positive integer precision, got ${schema.precision}`);
    }
    if (!Number.isInteger(scale) || scale < 0 || scale > precision) {
      throw new Error(`decimal scale must be 0..precision, got ${schema.scale}`);
    }
    this.precision = precision;
    this.scale = scale;
  }

  /** A Decimal from big-endian two's complement bytes. */
  _fromValue(buf: Uint8Array): Decimal {
    return new Decimal(fromTwosComplement(buf), this.scale);
  }

  /** The bytes of a Decimal that fits; undefined (invalid) otherwise. */
  _toValue(value: unknown): Buffer | undefined {
    if (!(value instanceof Decimal)) return undefined;
    let scaled: Decimal;
    try {
      scaled = value.rescale(this.scale);
    } catch {
      return undefined;
    }
    if (scaled.precision() > this.precision) return undefined;
    return toTwosComplement(scaled.unscaled);
  }

  /** Readable from a decimal of the same scale, or plain bytes. */
  _resolve(writer: AnyType): ((b: Uint8Array & Decimal) => Decimal) | undefined {
    // A logical writer has already turned the bytes into a Decimal: keep it.
    if (writer instanceof DecimalType && writer.scale === this.scale) return (d: Decimal) => d;
    if (writer.typeName === "bytes") return (b: Uint8Array) => this._fromValue(b);
    return undefined;
  }

  /** Keeps precision and scale when the type is exported. */
  _export(attrs: Record<string, unknown>): void {
    attrs.precision = this.precision;
    attrs.scale = this.scale;
  }
}

/**
 * Fresh avsc options that switch the logical types on and forbid anonymous
 * named types. A new object each call: avsc keeps its name registry in the
 * options, so sharing one object across schemas makes their names clash.
 *
 * @example
 * ```ts
 * import avsc from "avsc";
 * import { avroOptions } from "./logical_types.ts";
 * const t = avsc.Type.forSchema({ type: "long", logicalType: "timestamp-millis" }, avroOptions());
 * console.log(t.typeName); // "logical:timestamp-millis"
 * ```
 */
export function avroOptions(): Partial<avsc.ForSchemaOptions> {
  return {
    // deno-lint-ignore no-explicit-any
    logicalTypes: { "timestamp-millis": TimestampMillisType as any, decimal: DecimalType as any },
    noAnonymousTypes: true,
  };
}
