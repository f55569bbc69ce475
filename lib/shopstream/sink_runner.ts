/**
 * Runs the lake sink for the pipeline, either in this thread or in a Web
 * Worker of its own. JavaScript runs one thread per isolate: with the
 * producer (Avro encoding, kafkajs) and the sink (decoding, Parquet, uploads)
 * in one thread, each waits for the other; in a worker the sink gets a core
 * of its own. Both sides look the same to the pipeline: a
 * {@linkcode SinkHandle}.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { startSink } from "./sink_runner.ts";
 * const sink = await startSink({ config: loadConfig() }, { worker: true });
 * console.log(sink.snapshot().totals.records);
 * await sink.stop();
 * ```
 *
 * @module
 */
import type { Config } from "../config.ts";
import type { Catalog, FamilyName } from "../schema/catalog.ts";
import type { HealthStatus } from "../observe/metrics_server.ts";
import type { BatchPolicy } from "./batcher.ts";
import { withDeadline } from "../util/deadline.ts";
import { type FlushInfo, LakeSink, type SinkMetrics, type SinkTotals, sinkTotals } from "./sink.ts";

/** What the pipeline passes to the sink (all structured-cloneable). */
export interface SinkSettings {
  /** Brokers, registry, lake and default names. */
  config: Config;
  /** The schemas the sink decodes with (default the repository's); only in this thread. */
  catalog?: Catalog;
  /** Consumer group (default `config.clients.sinkGroup`). */
  groupId?: string;
  /** Topic of each family to read (default: all four from `config.topics`). */
  topics?: Partial<Record<FamilyName, string>>;
  /** Dead-letter topic (default `config.topics.deadLetter`). */
  deadLetterTopic?: string;
  /** Per-region flush policy (default `DEFAULT_BATCH_POLICY`). */
  policy?: BatchPolicy;
}

/** A plain snapshot of the sink's metrics (cloneable across threads). */
export interface SinkSnapshot {
  /** The sink's metrics, summed over topics and regions. */
  totals: SinkTotals;
  /** Slowest topic's flush latency percentiles, ms (0 before the first flush). */
  flushP50Ms: number;
  /** Slowest topic's 99th percentile flush latency, ms. */
  flushP99Ms: number;
  /** Resident memory of the sink's process, bytes (the whole process: workers share it). */
  rss: number;
  /** The labelled counts behind `totals`, for the Prometheus metrics. */
  labelled: Pick<SinkMetrics, "records" | "deadLetters" | "flushes" | "flushFailures" | "buffered">;
  /** Times kafkajs restarted the sink's consumer, and the latest ones (time, error). */
  consumerRestarts: number;
  /** When the consumer restarted and why. */
  restartLog: { at: number; error: string }[];
  /** Whether the sink is waiting for the object store now, and outages seen. */
  waitingForStore: boolean;
  /** Store calls that had to wait for MinIO. */
  storeWaits: number;
  /** Per topic and partition: the next offset the sink will read (see `SinkMetrics.read`). */
  read: Record<string, Record<string, number>>;
}

/** An empty snapshot (before the sink's first report). */
function emptySnapshot(): SinkSnapshot {
  return {
    totals: {
      records: 0,
      deadLetters: 0,
      flushes: 0,
      flushFailures: 0,
      buffered: 0,
      skipped: 0,
      objects: 0,
    },
    flushP50Ms: 0,
    flushP99Ms: 0,
    rss: 0,
    labelled: { records: {}, deadLetters: {}, flushes: {}, flushFailures: {}, buffered: {} },
    consumerRestarts: 0,
    restartLog: [],
    waitingForStore: false,
    storeWaits: 0,
    read: {},
  };
}

/** Restarts within this window that make `/health` report a restart loop. */
export const RESTART_LOOP = { restarts: 3, windowMs: 5 * 60_000 } as const;

/**
 * The sink's part of `/health`: not ok when it crashed, or when its consumer
 * restarted {@linkcode RESTART_LOOP}.restarts times within the window (a
 * record or a fault that makes the handler throw again and again: kafkajs
 * restarts on the same offset forever and nothing else would show it).
 * Details name the restarts and whether it waits for the object store.
 *
 * @example
 * ```ts
 * import { sinkHealth } from "./sink_runner.ts";
 * declare const sink: import("./sink_runner.ts").SinkHandle;
 * console.log(sinkHealth(sink).ok);
 * ```
 */
