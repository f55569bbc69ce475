/**
 * A consumer-group member that shows what a group does: which partitions it
 * was given on each rebalance, auto or manual commits, seeking (earliest,
 * latest, a timestamp, an offset), pause/resume, and what happens to a record
 * the handler cannot process: retriable errors are retried with backoff,
 * fatal ones (and retriable ones that outlive their retries) go to the
 * dead-letter topic with the reason and origin in headers, and the consumer
 * goes on.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { createKafka } from "./client.ts";
 * import { GroupConsumer } from "./consumer.ts";
 * const consumer = new GroupConsumer(createKafka(loadConfig()), {
 *   groupId: "orders-audit",
 *   topics: ["orders"],
 *   fromBeginning: true,
 *   onRebalance: (e) => console.log(e.memberId, e.assignment),
 * });
 * await consumer.connect();
 * await consumer.run({ eachMessage: ({ message }) => console.log(String(message.value)) });
 * // ... later
 * await consumer.disconnect();
 * ```
 *
 * @module
 */
import type { Admin, Consumer, EachBatchPayload, EachMessagePayload, Kafka } from "./upstream.ts";
import { topicOffsets } from "./topic_offsets.ts";
import { DeadLetterWriter } from "./dlq.ts";
import { classifyError, deadLetterReason } from "./errors.ts";
import { ClientMetrics, type MetricsSnapshot } from "./metrics.ts";
import { sleep } from "../util/deadline.ts";
import { siblingClient } from "./client.ts";

/** Partitions per topic, e.g. `{ orders: [0, 2] }`. */
export type Assignment = Record<string, number[]>;

/** What one member learned when its group (re)balanced. */
export interface RebalanceEvent {
  /** The group that rebalanced. */
  groupId: string;
  /** This member's id in the group. */
  memberId: string;
  /** Whether this member computed the assignment for the whole group. */
  isLeader: boolean;
  /** This member's partitions after the rebalance. */
  assignment: Assignment;
  /** How long the join took, ms. */
  durationMs: number;
  /** When it happened (ms since the epoch). */
  at: number;
}

/** Where to move a consumer's position. */
export type SeekTarget =
  | "earliest"
  | "latest"
  | { timestamp: number }
  | { offset: string };

/** Dead-letter settings: the topic (it must exist) and how to retry first. */
export interface DeadLetterOptions {
  /** The dead-letter topic. */
  topic: string;
  /** Attempts for a retriable failure before the record is dead-lettered (default 3). */
  retries?: number;
  /** First backoff between attempts, doubled each time (default 100 ms). */
  backoffMs?: number;
}

/** Options for {@linkcode GroupConsumer}. */
export interface GroupConsumerOptions {
  /** The consumer group to join. */
  groupId: string;
  /** Topics to subscribe to. */
  topics: string[];
  /** With no committed offset, start at the beginning (true) or the end (false, default). */
  fromBeginning?: boolean;
  /** Commit processed offsets automatically (default true); false means call `commit()`. */
  autoCommit?: boolean;
  /** How often auto-commit commits, ms (default 5000, like Java's client). */
  autoCommitIntervalMs?: number;
  /** Read only committed transactional records (default true: `read_committed`). */
  readCommitted?: boolean;
  /** The group drops a member that sends no heartbeat for this long (default 10 000 ms). */
  sessionTimeoutMs?: number;
  /** Heartbeat period (default 1000 ms). */
  heartbeatIntervalMs?: number;
  /** Longest a fetch waits for data (default 500 ms). */
  maxWaitMs?: number;
  /**
   * Most bytes one fetch response may carry (default kafkajs's 10 MiB). kafkajs
   * turns a whole response into message objects at once, so this bounds memory.
   */
  maxBytes?: number;
  /** Most bytes per partition in one fetch (default kafkajs's 1 MiB). */
  maxBytesPerPartition?: number;
  /** Called after every rebalance with this member's new partitions. */
  onRebalance?: (event: RebalanceEvent) => void;
  /** Called when the consumer crashed and kafkajs will not restart it. */
  onCrash?: (error: Error) => void;
  /**
   * Called when the handler (or a fetch) threw and kafkajs restarts the
   * consumer: it rejoins and reads again from the last committed offset. A
   * record that throws every time makes this loop forever, invisible unless
   * counted: see {@linkcode GroupConsumer.restarts}.
   */
  onRestart?: (error: Error, restarts: number) => void;
  /** Send poison records to a dead-letter topic instead of stopping. */
  deadLetter?: DeadLetterOptions;
}

