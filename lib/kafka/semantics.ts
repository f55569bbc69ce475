/**
 * The three delivery semantics of a consume-transform-produce step, side by
 * side, each able to crash at a chosen record so the cost of the choice can
 * be counted:
 *
 * - **at-most-once**: commit the input offsets, then produce. A crash in
 *   between loses the records in flight (they count as consumed but their
 *   output was never written).
 * - **at-least-once**: produce, then commit. A crash in between re-reads the
 *   records in flight after the restart: their output is written twice.
 * - **exactly-once**: produce and send the input offsets inside one Kafka
 *   transaction, then commit it. A crash before the commit leaves the
 *   transaction open; the restarted processor (same transactional id) fences
 *   and aborts it, so `read_committed` readers see every output once.
 *
 * The crash is simulated: the processor stops at the crash point without
 * committing anything more, exactly as a killed process would.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { createKafka } from "./client.ts";
 * import { DeliveryProcessor, readOutput } from "./semantics.ts";
 * const kafka = createKafka(loadConfig());
 * const options = { semantics: "at-least-once", input: "in", output: "out", groupId: "g" } as const;
 * const first = await new DeliveryProcessor(kafka, { ...options, crashAfter: 500 }).run();
 * await new DeliveryProcessor(kafka, options).run(); // the restart
 * const values = await readOutput(kafka, "out");
 * console.log(first.inFlight, values.length); // duplicates = first.inFlight
 * ```
 *
 * @module
 */
import { Buffer } from "node:buffer";
import type { TopicOffsets } from "kafkajs";
import type { Consumer, EachBatchPayload, IHeaders, Kafka, Producer } from "./upstream.ts";
import { withDeadline } from "../util/deadline.ts";
import { retryRetriable } from "./errors.ts";
import { type PartitionedMessage, sendByPartition } from "./verified.ts";
import { topicOffsets } from "./topic_offsets.ts";

/** A delivery guarantee. */
export type Semantics = "at-most-once" | "at-least-once" | "exactly-once";

/** The semantics in the order a course presents them. */
export const SEMANTICS: readonly Semantics[] = ["at-most-once", "at-least-once", "exactly-once"];

/** Options for {@linkcode DeliveryProcessor}. */
export interface ProcessorOptions {
  /** The delivery guarantee to demonstrate. */
  semantics: Semantics;
  /** Topic read (from the beginning when the group has no offsets). */
  input: string;
  /** Topic written: input partition p goes to output partition p % output partitions. */
  output: string;
  /** Consumer group of the processor. */
  groupId: string;
  /**
   * Simulate a crash in the batch that brings the records taken to at least
   * this many: at the worst point for the semantics (see the module doc).
   */
  crashAfter?: number;
  /** The output value for an input record (default: the input value unchanged). */
  transform?: (value: Uint8Array | null, key: Uint8Array | null) => string | Uint8Array | null;
  /** Exactly-once only: default `<groupId>.tx`; a restart must reuse it to fence the crashed one. */
  transactionalId?: string;
  /** Give up if not caught up by then (default 60 000 ms). */
  timeoutMs?: number;
}

/** What one {@linkcode DeliveryProcessor.run} did. */
export interface ProcessorResult {
  /** The delivery guarantee demonstrated. */
  semantics: Semantics;
  /** Input records taken from Kafka (including the batch in flight at a crash). */
  consumed: number;
  /** Output records acknowledged (for exactly-once: in committed transactions). */
  produced: number;
  /** Whether the run ended in a simulated crash. */
  crashed: boolean;
  /** Records of the batch being processed when the crash happened (0 without a crash). */
  inFlight: number;
}

/**
 * Thrown inside the processor to simulate a crash; caught by `run()`.
 *
 * @example
 * ```ts
 * import { SimulatedCrash } from "./semantics.ts";
 * console.log(new SimulatedCrash(1500, 1003).message); // simulated crash after 1500 records (1003 in flight)
 * ```
 */