export function sinkHealth(
  sink: Pick<SinkHandle, "crashed" | "snapshot">,
  now = Date.now(),
): HealthStatus {
  if (sink.crashed) return { ok: false, details: { sink: `crashed: ${sink.crashed.message}` } };
  const s = sink.snapshot();
  const recent = s.restartLog.filter((r) => now - r.at <= RESTART_LOOP.windowMs);
  const details: Record<string, string> = {
    sink: s.waitingForStore ? "waiting for the object store (uploads retried)" : "running",
    consumerRestarts: String(s.consumerRestarts),
    deadLetters: String(s.totals.deadLetters),
  };
  if (recent.length >= RESTART_LOOP.restarts) {
    details.sink = `restarting: ${recent.length} consumer restarts in ${
      RESTART_LOOP.windowMs / 60_000
    } min, last: ${recent.at(-1)!.error}`;
    return { ok: false, details };
  }
  return { ok: true, details };
}

/** A running sink. */
export interface SinkHandle {
  /** The latest snapshot (a worker posts one every 200 ms). */
  snapshot(): SinkSnapshot;
  /** The error the sink crashed with, if it did. */
  readonly crashed: Error | undefined;
  /** Queues every buffer for upload now and goes on (see `LakeSink.flushNow`). */
  flushNow(): void;
  /**
   * Flushes every buffer, commits, leaves the group (and ends the worker),
   * within `timeoutMs` (default 30 s; past it nothing more is committed and a
   * worker is terminated).
   */
  stop(timeoutMs?: number): Promise<SinkSnapshot>;
}

/**
 * A snapshot of a sink's metrics.
 *
 * @example
 * ```ts
 * import type { SinkMetrics } from "./sink.ts";
 * import { snapshotOf } from "./sink_runner.ts";
 * declare const metrics: SinkMetrics;
 * console.log(snapshotOf(metrics).totals.records);
 * ```
 */
export function snapshotOf(metrics: SinkMetrics): SinkSnapshot {
  const hists = Object.values(metrics.flushLatencyMs).filter((h) => h.count > 0);
  const worst = (p: number) => hists.length ? Math.max(...hists.map((h) => h.percentile(p))) : 0;
  return {
    totals: sinkTotals(metrics),
    flushP50Ms: worst(50),
    flushP99Ms: worst(99),
    rss: Deno.memoryUsage().rss,
    labelled: structuredClone({
      records: metrics.records,
      deadLetters: metrics.deadLetters,
      flushes: metrics.flushes,
      flushFailures: metrics.flushFailures,
      buffered: metrics.buffered,
    }),
    consumerRestarts: metrics.consumerRestarts,
    restartLog: [...metrics.restartLog],
    waitingForStore: metrics.waitingForStore,
    storeWaits: metrics.storeWaits,
    read: metrics.read,
  };
}

function sinkOf(settings: SinkSettings, onFlush?: (flush: FlushInfo) => void): LakeSink {
  return new LakeSink({
    config: settings.config,
    catalog: settings.catalog,
    groupId: settings.groupId,
    topics: settings.topics,
    deadLetterTopic: settings.deadLetterTopic,
    policy: settings.policy,
    onFlush,
  });
}

/** Messages the sink worker posts to the pipeline (see {@linkcode serveSinkWorker}). */
export type FromWorker =
  | { type: "started" }
  | { type: "snapshot"; snapshot: SinkSnapshot; flushed: FlushInfo[] }
  | { type: "stopped"; snapshot: SinkSnapshot; flushed: FlushInfo[] }
  | { type: "crashed"; message: string };

class WorkerSink implements SinkHandle {
  readonly #worker: Worker;
  #latest: SinkSnapshot;
  #crashed?: Error;
  #stopped?: (s: SinkSnapshot) => void;
  #started?: { resolve: () => void; reject: (e: Error) => void };

