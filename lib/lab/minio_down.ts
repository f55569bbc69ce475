/**
 * Scenario 3, MinIO unreachable: the lake sink runs on the scenario's
 * topics, has caught up with a first wave of events and keeps up with a
 * steady stream; then MinIO freezes (SIGSTOP: the port still accepts
 * connections, nothing answers). Uploads time out and are retried, flush
 * failures count up, buffers fill, the sink commits nothing it has not
 * uploaded, so the lag grows, and `ShopStreamSinkFlushFailing` goes
 * pending, then fires. Resumed (the fix), MinIO answers again, the retries
 * succeed and the backlog drains; the stream then stops, the lag falls to
 * 0 and the alert resolves once no failure is left in its window. Bronze,
 * read back from MinIO, then holds every record exactly once. MinIO is
 * always resumed on close, and a detached watchdog resumes it after a
 * minute even if the process that froze it dies.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { OperationsLab } from "./lab.ts";
 * await using lab = await OperationsLab.open(loadConfig());
 * await using s = await lab.minioUnreachable();
 * await s.injectFault();
 * await s.waitAlert("firing");
 * await s.resumeMinio();
 * await s.waitRecovered();
 * console.log(await s.verify());
 * ```
 *
 * @module
 */
import { type PausedMinio, pauseMinio } from "./faults.ts";
import { type LabContext, LabScenario } from "./scenario.ts";
import { type BronzeCount, SinkRig } from "./sink_rig.ts";
import { sinkTotals } from "../shopstream/sink.ts";

/** The alert this scenario is about. */
export const FLUSH_ALERT = "ShopStreamSinkFlushFailing";

/** Options of {@linkcode MinioDownScenario.start}. */
export interface MinioDownOptions {
  /** Events of the first wave (default 2000). */
  events?: number;
  /** Events per second of the steady stream that follows (default 150). */
  rate?: number;
  /** Longest MinIO may stay frozen before the watchdog resumes it, ms (default 60 000). */
  maxPauseMs?: number;
}

/** The independent count at the end of the scenario. */
export interface LakeVerdict {
  /** Records produced that belong in bronze (the generator's tally: the wave and the stream). */
  readonly expected: number;
  /** Bronze as read back from MinIO. */
  readonly bronze: BronzeCount;
  /** Failed upload attempts the sink counted (each one retried). */
  readonly flushFailures: number;
  /** The sink group's lag now. */
  readonly lag: number;
}

/** See the module doc. Start with `lab.minioUnreachable()`. */
export class MinioDownScenario extends LabScenario {
  /** The producer, the sink and the scenario's watch. */
  rig!: SinkRig;
  #paused?: PausedMinio;
  #stream?: { stop(): Promise<unknown> };
  readonly #options: Required<MinioDownOptions>;

  private constructor(lab: LabContext, options: MinioDownOptions) {
    super(lab, "minio-unreachable");
    this.#options = { events: 2000, rate: 150, maxPauseMs: 60_000, ...options };
  }

  /**
   * Heals the stack, starts the rig, produces the first wave, waits until it
   * is in bronze, and starts the steady stream.
   */
  static async start(lab: LabContext, options: MinioDownOptions = {}): Promise<MinioDownScenario> {
    await lab.heal();
    const s = new MinioDownScenario(lab, options);
    try {
      s.rig = await SinkRig.start(s);
      await s.rig.produce(s.#options.events, 31);
      await s.rig.waitCaughtUp();
      s.mark("wave 1 in bronze");
      s.#stream = s.rig.stream(s.#options.rate, 32);
      // Undone first (newest first): MinIO answers again before the stream and the sink stop.
      s.defer("resume MinIO", () => s.resumeMinio());
      s.mark(`a steady ${s.#options.rate} events/s`);
    } catch (e) {
      await s.close();
      throw e;
    }
    return s;
  }

  /** Freezes MinIO (the stream goes on). */
  async injectFault(): Promise<void> {
    if (this.#paused) throw new Error("MinIO is already frozen");
    this.#paused = await pauseMinio(this.lab.stack, { maxMs: this.#options.maxPauseMs });
    this.mark("MinIO frozen");
  }

  /** Whether MinIO is frozen by this scenario now. */
  get frozen(): boolean {
    return this.#paused !== undefined;
  }

  /** Waits until the flush alert is in `state` (the monitor observes every second). */
  async waitAlert(state: "ok" | "pending" | "firing", timeoutMs = 60_000): Promise<void> {
    await this.rig.watch.sampler.waitFor(
      `${FLUSH_ALERT} ${state}`,
      (s) => s?.alerts[FLUSH_ALERT] === state,
      timeoutMs,
    );
    this.mark(`alert ${state}`);
  }

  /** The fix: thaws MinIO (SIGCONT; `deno task stack up` for a MinIO that stopped). */
  async resumeMinio(): Promise<void> {
    const paused = this.#paused;
    if (!paused) return;
    this.#paused = undefined;
    await paused.resume();
    this.mark("MinIO resumed");
  }

  /**
   * Waits until the backlog has drained (the lag is back to what the stream
   * keeps in flight), lets the stream run 5 s more, stops it, then waits for
   * lag 0 and the flush alert back to ok.
   */
  async waitRecovered(timeoutMs = 120_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    const left = () => Math.max(1000, until - Date.now());
    const steady = Math.max(500, this.#options.rate * 2);
    await this.rig.watch.sampler.waitFor(
      "the backlog to drain",
      (s) => s !== undefined && s.lag <= steady && (s.sunkPerSec ?? 0) > 0,
      left(),
    ).catch((e) => {
      throw new Error(`${(e as Error).message}; ${this.sinkState()}`, { cause: e });
    });
    this.mark("backlog drained");
    await new Promise((r) => setTimeout(r, 5000));
    await this.#stream?.stop();
    this.mark("stream stopped");
    await this.rig.waitCaughtUp(left());
    this.mark("lag 0");
    await this.waitAlert("ok", left());
  }

  /**
   * The sink's side of a recovery that does not come, in one line: whether
   * it still waits for MinIO, holds its uploads for a rebalance, has paused
   * fetching, and how many store calls failed so far.
   *
   * @example
   * ```ts
   * import type { MinioDownScenario } from "./minio_down.ts";
   * declare const s: MinioDownScenario;
   * console.log(s.sinkState()); // sink: waiting for MinIO no, uploads held for a rebalance no, ...
   * ```
   */
  sinkState(): string {
    const m = this.rig.sink.metrics();
    const t = sinkTotals(m);
    const yes = (b: boolean) => (b ? "yes" : "no");
    return `sink: waiting for MinIO ${yes(m.waitingForStore)}, uploads held for a rebalance ` +
      `${yes(m.uploadsHeld)}, fetching paused ${yes(m.paused)}, ${t.flushFailures} failed store ` +
      `calls, ${t.buffered} records buffered, ${m.rebalances} assignments, ` +
      `${m.consumerRestarts} restarts`;
  }

  /** Stops the stream, counts bronze back from MinIO against the generator's tally. */
  async verify(): Promise<LakeVerdict> {
    await this.#stream?.stop();
    const m = this.rig.sink.metrics();
    return {
      expected: this.rig.totals.bronze,
      bronze: await this.rig.countBronze(),
      flushFailures: sinkTotals(m).flushFailures,
      lag: await this.rig.lag(),
    };
  }
}
