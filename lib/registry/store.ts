/**
 * The registry's state kept in a compacted Kafka topic (`_schemas`), the way
 * Confluent Schema Registry keeps it:
 *
 * - the topic is created if missing (1 partition, compacted, replication and
 *   `min.insync.replicas` from config) and checked if present;
 * - a reader consumes it from the beginning and applies every record to a
 *   {@linkcode RegistryState}; it uses a throw-away consumer group that never
 *   commits and is deleted on close, and a reader that crashes is replaced
 *   by a new one in a new group;
 * - writes go one at a time ({@linkcode SchemaStore.exclusive}) to partition 0
 *   with acks=-1; the returned metadata must list partition 0 (kafkajs can
 *   resolve a send whose partition was never written: see the facts in
 *   lib/kafka/mod.ts),
 *   otherwise the record is sent again; a write returns once the reader has
 *   applied it (read-your-writes). Re-sent duplicates are harmless: every
 *   record sets a key to a value;
 * - startup, and every mutation, first write a NOOP record and wait until the
 *   reader has applied it, so the state includes everything written before;
 * - every write is bounded (`writeTimeoutMs`, default 10 s, waiting for the
 *   lock included): past it the request fails with Confluent's 50002
 *   "operation timed out" instead of hanging. A send kafkajs still holds
 *   keeps the lock until it settles, so records stay in order, but no
 *   request waits for it longer than its own bound.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { SchemaStore } from "./store.ts";
 * const store = await SchemaStore.open({ config: loadConfig() });
 * console.log(store.state.subjects());
 * await store.close();
 * ```
 *
 * @module
 */
import {
  type Admin,
  ConfigResourceTypes,
  type Consumer,
  Partitioners,
  type Producer,
} from "kafkajs";
import type { Kafka } from "../kafka/upstream.ts";
import type { Config } from "../config.ts";
import { createKafka } from "../kafka/client.ts";
import { RegistryError } from "../schema/registry_errors.ts";
import { encodeKey } from "./records.ts";
import { RegistryState } from "./state.ts";
import { sleep } from "../util/deadline.ts";

/** Options for {@linkcode SchemaStore.open}. */
export interface SchemaStoreOptions {
  /** Brokers, timeouts, replication factor and min.insync.replicas come from here. */
  config: Config;
  /** The state topic; default `config.schemaRegistry.topic` (`_schemas`). */
  topic?: string;
  /** kafkajs client id; default `<config.kafka.clientId>-schema-registry`. */
  clientId?: string;
  /** How long startup may wait for Kafka (topic, reader catch-up); default 60 s. */
  startTimeoutMs?: number;
  /** How long one write may take, waiting for the lock and re-sends included; default 10 s. */
  writeTimeoutMs?: number;
  /** Where warnings go; default `console.error`. */
  log?: (message: string) => void;
  /** A kafkajs client to use instead of `createKafka(config)` (tests inject faults with it). */
  kafka?: Kafka;
}

/**
 * Startup found a topic it must not use (not compacted, or more than one
 * partition); retrying will not help, the message says how to fix it.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { SchemaStore, SchemaTopicError } from "./store.ts";
 * try {
 *   await SchemaStore.open({ config: loadConfig(), topic: "some-delete-policy-topic" });
 * } catch (e) {
 *   if (e instanceof SchemaTopicError) console.error(e.message);
 * }
 * ```
 */
export class SchemaTopicError extends Error {
  /** An error with this message. */
  constructor(message: string) {
    super(message);
    this.name = "SchemaTopicError";
  }
}

interface Waiter {
  offset: number;
  resolve: () => void;
  reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

const message = (e: unknown) => (e as Error)?.message ?? String(e);

/**
 * Registry state backed by the `_schemas` topic. Open with {@linkcode SchemaStore.open}.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { encodeKey } from "./records.ts";
 * import { SchemaStore } from "./store.ts";
 * const store = await SchemaStore.open({ config: loadConfig(), topic: "_schemas_demo" });
 * await store.exclusive(async () => {
 *   await store.sync();
 *   await store.write(encodeKey({ keytype: "CONFIG", subject: null }), '{"compatibilityLevel":"FULL"}');
 * });
 * console.log(store.state.config(null)); // { compatibilityLevel: "FULL" }
 * await store.close();
 * ```
 */
export class SchemaStore {
  /** The state as of the last record the reader applied. */
  readonly state: RegistryState;
  readonly #admin: Admin;
  readonly #producer: Producer;
  readonly #kafka: Kafka;
  /** The reader now; each start makes a new one, in a group of its own. */
  #reader: Consumer | undefined;
  /** Every group a reader of this store joined (deleted on close). */
  readonly #groups: string[] = [];
  readonly #groupId: string;
  readonly #writeTimeoutMs: number;
  readonly #log: (message: string) => void;
  #waiters: Waiter[] = [];
  #lock: Promise<void> = Promise.resolve();
  /** Sends kafkajs has not settled yet, including those whose write timed out. */
  readonly #sending = new Set<Promise<unknown>>();
  #closed = false;

