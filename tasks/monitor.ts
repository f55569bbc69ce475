/**
 * `deno task monitor`: consumer lag per partition, under-replicated
 * partitions, throughput, the DLQ rate and alert states, refreshed live;
 * `deno task monitor rules` regenerates the Prometheus rules file.
 *
 * @module
 */
import { loadConfig } from "../lib/config.ts";
import { parseDuration } from "../lib/observe/mod.ts";
import { boundShutdown, defineCommands, runCommand, sleep, UsageError } from "../lib/util/mod.ts";
import {
  formatMonitorView,
  renderShopstreamRules,
  RULES_PATH,
  ShopstreamMonitor,
} from "../lib/shopstream/mod.ts";

/** The usage text. */
export const USAGE = `usage: deno task monitor [flags]
       deno task monitor rules [--check]

Live view of the pipeline: consumer lag per partition of the sink group,
under-replicated partitions, throughput (from the pipeline's /metrics when it
runs, else from Kafka end offsets), the DLQ rate and the alert rules' states.

  --once               one snapshot (two observations 1 s apart, for rates), then exit
  --interval S         seconds between refreshes (default 5; accepts 500ms, 1m)
  --iterations N       stop after N refreshes (default: until Ctrl-C)
  --group G            consumer group (default: the lake sink's, config clients.sinkGroup)
  --topic T            a topic the group reads; repeat for more (default: the four event topics)
  --dlq-topic T        dead-letter topic (default: config topics.deadLetter)
  --metrics-url URL    the pipeline's metrics page (default http://127.0.0.1:<METRICS_PORT>/metrics)
  --fail-on-alert      exit 1 as soon as an alert fires

rules                  write lib/shopstream/alerts.rules.yml from lib/shopstream/monitoring.ts
rules --check          exit 1 when the committed file differs from the generated one

Exit status: 0, 1 with --fail-on-alert when an alert fired (or rules --check
found a difference), 2 on a usage error.`;

type Options =
  | { command: "rules"; check: boolean }
  | {
    command: "watch";
    once: boolean;
    intervalMs: number;
    iterations?: number;
    group?: string;
    topics?: string[];
    dlqTopic?: string;
    metricsUrl?: string;
    failOnAlert: boolean;
  };

/** The command line of `deno task monitor`. */
export const CLI = defineCommands({
  name: "monitor",
  usage: USAGE,
  defaultCommand: "watch",
  commands: {
    watch: {
      flags: {
        once: { type: "boolean" },
        interval: { type: "string", default: "5" },
        iterations: { type: "int", min: 1 },
        group: { type: "string" },
        topic: { type: "string", multiple: true },
        "dlq-topic": { type: "string" },
        "metrics-url": { type: "string" },
        "fail-on-alert": { type: "boolean" },
      },
    },
    rules: { flags: { check: { type: "boolean" } } },
  },
});

function parse(args: string[]): Options {
  const parsed = CLI.parse(args);
  if (parsed.command === "rules") return { command: "rules", check: parsed.values.check };
  const { values } = parsed;
  let intervalMs: number;
  try {
    intervalMs = parseDuration(values.interval) * 1000;
  } catch (e) {
    throw new UsageError(`--interval: ${(e as Error).message}`);
  }
  if (!(intervalMs >= 100)) throw new UsageError("--interval must be at least 100ms");
  if (values["metrics-url"] !== undefined && !/^https?:\/\//.test(values["metrics-url"])) {
    throw new UsageError(`--metrics-url must be an http(s) URL, got "${values["metrics-url"]}"`);
  }
  return {
    command: "watch",
    once: values.once,
    intervalMs,
    iterations: values.iterations,
    group: values.group,
    topics: values.topic.length ? values.topic : undefined,
    dlqTopic: values["dlq-topic"],
    metricsUrl: values["metrics-url"],
    failOnAlert: values["fail-on-alert"],
  };
}

async function rules(check: boolean): Promise<number> {
  const generated = renderShopstreamRules();
  const path = RULES_PATH.pathname;
  if (check) {
    const committed = await Deno.readTextFile(RULES_PATH).catch(() => "");
    if (committed === generated) {
      console.log(`${path} is up to date`);
      return 0;
    }
    console.error(
      `${path} differs from lib/shopstream/monitoring.ts: run \`deno task monitor rules\``,
    );
    return 1;
  }
  await Deno.writeTextFile(RULES_PATH, generated);
  console.log(`wrote ${path}`);
  return 0;
}

async function watch(o: Extract<Options, { command: "watch" }>): Promise<number> {
  const monitor = new ShopstreamMonitor(loadConfig(), {
    group: o.group,
    topics: o.topics,
    dlqTopic: o.dlqTopic,
    metricsUrl: o.metricsUrl,
  });
  let stopped = false;
  const stop = () => void (stopped = true);
  const unbound = boundShutdown("monitor"); // an observation in flight may wait on a stuck broker
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  for (const s of signals) Deno.addSignalListener(s, stop);
  try {
    await monitor.connect();
    if (o.once) {
      const view = await monitor.once(Math.min(o.intervalMs, 1000));
      console.log(formatMonitorView(view));
      return o.failOnAlert && view.alerts.some((a) => a.state === "firing") ? 1 : 0;
    }
    const tty = Deno.stdout.isTerminal();
    for (let i = 1; !stopped; i++) {
      try {
        const view = await monitor.observe();
        const text = formatMonitorView(view);
        console.log(tty ? `\x1b[2J\x1b[H${text}` : `${i > 1 ? "\n" : ""}${text}`);
        if (o.failOnAlert && view.alerts.some((a) => a.state === "firing")) return 1;
      } catch (e) {
        // A monitor keeps watching while the cluster is in trouble.
        console.error(`observation ${i} failed: ${(e as Error).message}`);
      }
      if (o.iterations !== undefined && i >= o.iterations) break;
      for (let slept = 0; slept < o.intervalMs && !stopped; slept += 100) await sleep(100);
    }
    return 0;
  } catch (e) {
    console.error(
      `monitor: ${(e as Error).message}\n` +
        "Is the stack up? `deno task health` checks it, `deno task stack up` starts it.",
    );
    return 1;
  } finally {
    for (const s of signals) Deno.removeSignalListener(s, stop);
    await monitor.disconnect().catch(() => {});
    unbound();
  }
}

if (import.meta.main) {
  Deno.exit(
    await runCommand(
      CLI.name,
      CLI.usage,
      Deno.args,
      parse,
      (o) => o.command === "rules" ? rules(o.check) : watch(o),
    ),
  );
}
