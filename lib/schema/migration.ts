/**
 * A breaking schema change done the safe way: a new topic. When v2 cannot read
 * v1's data (a field renamed and retyped, say `amount: "19.99"` becoming
 * `amountMinor: 1999`), the registry refuses v2 on the old subject under
 * BACKWARD, and it is right to: every v2 reader would choke on the topic's
 * history. Instead:
 *
 * 1. **v2 gets its own topic** (so its own subject, where v2 is version 1);
 * 2. **producers dual-write**: each event goes to the old topic in v1's shape
 *    (for readers not yet moved) and to the new topic in v2's shape
 *    ({@linkcode DualWriter}); the old topic's end offsets at that moment are
 *    the *cutover*;
 * 3. **the history is backfilled**: the old topic's records before the cutover
 *    are upcast to v2 and copied to the new topic ({@linkcode backfillTopic}),
 *    so the new topic holds every event once;
 * 4. **readers move** to the new topic, one team at a time;
 * 5. **the old topic is retired** once its last reader has moved.
 *
 * The backfilled history lands *after* the first dual-written records: fine
 * when each key's events are independent (one record per payment), otherwise
 * hold the producers during the backfill. Every producer of the old topic must
 * dual-write before the cutover, or its later v1-only records are missing
 * from the new topic.
 *
 * @example
 * ```ts
 * import { inlineSchema, type TopicMigration } from "./migration.ts";
 * type V1 = { id: string; amount: string };
 * type V2 = { id: string; amountMinor: number; currency: string };
 * const migration: TopicMigration<V1, V2> = {
 *   from: { topic: "payments.v1", schema: inlineSchema({ type: "record", name: "Payment", fields: [
 *     { name: "id", type: "string" }, { name: "amount", type: "string" }] }) },
 *   to: { topic: "payments.v2", schema: inlineSchema({ type: "record", name: "Payment", fields: [
 *     { name: "id", type: "string" }, { name: "amountMinor", type: "long" },
 *     { name: "currency", type: "string" }] }) },
 *   upcast: (v1) => ({ id: v1.id, amountMinor: Math.round(Number(v1.amount) * 100), currency: "EUR" }),
 *   downcast: (v2) => ({ id: v2.id, amount: (v2.amountMinor / 100).toFixed(2) }),
 *   key: (v2) => v2.id,
 * };
 * ```
 *
 * @module
 */
import type { Buffer } from "node:buffer";
import avsc from "avsc";
import type { Kafka } from "../kafka/upstream.ts";
import { ClusterAdmin } from "../kafka/admin.ts";
import { GroupConsumer } from "../kafka/consumer.ts";
import { type DeliveryReport, TopicProducer } from "../kafka/producer.ts";
import { withDeadline } from "../util/deadline.ts";
import type { LoadedSchema } from "./catalog.ts";
import { avroOptions } from "./logical_types.ts";
import { type RegistryClient, RegistryHttpError } from "./rest.ts";
import type { AvroSerde } from "./serde.ts";

/** What a migration needs of a schema: its full name, its JSON text and its avsc type. */
export type MigrationSchema = Pick<LoadedSchema, "fullName" | "text" | "type">;

/**
 * A schema written inline (an Avro record as an object) in the shape the
 * serde and {@linkcode DualWriter} take.
 *
 * @example
 * ```ts
 * import { inlineSchema } from "./migration.ts";
 * const s = inlineSchema({ type: "record", name: "Payment", namespace: "demo", fields: [
 *   { name: "id", type: "string" }] });
 * console.log(s.fullName); // demo.Payment
 * ```
 */
export function inlineSchema(schema: Record<string, unknown>): MigrationSchema {
  const type = avsc.Type.forSchema(schema as avsc.Schema, avroOptions());
  const name = String(schema.name ?? "");
  const namespace = schema.namespace === undefined ? "" : String(schema.namespace);
  return {
    fullName: namespace && !name.includes(".") ? `${namespace}.${name}` : name,
    text: JSON.stringify(schema),
    type,
  };
}

