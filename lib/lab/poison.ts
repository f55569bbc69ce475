/**
 * Scenario 5, a poison record: the lake sink runs on the scenario's topics;
 * a buggy release of the order service sends one order whose total is not
 * the sum of its lines (it added a cent of rounding). The record is valid
 * Avro, so the registry and the sink decode it, but it breaks a contract
 * rule: the sink writes it to the dead-letter topic with the reason
 * (`validation`), the error and where it came from in headers, commits past
 * it and goes on: the partition is not blocked. The dead letter is read
 * back, the value repaired by a fix, and replayed into its original topic
 * with its original key; the sink then writes it to bronze like any other.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { OperationsLab } from "./lab.ts";
 * await using lab = await OperationsLab.open(loadConfig());
 * await using s = await lab.poisonRecord();
 * await s.injectFault();
 * await s.waitDeadLettered();
 * console.log(await s.deadLetters());
 * await s.replay((order) => order);
 * console.log(await s.verify());
 * ```
 *
 * @module
 */
import { type DeadLetterInfo, readDeadLetter } from "../kafka/dlq.ts";
import { TopicProducer } from "../kafka/producer.ts";
import { AvroSerde } from "../schema/serde.ts";
import { loadCatalog } from "../schema/catalog.ts";
import type { OrderEvent } from "../shopstream/generator.ts";
import { ShopStreamProducer } from "../shopstream/producer.ts";
import { LakeReader } from "../shopstream/lake_reader.ts";
import { pollUntil } from "../util/probe.ts";
import { readOutputMessages } from "./read.ts";
import { type LabContext, LabScenario } from "./scenario.ts";
import { type BronzeCount, SinkRig } from "./sink_rig.ts";

/** A dead letter as read back: its headers' story and the original value, decoded. */
export interface DeadLetterRow {
  /** Where the dead letter sits in the dead-letter topic. */
  readonly dlqOffset: string;
  /** What its headers say: reason, error, origin topic, partition, offset, group. */
  readonly info: DeadLetterInfo;
  /** The original record's key. */
  readonly key: string;
  /** The original value decoded through the registry (undefined when it does not decode). */
  readonly value?: Record<string, unknown>;
}

/** The independent count at the end of the scenario. */
export interface PoisonVerdict {
  /** Records that belong in bronze: the good ones produced plus the ones replayed. */
  readonly expected: number;
  /** Bronze as read back from MinIO. */
  readonly bronze: BronzeCount;
  /** Dead letters in the dead-letter topic, by reason. */
  readonly deadLetters: Readonly<Record<string, number>>;
  /** Records replayed from the dead-letter topic. */
  readonly replayed: number;
  /** Whether the poisoned order is in bronze now, with the repaired total. */
  readonly repairedInBronze: boolean;
  /** The sink group's lag now. */
  readonly lag: number;
}

/** See the module doc. Start with `lab.poisonRecord()`. */
export class PoisonScenario extends LabScenario {
  /** The producer, the sink and the scenario's watch. */
  rig!: SinkRig;
  #poison?: { key: string; orderId: string; total: number };
  #replayed = 0;
  #repairedTotal?: number;
  readonly #serde: AvroSerde;

  private constructor(lab: LabContext) {
    super(lab, "poison-record");
    this.#serde = new AvroSerde({ url: lab.config.schemaRegistry.url });
  }

  /** Heals the stack, starts the rig, produces 600 good events and waits until they are in bronze. */
  static async start(lab: LabContext): Promise<PoisonScenario> {
    await lab.heal();
    const s = new PoisonScenario(lab);
    try {
      s.rig = await SinkRig.start(s);
      await s.rig.produce(600, 41);
      await s.rig.waitCaughtUp();
      s.mark("600 events in bronze");
    } catch (e) {
      await s.close();
      throw e;
    }
    return s;
  }

