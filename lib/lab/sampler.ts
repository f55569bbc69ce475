/**
 * A scenario's run over time: every second the lab's monitor observes the
 * cluster (lag, replication, end offsets) and scrapes the scenario's
 * metrics endpoint (sink counters, the flush-time histogram), and the
 * sampler keeps one row per observation: what the charts draw and what the
 * recovery checks wait for. The monitor also evaluates the alert rules on
 * every observation, so alerts go pending, fire and resolve as they would
 * under Prometheus.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { ShopstreamMonitor } from "../shopstream/monitor.ts";
 * import { LabSampler } from "./sampler.ts";
 * const monitor = new ShopstreamMonitor(loadConfig(), { group: "g", topics: ["t"] });
 * await monitor.connect();
 * const sampler = new LabSampler(monitor, Date.now());
 * sampler.start();
 * await sampler.waitFor("two samples", () => sampler.samples.length >= 2, 10_000);
 * await sampler.stop();
 * await monitor.disconnect();
 * ```
 *
 * @module
 */
import type { MonitorView, ShopstreamMonitor } from "../shopstream/monitor.ts";
import { METRIC } from "../shopstream/monitoring.ts";
import { sleep } from "../util/deadline.ts";

/** One observation of a run. */
export interface LabSample {
  /** Seconds since the scenario started. */
  t: number;
  /** The watched group's lag, summed over its partitions. */
  lag: number;
  /** Records appended to the watched topics per second (from Kafka's end offsets). */
  appendedPerSec: number;
  /** Records the group got through per second: appended minus the lag's growth. */
  consumedPerSec: number;
  /** Records the sink wrote to bronze per second (from the metrics endpoint). */
  sunkPerSec?: number;
  /** Mean seconds of the flushes finished since the last sample (from the flush-time histogram). */
  flushSeconds?: number;
  /**
   * The slowest of those flushes, as the histogram knows it: the upper bound
   * of the smallest bucket that holds all of them (what `histogram_quantile(1, ...)`
   * would say). A mean hides one long flush among many short ones; this does not.
   */
  flushSecondsMax?: number;
  /** Failed uploads so far (from the metrics endpoint). */
  flushFailures?: number;
  /** Records in the dead-letter topic. */
  deadLetters: number;
  /** Under-replicated partitions in the whole cluster. */
  underReplicated: number;
  /** Each rule's state at this observation. */
  alerts: Record<string, "ok" | "pending" | "firing">;
}

function pick(view: MonitorView, name: string): number | undefined {
  if (!view.scrape.ok) return undefined;
  const found = view.scrape.samples.filter((s) => s.name === name);
  return found.length ? found.reduce((a, s) => a + s.value, 0) : undefined;
}

/** The flush-time histogram's cumulative bucket counts, summed over topics, by upper bound. */
function cumulativeBuckets(view: MonitorView): Map<number, number> {
  const out = new Map<number, number>();
  if (!view.scrape.ok) return out;
  for (const s of view.scrape.samples) {
    if (s.name !== `${METRIC.sinkFlushSeconds}_bucket`) continue;
    const le = s.labels.le === "+Inf" ? Infinity : Number(s.labels.le);
    out.set(le, (out.get(le) ?? 0) + s.value);
  }
  return out;
}

/**
 * Observes every `intervalMs` (default 1 s) until stopped. An observation
 * that fails (a broker just died) is skipped; the run goes on.
 */
export class LabSampler {
  readonly #monitor: ShopstreamMonitor;
  readonly #startedAt: number;
  readonly #intervalMs: number;
  readonly #samples: LabSample[] = [];
  #view?: MonitorView;
  #prev?: { view: MonitorView; lag: number };
  #flushBase?: { sum: number; count: number; buckets: Map<number, number> };
  #loop?: Promise<void>;
  #stopped = false;

  /** A sampler over `monitor` (connected) for a run that started at `startedAt` (epoch ms). */
  constructor(monitor: ShopstreamMonitor, startedAt: number, intervalMs = 1000) {
    this.#monitor = monitor;
    this.#startedAt = startedAt;
    this.#intervalMs = intervalMs;
  }

