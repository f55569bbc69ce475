/**
 * Avro serde in Confluent's wire format, through
 * `@kafkajs/confluent-schema-registry`: byte 0 is the magic byte `0`, bytes
 * 1-4 the schema id (big-endian), the rest the Avro binary body. Values are
 * validated by path before they are encoded; ids are cached per subject and
 * schema, so a producer registers (or looks up) each schema once.
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
import { SchemaRegistry, SchemaType } from "@kafkajs/confluent-schema-registry";
import type { Buffer } from "node:buffer";
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
  if (!bytes || bytes.length < 5 || bytes[0] !== MAGIC_BYTE) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { schemaId: view.getInt32(1, false), body: bytes.subarray(5) };
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
  readonly strategy: SubjectStrategy;
  /** The registry's base URL. */
  readonly url: string;
  readonly #ids = new Map<string, Promise<number>>();

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
    assertValid(schema.type, value);
    const id = await this.schemaId(topic, schema);
    return await this.registry.encode(id, value);
  }

  /** Decodes wire-format bytes with the writer's schema (fetched by id once, then cached). */
  decode(bytes: Buffer): Promise<unknown> {
    return this.registry.decode(bytes);
  }
}