  private constructor(
    readonly topic: string,
    kafka: Kafka,
    groupId: string,
    writeTimeoutMs: number,
    log: (message: string) => void,
  ) {
    this.#groupId = groupId;
    this.#kafka = kafka;
    this.#writeTimeoutMs = writeTimeoutMs;
    this.#log = log;
    this.state = new RegistryState((m) => log(`schema registry: ${m}`));
    this.#admin = kafka.admin();
    this.#producer = kafka.producer({
      allowAutoTopicCreation: false,
      // Every record names partition 0; this only silences kafkajs's partitioner notice.
      createPartitioner: Partitioners.DefaultPartitioner,
      maxInFlightRequests: 1,
      idempotent: false,
    });
  }

  /**
   * Connect, create or check the topic, read it to its end, and return the store.
   * Retries while Kafka is unreachable, up to `startTimeoutMs`.
   */
  static async open(options: SchemaStoreOptions): Promise<SchemaStore> {
    const { config } = options;
    const topic = options.topic ?? config.schemaRegistry.topic;
    const clientId = options.clientId ?? `${config.kafka.clientId}-schema-registry`;
    const log = options.log ?? ((m: string) => console.error(m));
    const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
    const groupId = `${clientId}.${topic}.${crypto.randomUUID().slice(0, 8)}`;
    // A reader that lost its broker is restarted after the error's retry time, which the
    // client's retry settles (up to 30 s by default, seen at 19 s after a broker kill, longer
    // than a write may wait): keep it short.
    const kafka = options.kafka ?? createKafka(config, { clientId, maxRetryTimeMs: 2_000 });
    const store = new SchemaStore(topic, kafka, groupId, options.writeTimeoutMs ?? 10_000, log);
    try {
      await store.#start(config, deadline);
      return store;
    } catch (e) {
      await store.close();
      if (e instanceof SchemaTopicError || e instanceof RegistryError) throw e;
      throw RegistryError.storeError(
        `Could not start the schema store on topic ${topic}: ${message(e)}. ` +
          "Is Kafka up? Start it with `deno task stack up`.",
        { cause: e },
      );
    }
  }

  async #start(config: Config, deadline: number): Promise<void> {
    await this.#retry("connect to Kafka", deadline, () => this.#admin.connect());
    await this.#retry("create or check the topic", deadline, () => this.#ensureTopic(config));
    await this.#retry("connect the producer", deadline, () => this.#producer.connect());
    await this.#retry("start the reader", deadline, () => this.#startReader());
    // Confluent's trick to find the end of the log: write a NOOP, wait to read it.
    await this.#write(encodeKey({ keytype: "NOOP" }), null, deadline);
  }

  /**
   * A new reader in a group of its own: connect, subscribe from the
   * beginning and apply every record of partition 0. When it crashes, it is
   * replaced by a new one (never restarted in its old group): a member that
   * rejoins its group after a broker restart can wait for its own previous
   * incarnation to leave (the session timeout, then the rebalance), and
   * every write waits for the reader. Seen: writes timing out for over a
   * minute after one broker kill. A new group has nobody to wait for; it
   * reads the topic again from the start, and `state.apply` skips what it
   * has.
   */
  async #startReader(): Promise<void> {
    if (this.#closed) return;
    const groupId = `${this.#groupId}.${this.#groups.length + 1}`;
    this.#groups.push(groupId);
    const reader = this.#kafka.consumer({
      groupId,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: 500,
      // One group member: no rebalance to wait for.
      rebalanceTimeout: 10_000,
      sessionTimeout: 10_000,
      retry: { retries: 0, restartOnFailure: () => Promise.resolve(false) },
    });
    reader.on(reader.events.CRASH, (event) => {
      if (this.#reader !== reader || this.#closed) return;
      this.#reader = undefined;
      this.#log(
        `schema registry: reader of ${this.topic} crashed (${message(event.payload.error)}), ` +
          "starting a new one",
      );
      reader.disconnect().catch(() => {});
      this.#retry("start a new reader", Infinity, () => this.#startReader()).catch(() => {});
    });
    try {
      await reader.connect();
      await reader.subscribe({ topics: [this.topic], fromBeginning: true });
      this.#reader = reader;
      await reader.run({
        autoCommit: false,
        eachMessage: ({ partition, message: m }) => {
          if (partition === 0) {
            this.state.apply(m.key ?? null, m.value ?? null, Number(m.offset));
            this.#wake();
          }
          return Promise.resolve();
        },
      });
    } catch (e) {
      if (this.#reader === reader) this.#reader = undefined;
      await reader.disconnect().catch(() => {});
      throw e;
    }
  }

  async #retry<T>(what: string, deadline: number, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1;; attempt++) {
      try {
        return await fn();
      } catch (e) {
        if (e instanceof SchemaTopicError || Date.now() > deadline || this.#closed) throw e;
        this.#log(`schema registry: could not ${what} (${message(e)}), retrying`);
        await sleep(Math.min(2000, 200 * attempt));
      }
    }
  }

  async #ensureTopic(config: Config): Promise<void> {
    const admin = this.#admin;
    if (!(await admin.listTopics()).includes(this.topic)) {
      const brokers = (await admin.describeCluster()).brokers.length;
      const replicationFactor = Math.max(1, Math.min(brokers, config.kafka.replicationFactor));
      if (replicationFactor < config.kafka.replicationFactor) {
        this.#log(
          `schema registry: creating ${this.topic} with replication factor ${replicationFactor} ` +
            `(only ${brokers} brokers are up; config asks for ${config.kafka.replicationFactor})`,
        );
      }
      const minIsr = Math.min(config.kafka.minInsyncReplicas, replicationFactor);
      try {
        await admin.createTopics({
          waitForLeaders: true,
          topics: [{
            topic: this.topic,
            numPartitions: 1,
            replicationFactor,
            configEntries: [
              { name: "cleanup.policy", value: "compact" },
              { name: "min.insync.replicas", value: String(minIsr) },
            ],
          }],
        });
      } catch (e) {
        if ((e as { type?: string }).type !== "TOPIC_ALREADY_EXISTS") throw e;
      }
    }
    const metadata = await admin.fetchTopicMetadata({ topics: [this.topic] });
    const partitions = metadata.topics[0]?.partitions.length ?? 0;
    if (partitions !== 1) {
      throw new SchemaTopicError(
        `The schema topic ${this.topic} should have only 1 partition but has ${partitions}. ` +
          "Delete it (losing its schemas) or point SCHEMA_REGISTRY_TOPIC at another topic.",
      );
    }
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{
        type: ConfigResourceTypes.TOPIC,
        name: this.topic,
        configNames: ["cleanup.policy"],
      }],
    });
    const policy = described.resources[0]?.configEntries.find((c) =>
      c.configName === "cleanup.policy"
    )?.configValue;
    if (policy !== "compact") {
      throw new SchemaTopicError(
        `The retention policy of the schema topic ${this.topic} is incorrect. Expected ` +
          `cleanup.policy to be 'compact' but it is ${policy}. Fix it with ` +
          `kafka-configs --alter --entity-type topics --entity-name ${this.topic} ` +
          "--add-config cleanup.policy=compact",
      );
    }
  }

  #wake(): void {
    const applied = this.state.offset;
    const ready = this.#waiters.filter((w) => w.offset <= applied);
    if (ready.length === 0) return;
    this.#waiters = this.#waiters.filter((w) => w.offset > applied);
    for (const w of ready) {
      clearTimeout(w.timer);
      w.resolve();
    }
  }

  /** Resolves once the reader has applied the record at `offset`. */
  waitForOffset(offset: number, timeoutMs = this.#writeTimeoutMs): Promise<void> {
    if (this.state.offset >= offset) return Promise.resolve();
    if (this.#closed) return Promise.reject(RegistryError.storeError("The schema store is closed"));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        offset,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#waiters = this.#waiters.filter((w) => w !== waiter);
          reject(
            RegistryError.timeout(
              `Timed out after ${timeoutMs} ms waiting for the reader of ${this.topic} to reach ` +
                `offset ${offset} (it is at ${this.state.offset})`,
            ),
          );
        }, timeoutMs),
      };
      this.#waiters.push(waiter);
    });
  }

  /**
   * Run `fn` while no other {@linkcode exclusive} call runs: the one-writer-at-a-time lock.
   * Waiting for it is bounded by the write timeout (then 50002, and `fn` never runs); the
   * lock passes on once `fn` is done and every send it started has settled.
   */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const previous = this.#lock;
    const { promise: released, resolve: release } = Promise.withResolvers<void>();
    this.#lock = previous.then(() => released);
    return (async () => {
      let acquired = false;
      try {
        await this.#within(
          previous,
          Date.now() + this.#writeTimeoutMs,
          `waiting for an earlier write to ${this.topic} to finish`,
        );
        acquired = true;
        return await fn();
      } finally {
        if (acquired) Promise.allSettled([...this.#sending]).then(() => release());
        else release();
      }
    })();
  }

  /** `promise`, or RegistryError.timeout (50002) once `deadline` has passed. */
  async #within<T>(promise: Promise<T>, deadline: number, what: string): Promise<T> {
    const ms = Math.max(0, deadline - Date.now());
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(RegistryError.timeout(`Operation timed out after ${ms} ms ${what}`)),
        ms,
      );
    });
    try {
      return await Promise.race([promise, expired]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Write a NOOP record and wait until it is applied: the state then includes every earlier write. */
  async sync(): Promise<void> {
    await this.write(encodeKey({ keytype: "NOOP" }), null);
  }

  /**
   * Append one record (`value` null = tombstone) to partition 0 with acks=-1,
   * re-sending while kafkajs's metadata lacks partition 0, and wait until the
   * reader has applied it. Returns its offset. Call inside {@linkcode exclusive}.
   */
  write(key: string, value: string | null): Promise<number> {
    return this.#write(key, value, Date.now() + this.#writeTimeoutMs);
  }

  async #write(key: string, value: string | null, deadline: number): Promise<number> {
    for (let attempt = 1;; attempt++) {
      if (this.#closed) throw RegistryError.storeError("The schema store is closed");
      let problem: string;
      try {
        const sending = this.#producer.send({
          topic: this.topic,
          acks: -1,
          messages: [{ partition: 0, key, value }],
        });
        this.#sending.add(sending);
        sending.then(() => this.#sending.delete(sending), () => this.#sending.delete(sending));
        const sent = await this.#within(
          sending,
          deadline,
          `writing to ${this.topic} (the send is still pending; Kafka may be slow or a broker stuck)`,
        );
        const p0 = sent.find((m) =>
          m.topicName === this.topic && m.partition === 0 && (m.errorCode ?? 0) === 0
        );
        const offset = Number(p0?.baseOffset ?? p0?.offset);
        if (p0 && Number.isInteger(offset) && offset >= 0) {
          await this.waitForOffset(offset, Math.max(1000, deadline - Date.now()));
          return offset;
        }
        problem = `the send resolved without partition 0 in its metadata (${
          JSON.stringify(sent)
        }; kafkajs can leave out a partition whose records it never wrote)`;
      } catch (e) {
        if (e instanceof RegistryError) throw e;
        problem = message(e);
      }
      if (Date.now() > deadline) {
        throw RegistryError.storeError(
          `Could not write to the schema topic ${this.topic}: ${problem}`,
        );
      }
      this.#log(`schema registry: write to ${this.topic} failed (${problem}), re-sending`);
      await sleep(Math.min(1000, 100 * attempt));
    }
  }

  /** Stop reading and writing, delete the reader's consumer group, disconnect. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const w of this.#waiters) {
      clearTimeout(w.timer);
      w.reject(RegistryError.storeError("The schema store is closed"));
    }
    this.#waiters = [];
    const quietly = async (what: string, fn: () => Promise<unknown>) => {
      try {
        await fn();
      } catch (e) {
        this.#log(`schema registry: ${what} failed on close (${message(e)})`);
      }
    };
    const reader = this.#reader;
    this.#reader = undefined;
    if (reader) await quietly("consumer disconnect", () => reader.disconnect());
    await quietly("producer disconnect", () => this.#producer.disconnect());
    for (const group of this.#groups) {
      try {
        await this.#admin.deleteGroups([group]);
      } catch {
        // The group may never have been created (startup failed) or is already gone.
      }
    }
    await quietly("admin disconnect", () => this.#admin.disconnect());
  }
}