  /** The rows so far, oldest first. */
  get samples(): readonly LabSample[] {
    return this.#samples;
  }

  /** The newest monitor view (what `deno task monitor` would print now). */
  get view(): MonitorView | undefined {
    return this.#view;
  }

  /** Starts observing (idempotent). */
  start(): void {
    this.#loop ??= (async () => {
      while (!this.#stopped) {
        const began = Date.now();
        try {
          this.#add(await this.#monitor.observe());
        } catch { /* the cluster is in trouble: that is what the lab is about */ }
        const rest = this.#intervalMs - (Date.now() - began);
        for (let waited = 0; waited < rest && !this.#stopped; waited += 100) {
          await sleep(Math.min(100, rest - waited));
        }
      }
    })();
  }

  /** Stops observing and waits for the observation in progress. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#loop;
  }

  #add(view: MonitorView): void {
    const lag = view.facts.lag.reduce((a, l) => a + l.lag, 0);
    const seconds = view.rates?.seconds ?? 0;
    const appended = view.rates?.topics.reduce((a, r) => a + r.appended, 0) ?? 0;
    const growth = this.#prev && seconds > 0 ? (lag - this.#prev.lag) / seconds : 0;
    const sunk = view.rates?.topics.some((r) => r.sunk !== undefined)
      ? view.rates.topics.reduce((a, r) => a + (r.sunk ?? 0), 0)
      : undefined;
    // The flushes finished since the last scrape that had the histogram (a scrape can fail).
    let flushSeconds: number | undefined;
    let flushSecondsMax: number | undefined;
    const sum = pick(view, `${METRIC.sinkFlushSeconds}_sum`);
    const count = pick(view, `${METRIC.sinkFlushSeconds}_count`);
    if (sum !== undefined && count !== undefined) {
      const buckets = cumulativeBuckets(view);
      const base = this.#flushBase ?? { sum: 0, count: 0, buckets: new Map() };
      const dCount = count - base.count;
      if (dCount > 0) {
        flushSeconds = (sum - base.sum) / dCount;
        const bounds = [...buckets.keys()].sort((a, b) => a - b);
        const le = bounds.find((b) => buckets.get(b)! - (base.buckets.get(b) ?? 0) >= dCount);
        const finite = bounds.filter(Number.isFinite);
        flushSecondsMax = le === undefined || !Number.isFinite(le) ? finite.at(-1) : le;
      }
      this.#flushBase = { sum, count, buckets };
    }
    this.#samples.push({
      t: Math.round((view.timeMs - this.#startedAt) / 100) / 10,
      lag,
      appendedPerSec: appended,
      consumedPerSec: Math.max(0, appended - growth),
      sunkPerSec: sunk,
      flushSeconds,
      flushSecondsMax,
      flushFailures: pick(view, METRIC.sinkFlushFailures),
      deadLetters: view.dlqTotal,
      underReplicated: view.facts.underReplicated.length,
      alerts: Object.fromEntries(view.rules.map((r) => [r.alert, r.state])),
    });
    this.#view = view;
    this.#prev = { view, lag };
  }

  /**
   * Waits until `done` holds for the newest sample (or, without samples, at
   * all); throws after `timeoutMs` naming `what` and the last sample.
   */
  async waitFor(
    what: string,
    done: (last: LabSample | undefined) => boolean,
    timeoutMs: number,
  ): Promise<LabSample | undefined> {
    this.start();
    const until = Date.now() + timeoutMs;
    let seen = this.#samples.length;
    while (Date.now() < until) {
      if (this.#samples.length > seen || seen === 0) {
        seen = this.#samples.length;
        const last = this.#samples.at(-1);
        if (done(last)) return last;
      }
      await sleep(100);
    }
    const last = this.#samples.at(-1);
    throw new Error(
      `timed out after ${timeoutMs / 1000} s waiting for ${what}` +
        (last ? ` (last sample: lag ${last.lag}, alerts ${JSON.stringify(last.alerts)})` : ""),
    );
  }
}
