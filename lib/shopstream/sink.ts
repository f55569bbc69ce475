/**
 * The lake sink: a consumer group that reads the four ShopStream event topics,
 * decodes every value through the registry, and writes bronze Parquet objects
 * to MinIO, batched per region.
 *
 * - Decoding: {@linkcode ContractDecoder} (readable by the family's newest
 *   schema, values kept in the writer's shape for bronze) and the rules of
 *   `rules.ts`; no magic byte, an unknown schema id or a broken
 *   rule send the record to the dead-letter topic with reason and origin.
 *   So does a record that decodes but has no place in the lake: no
 *   `envelope.region`, or an event time no key can hold (past the year 9999,
 *   outside JavaScript's Date range): reason `validation`, the problem as
 *   the error text ({@linkcode BronzeRecordError}). Nothing is dropped, and no
 *   record can make the handler throw: a throwing handler makes kafkajs
 *   restart the consumer on the same record forever (restarts are counted
 *   in `consumerRestarts`).
 * - Batching: one {@linkcode RegionBatcher} per topic; a region's buffer is
 *   flushed on record count, bytes or age, and on shutdown. A flush writes one
 *   bronze object per (partition, UTC date, UTC hour) of the buffer.
 * - One decode per record: a record is decoded when it arrives, and its
 *   bronze row goes straight into its group's Arrow columns in the region's
 *   {@linkcode BronzeBuffer}; a flush writes those columns as Parquet
 *   without decoding again, and no decoded event waits in memory.
 * - Offsets: committed by hand after each flush, only up to the smallest
 *   offset still buffered or uploading ({@linkcode OffsetLedger}).
 * - Rebalance: kafkajs rewinds every partition to its committed offset after
 *   a rebalance and has no revocation hook that can hold the rejoin, so the
 *   sink does not flush then: it drops its buffers (their records are read
 *   again) and starts no new upload from the moment the rebalance is
 *   announced. A flush racing the new owner's listing could write rows twice.
 * - Skip rule: after every (re)assignment, the first flush of each
 *   (partition, region, UTC hour) group lists that group's bronze objects
 *   (one prefix, `.../hour=HH/pPPP-`, never the topic's whole folder) and
 *   leaves out the records already written there (`lastOffsets`), so a crash
 *   between upload and commit re-reads but never re-writes a row. The
 *   listing runs in the upload worker, after every upload of the previous
 *   assignment ended, never in the batch handler: a large lake or a frozen
 *   MinIO cannot hold the handler past the group's session timeout.
 * - Outages: a MinIO call that gets no byte for the client's idle bound is
 *   abandoned (see `createObjectStoreClient`). Transient failures (refused,
 *   reset, timed out, busy) are retried with backoff until they succeed,
 *   with `waitingForStore` set and a "waiting for MinIO" log line; while they
 *   fail, buffers fill up to `maxPendingRecords`/`maxPendingBytes` and then
 *   fetching pauses (heartbeats go on), so memory stays bounded. Permanent
 *   ones (403 AccessDenied, NoSuchBucket) crash the sink at once with the
 *   store's error: retrying cannot fix credentials or a missing bucket.
 * - Shutdown: `stop()` is bounded (30 s by default); past its bound nothing
 *   more is committed, so what was not uploaded is read again next time.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { LakeSink } from "./sink.ts";
 * const sink = new LakeSink({ config: loadConfig() });
 * await sink.connect();
 * await sink.run();
 * // ... later: flush every buffer, commit, leave the group
 * await sink.stop();
 * console.log(sink.metrics().records);
 * ```
 *
 * @module
 */
import type { EachBatchPayload, KafkaMessage } from "kafkajs";
import type { Kafka } from "../kafka/upstream.ts";
import type { Config } from "../config.ts";
import { createKafka, isRestartNotice, rawLogsFromEnv } from "../kafka/client.ts";
import { GroupConsumer, type RebalanceEvent } from "../kafka/consumer.ts";
import { type DeadLetterOrigin, type DeadLetterReason, DeadLetterWriter } from "../kafka/dlq.ts";
import { refusedForGood } from "../kafka/errors.ts";
import { LatencyHistogram } from "../kafka/metrics.ts";
import { sleep, withDeadline } from "../util/deadline.ts";
import { type Catalog, FAMILY_TOPICS, type FamilyName, loadCatalog } from "../schema/catalog.ts";
import { ContractDecoder } from "../schema/decoder.ts";
import { AvroSerde } from "../schema/serde.ts";
import { encodeParquet } from "../lake/parquet.ts";
import { bronzeKey, layerPrefix, zeroPad } from "../lake/paths.ts";
import { LakeStore, storeErrorKind } from "../lake/store.ts";
import {
  BronzeBuffer,
  type BronzeGroup,
  bronzeGroupId,
  bronzeGroupOf,
  BronzeLayout,
  BronzeRecordError,
  lastOffsets,
} from "./bronze.ts";
import {
  type BatchPolicy,
  DEFAULT_BATCH_POLICY,
  type FlushReason,
  type RegionBatch,
  RegionBatcher,
} from "./batcher.ts";
import { OffsetLedger } from "./offsets.ts";
import { CONTRACT_RULES } from "./rules.ts";