export class SimulatedCrash extends Error {
  /** Records taken before the crash, and those in the batch in flight. */
  constructor(readonly after: number, readonly inFlight: number) {
    super(`simulated crash after ${after} records (${inFlight} in flight)`);
    this.name = "SimulatedCrash";
  }
}

/** One run's shared state: what the batches update and how the run ends. */
interface ProcessorRun {
  readonly result: ProcessorResult;
  /** Partition -> the end offset (as of the start) still to reach. */
  readonly remaining: Map<number, bigint>;
  readonly outPartitions: number;
  readonly producer: Producer;
  /** Resolved when caught up or crashed (simulated); rejected when the consumer dies. */
  readonly done: PromiseWithResolvers<void>;
  crash?: SimulatedCrash;
}

/**
 * One consume-transform-produce step with the chosen semantics. `run()`
 * processes the input until it has caught up with the input's end offsets
 * as of the start (or crashes), then disconnects.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { createKafka } from "./client.ts";
 * import { DeliveryProcessor } from "./semantics.ts";
 * const p = new DeliveryProcessor(createKafka(loadConfig()), {
 *   semantics: "exactly-once",
 *   input: "orders",
 *   output: "orders.enriched",
 *   groupId: "enricher",
 * });
 * console.log(await p.run()); // { consumed, produced, crashed: false, inFlight: 0, ... }
 * ```
 */
export class DeliveryProcessor {
  readonly #kafka: Kafka;
  readonly #o: ProcessorOptions;

  /** A processor over `kafka` with these options; nothing connects before `run()`. */
  constructor(kafka: Kafka, options: ProcessorOptions) {
    if (!["at-most-once", "at-least-once", "exactly-once"].includes(options.semantics)) {
      throw new TypeError(`unknown semantics "${options.semantics}"`);
    }
    this.#kafka = kafka;
    this.#o = options;
  }

  /** Processes until caught up or crashed; never throws {@linkcode SimulatedCrash}. */
  async run(): Promise<ProcessorResult> {
    const o = this.#o;
    const result: ProcessorResult = {
      semantics: o.semantics,
      consumed: 0,
      produced: 0,
      crashed: false,
      inFlight: 0,
    };
    const { outPartitions, remaining } = await this.#plan();
    if (remaining.size === 0) return result;
    const producer = this.#producer();
    const consumer = this.#consumer();
    const run: ProcessorRun = {
      result,
      remaining,
      outPartitions,
      producer,
      done: Promise.withResolvers<void>(),
    };
    this.#watchCrash(consumer, run.done);
    await producer.connect();
    try {
      await consumer.connect();
      await consumer.subscribe({ topic: o.input, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        eachBatch: (payload) => this.#eachBatch(run, payload),
      });
      await this.#untilDone(run);
    } finally {
      await consumer.disconnect();
      // A crashed exactly-once processor leaves its transaction open on purpose.
      await producer.disconnect();
    }
    return result;
  }

  /**
   * The output's partition count, and the input partitions with records left
   * to process: from the group's committed offset (or the log start) to the
   * end offset as of now.
   */
  async #plan(): Promise<{ outPartitions: number; remaining: Map<number, bigint> }> {
    const o = this.#o;
    const admin = this.#kafka.admin();
    await admin.connect();
    try {
      const outPartitions = (await admin.fetchTopicMetadata({ topics: [o.output] })).topics[0]
        .partitions.length;
      const ends = await topicOffsets(this.#kafka, admin, o.input);
      // kafkajs does not retry an offset fetch whose group coordinator just moved (NOT_COORDINATOR,
      // e.g. while leadership settles after a broker restart): ask again a few times.
      const committed = await retryRetriable(() =>
        admin.fetchOffsets({ groupId: o.groupId, topics: [o.input] })
      );
      const at = new Map(committed[0]?.partitions.map((p) => [p.partition, p.offset]) ?? []);
      const remaining = new Map<number, bigint>();
      for (const e of ends) {
        const c = at.get(e.partition);
        const position = c && c !== "-1" ? BigInt(c) : BigInt(e.low);
        if (position < BigInt(e.high)) remaining.set(e.partition, BigInt(e.high));
      }
      return { outPartitions, remaining };
    } finally {
      await admin.disconnect();
    }
  }

