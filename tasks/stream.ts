/**
 * `deno task stream`: real-time stream processing beside the batch
 * pipeline. The stream processor (event-time windows per region and minute,
 * a watermark, late events to their own topic, orders joined with their
 * payments, exactly-once results in Kafka) runs beside the lake sink while
 * the pipeline produces; when the run ends every window closes, and the
 * minute windows rolled up to hours must equal batch gold to the cent.
 * `--only` runs the stream processor alone, resuming from its committed
 * state (kill it with `kill -9` and run it again: nothing is counted twice).
 *
 * @example
 * ```sh
 * deno task stream                           # pipeline + stream processor, then batch vs stream
 * deno task stream --events 50000 --step-ms 300 --window 5m
 * deno task stream --only                    # the processor alone, until caught up
 * deno task stream --only --follow           # ... until Ctrl-C
 * ```
 *
 * @module
 */
import { loadConfig } from "../lib/config.ts";
import { createKafka } from "../lib/kafka/mod.ts";
import { LakeStore } from "../lib/lake/mod.ts";
import { checkHealth } from "../lib/observe/mod.ts";
import {
  batchVsStream,
  compareWithGold,
  decodeWindow,
  ensureTopics,
  formatMoney,
  formatPipelineSummary,
  formatProgress,
  formatStreamProgress,
  formatStreamSummary,
  LakeReader,
  latestByKey,
  ORDERS_HOURLY,
  Pipeline,
  readTopic,
  rollupHourly,
  STREAM_DEFAULTS,
  StreamProcessor,
  topicsUnder,
} from "../lib/shopstream/mod.ts";
import { ClusterAdmin } from "../lib/kafka/mod.ts";
import { openStack } from "../lib/stack/mod.ts";
import { defineCli, formatTable, runCommand, UsageError } from "../lib/util/mod.ts";

/** The usage text `--help` prints. */
export const USAGE = `usage: deno task stream [flags]

Runs the ShopStream pipeline (producer, lake sink, silver, gold) with the stream processor beside
the sink: tumbling event-time windows of orders per region (orders, revenue, average basket, paid
orders), a watermark (slowest partition's time minus the allowed lateness), late events to a topic
of their own, orders joined with their payments within a bound, and exactly-once results (one
Kafka transaction per input batch, offsets included). When the run ends every window closes; the
minute windows rolled up to hours must equal batch gold to the cent.

  --events N        records to produce (default 200000)
  --seed N          generator seed (default 42)
  --step-ms N       mean simulated ms between records (default 36; larger spans more hours)
  --window D        tumbling window size, dividing an hour (default 1m)
  --lateness D      allowed lateness (default ${STREAM_DEFAULTS.latenessMs / 1000}s)
  --bound D         join bound: a payment this long after its order still pays it (default 1m)
  --base NAME       use the topics NAME.orders, NAME.payments, ... (default: the configured ones)
  --only            only the stream processor, over the topics as they are: rebuild its state from
                    its result topics and committed offsets, process until caught up with the
                    topics' end, close every window, print its summary
  --follow          with --only: go on until Ctrl-C (windows close as the watermark moves; they
                    stay open for the next run)
  --progress-ms N   a progress line every N ms (default 1000 with --only, else 5000)
  --help            this text

Durations: 500ms, 10s, 1m. Exit status 0 when the stream equals gold (and, with --only, when the
processor did not fail), 1 otherwise, 2 on a usage error.`;

/** Parsed flags of `deno task stream`. */
export interface StreamFlags {
  /** Records to produce. */
  events: number;
  /** Generator seed. */
  seed: number;
  /** Mean simulated ms between records (undefined: the generator's default). */
  stepMs?: number;
  /** Window size, ms. */
  windowMs: number;
  /** Allowed lateness, ms. */
  latenessMs: number;
  /** Join bound, ms. */
  joinBoundMs: number;
  /** Topic base name (undefined: the configured topics). */
  base?: string;
  /** Only the stream processor. */
  only: boolean;
  /** With `only`: until Ctrl-C. */
  follow: boolean;
  /** Milliseconds between progress lines. */
  progressMs: number;
}

