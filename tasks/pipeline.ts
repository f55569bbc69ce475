/**
 * `deno task pipeline`: the ShopStream pipeline, headless. Brings the stack
 * up if needed, then runs generator -> producer -> Kafka -> lake sink ->
 * silver -> gold for a bounded run, reads the lake back, prints a summary and
 * exits 0 when the lake holds exactly what the generator tallied.
 *
 * @example
 * ```sh
 * deno task pipeline                        # the default run (about a minute)
 * deno task pipeline --events 50000 --seed 7
 * deno task pipeline --duration 30s --rate 5000
 * deno task pipeline --follow               # until Ctrl-C, with live progress
 * ```
 *
 * @module
 */
import { loadConfig } from "../lib/config.ts";
import { defineCli, runCommand, UsageError } from "../lib/util/mod.ts";
import { checkHealth } from "../lib/observe/mod.ts";
import { openStack } from "../lib/stack/mod.ts";
import {
  DEFAULT_PIPELINE,
  formatPipelineSummary,
  formatProgress,
  Pipeline,
  PipelineAbortedError,
  type PipelineOptions,
  type SchemaPlan,
} from "../lib/shopstream/mod.ts";

/** Records of the default run. */
export const DEFAULT_EVENTS = DEFAULT_PIPELINE.events;

/** After a stop signal, how long the run may take to finish before it is aborted, ms. */
export const STOP_GRACE_MS = 5000;

/** After a stop signal, when the process exits (status 1) whatever still runs, ms. */
export const STOP_LIMIT_MS = 9500;

/** The usage text `--help` prints. */
export const USAGE = `usage: deno task pipeline [flags]

Brings the stack up if needed, then runs the ShopStream pipeline: the seeded generator, the
producer service (Avro via the registry, idempotent, acks=all), the lake sink (bronze Parquet in
MinIO), silver and gold; reads the lake back and checks it against the generator's own tally.
Prints produced, consumed, DLQ, files and rows per layer, end lag and throughput.

  --events N          records to produce (default ${DEFAULT_EVENTS})
  --duration D        or: produce for D (e.g. 60s, 2m, 500ms)
  --rate N            records per second to aim at (default ${DEFAULT_PIPELINE.rate}: as fast as possible)
  --seed N            generator seed (default ${DEFAULT_PIPELINE.seed}): same seed, same events
  --malformed F       share of malformed records for the DLQ (default ${DEFAULT_PIPELINE.malformedShare})
  --duplicates F      share of duplicated events (default ${DEFAULT_PIPELINE.duplicateShare})
  --schema S          v1, v2, or v2-from=N (default: v2 from the middle of the run)
  --follow            run until Ctrl-C with live progress, then drain and check
  --keep              keep the lake and the sink group's position (default: a fresh run)
  --help              this text

Ctrl-C (SIGINT) or SIGTERM stops producing, drains the sink, then builds silver and gold
and checks; a run that has not finished ${STOP_GRACE_MS / 1000} s after the signal (or at a second
signal) is aborted: nothing more is committed, what was not uploaded is read again by the next
run. The process ends within ${STOP_LIMIT_MS / 1000} s of the first signal.

Exit status 0 on a consistent run, 1 when a check failed or the run was aborted, 2 on a usage
error.`;

/** Parsed flags of `deno task pipeline`. */
export type PipelineFlags = Omit<PipelineOptions, "config"> & { follow: boolean };

/**
 * Parses `60s`, `2m`, `500ms` or a bare number of seconds into milliseconds.
 *
 * @example
 * ```ts
 * import { parseDuration } from "./pipeline.ts";
 * console.log(parseDuration("60s"), parseDuration("2m"), parseDuration("250ms")); // 60000 120000 250
 * ```
 */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new UsageError(`--duration ${text}: use e.g. 60s, 2m or 500ms`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] ?? "s"]!;
  return Math.round(Number(m[1]) * unit);
}

function schemaPlan(text: string | undefined): SchemaPlan | undefined {
  if (text === undefined) return undefined;
  if (text === "v1" || text === "v2") return text;
  const m = /^v2-from=(\d+)$/.exec(text);
  if (!m) throw new UsageError(`--schema ${text}: use v1, v2 or v2-from=N`);
  return { v2From: Number(m[1]) };
}