  /** Idempotent; transactional (with a stable id) for exactly-once. */
  #producer(): Producer {
    const o = this.#o;
    return this.#kafka.producer(
      o.semantics === "exactly-once"
        ? {
          transactionalId: o.transactionalId ?? `${o.groupId}.tx`,
          idempotent: true,
          maxInFlightRequests: 1,
        }
        : { idempotent: true },
    );
  }

  /** Reads committed records only; commits nothing on its own. */
  #consumer(): Consumer {
    return this.#kafka.consumer({
      groupId: this.#o.groupId,
      readUncommitted: false,
      maxWaitTimeInMs: 200,
      // A thrown SimulatedCrash must stop the consumer at once: no retry, no restart.
      retry: { retries: 0, restartOnFailure: () => Promise.resolve(false) },
    });
  }

  /** Ends the run when the consumer crashes: at our simulated crash, or with its error. */
  #watchCrash(consumer: Consumer, done: PromiseWithResolvers<void>): void {
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      // kafkajs wraps the handler's error (KafkaJSNumberOfRetriesExceeded, cause: ours).
      let e: unknown = payload.error;
      while (e instanceof Error && !(e instanceof SimulatedCrash) && e.cause) e = e.cause;
      if (e instanceof SimulatedCrash) done.resolve();
      else if (!payload.restart) done.reject(payload.error);
    });
  }

  /** Waits for the run to end, at most `timeoutMs`. */
  async #untilDone(run: ProcessorRun): Promise<void> {
    const o = this.#o;
    const timeoutMs = o.timeoutMs ?? 60_000;
    await withDeadline(
      run.done.promise,
      timeoutMs,
      () =>
        `${o.semantics} processor did not catch up with ${o.input} in ${timeoutMs} ms ` +
        `(${run.result.consumed} consumed): check the cluster with deno task health`,
    );
  }

  /**
   * One input batch: transform it, hand it over with the semantics' order of
   * produce and commit (crashing at the worst point when it is the crash
   * batch), then mark it processed.
   */
  async #eachBatch(run: ProcessorRun, payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const { result } = run;
    if (run.crash || batch.isEmpty()) return;
    const n = batch.messages.length;
    const next = String(BigInt(batch.lastOffset()) + 1n);
    const offsets = [{
      topic: batch.topic,
      partitions: [{ partition: batch.partition, offset: next }],
    }];
    result.consumed += n;
    const crashHere = this.#o.crashAfter !== undefined && result.consumed >= this.#o.crashAfter &&
      !result.crashed;
    const crashPoint = () => {
      if (!crashHere) return;
      result.crashed = true;
      result.inFlight = n;
      run.crash = new SimulatedCrash(result.consumed, n);
      throw run.crash;
    };
    await this.#handOver(run, payload, offsets, crashPoint);
    result.produced += n;
    payload.resolveOffset(batch.lastOffset());
    const end = run.remaining.get(batch.partition);
    if (end !== undefined && BigInt(next) >= end) run.remaining.delete(batch.partition);
    if (run.remaining.size === 0) run.done.resolve();
  }

  /**
   * Produces the batch's output and commits its input offsets in the order of
   * the semantics; `crashPoint` (which throws at the crash batch) sits at the
   * worst point for each.
   */
  async #handOver(
    run: ProcessorRun,
    payload: EachBatchPayload,
    offsets: TopicOffsets[],
    crashPoint: () => void,
  ): Promise<void> {
    const o = this.#o;
    const out = this.#toOutput(run, payload);
    if (o.semantics === "at-most-once") {
      await payload.commitOffsetsIfNecessary({ topics: offsets });
      crashPoint(); // committed, never produced: lost
      await sendByPartition(run.producer, { topic: o.output, acks: -1, messages: out });
    } else if (o.semantics === "at-least-once") {
      await sendByPartition(run.producer, { topic: o.output, acks: -1, messages: out });
      crashPoint(); // produced, never committed: re-read after the restart
      await payload.commitOffsetsIfNecessary({ topics: offsets });
    } else {
      const tx = await run.producer.transaction();
      await sendByPartition(tx, { topic: o.output, messages: out });
      await tx.sendOffsets({ consumerGroupId: o.groupId, topics: offsets });
      crashPoint(); // transaction left open: the restart fences and aborts it
      await tx.commit();
    }
  }

  /** The batch's output records: transformed, tagged, input partition p -> p % outputs. */
  #toOutput(run: ProcessorRun, payload: EachBatchPayload): PartitionedMessage[] {
    const transform = this.#o.transform ?? ((value) => value);
    return payload.batch.messages.map((m) => {
      const headers: IHeaders = { ...m.headers, "processed.by": this.#o.semantics };
      const value = transform(m.value, m.key);
      return {
        key: m.key,
        value: value === null || typeof value === "string" ? value : Buffer.from(value),
        headers,
        partition: payload.batch.partition % run.outPartitions,
      };
    });
  }
}