/** Per-record handler: kafkajs's payload. */
export type MessageHandler = (payload: EachMessagePayload) => Promise<void> | void;
/** Per-batch handler: kafkajs's payload (the lean path: one call per fetched batch). */
export type BatchHandler = (payload: EachBatchPayload) => Promise<void>;

/** What to run: one handler per record, or one per batch. */
export type RunOptions =
  | { eachMessage: MessageHandler; partitionsConsumedConcurrently?: number }
  | {
    eachBatch: BatchHandler;
    partitionsConsumedConcurrently?: number;
    /**
     * Resolve the batch's last offset when the handler returns (default true).
     * false: the handler calls `resolveOffset` for what it processed, and a
     * batch it leaves unresolved is fetched again (e.g. while it holds too much).
     */
    autoResolve?: boolean;
  };

/** A record given up on and written to the dead-letter topic. */
export interface DeadLettered {
  /** Topic the record was read from. */
  topic: string;
  /** Partition the record was read from. */
  partition: number;
  /** The record's offset. */
  offset: string;
  /** The {@linkcode DeadLetterReason}. */
  reason: string;
  /** The error, as text. */
  error: string;
}

/**
 * A member of a consumer group. Lifecycle: `connect()`, `run(...)`, then
 * `stop()` (leave the fetch loop) and/or `disconnect()` (leave the group,
 * committing what auto-commit resolved).
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { createKafka } from "./client.ts";
 * import { GroupConsumer } from "./consumer.ts";
 * const c = new GroupConsumer(createKafka(loadConfig()), {
 *   groupId: "g",
 *   topics: ["orders"],
 *   autoCommit: false,
 * });
 * await c.connect();
 * await c.run({
 *   eachMessage: async ({ topic, partition, message }) => {
 *     await c.commit([{ topic, partition, offset: message.offset }]);
 *   },
 * });
 * ```
 */
export class GroupConsumer {
  /** The consumer group this member joins. */
  readonly groupId: string;
  /** Topics subscribed to. */
  readonly topics: readonly string[];
  /** Whether processed offsets are committed automatically. */
  readonly autoCommit: boolean;
  /** Every rebalance this member has seen, oldest first. */
  readonly rebalances: RebalanceEvent[] = [];
  /** Records this consumer sent to the dead-letter topic. */
  readonly deadLettered: DeadLettered[] = [];
  /** Restarts kafkajs made after a crash it retries (see `onRestart`), with their errors. */
  readonly restartLog: { at: number; error: string }[] = [];
  #restarts = 0;
  readonly #options: GroupConsumerOptions;
  readonly #kafka: Kafka;
  readonly #consumer: Consumer;
  #admin?: Admin;
  #dlq?: DeadLetterWriter;
  #assignment: Assignment = {};
  #memberId = "";
  #metrics = new ClientMetrics();
  #running = false;

