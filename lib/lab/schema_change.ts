/**
 * Scenario 4, a producer pushing an incompatible schema: refunds flow on
 * `lab.<run>.refunds` under schema v1 (subject level BACKWARD). A new
 * release of the refunds service adds a required field `reason`; its first
 * send registers the new schema, the registry answers 409 (records written
 * under v1 have no `reason`, so a consumer on the new schema could not read
 * them), and the producer stops before sending anything: the topic is
 * untouched and the new records wait. The fix is an evolution the level
 * accepts; the waiting records are then sent under it, and every record in
 * the topic is read back through the registry.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { OperationsLab } from "./lab.ts";
 * await using lab = await OperationsLab.open(loadConfig());
 * await using s = await lab.schemaRejected();
 * console.log((await s.injectFault()).message);
 * const fixed = { ...s.v1, fields: [...s.v1.fields, { name: "reason", type: ["null", "string"], default: null }] };
 * await s.fix(fixed);
 * console.log(await s.verify());
 * ```
 *
 * @module
 */
import avsc from "avsc";
import { parseAvroSchema } from "../schema/avro.ts";
import { AvroSerde } from "../schema/serde.ts";
import { TopicProducer } from "../kafka/producer.ts";
import { pollUntil } from "../util/probe.ts";
import { readOutputMessages } from "./read.ts";
import { deleteTopicsIfPresent, type LabContext, LabScenario } from "./scenario.ts";

/** A field of an Avro record schema, as JSON. */
export interface AvroFieldSchema {
  /** The field's name. */
  name: string;
  /** Its type: a name (`"string"`), a union (an array), or a nested schema object. */
  type: unknown;
  /** The value a reader uses when the writer's record has no such field. */
  default?: unknown;
  /** What the field means. */
  doc?: string;
}

/** An Avro record schema, as JSON. */
export interface AvroRecordSchema {
  /** Always `record`. */
  type: "record";
  /** The record's name. */
  name: string;
  /** Its namespace. */
  namespace?: string;
  /** What the record means. */
  doc?: string;
  /** Its fields, in order. */
  fields: AvroFieldSchema[];
}

/** The refund event, version 1: what the topic holds before the new release. */
export const REFUND_V1: AvroRecordSchema = {
  type: "record",
  name: "RefundIssued",
  namespace: "shopstream.lab",
  doc: "Money sent back to a customer for (part of) an order.",
  fields: [
    { name: "refundId", type: "string", doc: "The refund's id, also the record key." },
    { name: "orderId", type: "string", doc: "The order refunded." },
    { name: "amountMinor", type: "long", doc: "The amount, in the currency's minor unit." },
    { name: "currency", type: "string", doc: "ISO 4217 code, e.g. EUR." },
  ],
};

/** The new release's schema: v1 plus a required `reason` (no default). */
export const REFUND_V2_REQUIRED: AvroRecordSchema = {
  ...REFUND_V1,
  fields: [...REFUND_V1.fields, {
    name: "reason",
    type: "string",
    doc: "Why the customer sent the goods back.",
  }],
};

/** Why the customers of the new release sent their goods back (cycled through). */
const REASONS = ["arrived damaged", "wrong size", "changed my mind", "late delivery"];

/** What the registry answered the new release. */
export interface Rejection {
  /** The registry's message (HTTP 409 for an incompatible schema). */
  readonly message: string;
  /** Records the release wanted to send and holds instead. */
  readonly held: number;
  /** Records in the topic before and after the attempt (equal: nothing was sent). */
  readonly endBefore: number;
  /** Records in the topic after the attempt. */
  readonly endAfter: number;
}

/** The independent count at the end of the scenario. */
export interface SchemaVerdict {
  /** Records sent under v1 before the release. */
  readonly sentBefore: number;
  /** Records sent under the fix. */
  readonly sentAfter: number;
  /** Records in the topic (brokers' end offsets). */
  readonly inLog: number;
  /** Records a fresh consumer read back and the registry decoded. */
  readonly decoded: number;
  /** Decoded records that carry a reason (the new field). */
  readonly withReason: number;
  /** Versions registered under the subject. */
  readonly versions: number;
}

/**
 * Encodes `value` with `writer` and decodes the bytes with `reader`, as a
 * consumer on `reader` would read a record written under `writer` (Avro's
 * schema resolution: fields the writer lacks take the reader's default).
 * Throws when `reader` cannot read `writer`'s records.
 *
 * @example
 * ```ts
 * import { readAs, REFUND_V1 } from "./schema_change.ts";
 * const v2 = { ...REFUND_V1, fields: [...REFUND_V1.fields, { name: "reason", type: ["null", "string"], default: null }] };
 * console.log(readAs(REFUND_V1, v2, { refundId: "r1", orderId: "o1", amountMinor: 500, currency: "EUR" }).reason); // null
 * ```
 */
export function readAs(
  writer: AvroRecordSchema,
  reader: AvroRecordSchema,
  value: Record<string, unknown>,
): Record<string, unknown> {
  const w = avsc.Type.forSchema(writer as avsc.Schema);
  const r = avsc.Type.forSchema(reader as avsc.Schema);
  const resolver = r.createResolver(w);
  return { ...r.fromBuffer(w.toBuffer(value), resolver) };
}

