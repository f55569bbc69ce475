/**
 * Avro serde in Confluent's wire format: byte 0 is the magic byte `0`, bytes
 * 1-4 the schema id (big-endian), the rest the Avro binary body. Schemas are
 * registered and looked up through `@kafkajs/confluent-schema-registry`;
 * values are validated by path and written by {@linkcode WireWriter} (a
 * synchronous encoder from `encoderFor` costs no promise per record); ids are
 * cached per subject and schema, so a producer registers each schema once.
 *
 * @example
 * ```ts
 * import { loadCatalog } from "./catalog.ts";
 * import { AvroSerde } from "./serde.ts";
 * const serde = new AvroSerde({ url: "http://127.0.0.1:8081" });
 * const order = (await loadCatalog()).family("order").latest;
 * declare const value: unknown;
 * const bytes = await serde.encode("shopstream.orders", order, value); // throws by path if invalid
 * console.log(await serde.decode(bytes));
 * ```
 *
 * @module
 */
import { SchemaType } from "@kafkajs/confluent-schema-registry";
import { SchemaRegistry } from "./upstream.ts";
import type avsc from "avsc";
import { Buffer } from "node:buffer";
import type { LoadedSchema } from "./catalog.ts";
import { avroOptions } from "./logical_types.ts";
import { subjectName, type SubjectStrategy } from "./subjects.ts";
import { assertValid } from "./validate.ts";

/**
 * The first byte of every Confluent-framed record.
 *
 * @example
 * ```ts
 * import { MAGIC_BYTE } from "./serde.ts";
 * console.log(new Uint8Array([0, 0, 0, 0, 1])[0] === MAGIC_BYTE); // true
 * ```
 */
export const MAGIC_BYTE = 0;

/** Options of {@linkcode AvroSerde}. */
export interface AvroSerdeOptions {
  /** The registry's base URL (`config.schemaRegistry.url`). */
  url: string;
  /** How subjects are named; `topic` by default. */
  strategy?: SubjectStrategy;
}

/**
 * Splits Confluent's framing: the schema id and the Avro body, or undefined
 * when the bytes do not start with the magic byte and a 4-byte id.
 *
 * @example
 * ```ts
 * import { parseWireFormat } from "./serde.ts";
 * console.log(parseWireFormat(new Uint8Array([0, 0, 0, 0, 7, 2])));
 * // { schemaId: 7, body: Uint8Array(1) [ 2 ] }
 * console.log(parseWireFormat(new TextEncoder().encode('{"json":1}'))); // undefined
 * ```
 */
export function parseWireFormat(
  bytes: Uint8Array | null | undefined,
): { schemaId: number; body: Uint8Array } | undefined {
  const schemaId = wireSchemaId(bytes);
  return schemaId === undefined ? undefined : { schemaId, body: bytes!.subarray(5) };
}

/**
 * The schema id of Confluent-framed `bytes` (a signed 32-bit big-endian
 * integer after the magic byte), or undefined when they are not framed;
 * {@linkcode parseWireFormat} without allocating, for code that looks at
 * every record.
 *
 * @example
 * ```ts
 * import { wireSchemaId } from "./serde.ts";
 * console.log(wireSchemaId(new Uint8Array([0, 0, 0, 1, 2, 9]))); // 258
 * console.log(wireSchemaId(new Uint8Array([0, 255, 255, 255, 255]))); // -1
 * console.log(wireSchemaId(new Uint8Array([1, 0, 0, 0, 7]))); // undefined
 * ```
 */
export function wireSchemaId(bytes: Uint8Array | null | undefined): number | undefined {
  if (!bytes || bytes.length < 5 || bytes[0] !== MAGIC_BYTE) return undefined;
  return (bytes[1] << 24) | (bytes[2] << 16) | (bytes[3] << 8) | bytes[4];
}

/**
 * Writes values in the wire format into shared slabs: one allocation per
 * slab instead of the two or three per record that `toBuffer` plus framing
 * cost. Each returned buffer is a view of its own bytes (never overwritten);
 * a slab is freed once no view of it is left. The value is not validated.
 *
 * @example
 * ```ts
 * import avsc from "avsc";
 * import { parseWireFormat, WireWriter } from "./serde.ts";
 * const t = avsc.Type.forSchema({ type: "record", name: "P", fields: [{ name: "id", type: "int" }] });
 * const bytes = new WireWriter().write(7, t, { id: 1 });
 * console.log(parseWireFormat(bytes)); // { schemaId: 7, body: ... [ 2 ] }
 * ```
 */
export class WireWriter {
  /** Bytes per slab. */
  readonly slabBytes: number;
  #slab: Buffer;
  #pos = 0;