/** The command line of `deno task pipeline`. */
export const CLI = defineCli({
  name: "pipeline",
  usage: USAGE,
  flags: {
    events: { type: "int", min: 1 },
    duration: { type: "string" },
    rate: { type: "number", min: 0 },
    seed: { type: "int", min: 0 },
    malformed: { type: "number", min: 0, max: 1 },
    duplicates: { type: "number", min: 0, max: 1 },
    schema: { type: "string" },
    follow: { type: "boolean" },
    keep: { type: "boolean" },
  },
});

/**
 * Parses the flags; throws {@linkcode UsageError} on mistakes.
 *
 * @example
 * ```ts
 * import { parsePipelineArgs } from "./pipeline.ts";
 * console.log(parsePipelineArgs(["--events", "1000", "--seed", "7"]).events); // 1000
 * ```
 */
export function parsePipelineArgs(args: string[]): PipelineFlags {
  const { values: v } = CLI.parse(args);
  const follow = v.follow;
  if ([v.events, v.duration].filter((x) => x !== undefined).length > 1) {
    throw new UsageError("give --events or --duration, not both");
  }
  if (follow && (v.events !== undefined || v.duration !== undefined)) {
    throw new UsageError("--follow runs until Ctrl-C: leave out --events and --duration");
  }
  const durationMs = v.duration === undefined ? undefined : parseDuration(v.duration);
  const events = v.events ?? (durationMs === undefined && !follow ? DEFAULT_EVENTS : undefined);
  return {
    events,
    durationMs,
    rate: v.rate,
    seed: v.seed,
    malformedShare: v.malformed,
    duplicateShare: v.duplicates,
    schema: schemaPlan(v.schema),
    fresh: !v.keep,
    follow,
  };
}

async function run(flags: PipelineFlags): Promise<number> {
  const config = loadConfig();
  const health = await checkHealth(config);
  if (!health.ok) {
    console.log("- the stack is not (all) up: starting it");
    const stack = await openStack(config, { log: (l) => console.log(`  ${l}`) });
    await stack.up();
  }
  const { follow, ...options } = flags;
  const pipeline = new Pipeline({
    config,
    ...options,
    log: (line) => console.log(`- ${line}`),
    onProgress: (p) => console.log(formatProgress(p)),
    progressMs: follow ? 1000 : 5000,
  });
  const timers: ReturnType<typeof setTimeout>[] = [];
  const onSignal = () => {
    if (timers.length > 0) {
      pipeline.abort("a second stop signal");
      return;
    }
    console.log(
      "\n- stopping: draining the sink, then silver, gold and the checks " +
        `(aborted if not done in ${STOP_GRACE_MS / 1000} s; a second Ctrl-C aborts now)`,
    );
    pipeline.stop();
    timers.push(setTimeout(() => {
      pipeline.abort(
        `not finished ${STOP_GRACE_MS / 1000} s after the stop signal ` +
          "(the sink waits for MinIO or Kafka? see deno task health)",
      );
    }, STOP_GRACE_MS));
    timers.push(setTimeout(() => {
      console.error(`- exiting: still running ${STOP_LIMIT_MS / 1000} s after the stop signal`);
      Deno.exit(1);
    }, STOP_LIMIT_MS));
  };
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  for (const s of signals) Deno.addSignalListener(s, onSignal);
  try {
    const summary = await pipeline.run();
    console.log(`\n${formatPipelineSummary(summary)}`);
    return summary.ok ? 0 : 1;
  } catch (e) {
    if (!(e instanceof PipelineAbortedError)) throw e;
    console.error(
      `- ${e.message}\n- nothing past what reached the lake was committed: ` +
        "the next run reads the rest again",
    );
    return 1;
  } finally {
    for (const t of timers) clearTimeout(t);
    for (const s of signals) Deno.removeSignalListener(s, onSignal);
  }
}

if (import.meta.main) {
  Deno.exit(await runCommand(CLI.name, CLI.usage, Deno.args, parsePipelineArgs, run));
}
