/**
 * Decoding a topic that holds several versions of a contract into one reader
 * shape, and classifying what cannot be decoded: every record comes out either
 * `ok` with its value, or with a dead-letter reason and an error text (for
 * `lib/kafka/dlq.ts`). Nothing is dropped silently.
 *
 * - no magic byte / too short / corrupt body / writer not readable as the reader: `deserialization`
 * - a schema id the registry does not know: `unknown-schema`
 * - decoded, but the value breaks a rule of the contract: `validation` (with paths)
 *
 * Registry outages are not a property of the record: they throw, so the
 * consumer retries instead of dead-lettering good data.
 *
 * @example
 * ```ts
 * import { loadCatalog } from "./catalog.ts";
 * import { AvroSerde } from "./serde.ts";
 * import { ContractDecoder } from "./decoder.ts";
 * const order = (await loadCatalog()).family("order").latest;
 * const decoder = new ContractDecoder(new AvroSerde({ url: "http://127.0.0.1:8081" }), order.type);
 * const outcome = await decoder.decode(new TextEncoder().encode("{}"));
 * console.log(outcome.ok ? outcome.value : `${outcome.reason}: ${outcome.error}`);
 * // deserialization: no Confluent magic byte ...
 * ```
 *
 * @module
 */
import type avsc from "avsc";
import type { DeadLetterReason } from "../kafka/dlq.ts";
import type { AvroSerde } from "./serde.ts";
import { wireSchemaId } from "./serde.ts";
import { typeLabel, validate } from "./validate.ts";

/** What {@linkcode ContractDecoder.decode} makes of one record. */
export type DecodeOutcome<T = unknown> =
  | { ok: true; value: T; schemaId: number }
  | { ok: false; reason: DeadLetterReason; error: string; schemaId?: number };

/** A business rule on a decoded value: the paths and problems it finds, empty when fine. */
export type ContractRule<T = unknown> = (value: T) => string[];

/** Options of {@linkcode ContractDecoder}. */
export interface ContractDecoderOptions {
  /**
   * The shape of a decoded value: `reader` (default) resolves every version
   * into the reader schema (fields a version lacks get the reader's
   * defaults); `writer` keeps the writer's own fields (a v1 record has no
   * v2 fields), for stores that must tell "absent" from "default", such as
   * the lake's bronze layer. Either way a record the reader cannot read is
   * a `deserialization` failure, and the rules run on the value returned.
   */
  shape?: "reader" | "writer";
}

/** A writer schema the reader can read, and how. */
interface Resolved {
  resolver: avsc.Resolver;
  writer: avsc.Type;
}

function hex(bytes: Uint8Array): string {
  return [...bytes.subarray(0, 8)].map((b) => b.toString(16).padStart(2, "0")).join(" ");
}

/**
 * Decodes wire-format records into the `reader` type, whatever version wrote them.
 *
 * @example
 * ```ts
 * import avsc from "avsc";
 * import { AvroSerde } from "./serde.ts";
 * import { ContractDecoder } from "./decoder.ts";
 * const reader = avsc.Type.forSchema({ type: "record", name: "R", fields: [] });
 * const decoder = new ContractDecoder(new AvroSerde({ url: "http://127.0.0.1:8081" }), reader, [
 *   (v) => (v ? [] : ["(value): must not be empty"]),
 * ]);
 * ```
 */
export class ContractDecoder<T = unknown> {
  readonly #resolvers = new Map<number, Resolved | Error>();
  /** Reader or writer shape of decoded values (see {@linkcode ContractDecoderOptions}). */
  readonly shape: "reader" | "writer";

  /** A decoder into `reader` through `serde`, running `rules` on every decoded value. */
  constructor(
    readonly serde: AvroSerde,
    readonly reader: avsc.Type,
    readonly rules: readonly ContractRule<T>[] = [],
    options: ContractDecoderOptions = {},
  ) {
    this.shape = options.shape ?? "reader";
  }

