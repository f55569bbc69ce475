/**
 * Scenario 1, a broker down: a topic with three replicas per partition
 * takes a steady keyed stream (acks=all, `min.insync.replicas=2`); the lab
 * kills the leader of partition 0 (SIGKILL, a crash). The controller fences
 * it, each partition it led elects a new leader from its ISR, and every ISR
 * shrinks to two: the stream goes on. Restarted, the broker catches up and
 * rejoins every ISR. An independent reader then counts the log against what
 * the producer was told was written.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { OperationsLab } from "./lab.ts";
 * await using lab = await OperationsLab.open(loadConfig());
 * await using s = await lab.brokerDown();
 * await s.injectFault();
 * console.log(await s.isrRows());
 * await s.restartBroker();
 * await s.waitRejoined();
 * console.log(await s.verify());
 * ```
 *
 * @module
 */
import type { PartitionInfo } from "../kafka/admin.ts";
import { TopicProducer } from "../kafka/producer.ts";
import { readOutput } from "../kafka/semantics.ts";
import { pollUntil } from "../util/probe.ts";
import { sleep } from "../util/deadline.ts";
import { deleteTopicsIfPresent, type LabContext, LabScenario, retrying } from "./scenario.ts";
import { type LabWatch, openWatch } from "./watch.ts";

/** One partition before the fault and now. */
export interface IsrRow {
  /** The partition. */
  readonly partition: number;
  /** Its leader before the fault. */
  readonly leaderBefore: number;
  /** Its leader now (-1: none). */
  readonly leaderNow: number;
  /** Its ISR before the fault. */
  readonly isrBefore: readonly number[];
  /** Its ISR now. */
  readonly isrNow: readonly number[];
}

/** The independent count at the end of the scenario. */
export interface StreamVerdict {
  /** Records the producer was told were written. */
  readonly acknowledged: number;
  /** Records whose send failed (the producer knows they may be missing). */
  readonly failed: number;
  /** Records in the log, per the brokers' end offsets. */
  readonly inLog: number;
  /** Records a fresh consumer read back. */
  readonly readBack: number;
  /** Acknowledged records missing from what was read back. */
  readonly lost: number;
  /** Extra copies read back. */
  readonly duplicated: number;
}

/** Options of {@linkcode BrokerDownScenario.start}. */
export interface BrokerDownOptions {
  /** Records per second of the stream (default 250). */
  rate?: number;
}

/** See the module doc. Start with `lab.brokerDown()`. */
export class BrokerDownScenario extends LabScenario {
  /** The topic the stream writes to (3 partitions, RF 3, min ISR 2). */
  readonly topic: string;
  /** The topic's partitions before the fault. */
  before: readonly PartitionInfo[] = [];
  /** The metrics endpoint, the monitor and the run's samples. */
  watch!: LabWatch;
  #victim?: number;
  #down = false;
  readonly #acknowledged: string[] = [];
  #failed = 0;
  #sent = 0;
  #stopping = false;
  #stream?: Promise<void>;

  private constructor(lab: LabContext) {
    super(lab, "broker-down");
    this.topic = this.name("orders");
  }

  /** Heals the stack, creates the topic and starts the stream. */
  static async start(
    lab: LabContext,
    options: BrokerDownOptions = {},
  ): Promise<BrokerDownScenario> {
    await lab.heal();
    const s = new BrokerDownScenario(lab);
    try {
      await s.#setUp(options.rate ?? 250);
    } catch (e) {
      await s.close();
      throw e;
    }
    return s;
  }