/** See the module doc. Start with `lab.schemaRejected()`. */
export class SchemaScenario extends LabScenario {
  /** The topic (3 partitions). */
  readonly topic: string;
  /** Its value subject (topic strategy). */
  readonly subject: string;
  /** The schema the topic holds records of. */
  readonly v1: AvroRecordSchema = REFUND_V1;
  /** The schema the new release tried. */
  readonly attempted: AvroRecordSchema = REFUND_V2_REQUIRED;
  readonly #serde: AvroSerde;
  #producer?: TopicProducer;
  #sentBefore = 0;
  #sentAfter = 0;
  #held: Record<string, unknown>[] = [];
  #rejection?: Rejection;

  private constructor(lab: LabContext) {
    super(lab, "schema-rejected");
    this.topic = this.name("refunds");
    this.subject = `${this.topic}-value`;
    this.#serde = new AvroSerde({ url: lab.config.schemaRegistry.url });
  }

  /** Heals the stack, creates the topic, registers v1 and sends 20 refunds under it. */
  static async start(lab: LabContext): Promise<SchemaScenario> {
    await lab.heal();
    const s = new SchemaScenario(lab);
    try {
      await s.#setUp();
    } catch (e) {
      await s.close();
      throw e;
    }
    return s;
  }

  async #setUp(): Promise<void> {
    const { admin, registry } = this.lab;
    await admin.createTopic(this.topic, { partitions: 3, replicationFactor: 3 });
    await pollUntil(`${this.topic} in sync`, () => admin.inSync(this.topic), 30_000);
    this.defer(`delete ${this.topic}`, () => deleteTopicsIfPresent(admin, [this.topic]));
    this.defer(`delete subject ${this.subject}`, () => registry.deleteSubject(this.subject));
    this.#producer = new TopicProducer(this.lab.kafka, { topic: this.topic, acks: -1 });
    await this.#producer.connect();
    this.defer("disconnect the producer", () => this.#producer!.disconnect());
    const encode = await this.#encoder(this.v1);
    await registry.setCompatibility(this.subject, "BACKWARD");
    const refunds = this.#refunds(20, 0).map(({ reason: _, ...v1 }) => v1);
    await this.#producer.send(refunds.map((v) => ({ key: String(v.refundId), value: encode(v) })));
    this.#sentBefore = refunds.length;
    this.mark("20 refunds under v1");
  }

  #refunds(n: number, from: number): Record<string, unknown>[] {
    return Array.from({ length: n }, (_, i) => ({
      refundId: `r-${from + i}`,
      orderId: `o-${1000 + from + i}`,
      amountMinor: 500 + 125 * ((from + i) % 7),
      currency: "EUR",
      reason: REASONS[(from + i) % REASONS.length],
    }));
  }

  #encoder(schema: AvroRecordSchema): Promise<(value: unknown) => Uint8Array> {
    const text = JSON.stringify(schema);
    const { type } = parseAvroSchema(text);
    const fullName = `${schema.namespace ? `${schema.namespace}.` : ""}${schema.name}`;
    return this.#serde.encoderFor(this.topic, { fullName, text, type });
  }

  /**
   * The new release starts: it registers {@linkcode attempted} before its
   * first send; the registry refuses, and the release holds its 20 refunds.
   */
  async injectFault(): Promise<Rejection> {
    const endBefore = await this.lab.admin.recordsAppended(this.topic);
    this.#held = this.#refunds(20, 20);
    let message = "";
    try {
      const encode = await this.#encoder(this.attempted);
      // Not reached while the level holds: the registry refuses the schema first.
      await this.#producer!.send(
        this.#held.map((v) => ({ key: String(v.refundId), value: encode(v) })),
      );
      this.#held = [];
      message = "the registry accepted the schema";
    } catch (e) {
      message = (e as Error).message;
    }
    const endAfter = await this.lab.admin.recordsAppended(this.topic);
    this.#rejection = { message, held: this.#held.length, endBefore, endAfter };
    this.mark("v2 rejected");
    return this.#rejection;
  }

  /** What the registry answered the release (after `injectFault()`). */
  get rejection(): Rejection | undefined {
    return this.#rejection;
  }

  /** Records the release holds. */
  get held(): number {
    return this.#held.length;
  }

  /**
   * The fix: registers `schema` (it must pass the subject's level) and sends
   * the held refunds under it. Throws what the registry says when it refuses.
   */
  async fix(schema: AvroRecordSchema): Promise<void> {
    const encode = await this.#encoder(schema);
    const held = this.#held;
    await this.#producer!.send(held.map((v) => ({ key: String(v.refundId), value: encode(v) })));
    this.#sentAfter += held.length;
    this.#held = [];
    this.mark(`${held.length} held refunds sent under the fix`);
  }

  /** Reads the topic back through the registry and counts. */
  async verify(): Promise<SchemaVerdict> {
    const inLog = await this.lab.admin.recordsAppended(this.topic);
    const messages = await readOutputMessages(this.lab.kafka, this.topic);
    let decoded = 0;
    let withReason = 0;
    for (const m of messages) {
      const v = await this.#serde.decode(m.value!) as Record<string, unknown>;
      decoded++;
      if (typeof v.reason === "string") withReason++;
    }
    return {
      sentBefore: this.#sentBefore,
      sentAfter: this.#sentAfter,
      inLog,
      decoded,
      withReason,
      versions: (await this.lab.registry.history(this.subject)).length,
    };
  }
}