  constructor(
    readonly settings: SinkSettings,
    readonly onFlush?: (flush: FlushInfo) => void,
  ) {
    this.#latest = emptySnapshot();
    this.#worker = new Worker(new URL("./sink_worker.ts", import.meta.url), { type: "module" });
    this.#worker.onmessage = (e: MessageEvent<FromWorker>) => this.#on(e.data);
    this.#worker.onerror = (e) => {
      e.preventDefault();
      this.#fail(new Error(`sink worker: ${e.message}`));
    };
  }

  #fail(error: Error): void {
    this.#crashed ??= error;
    this.#started?.reject(error);
    this.#stopped?.(this.#latest);
  }

  #on(msg: FromWorker): void {
    if (msg.type === "started") this.#started?.resolve();
    else if (msg.type === "snapshot") {
      this.#latest = msg.snapshot;
      for (const f of msg.flushed) this.onFlush?.(f);
    } else if (msg.type === "stopped") {
      this.#latest = msg.snapshot;
      for (const f of msg.flushed) this.onFlush?.(f);
      this.#stopped?.(msg.snapshot);
    } else this.#fail(new Error(`the lake sink crashed: ${msg.message}`));
  }

  start(): Promise<void> {
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    this.#started = { resolve, reject };
    this.#worker.postMessage({ type: "start", settings: this.settings });
    return promise;
  }

  snapshot(): SinkSnapshot {
    return this.#latest;
  }

  get crashed(): Error | undefined {
    return this.#crashed;
  }

  flushNow(): void {
    if (!this.#crashed) this.#worker.postMessage({ type: "flush" });
  }

  async stop(timeoutMs = 30_000): Promise<SinkSnapshot> {
    const { promise, resolve } = Promise.withResolvers<SinkSnapshot>();
    this.#stopped = resolve;
    if (this.#crashed) resolve(this.#latest);
    else this.#worker.postMessage({ type: "stop", timeoutMs });
    try {
      // The worker bounds its own stop; this bound is for a worker that no longer answers.
      return await withDeadline(promise, timeoutMs + 5000, "the sink worker's stop");
    } catch {
      return this.#latest;
    } finally {
      this.#worker.terminate();
    }
  }
}

class LocalSink implements SinkHandle {
  constructor(readonly sink: LakeSink) {}

  snapshot(): SinkSnapshot {
    return snapshotOf(this.sink.metrics());
  }

  get crashed(): Error | undefined {
    return this.sink.crashed;
  }

  flushNow(): void {
    this.sink.flushNow();
  }

  async stop(timeoutMs?: number): Promise<SinkSnapshot> {
    await this.sink.stop(timeoutMs);
    return this.snapshot();
  }
}

/**
 * Connects and runs a lake sink, in this thread or (`worker: true`) in a
 * worker; resolves once it consumes.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { startSink } from "./sink_runner.ts";
 * const sink = await startSink({ config: loadConfig(), groupId: "demo-sink" }, { worker: false });
 * await sink.stop();
 * ```
 */
export async function startSink(
  settings: SinkSettings,
  options: { worker?: boolean; onFlush?: (flush: FlushInfo) => void } = {},
): Promise<SinkHandle> {
  if (options.worker) {
    if (settings.catalog) {
      throw new TypeError("startSink: a catalog cannot be sent to a worker; use worker: false");
    }
    const sink = new WorkerSink(settings, options.onFlush);
    try {
      await sink.start();
    } catch (e) {
      await sink.stop().catch(() => {});
      throw e;
    }
    return sink;
  }
  const sink = sinkOf(settings, options.onFlush);
  await sink.connect();
  await sink.run();
  return new LocalSink(sink);
}

/**
 * The worker side: builds the sink from the settings it is sent. Exported for
 * `sink_worker.ts`, the worker's entry module.
 *
 * @example
 * ```ts
 * // sink_worker.ts
 * import { serveSinkWorker } from "./sink_runner.ts";
 * serveSinkWorker(self as unknown as Parameters<typeof serveSinkWorker>[0]);
 * ```
 */
export function serveSinkWorker(scope: {
  onmessage: ((e: MessageEvent) => void) | null;
  postMessage(msg: FromWorker): void;
  close(): void;
}): void {
  let sink: LakeSink | undefined;
  let timer: ReturnType<typeof setInterval> | undefined;
  let flushed: FlushInfo[] = [];
  const post = (msg: FromWorker) => scope.postMessage(msg);
  const take = () => {
    const out = flushed;
    flushed = [];
    return out;
  };
  scope.onmessage = async (e: MessageEvent) => {
    const msg = e.data as
      | { type: "start"; settings: SinkSettings }
      | { type: "flush" }
      | { type: "stop"; timeoutMs?: number };
    try {
      if (msg.type === "start") {
        sink = sinkOf(msg.settings, (f) => flushed.push(f));
        await sink.connect();
        await sink.run();
        timer = setInterval(() => {
          if (sink?.crashed) post({ type: "crashed", message: sink.crashed.message });
          else if (sink) {
            post({ type: "snapshot", snapshot: snapshotOf(sink.metrics()), flushed: take() });
          }
        }, 200);
        post({ type: "started" });
      } else if (msg.type === "flush") {
        sink?.flushNow();
      } else if (msg.type === "stop") {
        clearInterval(timer);
        await sink?.stop(msg.timeoutMs);
        post({ type: "stopped", snapshot: snapshotOf(sink!.metrics()), flushed: take() });
        scope.close();
      }
    } catch (error) {
      clearInterval(timer);
      post({ type: "crashed", message: (error as Error).message ?? String(error) });
    }
  };
}