  async #setUp(rate: number): Promise<void> {
    const { admin } = this.lab;
    await admin.createTopic(this.topic, {
      partitions: 3,
      replicationFactor: 3,
      configs: { "min.insync.replicas": "2" },
    });
    this.defer(`delete ${this.topic}`, () => deleteTopicsIfPresent(admin, [this.topic]));
    // Runs before the topic is deleted: a killed broker is restarted, whatever happened.
    this.defer("restart the stopped broker", () => this.#restart());
    await pollUntil(`${this.topic} in sync`, () => admin.inSync(this.topic), 30_000);
    this.before = (await retrying(() => admin.describeTopic(this.topic))).partitions;
    this.watch = await openWatch(this, {
      group: this.name("nobody"),
      topics: [this.topic],
      dlqTopic: this.name("no-dlq"),
    });
    const producer = new TopicProducer(this.lab.kafka, {
      topic: this.topic,
      acks: -1,
      retries: 10,
      retryBackoffMs: 200,
    });
    await producer.connect();
    this.defer("stop the stream", () => this.stopStream().then(() => producer.disconnect()));
    const batch = Math.max(1, Math.round(rate / 10));
    this.#stream = (async () => {
      while (!this.#stopping) {
        const began = Date.now();
        const ids = Array.from({ length: batch }, (_, i) => `${this.#sent + i}`);
        this.#sent += ids.length;
        try {
          await producer.send(ids.map((id) => ({ key: id, value: id })));
          this.#acknowledged.push(...ids);
        } catch {
          this.#failed += ids.length;
        }
        await sleep(Math.max(0, 100 - (Date.now() - began)));
      }
    })();
    this.mark("stream started");
  }

  /** Records sent, acknowledged and failed so far. */
  get stream(): { sent: number; acknowledged: number; failed: number } {
    return { sent: this.#sent, acknowledged: this.#acknowledged.length, failed: this.#failed };
  }

  /** The broker the lab killed (for the checks; undefined before the fault). */
  get faultyBroker(): number | undefined {
    return this.#victim;
  }

  /**
   * Kills the leader of partition 0 (SIGKILL) and waits until the controller
   * has fenced it: no partition of the topic has it as leader or in its ISR.
   */
  async injectFault(): Promise<void> {
    if (this.#victim !== undefined) throw new Error("the fault is already injected");
    const { admin, stack } = this.lab;
    const victim = (await retrying(() => admin.describeTopic(this.topic))).partitions[0].leader;
    this.#victim = victim;
    this.#down = true;
    await stack.stopBroker(victim, { kill: true });
    this.mark("a broker crashed");
    await pollUntil(
      "the controller to fence the crashed broker",
      async () =>
        (await admin.describeTopic(this.topic)).partitions.every((p) =>
          p.leader >= 0 && p.leader !== victim && !p.isr.includes(victim)
        ),
      60_000,
      { intervalMs: 500 },
    );
    this.mark("new leaders elected");
  }

  /** Each partition of the topic: leader and ISR before the fault and now. */
  async isrRows(): Promise<IsrRow[]> {
    const now = (await retrying(() => this.lab.admin.describeTopic(this.topic))).partitions;
    return this.before.map((b) => {
      const n = now.find((p) => p.partition === b.partition);
      return {
        partition: b.partition,
        leaderBefore: b.leader,
        leaderNow: n?.leader ?? -1,
        isrBefore: b.isr,
        isrNow: n?.isr ?? [],
      };
    });
  }

  async #restart(): Promise<void> {
    if (!this.#down || this.#victim === undefined) return;
    await this.lab.stack.startBroker(this.#victim);
    this.#down = false;
  }

  /** The fix: starts the crashed broker again (it waits for its listener). */
  async restartBroker(): Promise<void> {
    if (this.#victim === undefined) throw new Error("no broker is down: call injectFault() first");
    await this.#restart();
    this.mark(`broker ${this.#victim} restarted`);
  }

  /** Waits until the restarted broker is back in every ISR of the topic and the internal topics. */
  async waitRejoined(timeoutMs = 120_000): Promise<void> {
    const { admin } = this.lab;
    const topics = [
      this.topic,
      ...(await admin.listTopics(true)).filter((t) => t.startsWith("__")),
    ];
    for (const t of topics) {
      await pollUntil(`${t} with a full ISR`, () => admin.inSync(t), timeoutMs, {
        intervalMs: 500,
      });
    }
    this.mark("every ISR full again");
  }

  /** Stops the stream after the send in flight (waiting for it at most 30 s). */
  async stopStream(): Promise<void> {
    this.#stopping = true;
    await Promise.race([this.#stream, sleep(30_000)]);
  }

  /**
   * Stops the stream, then counts independently: the brokers' end offsets,
   * and a fresh consumer that reads every record back, compared by id with
   * what the producer was told was written.
   */
  async verify(): Promise<StreamVerdict> {
    await this.stopStream();
    const inLog = await this.lab.admin.recordsAppended(this.topic);
    const ids = await readOutput(this.lab.kafka, this.topic, { isolation: "read_uncommitted" });
    const seen = new Set(ids);
    return {
      acknowledged: this.#acknowledged.length,
      failed: this.#failed,
      inLog,
      readBack: ids.length,
      lost: this.#acknowledged.filter((id) => !seen.has(id)).length,
      duplicated: ids.length - seen.size,
    };
  }
}