/**
 * `500ms`, `10s`, `1m` or `1h` in milliseconds.
 *
 * @example
 * ```ts
 * import { durationFlag } from "./stream.ts";
 * console.log(durationFlag("90s", "--window", 0)); // 90000
 * ```
 */
export function durationFlag(text: string | undefined, flag: string, fallback: number): number {
  if (text === undefined) return fallback;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text.trim());
  if (!m) throw new UsageError(`${flag} ${text}: use e.g. 500ms, 10s or 1m`);
  return Math.round(Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2]]!);
}

/** The command line of `deno task stream`. */
export const CLI = defineCli({
  name: "stream",
  usage: USAGE,
  flags: {
    events: { type: "int", min: 1 },
    seed: { type: "int", min: 0 },
    "step-ms": { type: "int", min: 1 },
    window: { type: "string" },
    lateness: { type: "string" },
    bound: { type: "string" },
    base: { type: "string" },
    only: { type: "boolean" },
    follow: { type: "boolean" },
    "progress-ms": { type: "int", min: 50 },
  },
});

/**
 * Parses the flags; throws {@linkcode UsageError} on mistakes.
 *
 * @example
 * ```ts
 * import { parseStreamArgs } from "./stream.ts";
 * console.log(parseStreamArgs(["--window", "5m"]).windowMs); // 300000
 * ```
 */
export function parseStreamArgs(args: string[]): StreamFlags {
  const { values: v } = CLI.parse(args);
  const { only, follow } = v;
  if (follow && !only) throw new UsageError("--follow goes with --only");
  if (only && (v.events ?? v.seed ?? v["step-ms"]) !== undefined) {
    throw new UsageError("--only produces nothing: leave out --events, --seed and --step-ms");
  }
  const windowMs = durationFlag(v.window, "--window", STREAM_DEFAULTS.windowMs);
  if (windowMs <= 0 || 3_600_000 % windowMs !== 0) {
    throw new UsageError(`--window ${v.window}: the window size must divide an hour (e.g. 1m, 5m)`);
  }
  return {
    events: v.events ?? 200_000,
    seed: v.seed ?? 42,
    stepMs: v["step-ms"],
    windowMs,
    latenessMs: durationFlag(v.lateness, "--lateness", STREAM_DEFAULTS.latenessMs),
    joinBoundMs: durationFlag(v.bound, "--bound", STREAM_DEFAULTS.joinBoundMs),
    base: v.base,
    only,
    follow,
    progressMs: v["progress-ms"] ?? (only ? 1000 : 5000),
  };
}

/** The processor alone: resume, process until caught up (or Ctrl-C with --follow). */
async function runOnly(processor: StreamProcessor, flags: StreamFlags): Promise<number> {
  const stopped = Promise.withResolvers<void>();
  const onSignal = () => stopped.resolve();
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  for (const s of signals) Deno.addSignalListener(s, onSignal);
  try {
    await processor.start();
    if (flags.follow) {
      await stopped.promise;
      console.log("- stopping: the open windows stay open for the next run");
      await processor.stop();
    } else {
      const caughtUp = processor.drain(600_000).then(() => true);
      if (await Promise.race([caughtUp, stopped.promise.then(() => false)])) {
        await processor.finish();
      } else {
        console.log("- stopping before the end: the open windows stay open for the next run");
        await processor.stop();
      }
    }
  } catch (e) {
    await processor.stop().catch(() => {});
    console.log(`\n${formatStreamSummary(processor.snapshot())}`);
    console.error(`stream: ${(e as Error).message}`);
    return 1;
  } finally {
    for (const s of signals) Deno.removeSignalListener(s, onSignal);
  }
  console.log(`\n${formatStreamSummary(processor.snapshot())}`);
  return 0;
}