  /** The buggy release sends one order whose total is one minor unit above the sum of its lines. */
  async injectFault(): Promise<void> {
    if (this.#poison) throw new Error("the poison record was already sent");
    const { kafka, config } = this.lab;
    const service = new ShopStreamProducer(kafka, config, {
      topics: this.rig.topics,
      events: 0,
      partitions: 3,
      dlqPartitions: 1,
      generator: { seed: 4242, schema: "v2" },
    });
    await service.connect();
    const producer = new TopicProducer(kafka, { topic: this.rig.topics.orders, acks: -1 });
    await producer.connect();
    try {
      let record = service.generator.next();
      while (record.topic !== "orders" || record.kind !== "event") {
        record = service.generator.next();
      }
      const order = record.value as OrderEvent;
      const bad: OrderEvent = {
        ...order,
        total: { ...order.total, amountMinor: order.total.amountMinor + 1 },
      };
      await producer.send([{ key: record.key, value: service.encode({ ...record, value: bad }) }]);
      this.#poison = { key: record.key, orderId: order.orderId, total: bad.total.amountMinor };
    } finally {
      await producer.disconnect();
      await service.disconnect();
    }
    this.mark("poison record sent");
  }

  /** Waits until the sink has dead-lettered the poison and committed past it. */
  async waitDeadLettered(timeoutMs = 60_000): Promise<void> {
    await pollUntil(
      "the poison record in the dead-letter topic",
      async () => {
        if (this.rig.sink.crashed) throw this.rig.sink.crashed;
        return (await this.lab.admin.recordsAppended(this.rig.topics.deadLetter)) > 0 &&
          (await this.rig.lag()) === 0;
      },
      timeoutMs,
      { intervalMs: 500 },
    );
    this.mark("dead-lettered, partition moved on");
  }

  /** Every dead letter of the scenario's dead-letter topic, headers read and value decoded. */
  async deadLetters(): Promise<DeadLetterRow[]> {
    const rows: DeadLetterRow[] = [];
    for (const m of await readOutputMessages(this.lab.kafka, this.rig.topics.deadLetter)) {
      const info = readDeadLetter(m);
      if (!info) continue;
      let value: Record<string, unknown> | undefined;
      try {
        value = await this.#serde.decode(m.value!) as Record<string, unknown>;
      } catch { /* bytes that are not Avro: shown without a value */ }
      rows.push({
        dlqOffset: m.offset,
        info,
        key: m.key?.toString() ?? "",
        value,
      });
    }
    return rows;
  }

  /**
   * The replay: every dead letter with reason `validation` from the orders
   * topic is decoded, repaired by `fix`, encoded under the orders schema and
   * sent back to its original topic with its original key. Returns how many
   * were replayed. A fix that leaves the value broken sends it back to the
   * dead-letter topic: the sink checks it again.
   */
  async replay(fix: (order: OrderEvent) => OrderEvent): Promise<number> {
    const letters = (await this.deadLetters()).filter((d) =>
      d.info.reason === "validation" && d.info.topic === this.rig.topics.orders && d.value
    );
    const schema = (await loadCatalog()).family("order").latest;
    const encode = await this.#serde.encoderFor(this.rig.topics.orders, schema);
    const producer = new TopicProducer(this.lab.kafka, { topic: this.rig.topics.orders, acks: -1 });
    await producer.connect();
    try {
      const fixed = letters.map((d) => ({
        key: d.key,
        order: fix(d.value as unknown as OrderEvent),
      }));
      await producer.send(fixed.map((f) => ({ key: f.key, value: encode(f.order) })));
      for (const f of fixed) {
        if (f.order.orderId === this.#poison?.orderId) {
          this.#repairedTotal = f.order.total.amountMinor;
        }
      }
    } finally {
      await producer.disconnect();
    }
    this.#replayed += letters.length;
    this.mark(`${letters.length} replayed`);
    return letters.length;
  }

  /** Counts bronze back from MinIO and the dead letters by reason. */
  async verify(): Promise<PoisonVerdict> {
    await this.rig.waitCaughtUp();
    const byReason: Record<string, number> = {};
    for (const d of await this.deadLetters()) {
      byReason[d.info.reason] = (byReason[d.info.reason] ?? 0) + 1;
    }
    const orders = await new LakeReader(this.lab.store).rows("bronze", this.rig.topics.orders);
    const repaired = orders.filter((r) =>
      r.order_id === this.#poison?.orderId && r.event_type === "order.placed"
    );
    return {
      expected: this.rig.totals.bronze + this.#replayed,
      bronze: await this.rig.countBronze(),
      deadLetters: byReason,
      replayed: this.#replayed,
      repairedInBronze: repaired.some((r) => Number(r.total_amount_minor) === this.#repairedTotal),
      lag: await this.rig.lag(),
    };
  }
}