/** Test hooks: a hook that throws crashes the sink on the spot (nothing more is committed). */
export interface SinkHooks {
  /** After a flush's objects were uploaded, before the offsets below them are committed. */
  afterUpload?: (flush: { topic: string; region: string; keys: string[] }) => void | Promise<void>;
}

/** Options of {@linkcode LakeSink}. */
export interface LakeSinkOptions {
  /** Brokers, registry, lake and default names. */
  config: Config;
  /** The lake (default: `LakeStore.fromConfig(config)`); the bucket must exist. */
  store?: LakeStore;
  /** A kafkajs client; by default one made from `config` with client id `config.clients.sink`. */
  kafka?: Kafka;
  /** The schemas the decoders read with (default `loadCatalog()`: the repository's `schemas/`). */
  catalog?: Catalog;
  /** Consumer group (default `config.clients.sinkGroup`). */
  groupId?: string;
  /** Topic of each family to read (default: all four from `config.topics`). */
  topics?: Partial<Record<FamilyName, string>>;
  /** Dead-letter topic (default `config.topics.deadLetter`); it must exist. */
  deadLetterTopic?: string;
  /** Per-region flush policy (default {@linkcode DEFAULT_BATCH_POLICY}). */
  policy?: BatchPolicy;
  /** Pause fetching while this many records are buffered or uploading (default 60 000). */
  maxPendingRecords?: number;
  /** Pause fetching while this many value bytes are buffered or uploading (default 32 MiB). */
  maxPendingBytes?: number;
  /** Upload retry backoff: first and largest wait, ms (default 200 and 5000). */
  retryBackoffMs?: { initial: number; max: number };
  /** Read from the beginning when the group has no committed offset (default true). */
  fromBeginning?: boolean;
  /** How often buffer ages are checked, ms (default 250). */
  tickMs?: number;
  /** Hooks around uploads; one that throws crashes the sink (for fault tests). */
  hooks?: SinkHooks;
  /** Called after every finished flush (e.g. to observe a Prometheus histogram). */
  onFlush?: (flush: FlushInfo) => void;
  /** Called when the sink crashed (a hook threw, or the consumer died). */
  onCrash?: (error: Error) => void;
}

/** One finished flush of a region buffer. */
export interface FlushInfo {
  /** Topic of the buffer. */
  topic: string;
  /** Region of the buffer. */
  region: string;
  /** What triggered the flush. */
  reason: FlushReason;
  /** Records flushed. */
  records: number;
  /** Bronze objects written: one per (partition, date, hour) in the buffer. */
  objects: number;
  /** From the first upload attempt to the last object written, retries included. */
  seconds: number;
}

/** What the sink did since `connect()`; names follow the contract's `shopstream_sink_*` metrics. */
export interface SinkMetrics {
  /** Records written to bronze, by topic and region (`shopstream_sink_records_total`). */
  records: Record<string, Record<string, number>>;
  /** Records sent to the dead-letter topic, by topic and reason (`shopstream_sink_dead_letters_total`). */
  deadLetters: Record<string, Record<string, number>>;
  /** Flushes finished, by topic and region (`shopstream_sink_flushes_total`). */
  flushes: Record<string, Record<string, number>>;
  /** Failed upload attempts (each retried), by topic (`shopstream_sink_flush_failures_total`). */
  flushFailures: Record<string, number>;
  /** Flush latency in ms (first upload attempt to last object written), by topic (`shopstream_sink_flush_seconds`). */
  flushLatencyMs: Record<string, LatencyHistogram>;
  /** Records buffered or uploading now, by topic (`shopstream_sink_buffered_records`). */
  buffered: Record<string, number>;
  /** Records skipped because an earlier run already wrote them, by topic. */
  skipped: Record<string, number>;
  /** Bronze objects written. */
  objects: number;
  /** Whether fetching is paused because buffers are full. */
  paused: boolean;
  /** Rebalances (assignments) seen. */
  rebalances: number;
  /** Times kafkajs restarted the consumer after its handler or a fetch threw (0 when healthy). */
  consumerRestarts: number;
  /** The latest restarts (up to 20): when, and the error. */
  restartLog: { at: number; error: string }[];
  /** Whether a call to the object store is failing and being retried right now. */
  waitingForStore: boolean;
  /** Outages seen: times the sink started waiting for the object store. */
  storeWaits: number;
  /** Whether uploads wait for a rebalance to end (from kafkajs's REBALANCING to the new assignment). */
  uploadsHeld: boolean;
  /** Recovery listings made (one per partition, region and hour met after an assignment). */
  listings: number;
  /** Per topic and partition: the next offset to read (last record handled + 1, any epoch). */
  read: Record<string, Record<string, number>>;
}

/** {@linkcode SinkMetrics} summed over topics and regions. */
export interface SinkTotals {
  /** Records written to bronze. */
  records: number;
  /** Records sent to the dead-letter topic. */
  deadLetters: number;
  /** Flushes finished. */
  flushes: number;
  /** Failed upload attempts. */
  flushFailures: number;
  /** Records buffered or uploading now. */
  buffered: number;
  /** Records skipped because an earlier run already wrote them. */
  skipped: number;
  /** Bronze objects written. */
  objects: number;
}