/** The old topic and its schema, the new topic and its schema, and the conversions between them. */
export interface TopicMigration<V1, V2> {
  /** The topic being retired and the schema its records have. */
  from: { topic: string; schema: MigrationSchema };
  /** The new topic and the breaking v2 schema. */
  to: { topic: string; schema: MigrationSchema };
  /** v1 to v2: used by the backfill. */
  upcast: (v1: V1) => V2;
  /** v2 to v1: used by dual writes while readers of the old topic remain. */
  downcast: (v2: V2) => V1;
  /** The record key of an event (the same on both topics). */
  key: (v2: V2) => string;
}

/** The registry's answer to a change it refused. */
export interface Refusal {
  /** HTTP status: 409 for an incompatible schema. */
  status: number;
  /** The registry's `error_code` (409 too, for incompatibility). */
  errorCode: number | undefined;
  /** The registry's whole message (it may quote the old schema in full). */
  message: string;
  /** The first reason it names (its `description`), else the message's first sentence. */
  reason: string;
}

/** The first `description:'…'` of a registry message, else the text before its details. */
function firstReason(message: string): string {
  const from = message.indexOf("description:'");
  if (from >= 0) {
    const start = from + "description:'".length;
    const end = message.indexOf("', ", start);
    return message.slice(start, end > start ? end : undefined);
  }
  return message.split(", details")[0];
}

/**
 * Tries to register `schema` under `subject` and returns the registry's
 * refusal. Throws when the registry *accepts* it (the point was to show that
 * the subject's level protects its readers) or refuses for another reason.
 *
 * @example
 * ```ts
 * import { RegistryClient } from "./rest.ts";
 * import { refusedChange } from "./migration.ts";
 * const registry = new RegistryClient("http://127.0.0.1:8081");
 * declare const v2Text: string;
 * const r = await refusedChange(registry, "payments.v1-value", v2Text);
 * console.log(r.status, r.reason); // 409 "The field 'amount' ... has no default value ..."
 * ```
 */
export async function refusedChange(
  registry: RegistryClient,
  subject: string,
  schema: string,
): Promise<Refusal> {
  try {
    const { id } = await registry.register(subject, schema);
    throw new Error(`the registry accepted the change on ${subject} (schema id ${id})`);
  } catch (e) {
    if (e instanceof RegistryHttpError && e.status === 409) {
      return {
        status: e.status,
        errorCode: e.errorCode,
        message: e.detail,
        reason: firstReason(e.detail),
      };
    }
    throw e;
  }
}

/** Offsets per partition: where the old topic ended when dual writes began. */
export type Cutover = Record<number, number>;

/** One event written by {@linkcode DualWriter.write}: where each copy landed. */
export interface DualWrite {
  /** The key both copies carry. */
  key: string;
  /** The v1 copy on the old topic. */
  v1: DeliveryReport;
  /** The v2 copy on the new topic. */
  v2: DeliveryReport;
}

/**
 * Writes each event twice while a migration runs: v2's shape to the new
 * topic, v1's shape (by `downcast`) to the old one, same key.
 * {@linkcode DualWriter.start} registers both schemas and returns the cutover.
 * The two writes are not atomic: an event acknowledged on one topic and not
 * the other makes `write` throw, and the caller retries it (the new topic's
 * readers dedupe by key, or the producer uses a transaction).
 *
 * @example
 * ```ts
 * import type { Kafka } from "../kafka/upstream.ts";
 * import type { AvroSerde } from "./serde.ts";
 * import { DualWriter, type TopicMigration } from "./migration.ts";
 * declare const kafka: Kafka, serde: AvroSerde, migration: TopicMigration<unknown, { id: string }>;
 * const writer = new DualWriter(kafka, serde, migration);
 * const cutover = await writer.start();
 * await writer.write([{ id: "p-1" }]);
 * await writer.stop();
 * ```
 */
export class DualWriter<V1, V2> {
  readonly #kafka: Kafka;
  readonly #serde: AvroSerde;
  readonly #m: TopicMigration<V1, V2>;
  #old?: TopicProducer;
  #new?: TopicProducer;
  #encodeOld?: (value: unknown) => Buffer;
  #encodeNew?: (value: unknown) => Buffer;