  /** A group member over `kafka`; `connect()` then `run()` starts it. */
  constructor(kafka: Kafka, options: GroupConsumerOptions) {
    if (!options.groupId) throw new TypeError("GroupConsumer: groupId is required");
    if (!options.topics?.length) throw new TypeError("GroupConsumer: give at least one topic");
    this.groupId = options.groupId;
    this.topics = [...options.topics];
    this.autoCommit = options.autoCommit ?? true;
    this.#options = options;
    this.#kafka = kafka;
    // A client of its own: kafkajs shares a group's offset cache among one client's consumers.
    this.#consumer = siblingClient(kafka).consumer({
      groupId: options.groupId,
      readUncommitted: !(options.readCommitted ?? true),
      sessionTimeout: options.sessionTimeoutMs ?? 10_000,
      heartbeatInterval: options.heartbeatIntervalMs ?? 1000,
      maxWaitTimeInMs: options.maxWaitMs ?? 500,
      maxBytes: options.maxBytes,
      maxBytesPerPartition: options.maxBytesPerPartition,
      allowAutoTopicCreation: false,
    });
    const { GROUP_JOIN, CRASH } = this.#consumer.events;
    this.#consumer.on(GROUP_JOIN, ({ payload }) => {
      this.#memberId = payload.memberId;
      this.#assignment = Object.fromEntries(
        Object.entries(payload.memberAssignment).map((
          [t, ps],
        ) => [t, [...ps].sort((a, b) => a - b)]),
      );
      const event: RebalanceEvent = {
        groupId: payload.groupId,
        memberId: payload.memberId,
        isLeader: payload.isLeader,
        assignment: this.#assignment,
        durationMs: payload.duration,
        at: Date.now(),
      };
      this.rebalances.push(event);
      options.onRebalance?.(event);
    });
    this.#consumer.on(CRASH, ({ payload }) => {
      if (!payload.restart) {
        this.#running = false;
        options.onCrash?.(payload.error);
        return;
      }
      this.#restarts++;
      this.restartLog.push({ at: Date.now(), error: payload.error.message });
      if (this.restartLog.length > 20) this.restartLog.shift();
      options.onRestart?.(payload.error, this.#restarts);
    });
  }

  /** This member's partitions as of the last rebalance. */
  get assignment(): Assignment {
    return this.#assignment;
  }

  /** The id the group coordinator gave this member ("" before the first join). */
  get memberId(): string {
    return this.#memberId;
  }

  /** Times kafkajs restarted this consumer after a crash (0 in a healthy run). */
  get restarts(): number {
    return this.#restarts;
  }

  /** Whether `run()` is active. */
  get running(): boolean {
    return this.#running;
  }

  /** The underlying kafkajs consumer, for what this class does not wrap. */
  get raw(): Consumer {
    return this.#consumer;
  }

  /** Connects, subscribes, and (with a dead-letter topic) connects its producer. */
  async connect(): Promise<void> {
    await this.#consumer.connect();
    try {
      await this.#consumer.subscribe({
        topics: [...this.topics],
        fromBeginning: this.#options.fromBeginning ?? false,
      });
      this.#admin = this.#kafka.admin();
      await this.#admin.connect();
      const dlq = this.#options.deadLetter;
      if (dlq) {
        this.#dlq = new DeadLetterWriter(this.#kafka, dlq.topic);
        await this.#dlq.connect();
      }
    } catch (e) {
      await this.disconnect();
      throw e;
    }
    this.#metrics.reset();
  }

  /** Starts fetching; handlers run until `stop()` / `disconnect()`. */
  async run(options: RunOptions): Promise<void> {
    const common = {
      autoCommit: this.autoCommit,
      autoCommitInterval: this.#options.autoCommitIntervalMs ?? 5000,
      partitionsConsumedConcurrently: options.partitionsConsumedConcurrently ?? 1,
    };
    if ("eachMessage" in options) {
      const handler = options.eachMessage;
      await this.#consumer.run({
        ...common,
        eachMessage: async (payload) => {
          const { message } = payload;
          await this.#handle(payload, handler);
          this.#metrics.recordSent(1, (message.key?.length ?? 0) + (message.value?.length ?? 0));
        },
      });
    } else {
      const handler = options.eachBatch;
      await this.#consumer.run({
        ...common,
        eachBatchAutoResolve: options.autoResolve ?? true,
        eachBatch: async (payload) => {
          await handler(payload);
          let bytes = 0;
          for (const m of payload.batch.messages) {
            bytes += (m.key?.length ?? 0) + (m.value?.length ?? 0);
          }
          this.#metrics.recordSent(payload.batch.messages.length, bytes);
        },
      });
    }
    this.#running = true;
  }

  /** Runs `handler`; retries retriable failures, dead-letters the rest (or rethrows without a DLQ). */
  async #handle(payload: EachMessagePayload, handler: MessageHandler): Promise<void> {
    const dlq = this.#options.deadLetter;
    const retries = dlq?.retries ?? 3;
    let backoff = dlq?.backoffMs ?? 100;
    for (let attempt = 1;; attempt++) {
      try {
        await handler(payload);
        return;
      } catch (error) {
        this.#metrics.recordError();
        const retriable = classifyError(error) === "retriable";
        if (retriable && attempt <= retries) {
          await sleep(backoff);
          backoff *= 2;
          continue;
        }
        if (!this.#dlq) throw error;
        const reason = deadLetterReason(error); // retriable ones: "retries-exhausted"
        const { topic, partition, message } = payload;
        await this.#dlq.write(
          { topic, partition, offset: message.offset, message, group: this.groupId },
          reason,
          error,
        );
        this.deadLettered.push({
          topic,
          partition,
          offset: message.offset,
          reason,
          error: error instanceof Error ? error.message : String(error),
        });
        return;
      }
    }
  }

  /**
   * Manual commit: `offset` is the last record processed; the group's
   * committed position becomes `offset + 1`, the next record to read.
   */
  async commit(processed: { topic: string; partition: number; offset: string }[]): Promise<void> {
    await this.#consumer.commitOffsets(
      processed.map((p) => ({
        topic: p.topic,
        partition: p.partition,
        offset: String(BigInt(p.offset) + 1n),
      })),
    );
  }

  /**
   * Moves this member's position on `topic` (default: every subscribed topic)
   * for `partitions` (default: those assigned to it) to `target`. Needs `run()`.
   */
  async seek(target: SeekTarget, topic?: string, partitions?: number[]): Promise<void> {
    if (!this.#admin) throw new Error("GroupConsumer.seek: call connect() and run() first");
    for (const t of topic ? [topic] : this.topics) {
      const targets = partitions ?? this.#assignment[t] ?? [];
      const offsets = await this.#resolve(t, target);
      for (const partition of targets) {
        const offset = offsets.get(partition);
        if (offset === undefined) throw new RangeError(`${t} has no partition ${partition}`);
        this.#consumer.seek({ topic: t, partition, offset });
      }
    }
  }

  async #resolve(topic: string, target: SeekTarget): Promise<Map<number, string>> {
    const admin = this.#admin!;
    if (target === "earliest" || target === "latest") {
      const offsets = await topicOffsets(this.#kafka, admin, topic);
      return new Map(offsets.map((o) => [o.partition, target === "earliest" ? o.low : o.high]));
    }
    if ("timestamp" in target) {
      const offsets = await admin.fetchTopicOffsetsByTimestamp(topic, target.timestamp);
      return new Map(offsets.map((o) => [o.partition, o.offset]));
    }
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    return new Map(meta.topics[0].partitions.map((p) => [p.partitionId, target.offset]));
  }

  /** Stops fetching from `topic` (default: all subscribed), optionally only some partitions. */
  pause(topic?: string, partitions?: number[]): void {
    this.#consumer.pause((topic ? [topic] : this.topics).map((t) => ({ topic: t, partitions })));
  }

  /** Undoes {@linkcode pause}. */
  resume(topic?: string, partitions?: number[]): void {
    this.#consumer.resume((topic ? [topic] : this.topics).map((t) => ({ topic: t, partitions })));
  }

  /** Records and bytes handled, errors, since `connect()`. */
  metrics(): MetricsSnapshot {
    return this.#metrics.snapshot();
  }

  /** Stops the fetch loop but stays connected (handlers in progress finish). */
  async stop(): Promise<void> {
    await this.#consumer.stop();
    this.#running = false;
  }

  /** Leaves the group (auto-commit commits what was processed) and closes everything. */
  async disconnect(): Promise<void> {
    this.#running = false;
    try {
      await this.#consumer.disconnect();
    } finally {
      await this.#dlq?.disconnect();
      await this.#admin?.disconnect();
      this.#dlq = undefined;
      this.#admin = undefined;
    }
  }
}