/** Options for {@linkcode readOutput}. */
export interface ReadOutputOptions {
  /** `read_committed` (default) hides aborted transactions; `read_uncommitted` shows them. */
  isolation?: "read_committed" | "read_uncommitted";
  /** Give up if the end markers are not all read by then (default 60 000 ms). */
  timeoutMs?: number;
}

const MARKER_HEADER = "shopstream.end-marker";

/**
 * Reads every value of `topic` with a throwaway group, independently of any
 * processor's bookkeeping. To know where the end is without guessing, it
 * first appends one end marker per partition; everything before a marker is
 * decided (committed or aborted) by the time a `read_committed` reader sees
 * it. Markers are not returned. Returns values in per-partition order.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { createKafka } from "./client.ts";
 * import { readOutput } from "./semantics.ts";
 * const values = await readOutput(createKafka(loadConfig()), "orders.enriched");
 * console.log(values.length, new Set(values).size); // records, distinct records
 * ```
 */
export async function readOutput(
  kafka: Kafka,
  topic: string,
  options: ReadOutputOptions = {},
): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  const groupId = `shopstream.read-output.${crypto.randomUUID()}`;
  try {
    const partitions = (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0].partitions
      .map((p) => p.partitionId);
    const producer = kafka.producer({ idempotent: true });
    await producer.connect();
    try {
      await sendByPartition(producer, {
        topic,
        acks: -1,
        messages: partitions.map((partition) => ({
          partition,
          value: null,
          headers: { [MARKER_HEADER]: "1" },
        })),
      });
    } finally {
      await producer.disconnect();
    }
    const consumer = kafka.consumer({
      groupId,
      readUncommitted: options.isolation === "read_uncommitted",
      maxWaitTimeInMs: 200,
    });
    const byPartition = new Map<number, string[]>(partitions.map((p) => [p, []]));
    const open = new Set(partitions);
    const done = Promise.withResolvers<void>();
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatch: ({ batch }) => {
          const out = byPartition.get(batch.partition)!;
          for (const m of batch.messages) {
            if (m.headers?.[MARKER_HEADER] !== undefined) {
              open.delete(batch.partition);
              continue;
            }
            if (open.has(batch.partition)) out.push(m.value?.toString() ?? "");
          }
          if (open.size === 0) done.resolve();
          return Promise.resolve();
        },
      });
      const timeoutMs = options.timeoutMs ?? 60_000;
      await withDeadline(
        done.promise,
        timeoutMs,
        () => `readOutput: no end marker on ${[...open]} of ${topic} in ${timeoutMs} ms`,
      );
    } finally {
      await consumer.disconnect();
    }
    return partitions.flatMap((p) => byPartition.get(p)!);
  } finally {
    await admin.deleteGroups([groupId]).catch(() => {});
    await admin.disconnect();
  }
}
