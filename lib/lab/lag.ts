/**
 * Scenario 2, consumer lag growing: a topic of 6 partitions takes a steady
 * stream (600 records/s by default) that one slow member of a consumer
 * group (150 records/s: a dashboard doing a slow lookup per record) cannot
 * keep up with. The lag grows by the difference every second. The fix is to
 * scale the group: each member gets a share of the partitions, up to one
 * member per partition. The stream goes on until 10 s after the group was
 * scaled (at most `maxStreamMs`, 4 minutes), so a measurement taken before
 * scaling always sees it running. An independent count at the end compares the
 * brokers' end offsets, what the producer was told was written and the
 * distinct records the members processed.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { OperationsLab } from "./lab.ts";
 * await using lab = await OperationsLab.open(loadConfig());
 * await using s = await lab.lagGrowing();
 * const first = await s.readLag();
 * await new Promise((r) => setTimeout(r, 5000));
 * console.log(first, await s.readLag());
 * await s.scaleTo(5);
 * await s.waitDrained();
 * console.log(await s.verify());
 * ```
 *
 * @module
 */
import type { EachBatchPayload } from "kafkajs";
import type { PartitionLag } from "../kafka/admin.ts";
import { GroupConsumer } from "../kafka/consumer.ts";
import { TopicProducer } from "../kafka/producer.ts";
import { sleep } from "../util/deadline.ts";
import { pollUntil } from "../util/probe.ts";
import { deleteTopicsIfPresent, type LabContext, LabScenario } from "./scenario.ts";
import { type LabWatch, openWatch } from "./watch.ts";

/** `deno task admin lag <group>` at one moment: when, and one row per partition. */
export interface LagReading {
  /** When it was read, epoch ms. */
  readonly timeMs: number;
  /** Per partition: committed offset, log-end offset (kafkajs gives both as text) and lag. */
  readonly rows: readonly PartitionLag[];
}

/** Options of {@linkcode LagScenario.start}. */
export interface LagOptions {
  /** Records per second the producer sends (default 600). */
  rate?: number;
  /** The stream ends this long after the group was scaled, ms (default 10 000). */
  afterScaleMs?: number;
  /** ... and at the latest this long after it started, ms (default 240 000). */
  maxStreamMs?: number;
  /** Records per second one member can process (default 150). */
  perMember?: number;
}

/** The independent count at the end of the scenario. */
export interface LagVerdict {
  /** Records the producer was told were written. */
  readonly acknowledged: number;
  /** Records in the topic, per the brokers' end offsets. */
  readonly inLog: number;
  /** Distinct records the group's members processed. */
  readonly processed: number;
  /** Records processed more than once (a rebalance re-reads what was not committed). */
  readonly reprocessed: number;
  /** Acknowledged records no member processed. */
  readonly missing: number;
  /** The group's lag now. */
  readonly lag: number;
}

/** See the module doc. Start with `lab.lagGrowing()`. */
export class LagScenario extends LabScenario {
  /** The topic (6 partitions). */
  readonly topic: string;
  /** The consumer group of the slow dashboard. */
  readonly group: string;
  /** Partitions of the topic. */
  readonly partitions = 6;
  /** The metrics endpoint, the monitor and the run's samples. */
  watch!: LabWatch;
  readonly #members: GroupConsumer[] = [];
  readonly #processed = new Map<string, number>();
  #acknowledged = 0;
  #producing?: Promise<void>;
  #scaledAt?: number;
  #stopping = false;
  readonly #options: Required<LagOptions>;