/** Something that can be shut down gracefully. */
export interface Disconnectable {
  /** Shuts down gracefully. */
  disconnect(): Promise<void>;
}

/**
 * Graceful shutdown: on SIGINT or SIGTERM, disconnects every target (a
 * consumer leaves its group and commits, a producer flushes), then calls
 * `then` (default: exit with status 0). Returns a function that removes the
 * signal handlers (call it after a normal shutdown).
 *
 * @example
 * ```ts
 * import { shutdownOnSignals } from "./consumer.ts";
 * declare const consumer: import("./consumer.ts").GroupConsumer;
 * const release = shutdownOnSignals([consumer]);
 * // ... on a normal end:
 * release();
 * await consumer.disconnect();
 * ```
 */
export function shutdownOnSignals(
  targets: Disconnectable[],
  then: (signal: Deno.Signal) => void = () => Deno.exit(0),
): () => void {
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  let done = false;
  const handler = (signal: Deno.Signal) => async () => {
    if (done) return;
    done = true;
    release();
    for (const t of targets) {
      try {
        await t.disconnect();
      } catch (e) {
        console.error(`shutdown: ${(e as Error).message}`);
      }
    }
    then(signal);
  };
  const installed = signals.map((s) => [s, handler(s)] as const);
  for (const [s, h] of installed) Deno.addSignalListener(s, h);
  function release(): void {
    for (const [s, h] of installed) {
      try {
        Deno.removeSignalListener(s, h);
      } catch { /* already removed */ }
    }
  }
  return release;
}
