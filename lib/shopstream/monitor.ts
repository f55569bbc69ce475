/**
 * The live ShopStream monitor behind `deno task monitor`: each observation
 * reads the facts from Kafka (lag per partition of the sink group,
 * under-replicated partitions, records appended per topic), scrapes the
 * running pipeline's `/metrics` when it answers, computes throughput and the
 * DLQ rate against the previous observation, and evaluates the alert rules.
 * Lifecycle: `connect()`, `observe()` as often as wanted, `disconnect()`.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { formatMonitorView, ShopstreamMonitor } from "./monitor.ts";
 * const monitor = new ShopstreamMonitor(loadConfig());
 * await monitor.connect();
 * console.log(formatMonitorView(await monitor.once(1000)));
 * await monitor.disconnect();
 * ```
 *
 * @module
 */
import type { Config } from "../config.ts";
import { ClusterAdmin } from "../kafka/admin.ts";
import { createKafka } from "../kafka/client.ts";
import {
  AlertEvaluator,
  type AlertRule,
  type AlertState,
  evaluateExpr,
  type Snapshot,
} from "../observe/alerts.ts";
import { sleep } from "../util/deadline.ts";
import { parseSamples, type Sample } from "../observe/prometheus.ts";
import { formatTable } from "../util/table.ts";
import {
  defaultWatch,
  type KafkaFacts,
  kafkaFactSamples,
  METRIC,
  readKafkaFacts,
  shopstreamRules,
  type WatchOptions,
} from "./monitoring.ts";

/** Options of {@linkcode ShopstreamMonitor}; defaults come from the config. */
export interface MonitorOptions extends Partial<WatchOptions> {
  /** The pipeline's metrics page; default `http://127.0.0.1:<metrics.port>/metrics`. */
  metricsUrl?: string;
  /** Rules to evaluate; default {@linkcode shopstreamRules}. */
  rules?: AlertRule[];
}

/** Per-topic rates between two observations, in records per second. */
export interface TopicRate {
  /** The topic. */
  topic: string;
  /** From Kafka's log-end offsets. */
  appended: number;
  /** From the pipeline's `shopstream_produced_total`, when scraped. */
  produced?: number;
  /** From the pipeline's `shopstream_sink_records_total`, when scraped. */
  sunk?: number;
}

/** What the pipeline's metrics page said. */
export interface ScrapeResult {
  /** The metrics URL scraped. */
  url: string;
  /** Whether the scrape succeeded. */
  ok: boolean;
  /** Why it could not be scraped. */
  error?: string;
  /** The samples read; empty when the scrape failed. */
  samples: Sample[];
}

/** One observation, ready to print. */
export interface MonitorView {
  /** When it was taken, epoch ms. */
  timeMs: number;
  /** What Kafka said. */
  facts: KafkaFacts;
  /** What the pipeline's metrics page said. */
  scrape: ScrapeResult;
  /** Rates since the previous observation; undefined on the first. */
  rates?: { seconds: number; topics: TopicRate[]; dlqPerSecond: number };
  /** The watched topics (the group's). */
  topics: string[];
  /** The dead-letter topic. */
  dlqTopic: string;
  /** Records in the dead-letter topic (sum of its end offsets). */
  dlqTotal: number;
  /** Listed alert instances (firing, pending, recently resolved). */
  alerts: AlertState[];
  /** Every rule with its worst current state (`ok` when nothing is pending or firing). */
  rules: { alert: string; severity: string; state: "ok" | "pending" | "firing" }[];
}

/** Reads the pipeline's `/metrics`; an unreachable page is a result, not an error. */
async function scrape(url: string, timeoutMs = 2000): Promise<ScrapeResult> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    const body = await res.text();
    if (!res.ok) return { url, ok: false, error: `HTTP ${res.status}`, samples: [] };
    return { url, ok: true, samples: parseSamples(body) };
  } catch (e) {
    const cause = (e as Error).cause;
    const msg = `${(e as Error).message}${cause instanceof Error ? `: ${cause.message}` : ""}`;
    return {
      url,
      ok: false,
      error: /refused/i.test(msg) ? "not running" : `not reachable (${msg.split("\n")[0]})`,
      samples: [],
    };
  }
}

/** Sum-by-topic rates of `metric` between the two snapshots (all of them, no threshold). */
function ratesByTopic(metric: string, prev: Snapshot, now: Snapshot): Map<string, number> {
  const seconds = Math.ceil((now.timeMs - prev.timeMs) / 1000) + 1;
  const rows = evaluateExpr({
    metric,
    range: { fn: "rate", windowSeconds: seconds },
    aggregate: { op: "sum", by: ["topic"] },
    op: ">=",
    threshold: -Infinity,
  }, [prev, now]);
  return new Map(rows.map((r) => [r.labels.topic, r.value]));
}