/**
 * Sums a metrics snapshot over its labels (for summaries and checks).
 *
 * @example
 * ```ts
 * import type { SinkMetrics } from "./sink.ts";
 * import { sinkTotals } from "./sink.ts";
 * declare const m: SinkMetrics;
 * console.log(sinkTotals(m).records);
 * ```
 */
export function sinkTotals(m: SinkMetrics): SinkTotals {
  const flat = (x: Record<string, number>) => Object.values(x).reduce((a, b) => a + b, 0);
  const deep = (x: Record<string, Record<string, number>>) =>
    Object.values(x).reduce((a, b) => a + flat(b), 0);
  return {
    records: deep(m.records),
    deadLetters: deep(m.deadLetters),
    flushes: deep(m.flushes),
    flushFailures: flat(m.flushFailures),
    buffered: flat(m.buffered),
    skipped: flat(m.skipped),
    objects: m.objects,
  };
}

/**
 * The sink's error when it crashed on purpose (a test hook) or cannot go on.
 *
 * @example
 * ```ts
 * import { SinkCrashedError } from "./sink.ts";
 * console.log(new SinkCrashedError("boom").name); // SinkCrashedError
 * ```
 */
export class SinkCrashedError extends Error {
  /** An error with this message and an optional `cause`. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "SinkCrashedError";
  }
}

interface TopicState {
  readonly topic: string;
  readonly family: FamilyName;
  readonly decoder: ContractDecoder<Record<string, unknown>>;
  readonly layout: BronzeLayout;
  /**
   * Counts each region's records, bytes and age against the policy (a
   * record is its offset there); the rows themselves are in `rows`.
   */
  readonly batcher: RegionBatcher<number>;
  /**
   * Each region's rows, decoded once on arrival and kept as Arrow columns
   * ({@linkcode BronzeBuffer}): no decoded event or copy of the value waits
   * for a flush, and a flush does not decode again.
   */
  readonly rows: Map<string, BronzeBuffer>;
  readonly ledger: OffsetLedger;
  /** The ledger holder id of each region's open buffer. */
  readonly holders: Map<string, number>;
  /** The skip rule: largest offset written per bronze group id, for the groups listed. */
  written: Map<string, bigint>;
  /** Bronze groups listed since the last assignment. */
  listed: Set<string>;
  assigned: number[];
}

/** One record of a batch once classified: dead-lettered (no group), or its row to hold. */
interface Entry {
  readonly offset: bigint;
  readonly group?: BronzeGroup;
  readonly cells?: unknown[];
  readonly bytes?: number;
}

interface FlushJob {
  readonly state: TopicState;
  readonly region: string;
  readonly rows: BronzeBuffer;
  /** Records in `rows`. */
  readonly records: number;
  readonly bytes: number;
  readonly reason: FlushReason;
  readonly holder: number;
  readonly epoch: number;
}

const PARQUET_CONTENT_TYPE = "application/vnd.apache.parquet";
/**
 * Bytes one fetch response may carry (kafkajs default 10 MiB; see `LakeSink.connect`):
 * 1 MiB took the sink's peak RSS from ~253 to ~235 MB at the same records/s as 2 MiB.
 */
const FETCH_MAX_BYTES = 1024 * 1024;

function inc<K extends string>(map: Partial<Record<K, number>>, key: K, n = 1): void {
  map[key] = (map[key] ?? 0) + n;
}

function nested(map: Record<string, Record<string, number>>, a: string): Record<string, number> {
  return (map[a] ??= {});
}

/**
 * Pauses or resumes fetching. kafkajs throws while it restarts the consumer
 * ("Consumer group was not initialized"); the restarted consumer fetches
 * anew, and a stop that cannot pause leaves the batches unresolved anyway.
 */
function fetching(consumer: GroupConsumer, what: "pause" | "resume"): void {
  try {
    consumer[what]();
  } catch { /* restarting: see above */ }
}

/**
 * connect → run → stop. See the module doc for what it guarantees.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { LakeSink } from "./sink.ts";
 * const sink = new LakeSink({ config: loadConfig() });
 * await sink.connect();
 * await sink.run();
 * setTimeout(() => sink.stop(), 10_000);
 * ```
 */
