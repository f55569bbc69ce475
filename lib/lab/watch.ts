/**
 * A scenario's own observability, the same pieces the pipeline runs: a
 * metrics registry with the ShopStream metric names, the Kafka facts (lag,
 * under-replicated partitions, end offsets) read on every scrape, a
 * `/metrics` endpoint on a free port, the monitor (with the lab's alert
 * bounds) pointed at that endpoint, and a sampler recording the run.
 *
 * @example
 * ```ts
 * import type { LabScenario } from "./scenario.ts";
 * import { openWatch } from "./watch.ts";
 * declare const scenario: LabScenario;
 * const watch = await openWatch(scenario, { group: "g", topics: ["t"], dlqTopic: "t.dlq" });
 * console.log(`${watch.url}/metrics`);
 * ```
 *
 * @module
 */
import { MetricsServer } from "../observe/metrics_server.ts";
import { MetricsRegistry } from "../observe/prometheus.ts";
import { ShopstreamMonitor } from "../shopstream/monitor.ts";
import {
  exposeKafkaFacts,
  registerShopstreamMetrics,
  type ShopstreamMetrics,
  type WatchOptions,
} from "../shopstream/monitoring.ts";
import { LabSampler } from "./sampler.ts";
import { labRules, type LabScenario } from "./scenario.ts";

/**
 * Runs `make` with kafkajs's own log off for the clients it creates (unless
 * `KAFKAJS_LOG_LEVEL` says otherwise): the lab's monitor keeps observing a
 * cluster the lab broke on purpose, and its connection errors to the broker
 * it killed are the expected result, not news (the fault drills do the same).
 */
function quietly<T>(make: () => T): T {
  const set = Deno.env.get("KAFKAJS_LOG_LEVEL") === undefined;
  if (set) Deno.env.set("KAFKAJS_LOG_LEVEL", "nothing");
  try {
    return make();
  } finally {
    if (set) Deno.env.delete("KAFKAJS_LOG_LEVEL");
  }
}

/** What {@linkcode openWatch} started; the scenario stops it on close. */
export interface LabWatch {
  /** The group and topics watched. */
  readonly watch: WatchOptions;
  /** The registry behind `/metrics`. */
  readonly registry: MetricsRegistry;
  /** The ShopStream metrics registered on it. */
  readonly metrics: ShopstreamMetrics;
  /** `http://127.0.0.1:<port>`: `/metrics` and `/health`. */
  readonly url: string;
  /** The lab's monitor (it keeps the alert states between observations). */
  readonly monitor: ShopstreamMonitor;
  /** One sample per second of the run. */
  readonly sampler: LabSampler;
}

/**
 * Starts the metrics endpoint, the monitor and the sampler for `scenario`;
 * `onScrape` copies the scenario's own counters into the metrics before
 * each scrape. Everything is stopped when the scenario closes.
 */
export async function openWatch(
  scenario: LabScenario,
  watch: WatchOptions,
  onScrape?: (metrics: ShopstreamMetrics) => void,
): Promise<LabWatch> {
  const registry = new MetricsRegistry();
  const metrics = registerShopstreamMetrics(registry);
  exposeKafkaFacts(registry, metrics, scenario.lab.admin, watch, { onError: () => {} });
  if (onScrape) registry.onScrape(() => onScrape(metrics));
  const server = new MetricsServer(registry, { port: 0 });
  await server.start();
  scenario.defer("stop the metrics endpoint", () => server.stop());
  const monitor = quietly(() =>
    new ShopstreamMonitor(scenario.lab.config, {
      ...watch,
      metricsUrl: `${server.url}/metrics`,
      rules: labRules(watch.dlqTopic),
    })
  );
  await monitor.connect();
  scenario.defer("disconnect the monitor", () => monitor.disconnect());
  const sampler = new LabSampler(monitor, scenario.startedAt);
  sampler.start();
  scenario.defer("stop the sampler", () => sampler.stop());
  return { watch, registry, metrics, url: server.url, monitor, sampler };
}