  /** A writer with slabs of `slabBytes` bytes (at least 64). */
  constructor(slabBytes = 256 * 1024) {
    if (!(Number.isInteger(slabBytes) && slabBytes >= 64)) {
      throw new RangeError(`slabBytes must be an integer >= 64, got ${slabBytes}`);
    }
    this.slabBytes = slabBytes;
    this.#slab = Buffer.allocUnsafe(slabBytes);
  }

  /** `value` framed with `schemaId` and encoded with `type`. */
  write(schemaId: number, type: avsc.Type, value: unknown): Buffer {
    for (;;) {
      const start = this.#pos;
      const slab = this.#slab;
      if (slab.length - start > 5) {
        const end = type.encode(value, slab, start + 5);
        if (end > 0) {
          slab[start] = MAGIC_BYTE;
          slab.writeInt32BE(schemaId, start + 1);
          this.#pos = end;
          return slab.subarray(start, end);
        }
        // avsc returns minus the bytes missing: a fresh slab, big enough, and again.
        if (start === 0) {
          this.#slab = Buffer.allocUnsafe(Math.max(this.slabBytes, slab.length - end + 64));
          continue;
        }
      }
      this.#slab = Buffer.allocUnsafe(this.slabBytes);
      this.#pos = 0;
    }
  }
}

/**
 * Encoder/decoder bound to one registry.
 *
 * @example
 * ```ts
 * import { AvroSerde } from "./serde.ts";
 * const serde = new AvroSerde({ url: "http://127.0.0.1:8081", strategy: "topic-record" });
 * console.log(serde.subjectFor("shopstream.orders", { fullName: "shopstream.order.OrderEvent" }));
 * // shopstream.orders-shopstream.order.OrderEvent
 * ```
 */
export class AvroSerde {
  /** The underlying client (it caches schemas by id). */
  readonly registry: SchemaRegistry;
  /** How subjects are named. */
  readonly strategy: SubjectStrategy;
  /** The registry's base URL. */
  readonly url: string;
  readonly #ids = new Map<string, Promise<number>>();
  readonly #writer = new WireWriter();

  /** A serde for the registry at `options.url`. */
  constructor(options: AvroSerdeOptions) {
    this.strategy = options.strategy ?? "topic";
    this.url = options.url;
    this.registry = new SchemaRegistry({ host: options.url }, {
      [SchemaType.AVRO]: avroOptions(),
    });
  }

  /** The subject `schema` lives under on `topic`, by this serde's strategy. */
  subjectFor(topic: string, schema: Pick<LoadedSchema, "fullName">): string {
    return subjectName(this.strategy, topic, schema.fullName);
  }

  /**
   * The schema id of `schema` on `topic`: registered on first use (a 409 when
   * it breaks the subject's level), then cached.
   */
  schemaId(topic: string, schema: Pick<LoadedSchema, "fullName" | "text">): Promise<number> {
    const subject = this.subjectFor(topic, schema);
    const key = `${subject}\n${schema.text}`;
    let id = this.#ids.get(key);
    if (!id) {
      id = this.registry.register(
        { type: SchemaType.AVRO, schema: schema.text },
        { subject },
      ).then((r) => r.id);
      id.catch(() => this.#ids.delete(key));
      this.#ids.set(key, id);
    }
    return id;
  }

  /**
   * Validates `value` against `schema` (throwing `SchemaValidationError` that
   * names every bad field) and encodes it in the wire format.
   */
  async encode(
    topic: string,
    schema: Pick<LoadedSchema, "fullName" | "text" | "type">,
    value: unknown,
  ): Promise<Buffer> {
    return (await this.encoderFor(topic, schema))(value);
  }

  /**
   * A synchronous encoder for `schema` on `topic` (registered first): it
   * validates each value by path and writes it in the wire format. Producers
   * that encode many records use this instead of awaiting `encode` each time.
   *
   * @example
   * ```ts
   * import { loadCatalog } from "./catalog.ts";
   * import { AvroSerde } from "./serde.ts";
   * const serde = new AvroSerde({ url: "http://127.0.0.1:8081" });
   * const encode = await serde.encoderFor("shopstream.orders", (await loadCatalog()).family("order").latest);
   * declare const values: unknown[];
   * const records = values.map(encode); // throws SchemaValidationError on a bad value
   * ```
   */
  async encoderFor(
    topic: string,
    schema: Pick<LoadedSchema, "fullName" | "text" | "type">,
  ): Promise<(value: unknown) => Buffer> {
    const id = await this.schemaId(topic, schema);
    const writer = this.#writer;
    return (value) => {
      assertValid(schema.type, value);
      return writer.write(id, schema.type, value);
    };
  }

  /** Decodes wire-format bytes with the writer's schema (fetched by id once, then cached). */
  decode(bytes: Buffer): Promise<unknown> {
    return this.registry.decode(bytes);
  }
}