  private constructor(lab: LabContext, options: LagOptions) {
    super(lab, "lag-growing");
    this.topic = this.name("clicks");
    this.group = this.name("dashboard");
    this.#options = {
      rate: 600,
      perMember: 150,
      afterScaleMs: 10_000,
      maxStreamMs: 240_000,
      ...options,
    };
  }

  /** Heals the stack, creates the topic, starts one slow member and the stream. */
  static async start(lab: LabContext, options: LagOptions = {}): Promise<LagScenario> {
    await lab.heal();
    const s = new LagScenario(lab, options);
    try {
      await s.#setUp();
    } catch (e) {
      await s.close();
      throw e;
    }
    return s;
  }

  async #setUp(): Promise<void> {
    const { admin } = this.lab;
    await admin.createTopic(this.topic, { partitions: this.partitions, replicationFactor: 3 });
    await pollUntil(`${this.topic} in sync`, () => admin.inSync(this.topic), 30_000);
    this.defer(`delete ${this.topic}`, () => deleteTopicsIfPresent(admin, [this.topic]));
    this.defer(`delete group ${this.group}`, () => admin.deleteGroups([this.group]));
    this.defer("stop the members", () => this.#stopMembers());
    await this.#addMember();
    await this.#waitMembers(1);
    this.watch = await openWatch(this, {
      group: this.group,
      topics: [this.topic],
      dlqTopic: this.name("no-dlq"),
    });
    const producer = new TopicProducer(this.lab.kafka, { topic: this.topic, acks: -1 });
    await producer.connect();
    this.defer("stop the stream", async () => {
      this.#stopping = true;
      await this.#producing?.catch(() => {});
      await producer.disconnect();
    });
    const { rate, maxStreamMs } = this.#options;
    this.#producing = (async () => {
      const began = Date.now();
      const ends = () => Math.min(began + maxStreamMs, this.#scaledAt ?? Infinity);
      for (let sent = 0; Date.now() < ends() && !this.#stopping;) {
        const due = Math.floor(((Date.now() - began) / 1000) * rate) + 1;
        if (due <= sent) {
          await sleep(20);
          continue;
        }
        const ids = Array.from({ length: due - sent }, (_, i) => `${sent + i}`);
        sent = due;
        await producer.send(ids.map((id) => ({ key: id, value: id })));
        this.#acknowledged += ids.length;
      }
      this.mark("stream ended");
    })();
    this.mark("stream started, one member");
  }

  async #addMember(): Promise<void> {
    const member = new GroupConsumer(this.lab.kafka, {
      groupId: this.group,
      topics: [this.topic],
      fromBeginning: true,
      autoCommitIntervalMs: 1000,
      sessionTimeoutMs: 10_000,
    });
    this.#members.push(member);
    await member.connect();
    const chunk = 10;
    const pause = (chunk * 1000) / this.#options.perMember;
    await member.run({
      autoResolve: false,
      eachBatch: async (p: EachBatchPayload) => {
        for (let i = 0; i < p.batch.messages.length; i += chunk) {
          if (!p.isRunning() || p.isStale()) return;
          const part = p.batch.messages.slice(i, i + chunk);
          await sleep(pause); // the slow part: a lookup per record
          for (const m of part) {
            const id = m.value!.toString();
            this.#processed.set(id, (this.#processed.get(id) ?? 0) + 1);
            p.resolveOffset(m.offset);
          }
          await p.heartbeat();
          await p.commitOffsetsIfNecessary();
        }
      },
    });
  }

  async #stopMembers(): Promise<void> {
    for (const m of this.#members.splice(0)) await m.disconnect().catch(() => {});
  }

  async #waitMembers(n: number): Promise<void> {
    await pollUntil(
      `group ${this.group} stable with ${n} members`,
      async () => {
        const g = await this.lab.admin.describeGroup(this.group);
        return g.state === "Stable" && g.members.length === n &&
          g.members.every((m) => (m.assignment[this.topic] ?? []).length > 0);
      },
      60_000,
      { intervalMs: 300 },
    );
  }

  /** Members in the group now. */
  get members(): number {
    return this.#members.length;
  }

  /** Records the producer was told were written so far. */
  get produced(): number {
    return this.#acknowledged;
  }

  /** `deno task admin lag <group> --topic <topic>` now. */
  async readLag(): Promise<LagReading> {
    const timeMs = Date.now();
    return { timeMs, rows: await this.lab.admin.lag(this.group, this.topic) };
  }

  /**
   * The fix: starts members until the group has `n` (at most one per
   * partition) and waits until the group has rebalanced to all of them.
   */
  async scaleTo(n: number): Promise<void> {
    if (!Number.isInteger(n) || n < 1 || n > this.partitions) {
      throw new RangeError(
        `scaleTo(${n}): a group of this topic can use 1 to ${this.partitions} members ` +
          `(one per partition; more would sit idle)`,
      );
    }
    while (this.#members.length < n) await this.#addMember();
    while (this.#members.length > n) await this.#members.pop()!.disconnect();
    await this.#waitMembers(n);
    this.#scaledAt = Date.now() + this.#options.afterScaleMs;
    this.mark(`scaled to ${n}`);
  }

  /**
   * Waits until the stream has ended and the group's lag is 0 (by default
   * as long as the members need for the lag at their rate, plus a minute).
   */
  async waitDrained(timeoutMs?: number): Promise<void> {
    await this.#producing;
    const lag = (await this.readLag()).rows.reduce((a, r) => a + r.lag, 0);
    timeoutMs ??= 60_000 + (lag / (this.#members.length * this.#options.perMember)) * 1500;
    await pollUntil(
      `group ${this.group} at lag 0`,
      async () => (await this.readLag()).rows.reduce((a, r) => a + r.lag, 0) === 0,
      timeoutMs,
      { intervalMs: 500 },
    );
    this.mark("lag 0");
  }

  /** Counts independently: end offsets from the brokers, processed ids from the members. */
  async verify(): Promise<LagVerdict> {
    await this.#producing;
    const inLog = await this.lab.admin.recordsAppended(this.topic);
    let missing = 0;
    for (let i = 0; i < this.#acknowledged; i++) if (!this.#processed.has(`${i}`)) missing++;
    let reprocessed = 0;
    for (const n of this.#processed.values()) reprocessed += n - 1;
    return {
      acknowledged: this.#acknowledged,
      inLog,
      processed: this.#processed.size,
      reprocessed,
      missing,
      lag: (await this.readLag()).rows.reduce((a, r) => a + r.lag, 0),
    };
  }
}