  /** A writer for `migration`; `start()` before `write()`. */
  constructor(kafka: Kafka, serde: AvroSerde, migration: TopicMigration<V1, V2>) {
    this.#kafka = kafka;
    this.#serde = serde;
    this.#m = migration;
  }

  /** Registers v1 and v2 on their topics' subjects, connects, and returns the cutover. */
  async start(): Promise<Cutover> {
    this.#encodeOld = await this.#serde.encoderFor(this.#m.from.topic, this.#m.from.schema);
    this.#encodeNew = await this.#serde.encoderFor(this.#m.to.topic, this.#m.to.schema);
    this.#old = new TopicProducer(this.#kafka, { topic: this.#m.from.topic, acks: -1 });
    this.#new = new TopicProducer(this.#kafka, { topic: this.#m.to.topic, acks: -1 });
    await this.#old.connect();
    await this.#new.connect();
    return await endOffsets(this.#kafka, this.#m.from.topic);
  }

  /** Writes each event to both topics (new topic first); resolves once both are acknowledged. */
  async write(events: readonly V2[]): Promise<DualWrite[]> {
    if (!this.#old || !this.#new || !this.#encodeOld || !this.#encodeNew) {
      throw new Error("DualWriter.write(): call start() first");
    }
    const keys = events.map(this.#m.key);
    const encodeNew = this.#encodeNew, encodeOld = this.#encodeOld;
    const v2 = await this.#new.send(events.map((e, i) => ({ key: keys[i], value: encodeNew(e) })));
    const v1 = await this.#old.send(
      events.map((e, i) => ({ key: keys[i], value: encodeOld(this.#m.downcast(e)) })),
    );
    return keys.map((key, i) => ({ key, v1: v1[i], v2: v2[i] }));
  }

  /** Disconnects both producers. */
  async stop(): Promise<void> {
    await this.#old?.disconnect();
    await this.#new?.disconnect();
  }
}

/**
 * The end offset of every partition of `topic` (the next offset to be written).
 *
 * @example
 * ```ts
 * import type { Kafka } from "../kafka/upstream.ts";
 * import { endOffsets } from "./migration.ts";
 * declare const kafka: Kafka;
 * console.log(await endOffsets(kafka, "payments.v1")); // { "0": 40 }
 * ```
 */
export async function endOffsets(kafka: Kafka, topic: string): Promise<Cutover> {
  const admin = new ClusterAdmin(kafka);
  await admin.connect();
  try {
    const offsets = await admin.topicOffsets(topic);
    return Object.fromEntries(offsets.map((o) => [o.partition, Number(o.high)]));
  } finally {
    await admin.disconnect();
  }
}

/** What {@linkcode backfillTopic} did. */
export interface BackfillResult {
  /** Old-topic records read (every offset before the cutover). */
  read: number;
  /** Records written to the new topic in v2's shape. */
  written: number;
}

/**
 * Copies the old topic's history (every record before `cutover`) to the new
 * topic: decodes each with its writer's schema (v1), upcasts it, and writes
 * it in v2's shape with the same key. Reads in a throwaway group, deleted
 * afterwards. Records at or past the cutover are already on the new topic
 * (dual-written) and are left alone.
 *
 * @example
 * ```ts
 * import type { Kafka } from "../kafka/upstream.ts";
 * import type { AvroSerde } from "./serde.ts";
 * import { backfillTopic, type Cutover, type TopicMigration } from "./migration.ts";
 * declare const kafka: Kafka, serde: AvroSerde, migration: TopicMigration<unknown, unknown>;
 * declare const cutover: Cutover;
 * const { read, written } = await backfillTopic(kafka, serde, migration, cutover);
 * ```
 */
export async function backfillTopic<V1, V2>(
  kafka: Kafka,
  serde: AvroSerde,
  migration: TopicMigration<V1, V2>,
  cutover: Cutover,
  timeoutMs = 30_000,
): Promise<BackfillResult> {
  const total = Object.values(cutover).reduce((a, b) => a + b, 0);
  if (total === 0) return { read: 0, written: 0 };
  const encode = await serde.encoderFor(migration.to.topic, migration.to.schema);
  const producer = new TopicProducer(kafka, { topic: migration.to.topic, acks: -1 });
  const group = `${migration.from.topic}.backfill.${crypto.randomUUID().slice(0, 8)}`;
  const consumer = new GroupConsumer(kafka, {
    groupId: group,
    topics: [migration.from.topic],
    fromBeginning: true,
    autoCommit: false,
  });
  const next = new Map<number, number>();
  let read = 0, written = 0;
  const { promise: done, resolve: finish, reject: fail } = Promise.withResolvers<void>();
  await producer.connect();
  await consumer.connect();
  try {
    await consumer.run({
      eachBatch: async ({ batch }) => {
        const until = cutover[batch.partition] ?? 0;
        const out = [];
        for (const m of batch.messages) {
          const offset = Number(m.offset);
          if (offset < (next.get(batch.partition) ?? 0) || offset >= until) continue;
          next.set(batch.partition, offset + 1);
          read++;
          const v1 = await serde.decode(m.value as Buffer) as V1;
          const v2 = migration.upcast(v1);
          out.push({ key: migration.key(v2), value: encode(v2) });
        }
        try {
          if (out.length) written += (await producer.send(out)).length;
        } catch (e) {
          fail(e);
          throw e;
        }
        if (read >= total) finish();
      },
    });
    await withDeadline(done, timeoutMs, () => `backfill read ${read} of ${total} records`);
    return { read, written };
  } finally {
    await consumer.disconnect();
    await producer.disconnect();
    const admin = new ClusterAdmin(kafka);
    await admin.connect();
    await admin.deleteGroups([group]).catch(() => {});
    await admin.disconnect();
  }
}

/** One record read back by {@linkcode readDecoded}. */
export interface DecodedRecord<T> {
  /** The record's key as text. */
  key: string | null;
  /** Partition it was read from. */
  partition: number;
  /** Id of the schema it was written with (bytes 1-4 of its value). */
  schemaId: number;
  /** The value in its writer's shape, as a plain object. */
  value: T;
}

/**
 * Reads `count` records of `topic` from the beginning in a throwaway group
 * (deleted afterwards) and decodes each with its writer's schema: how a new
 * reader of a migrated topic sees it.
 *
 * @example
 * ```ts
 * import type { Kafka } from "../kafka/upstream.ts";
 * import type { AvroSerde } from "./serde.ts";
 * import { readDecoded } from "./migration.ts";
 * declare const kafka: Kafka, serde: AvroSerde;
 * const records = await readDecoded(kafka, serde, "payments.v2", 65);
 * console.log(new Set(records.map((r) => r.schemaId))); // one id: v2's
 * ```
 */
export async function readDecoded<T = Record<string, unknown>>(
  kafka: Kafka,
  serde: AvroSerde,
  topic: string,
  count: number,
  timeoutMs = 30_000,
): Promise<DecodedRecord<T>[]> {
  const group = `${topic}.reader.${crypto.randomUUID().slice(0, 8)}`;
  const consumer = new GroupConsumer(kafka, {
    groupId: group,
    topics: [topic],
    fromBeginning: true,
  });
  const got: DecodedRecord<T>[] = [];
  const { promise: done, resolve: finish } = Promise.withResolvers<void>();
  await consumer.connect();
  try {
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        const bytes = message.value as Buffer;
        const value = { ...(await serde.decode(bytes) as object) } as T;
        got.push({
          key: message.key?.toString() ?? null,
          partition,
          schemaId: bytes.readInt32BE(1),
          value,
        });
        if (got.length >= count) finish();
      },
    });
    await withDeadline(done, timeoutMs, () => `read ${got.length} of ${count} records of ${topic}`);
    return got;
  } finally {
    await consumer.disconnect();
    const admin = new ClusterAdmin(kafka);
    await admin.connect();
    await admin.deleteGroups([group]).catch(() => {});
    await admin.disconnect();
  }
}