/**
 * The monitor. Kafka facts come from Kafka; the pipeline's own counters
 * (produced, sunk, flush failures, ...) from its `/metrics` when it runs.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { ShopstreamMonitor } from "./monitor.ts";
 * const monitor = new ShopstreamMonitor(loadConfig(), { group: "my-group", topics: ["my-topic"] });
 * await monitor.connect();
 * const view = await monitor.observe();
 * console.log(view.facts.lag);
 * await monitor.disconnect();
 * ```
 */
export class ShopstreamMonitor {
  /** The group and topics watched. */
  readonly watch: WatchOptions;
  /** The pipeline's `/metrics` URL. */
  readonly metricsUrl: string;
  readonly #admin: ClusterAdmin;
  readonly #alerts: AlertEvaluator;
  #previous?: Snapshot;

  /** A monitor for `config`'s pipeline; call `connect()` before `observe()`. */
  constructor(config: Config, options: MonitorOptions = {}) {
    const d = defaultWatch(config);
    this.watch = {
      group: options.group ?? d.group,
      topics: options.topics ?? d.topics,
      dlqTopic: options.dlqTopic ?? d.dlqTopic,
    };
    this.metricsUrl = options.metricsUrl ?? `http://127.0.0.1:${config.metrics.port}/metrics`;
    this.#admin = new ClusterAdmin(
      createKafka(config, { clientId: `${config.clients.admin}-monitor` }),
    );
    this.#alerts = new AlertEvaluator(options.rules ?? shopstreamRules(this.watch.dlqTopic));
  }

  /** Connects the admin client. */
  async connect(): Promise<void> {
    await this.#admin.connect();
  }

  /** Disconnects the admin client. */
  async disconnect(): Promise<void> {
    await this.#admin.disconnect();
  }

  /** One observation: Kafka facts, the scrape, rates since the last one, alerts. */
  async observe(): Promise<MonitorView> {
    const [facts, scraped] = await Promise.all([
      readKafkaFacts(this.#admin, this.watch),
      scrape(this.metricsUrl),
    ]);
    const own = kafkaFactSamples(facts);
    const ownNames = new Set(own.map((s) => s.name));
    let timeMs = facts.timeMs;
    if (this.#previous && timeMs <= this.#previous.timeMs) timeMs = this.#previous.timeMs + 1;
    const snapshot: Snapshot = {
      timeMs,
      samples: [...scraped.samples.filter((s) => !ownNames.has(s.name)), ...own],
    };
    const alerts = this.#alerts.evaluate(snapshot);
    const prev = this.#previous;
    this.#previous = snapshot;
    let rates: MonitorView["rates"];
    if (prev) {
      const appended = ratesByTopic(METRIC.topicRecords, prev, snapshot);
      const produced = ratesByTopic(METRIC.produced, prev, snapshot);
      const sunk = ratesByTopic(METRIC.sinkRecords, prev, snapshot);
      rates = {
        seconds: (snapshot.timeMs - prev.timeMs) / 1000,
        topics: this.watch.topics.map((topic) => ({
          topic,
          appended: appended.get(topic) ?? 0,
          produced: produced.get(topic),
          sunk: sunk.get(topic),
        })),
        dlqPerSecond: appended.get(this.watch.dlqTopic) ?? 0,
      };
    }
    const rules = this.#alerts.rules.map((r) => {
      const mine = alerts.filter((a) => a.alert === r.alert);
      const state = mine.some((a) => a.state === "firing")
        ? "firing" as const
        : mine.some((a) => a.state === "pending")
        ? "pending" as const
        : "ok" as const;
      return { alert: r.alert, severity: r.severity, state };
    });
    return {
      timeMs,
      facts,
      scrape: scraped,
      rates,
      topics: [...this.watch.topics],
      dlqTopic: this.watch.dlqTopic,
      dlqTotal: facts.topicRecords[this.watch.dlqTopic] ?? 0,
      alerts,
      rules,
    };
  }

  /**
   * One snapshot with rates: observes, waits `spanMs`, observes again and
   * returns the second view.
   */
  async once(spanMs = 1000): Promise<MonitorView> {
    await this.observe();
    await sleep(spanMs);
    return await this.observe();
  }
}

function rate(n: number | undefined): string {
  if (n === undefined) return "-";
  return n >= 100 ? String(Math.round(n)) : n.toFixed(1);
}

function labelText(labels: Record<string, string>): string {
  return Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(",");
}