  async #resolver(schemaId: number): Promise<Resolved | Error | undefined> {
    const cached = this.#resolvers.get(schemaId);
    if (cached) return cached;
    let writer: avsc.Type;
    try {
      writer = await this.serde.registry.getSchema(schemaId) as unknown as avsc.Type;
    } catch (e) {
      const status = (e as { status?: number }).status;
      if (status === 404) return undefined;
      throw e; // the registry is down or failing: retry, do not dead-letter
    }
    let resolver: Resolved | Error;
    try {
      resolver = { resolver: this.reader.createResolver(writer), writer };
    } catch (e) {
      resolver = new Error(
        `writer schema id ${schemaId} (${typeLabel(writer)}) cannot be read as ` +
          `${typeLabel(this.reader)}: ${(e as Error).message}`,
      );
    }
    this.#resolvers.set(schemaId, resolver);
    return resolver;
  }

  /** Decodes one record's value bytes; throws only when the registry cannot be asked. */
  async decode(bytes: Uint8Array | null): Promise<DecodeOutcome<T>> {
    const known = this.decodeSync(bytes);
    if (known) return known;
    const schemaId = wireSchemaId(bytes)!;
    const resolver = await this.#resolver(schemaId);
    if (resolver === undefined) return this.#unknown(schemaId);
    return this.decodeSync(bytes)!;
  }

  #unknown(schemaId: number): DecodeOutcome<T> {
    return {
      ok: false,
      reason: "unknown-schema",
      schemaId,
      error: `schema id ${schemaId} is not in the registry at ${this.serde.url}: ` +
        "it was registered in another registry, or deleted",
    };
  }

  /**
   * Fetches, for many records at once, the writer schemas this decoder has
   * not fetched yet: one registry request per schema id, all at the same
   * time, instead of one request per record in turn (a batch with a few
   * hundred records of unknown ids otherwise waits for a few hundred round
   * trips). Returns the ids the registry does not know: pass them to
   * {@linkcode decodeSync}, which then classifies those records
   * (`unknown-schema`) without asking again. Throws only when the registry
   * cannot be asked.
   *
   * @example
   * ```ts
   * import type { ContractDecoder } from "./decoder.ts";
   * declare const decoder: ContractDecoder;
   * declare const values: Uint8Array[];
   * const unknown = await decoder.prepare(values);
   * const outcomes = values.map((v) => decoder.decodeSync(v, unknown)!); // none undefined now
   * console.log(outcomes.filter((o) => o.ok).length);
   * ```
   */
  async prepare(values: readonly (Uint8Array | null)[]): Promise<Set<number>> {
    const missing = new Set<number>();
    for (const v of values) {
      const schemaId = wireSchemaId(v);
      if (schemaId !== undefined && !this.#resolvers.has(schemaId)) missing.add(schemaId);
    }
    const ids = [...missing];
    const found = await Promise.all(ids.map((id) => this.#resolver(id)));
    return new Set(ids.filter((_, k) => found[k] === undefined));
  }

  /**
   * Like {@linkcode decode} without a promise, for a record whose writer
   * schema this decoder already fetched; undefined when it has to ask the
   * registry first (then call `decode`). Sinks decode thousands of records a
   * second: this spares them a promise per record. A schema id in `unknown`
   * (from {@linkcode prepare}) gives `unknown-schema` without a request.
   *
   * @example
   * ```ts
   * import type { ContractDecoder } from "./decoder.ts";
   * declare const decoder: ContractDecoder;
   * declare const bytes: Uint8Array;
   * const outcome = decoder.decodeSync(bytes) ?? await decoder.decode(bytes);
   * console.log(outcome.ok);
   * ```
   */
  decodeSync(
    bytes: Uint8Array | null,
    unknown?: ReadonlySet<number>,
  ): DecodeOutcome<T> | undefined {
    const schemaId = wireSchemaId(bytes);
    if (schemaId === undefined) {
      return {
        ok: false,
        reason: "deserialization",
        error: bytes === null
          ? "no value (null): a tombstone is not an event of this contract"
          : `no Confluent magic byte: the value (${bytes.length} bytes, starting ${
            hex(bytes)
          }) was not written by a registry-aware Avro serializer`,
      };
    }
    const body = bytes!.subarray(5);
    const resolver = this.#resolvers.get(schemaId);
    if (resolver === undefined) return unknown?.has(schemaId) ? this.#unknown(schemaId) : undefined;
    if (resolver instanceof Error) {
      return { ok: false, reason: "deserialization", schemaId, error: resolver.message };
    }
    let value: T;
    try {
      value = (this.shape === "writer"
        // deno-lint-ignore no-explicit-any
        ? resolver.writer.fromBuffer(body as any)
        // deno-lint-ignore no-explicit-any
        : this.reader.fromBuffer(body as any, resolver.resolver)) as T;
    } catch (e) {
      return {
        ok: false,
        reason: "deserialization",
        schemaId,
        error: `body does not decode with schema id ${schemaId}: ${(e as Error).message}`,
      };
    }
    let problems: string[] | undefined;
    if (this.shape === "reader") {
      const issues = validate(this.reader, value);
      if (issues.length > 0) problems = issues.map(String);
    }
    for (const rule of this.rules) {
      const broken = rule(value);
      if (broken.length > 0) (problems ??= []).push(...broken);
    }
    if (problems !== undefined) {
      return { ok: false, reason: "validation", schemaId, error: problems.join("; ") };
    }
    return { ok: true, value, schemaId };
  }
}