export class LakeSink {
  /** The consumer group. */
  readonly groupId: string;
  /** The per-region flush policy. */
  readonly policy: BatchPolicy;
  readonly #options: LakeSinkOptions;
  readonly #kafka: Kafka;
  readonly #states = new Map<string, TopicState>();
  readonly #store: LakeStore;
  readonly #maxPendingRecords: number;
  readonly #maxPendingBytes: number;
  #consumer?: GroupConsumer;
  #dlq?: DeadLetterWriter;
  #queue: FlushJob[] = [];
  #worker?: Promise<void>;
  /** Whether a batch was handled since the last assignment (its ledger has something). */
  #handled = false;
  #epoch = 0;
  #nextHolder = 1;
  #holdUploads = false;
  #paused = false;
  #stopping = false;
  #crashed?: Error;
  #inBatch = 0;
  #running = false;
  #closing?: Promise<void>;
  #commits: Promise<void> = Promise.resolve();
  #timer?: ReturnType<typeof setInterval>;
  #ticking = false;
  readonly #metrics: SinkMetrics = {
    records: {},
    deadLetters: {},
    flushes: {},
    flushFailures: {},
    flushLatencyMs: {},
    buffered: {},
    skipped: {},
    objects: 0,
    paused: false,
    rebalances: 0,
    consumerRestarts: 0,
    restartLog: [],
    waitingForStore: false,
    uploadsHeld: false,
    storeWaits: 0,
    listings: 0,
    read: {},
  };
  #waitingSince = 0;

  /** A sink with these options; `connect()` then `run()` starts it. */
  constructor(options: LakeSinkOptions) {
    this.#options = options;
    this.groupId = options.groupId ?? options.config.clients.sinkGroup;
    this.policy = options.policy ?? DEFAULT_BATCH_POLICY;
    this.#store = options.store ?? LakeStore.fromConfig(options.config);
    this.#kafka = options.kafka ??
      createKafka(options.config, {
        clientId: options.config.clients.sink,
        // Each restart is reported below with its error; kafkajs's own line would say it twice.
        onEntry: rawLogsFromEnv() ? undefined : (entry) => isRestartNotice(entry, this.groupId),
      });
    this.#maxPendingRecords = options.maxPendingRecords ?? 60_000;
    this.#maxPendingBytes = options.maxPendingBytes ?? 32 * 1024 * 1024;
  }

  /** The topic read for each family. */
  get topics(): Partial<Record<FamilyName, string>> {
    return this.#options.topics ??
      Object.fromEntries(
        Object.entries(FAMILY_TOPICS).map(([f, key]) => [f, this.#options.config.topics[key]]),
      );
  }

  /** Whether the sink crashed (see {@linkcode SinkHooks}); the error, if so. */
  get crashed(): Error | undefined {
    return this.#crashed;
  }

  /** Loads the schemas, checks the dead-letter topic, connects the consumer. */
  async connect(): Promise<void> {
    const o = this.#options;
    const catalog = o.catalog ?? await loadCatalog();
    const serde = new AvroSerde({ url: o.config.schemaRegistry.url });
    for (const [family, topic] of Object.entries(this.topics) as [FamilyName, string][]) {
      if (!topic) continue;
      const schemas = catalog.family(family);
      this.#states.set(topic, {
        topic,
        family,
        decoder: new ContractDecoder<Record<string, unknown>>(
          serde,
          schemas.latest.type,
          CONTRACT_RULES[family],
          { shape: "writer" },
        ),
        layout: BronzeLayout.forFamily(schemas),
        batcher: new RegionBatcher(this.policy),
        rows: new Map(),
        ledger: new OffsetLedger(),
        holders: new Map(),
        written: new Map(),
        listed: new Set(),
        assigned: [],
      });
      this.#metrics.flushLatencyMs[topic] = new LatencyHistogram();
    }
    this.#dlq = new DeadLetterWriter(
      this.#kafka,
      o.deadLetterTopic ?? o.config.topics.deadLetter,
      {
        onRenew: (e) =>
          console.error(
            `lake sink: a fresh dead-letter producer after a send whose outcome is unknown: ${
              (e as Error)?.message ?? e
            }`,
          ),
      },
    );
    await this.#dlq.connect();
    this.#consumer = new GroupConsumer(this.#kafka, {
      groupId: this.groupId,
      topics: [...this.#states.keys()],
      fromBeginning: o.fromBeginning ?? true,
      autoCommit: false,
      // Small fetches: kafkajs decodes a whole response into objects (about 3x its bytes).
      maxBytes: FETCH_MAX_BYTES,
      maxBytesPerPartition: FETCH_MAX_BYTES / 4,
      onRebalance: (e) => this.#assigned(e),
      onCrash: (e) => this.#crash(e),
      onRestart: (e, n) => {
        this.#metrics.consumerRestarts = n;
        this.#metrics.restartLog = [...(this.#consumer?.restartLog ?? [])];
        console.error(`lake sink: the consumer restarts (${n} so far): ${e.message}`);
      },
    });
    const raw = this.#consumer.raw;
    let signalledAt = 0;
    raw.on(raw.events.REBALANCING, () => {
      this.#holdUploads = true; // the partitions may move: start no upload until the new assignment
      signalledAt = Date.now();
    });
    // kafkajs signals REBALANCING on NOT_COORDINATOR too (the group's coordinator moved, e.g.
    // by a preferred leader election after a broker restart); if its rejoin then fails, kafkajs
    // retries by fetching again in the old generation, and no new assignment comes. A heartbeat
    // sent after the signal and accepted says the group is stable in this member's generation
    // (during a rebalance the coordinator answers REBALANCE_IN_PROGRESS): its partitions did not
    // move. One request timeout after the signal, any heartbeat sent before it has its answer.
    const settled = o.config.kafka.requestTimeoutMs;
    raw.on(raw.events.HEARTBEAT, () => {
      if (!this.#holdUploads || Date.now() - signalledAt <= settled) return;
      this.#holdUploads = false;
      console.error(
        "lake sink: the group kept this member's partitions (a heartbeat succeeded after a " +
          "rebalance signal without a new assignment); uploads go on",
      );
    });
    try {
      await this.#consumer.connect();
    } catch (e) {
      await this.#dlq.disconnect();
      throw e;
    }
  }

  /** Starts consuming (returns once the consumer runs) and the age timer. */
  async run(): Promise<void> {
    const consumer = this.#consumer;
    if (!consumer) throw new Error("LakeSink.run(): call connect() first");
    this.#timer = setInterval(() => this.#tick(), this.#options.tickMs ?? 250);
    await consumer.run({ eachBatch: (payload) => this.#onBatch(payload), autoResolve: false });
    this.#running = true;
  }

  /**
   * Stops fetching, flushes every buffer (waiting for uploads, retrying while
   * the lake is down, up to `timeoutMs`, default 30 s), commits and leaves
   * the group (bounded too). After a timeout nothing more is committed: the
   * records not written are read again by the next run.
   */
  async stop(timeoutMs = 30_000): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    const consumer = this.#consumer;
    const until = Date.now() + timeoutMs;
    try {
      if (!this.#crashed && consumer && this.#running) {
        fetching(consumer, "pause");
        while (this.#inBatch > 0 && Date.now() < until) await sleep(20);
        for (const state of this.#states.values()) {
          for (const batch of state.batcher.takeAll("shutdown")) this.#enqueue(state, batch);
        }
        this.#startWorker();
        const drained = this.#worker ?? Promise.resolve();
        const timedOut = await withDeadline(
          drained.then(() => false),
          Math.max(0, Math.min(until - Date.now(), 2 ** 31 - 1)),
          "flushing on stop",
        ).catch(() => true);
        if (timedOut) {
          console.error(
            `lake sink: stopped after ${timeoutMs} ms with uploads unfinished; ` +
              "nothing more is committed (those records are read again next time)",
          );
        } else if (!this.#crashed) {
          await this.#commitAll();
        }
      }
    } finally {
      this.#queue = [];
      clearInterval(this.#timer);
      this.#timer = undefined;
      this.#epoch++; // abandons a still-running upload loop
      // Leaving the group waits for a handler still running (a frozen store): bounded too.
      const left = Math.max(2000, until - Date.now());
      await withDeadline(this.#close(), Number.isFinite(left) ? left : 30_000, "leaving the group")
        .catch((e) => console.error(`lake sink: ${(e as Error).message}`));
    }
  }

  /**
   * Queues every buffer for upload now (reason `drain`), as if its age were
   * up, and goes on consuming. A bounded run calls it once everything is
   * read, so the last buffers do not wait `maxAgeMs`; unlike `stop()` it
   * loses nothing to a rebalance that drops buffers meanwhile (they are read
   * and buffered again).
   */
  flushNow(): void {
    if (this.#crashed || this.#stopping) return;
    for (const state of this.#states.values()) {
      for (const batch of state.batcher.takeAll("drain")) this.#enqueue(state, batch);
    }
    this.#startWorker();
  }

  /** What the sink did so far (see {@linkcode SinkMetrics}). */
  metrics(): SinkMetrics {
    const buffered: Record<string, number> = {};
    for (const state of this.#states.values()) buffered[state.topic] = state.batcher.records;
    for (const job of this.#queue) inc(buffered, job.state.topic, job.records);
    return {
      ...this.#metrics,
      buffered,
      paused: this.#paused,
      uploadsHeld: this.#holdUploads,
      read: structuredClone(this.#metrics.read),
    };
  }

  /** Leaves the group and closes the dead-letter producer (once; later calls wait for it). */
  #close(): Promise<void> {
    this.#closing ??= (async () => {
      const consumer = this.#consumer;
      this.#consumer = undefined;
      try {
        await consumer?.disconnect();
      } finally {
        await this.#dlq?.disconnect();
        this.#dlq = undefined;
      }
    })();
    return this.#closing;
  }

  #crash(error: Error): void {
    if (this.#crashed) return;
    this.#crashed = error instanceof SinkCrashedError
      ? error
      : new SinkCrashedError(`lake sink crashed: ${error.message}`, { cause: error });
    this.#queue = [];
    this.#epoch++;
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#options.onCrash?.(this.#crashed);
    // Leave the group without committing anything more: what was not committed is read again.
    this.#close().catch(() => {});
  }

  /** A new assignment: kafkajs rewinds to the committed offsets, so forget every buffer. */
  #assigned(event: RebalanceEvent): void {
    this.#epoch++;
    this.#metrics.rebalances++;
    this.#queue = [];
    for (const state of this.#states.values()) {
      state.batcher.clear();
      state.rows.clear();
      state.ledger.reset();
      state.holders.clear();
      state.assigned = event.assignment[state.topic] ?? [];
      state.written = new Map();
      state.listed = new Set();
    }
    this.#holdUploads = false;
    this.#handled = false;
    if (this.#paused && this.#running && !this.#stopping) {
      this.#paused = false;
      if (this.#consumer) fetching(this.#consumer, "resume");
    }
  }

  /**
   * The skip rule's input for the groups of a flush not listed yet since the
   * assignment: one listing per (partition, region, hour), of that group's
   * bronze objects only. False when a newer assignment or a crash made the
   * listings moot.
   */
  async #listGroups(
    state: TopicState,
    groups: Iterable<BronzeGroup>,
    epoch: number,
  ): Promise<boolean> {
    for (const g of groups) {
      const id = bronzeGroupId(g);
      if (state.listed.has(id)) continue;
      const prefix = layerPrefix("bronze", state.topic, g) + `p${zeroPad(g.partition, 3)}-`;
      const objects = await this.#retry(() => this.#store.list(prefix), epoch, state.topic);
      if (objects === undefined || epoch !== this.#epoch) return false;
      this.#metrics.listings++;
      for (const [gid, last] of lastOffsets(objects.map((o) => o.key), state.topic)) {
        const seen = state.written.get(gid);
        if (seen === undefined || last > seen) state.written.set(gid, last);
      }
      state.listed.add(id);
    }
    return true;
  }

  async #onBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    if (this.#crashed) throw this.#crashed;
    this.#inBatch++;
    try {
      const epoch = this.#epoch;
      this.#handled = true;
      const state = this.#states.get(batch.topic);
      if (!state) throw new Error(`lake sink: no decoder for topic ${batch.topic}`);
      // Left unresolved, a batch is fetched again (after a resume or a rebalance) or by the next run.
      if (this.#gone() || this.#paused || epoch !== this.#epoch) return;
      const letters: { origin: DeadLetterOrigin; reason: DeadLetterReason; error: string }[] = [];
      const entries: Entry[] = [];
      // Writer schemas not fetched yet are asked for once per id, together (not once per record).
      const unknown = await state.decoder.prepare(batch.messages.map((m) => m.value));
      const letter = (
        message: KafkaMessage,
        offset: bigint,
        reason: DeadLetterReason,
        error: string,
      ) => {
        letters.push({
          origin: {
            topic: batch.topic,
            partition: batch.partition,
            offset: message.offset,
            message,
            group: this.groupId,
          },
          reason,
          error,
        });
        entries.push({ offset });
      };
      for (const message of batch.messages) {
        const offset = BigInt(message.offset);
        const outcome = state.decoder.decodeSync(message.value, unknown) ??
          await state.decoder.decode(message.value);
        if (!outcome.ok) {
          letter(message, offset, outcome.reason, outcome.error);
          continue;
        }
        const record = {
          partition: batch.partition,
          offset,
          timestamp: Number(message.timestamp),
          schemaId: outcome.schemaId,
          value: outcome.value,
        };
        let group: BronzeGroup;
        let cells: unknown[];
        try {
          group = bronzeGroupOf(record);
          cells = state.layout.cells(record);
        } catch (e) {
          // Decoded, but no usable region, event time or value: it has no place in the lake.
          if (!(e instanceof BronzeRecordError)) throw e;
          letter(message, offset, "validation", e.message);
          continue;
        }
        entries.push({ offset, group, cells, bytes: message.value!.length });
      }
      // Dead letters first: a record counts as processed only once its letter is acknowledged.
      await this.#dlq!.writeAll(letters).catch((e) => {
        // Refused for good (too large for the topic, not authorised): stop, naming the topic.
        // Anything else goes to kafkajs, which reads the batch again after a restart.
        if (refusedForGood(e)) this.#crash(this.#lettersRefused(letters.length, e));
        throw e;
      });
      for (const l of letters) {
        inc(nested(this.#metrics.deadLetters, state.topic), l.reason);
      }
      if (this.#gone() || epoch !== this.#epoch) return;
      const now = Date.now();
      for (const e of entries) {
        const group = e.group;
        if (group === undefined) {
          state.ledger.process(batch.partition, e.offset);
          continue;
        }
        const region = group.region;
        let holder = state.holders.get(region);
        if (holder === undefined) {
          holder = this.#nextHolder++;
          state.holders.set(region, holder);
        }
        let rows = state.rows.get(region);
        if (rows === undefined) {
          rows = new BronzeBuffer(state.layout);
          state.rows.set(region, rows);
        }
        state.ledger.process(batch.partition, e.offset, holder);
        rows.add(group, e.offset, e.cells!);
        const full = state.batcher.add(region, Number(e.offset), e.bytes!, now);
        if (full) this.#enqueue(state, state.batcher.take(region, full)!);
      }
      if (entries.length > 0) {
        payload.resolveOffset(batch.lastOffset());
        const read = nested(this.#metrics.read, state.topic);
        const next = Number(entries[entries.length - 1].offset) + 1;
        if (next > (read[batch.partition] ?? 0)) read[batch.partition] = next;
      }
      this.#startWorker();
      this.#checkPressure();
    } finally {
      this.#inBatch--;
    }
  }

  /** The sink's error when Kafka refused its dead letters for a reason that holds on every try. */
  #lettersRefused(count: number, error: unknown): SinkCrashedError {
    const topic = this.#dlq?.topic ?? "the dead-letter topic";
    return new SinkCrashedError(
      `lake sink: the dead-letter topic ${topic} refused ${count} letters, and retrying ` +
        `cannot help: ${(error as Error).message}. Check its configs (max.message.bytes) and ` +
        `the client's rights (deno task admin topics describe ${topic}); nothing past those ` +
        "records is committed",
      { cause: error },
    );
  }

  /** Stopping or crashed: batches are left unprocessed (nothing more is committed for them). */
  #gone(): boolean {
    return this.#stopping || this.#crashed !== undefined;
  }

  #enqueue(state: TopicState, batch: RegionBatch<number>): void {
    const holder = state.holders.get(batch.region)!;
    state.holders.delete(batch.region);
    const rows = state.rows.get(batch.region)!;
    state.rows.delete(batch.region);
    this.#queue.push({
      state,
      region: batch.region,
      rows,
      records: batch.records.length,
      bytes: batch.bytes,
      reason: batch.reason,
      holder,
      epoch: this.#epoch,
    });
  }

  #pending(): { records: number; bytes: number } {
    let records = 0;
    let bytes = 0;
    for (const state of this.#states.values()) {
      records += state.batcher.records;
      bytes += state.batcher.bytes;
    }
    for (const job of this.#queue) {
      records += job.records;
      bytes += job.bytes;
    }
    return { records, bytes };
  }

  /**
   * Over the pending limits: every buffer is queued for upload (so no buffer
   * waits for its age while fetching stands still) and fetching pauses until
   * the pending records and bytes are below half the limits.
   */
  #checkPressure(): void {
    const consumer = this.#consumer;
    if (!consumer || !this.#running || this.#stopping || this.#crashed) return;
    const over = (p: { records: number; bytes: number }) =>
      p.records >= this.#maxPendingRecords || p.bytes >= this.#maxPendingBytes;
    const { records, bytes } = this.#pending();
    if (!this.#paused && over({ records, bytes })) {
      for (const state of this.#states.values()) {
        for (const batch of state.batcher.takeAll("pressure")) this.#enqueue(state, batch);
      }
      this.#startWorker();
      this.#paused = true;
      fetching(consumer, "pause");
    } else if (
      this.#paused && records < this.#maxPendingRecords / 2 && bytes < this.#maxPendingBytes / 2
    ) {
      this.#paused = false;
      fetching(consumer, "resume");
    }
  }

  #tick(): void {
    if (this.#ticking || this.#crashed || this.#stopping) return;
    this.#ticking = true;
    try {
      const now = Date.now();
      for (const state of this.#states.values()) {
        for (const region of state.batcher.due(now)) {
          this.#enqueue(state, state.batcher.take(region, "age")!);
        }
      }
      this.#startWorker();
      // Progress made of dead letters and skipped records alone is committed here.
      if (!this.#worker && this.#inBatch === 0 && this.#handled) {
        this.#commitAll().catch(() => {});
      }
    } finally {
      this.#ticking = false;
    }
  }

  #startWorker(): void {
    if (this.#worker || this.#queue.length === 0) return;
    const worker = this.#work().finally(() => {
      if (this.#worker === worker) this.#worker = undefined;
      if (this.#queue.length > 0 && !this.#crashed) this.#startWorker();
    });
    this.#worker = worker;
  }

  async #work(): Promise<void> {
    while (this.#queue.length > 0 && !this.#crashed) {
      const job = this.#queue[0];
      if (job.epoch !== this.#epoch) {
        this.#queue.shift();
        continue;
      }
      let keys: string[] | undefined;
      try {
        keys = await this.#flush(job);
      } catch (e) {
        // Not an outage (those are retried inside): a bug or a broken record; stop, commit nothing.
        this.#crash(e instanceof Error ? e : new Error(String(e)));
        return;
      }
      if (this.#queue[0] === job) this.#queue.shift();
      if (keys === undefined || job.epoch !== this.#epoch) continue;
      try {
        await this.#options.hooks?.afterUpload?.({
          topic: job.state.topic,
          region: job.region,
          keys,
        });
      } catch (e) {
        this.#crash(e instanceof Error ? e : new Error(String(e)));
        return;
      }
      job.state.ledger.release(job.holder);
      await this.#commit(job.state).catch(() => {});
      this.#checkPressure();
    }
  }

  /** Uploads a job's objects; undefined when a rebalance or shutdown abandoned it. */
  async #flush(job: FlushJob): Promise<string[] | undefined> {
    const { state, region } = job;
    const started = performance.now();
    const keys: string[] = [];
    // The skip rule: leave out what an earlier owner of the partition already wrote.
    if (!(await this.#listGroups(state, job.rows.groups, job.epoch))) return undefined;
    const parts = job.rows.parts((id) => state.written.get(id));
    const skipped = job.records - parts.reduce((n, p) => n + p.rows, 0);
    // The objects of one flush are uploaded in parallel (each retried on its own).
    const puts = parts.map(async (part) => {
      const key = bronzeKey({
        topic: state.topic,
        ...part.group,
        first: part.first,
        last: part.last,
      });
      const bytes = encodeParquet(part.table(), state.layout.parquet);
      const put = await this.#retry(
        () => this.#store.put(key, bytes, PARQUET_CONTENT_TYPE).then(() => true),
        job.epoch,
        state.topic,
      );
      return put === undefined ? undefined : key;
    });
    for (const key of await Promise.all(puts)) {
      if (key === undefined) return undefined;
      keys.push(key);
      this.#metrics.objects++;
    }
    if (skipped > 0) inc(this.#metrics.skipped, state.topic, skipped);
    const written = job.records - skipped;
    const ms = performance.now() - started;
    this.#metrics.flushLatencyMs[state.topic].record(ms);
    this.#options.onFlush?.({
      topic: state.topic,
      region,
      reason: job.reason,
      records: written,
      objects: keys.length,
      seconds: ms / 1000,
    });
    inc(nested(this.#metrics.flushes, state.topic), region);
    inc(nested(this.#metrics.records, state.topic), region, written);
    return keys;
  }

  /**
   * Runs `call` until it succeeds, backing off between transient failures
   * (each counted as a flush failure of `topic`, the sink marked as waiting
   * for the store); undefined once `epoch` is over or the sink crashed. A
   * permanent failure (see `storeErrorKind`) crashes the sink at once.
   * Calls also wait while a rebalance is under way.
   */
  async #retry<T>(call: () => Promise<T>, epoch: number, topic: string): Promise<T | undefined> {
    const backoff = this.#options.retryBackoffMs ?? { initial: 200, max: 5000 };
    let wait = backoff.initial;
    while (true) {
      if (epoch !== this.#epoch || this.#crashed) return undefined;
      if (this.#holdUploads) {
        await sleep(50);
        continue;
      }
      try {
        const result = await call();
        this.#storeAnswers();
        return result;
      } catch (e) {
        if (epoch !== this.#epoch || this.#crashed) return undefined;
        if (storeErrorKind(e) === "permanent") {
          this.#crash(
            new SinkCrashedError(
              `lake sink: the object store refused a call for ${topic}, and retrying cannot ` +
                `help: ${(e as Error).message}. Check S3_ENDPOINT, S3_ACCESS_KEY, ` +
                `S3_SECRET_KEY and S3_BUCKET (deno task health)`,
              { cause: e },
            ),
          );
          return undefined;
        }
        inc(this.#metrics.flushFailures, topic);
        this.#storeFails(e as Error, topic, wait);
      }
      const until = Date.now() + wait;
      while (Date.now() < until) {
        if (epoch !== this.#epoch || this.#crashed) return undefined;
        await sleep(Math.min(250, Math.max(0, until - Date.now())));
      }
      wait = Math.min(wait * 2, backoff.max);
    }
  }

  /** A store call failed transiently: the waiting state and its log lines. */
  #storeFails(error: Error, topic: string, retryInMs: number): void {
    const endpoint = this.#options.config.s3.endpoint;
    const failures = this.#metrics.flushFailures[topic];
    if (!this.#metrics.waitingForStore) {
      this.#metrics.waitingForStore = true;
      this.#metrics.storeWaits++;
      this.#waitingSince = Date.now();
      console.error(
        `lake sink: waiting for MinIO at ${endpoint} (${topic}: ${error.message}); ` +
          `retrying with backoff, next in ${retryInMs} ms; nothing past the lake is committed`,
      );
    } else if (failures % 25 === 0) {
      const s = ((Date.now() - this.#waitingSince) / 1000).toFixed(0);
      console.error(
        `lake sink: still waiting for MinIO at ${endpoint} after ${s} s ` +
          `(${failures} failed attempts for ${topic}): ${error.message}`,
      );
    }
  }

  /** A store call succeeded: the waiting state ends. */
  #storeAnswers(): void {
    if (!this.#metrics.waitingForStore) return;
    this.#metrics.waitingForStore = false;
    const s = ((Date.now() - this.#waitingSince) / 1000).toFixed(1);
    console.error(`lake sink: MinIO answers again after ${s} s of waiting; resuming`);
  }

  /** Commits what `state`'s ledger allows; commits run one after another, never overtaking. */
  #commit(state: TopicState): Promise<void> {
    const next = this.#commits.then(() => this.#commitNow(state));
    this.#commits = next.catch(() => {});
    return next;
  }

  async #commitNow(state: TopicState): Promise<void> {
    const consumer = this.#consumer;
    if (!consumer || this.#crashed) return;
    const epoch = this.#epoch;
    const due = state.ledger.due();
    for (const p of due.keys()) if (!state.assigned.includes(p)) due.delete(p);
    if (due.size === 0) return;
    // GroupConsumer.commit takes the last processed offset and commits offset + 1.
    await consumer.commit(
      [...due].map(([partition, position]) => ({
        topic: state.topic,
        partition,
        offset: String(position - 1n),
      })),
    );
    if (epoch === this.#epoch) state.ledger.committed(due);
  }

  async #commitAll(): Promise<void> {
    for (const state of this.#states.values()) await this.#commit(state);
  }
}