/**
 * The view as text: header, lag per partition, under-replicated partitions,
 * throughput and DLQ rate, pipeline counters, alerts.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { formatMonitorView, ShopstreamMonitor } from "./monitor.ts";
 * const monitor = new ShopstreamMonitor(loadConfig());
 * await monitor.connect();
 * console.log(formatMonitorView(await monitor.observe()));
 * await monitor.disconnect();
 * ```
 */
export function formatMonitorView(view: MonitorView): string {
  const f = view.facts;
  const out: string[] = [];
  const when = new Date(view.timeMs).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
  out.push(
    `ShopStream monitor  ${when}  brokers ${f.brokers}  partitions ${f.partitions}  ` +
      `under-replicated ${f.underReplicated.length}`,
  );
  out.push(
    `pipeline metrics ${view.scrape.url}: ${
      view.scrape.ok ? "scraped" : `${view.scrape.error} (throughput from Kafka end offsets)`
    }`,
  );
  const totalLag = f.lag.reduce((a, l) => a + l.lag, 0);
  out.push("", `consumer lag of group ${f.group}: ${totalLag} records`);
  if (f.lag.length) {
    out.push(formatTable(
      ["topic", "partition", "committed", "end", "lag"],
      f.lag.map((l) => [l.topic, l.partition, l.committed ?? "-", l.end, l.lag]),
    ));
  }
  if (f.missingTopics.length) out.push(`topics not created yet: ${f.missingTopics.join(", ")}`);
  if (f.underReplicated.length) {
    const watched = new Set([...view.topics, view.dlqTopic]);
    const mine = f.underReplicated.filter((p) => watched.has(p.topic));
    const others = new Map<string, number>();
    for (const p of f.underReplicated) {
      if (!watched.has(p.topic)) others.set(p.topic, (others.get(p.topic) ?? 0) + 1);
    }
    out.push("", `under-replicated partitions: ${f.underReplicated.length}`);
    if (mine.length) {
      out.push(formatTable(
        ["topic", "partition", "leader", "replicas", "isr"],
        mine.map((p) => [
          p.topic,
          p.partition,
          p.leader < 0 ? "none" : p.leader,
          p.replicas.join(","),
          p.isr.join(","),
        ]),
      ));
    }
    if (others.size) {
      const list = [...others].sort((a, b) => b[1] - a[1]);
      out.push(
        `in other topics: ${list.slice(0, 5).map(([t, n]) => `${t} (${n})`).join(", ")}${
          list.length > 5 ? `, and ${list.length - 5} more topics` : ""
        }`,
      );
    }
  }
  out.push("");
  if (view.rates) {
    out.push(`throughput over ${view.rates.seconds.toFixed(1)} s (records/s)`);
    out.push(formatTable(
      ["topic", "appended/s", "produced/s", "sunk/s"],
      view.rates.topics.map((t) => [t.topic, rate(t.appended), rate(t.produced), rate(t.sunk)]),
    ));
    out.push(
      `dead letters: ${
        rate(view.rates.dlqPerSecond)
      }/s into ${view.dlqTopic} (${view.dlqTotal} in total)`,
    );
  } else {
    out.push(
      `throughput: after the next refresh; dead letters in ${view.dlqTopic}: ${view.dlqTotal}`,
    );
  }
  if (view.scrape.ok) {
    const pick = (name: string) =>
      view.scrape.samples.filter((s) => s.name === name).reduce((a, s) => a + s.value, 0);
    out.push(
      `pipeline: produced ${pick(METRIC.produced)}, sunk ${pick(METRIC.sinkRecords)}, ` +
        `sink dead letters ${pick(METRIC.sinkDeadLetters)}, buffered ${
          pick(METRIC.sinkBuffered)
        }, ` +
        `flushes ${pick(METRIC.sinkFlushes)}, flush failures ${pick(METRIC.sinkFlushFailures)}`,
    );
    const waiting = pick(METRIC.sinkWaitingForStore) > 0;
    out.push(
      `sink consumer restarts ${pick(METRIC.sinkConsumerRestarts)}` +
        (waiting ? ", WAITING for the object store (uploads retried)" : ""),
    );
  }
  out.push("", "alerts");
  out.push(formatTable(
    ["alert", "severity", "state"],
    view.rules.map((r) => [r.alert, r.severity, r.state === "ok" ? "ok" : r.state.toUpperCase()]),
  ));
  if (view.alerts.length) {
    out.push("");
    out.push(formatTable(
      ["alert", "state", "labels", "value", "summary", "runbook"],
      view.alerts.map((a) => [
        a.alert,
        a.state.toUpperCase(),
        labelText(a.labels) || "-",
        Number.isInteger(a.value) ? String(a.value) : rate(a.value),
        a.summary,
        a.runbook,
      ]),
    ));
  }
  return out.join("\n");
}