/** Pipeline and processor side by side, then batch vs stream. */
async function runBeside(processor: StreamProcessor, flags: StreamFlags): Promise<number> {
  const config = loadConfig();
  const topics = processor.topics;
  await processor.start();
  const pipeline = new Pipeline({
    config,
    topics,
    groupId: flags.base ? `${flags.base}.lake-sink` : undefined,
    events: flags.events,
    seed: flags.seed,
    meanStepMs: flags.stepMs,
    log: (line) => console.log(`- ${line}`),
    progressMs: flags.progressMs,
    onProgress: (p) => {
      console.log(formatProgress(p));
      console.log(formatStreamProgress(processor.snapshot(), p.elapsedMs));
    },
  });
  let summary;
  try {
    summary = await pipeline.run();
    console.log("- stream: catching up, then closing every window (end of input)");
    await processor.drain();
    await processor.finish();
  } catch (e) {
    await processor.stop().catch(() => {});
    throw e;
  }
  console.log(`\n${formatPipelineSummary(summary)}\n`);
  console.log(formatStreamSummary(processor.snapshot()));

  const kafka = createKafka(config);
  const windows = [...latestByKey(await readTopic(kafka, processor.output.windows)).values()]
    .map(decodeWindow);
  const open = windows.filter((w) => !w.final).length;
  const hourly = rollupHourly(windows);
  const gold = await new LakeReader(LakeStore.fromConfig(config))
    .rows("gold", `${topics.orders}/${ORDERS_HOURLY}`);
  const problems = compareWithGold(gold, hourly);
  const eur = (v: bigint | null) => (v === null ? "" : formatMoney(v, "EUR"));
  console.log(
    `\nbatch (gold, from the lake) vs stream (${windows.length} windows read back with ` +
      `read_committed, rolled up to hours)\n`,
  );
  console.log(formatTable(
    [
      "region",
      "hour (UTC)",
      "batch orders",
      "stream orders",
      "batch revenue",
      "stream revenue",
      "equal",
    ],
    batchVsStream(gold, hourly).map((r) => [
      r.region,
      r.hour,
      r.batchOrders,
      r.streamOrders,
      eur(r.batchEurMinor),
      eur(r.streamEurMinor),
      r.equal ? "yes" : "NO",
    ]),
  ));
  const ok = summary.ok && problems.length === 0 && open === 0;
  console.log(
    ok
      ? `\nconsistent: every window closed; the stream equals batch gold to the cent (${gold.length} region-hours)`
      : `\nINCONSISTENT: ${open} windows still open; ${problems.length} differences\n` +
        problems.slice(0, 10).join("\n"),
  );
  return ok ? 0 : 1;
}

async function run(flags: StreamFlags): Promise<number> {
  const config = loadConfig();
  const health = await checkHealth(config);
  if (!health.ok) {
    console.log("- the stack is not (all) up: starting it");
    const stack = await openStack(config, { log: (l) => console.log(`  ${l}`) });
    await stack.up();
  }
  const topics = flags.base ? topicsUnder(flags.base) : config.topics;
  const started = performance.now();
  const processor = new StreamProcessor({
    config,
    topics,
    windowMs: flags.windowMs,
    latenessMs: flags.latenessMs,
    joinBoundMs: flags.joinBoundMs,
    fresh: !flags.only,
    log: (line) => console.log(`- stream: ${line}`),
  });
  if (!flags.only) {
    const admin = new ClusterAdmin(createKafka(config));
    await admin.connect();
    try {
      await ensureTopics(admin, config, topics);
    } finally {
      await admin.disconnect();
    }
    return await runBeside(processor, flags);
  }
  const ticker = setInterval(
    () => console.log(formatStreamProgress(processor.snapshot(), performance.now() - started)),
    flags.progressMs,
  );
  try {
    return await runOnly(processor, flags);
  } finally {
    clearInterval(ticker);
  }
}

if (import.meta.main) {
  Deno.exit(await runCommand(CLI.name, CLI.usage, Deno.args, parseStreamArgs, run));
}
