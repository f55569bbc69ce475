/**
 * `deno task bench sink [flags]`: the lake sink alone: records/s from Kafka
 * to bronze, flush latency and peak resident memory at a batching policy
 * (default: the sink's), then CPU per record by component and the limit it
 * implies. Fills fresh topics first; deletes them afterwards
 * unless `--keep`. The sink runs in a child process of its own, under the
 * heap limits of `deno task pipeline`. Logic: lib/bench/sink.ts and
 * lib/bench/sink_child.ts.
 *
 * @example
 * ```sh
 * deno task bench sink --events 200000
 * ```
 *
 * @module
 */
import { defineCli, formatTable, runCommand, taskV8Flags } from "../../lib/util/mod.ts";
import { DEFAULT_BATCH_POLICY } from "../../lib/shopstream/mod.ts";
import { benchSinkInChild, formatBenchCpu, SINK_ROW } from "../../lib/bench/mod.ts";

/** The V8 flags of `deno task pipeline`, read from deno.json once. */
const PIPELINE_FLAGS = taskV8Flags("pipeline") ?? "";

/** A V8 flag's number in {@linkcode PIPELINE_FLAGS}, else `fallback`. */
function pipelineV8(name: string, fallback: number): number {
  const match = PIPELINE_FLAGS.match(new RegExp(`--${name}=(\\d+)`));
  return match ? Number(match[1]) : fallback;
}
/** The sink's heap limits by default: those `deno task pipeline` runs its sink worker with. */
const HEAP_MB = pipelineV8("max-old-space-size", 512);
const SEMI_SPACE_MB = pipelineV8("max-semi-space-size", 8);

const USAGE =
  `usage: deno task bench sink [--events N] [--max-records N] [--max-bytes B] [--max-age-ms MS]
                             [--seed N] [--heap-mb MB] [--semi-space-mb MB] [--alloc] [--keep]

  --events N        records to produce and sink (default 200000)
  --max-records N   flush a region buffer at N records (default ${DEFAULT_BATCH_POLICY.maxRecords})
  --max-bytes B     ... or at B value bytes (default ${DEFAULT_BATCH_POLICY.maxBytes})
  --max-age-ms MS   ... or when its oldest record is MS old (default ${DEFAULT_BATCH_POLICY.maxAgeMs})
  --seed N          generator seed (default 42)
  --heap-mb MB      V8 old-space limit of the sink's process (default ${HEAP_MB}, as \`deno task
                    pipeline\` runs; 0: V8's default, which lets garbage grow the RSS to twice as much)
  --semi-space-mb MB  V8 young-generation semi-space of the sink's process (default
                    ${SEMI_SPACE_MB}, as \`deno task pipeline\` runs; V8's own 16 adds ~40 MB RSS)
  --alloc           also sample what the sink allocates (bytes per record, by function;
                    the sampling slows the sink down: compare rates without it)
  --keep            keep the bench topics and bronze objects`;

/** The command line of `deno task bench sink`. */
export const CLI = defineCli({
  name: "bench sink",
  usage: USAGE,
  flags: {
    events: { type: "int", min: 1, default: 200000 },
    "max-records": { type: "int", min: 1, default: DEFAULT_BATCH_POLICY.maxRecords },
    "max-bytes": { type: "int", min: 1, default: DEFAULT_BATCH_POLICY.maxBytes },
    "max-age-ms": { type: "int", min: 1, default: DEFAULT_BATCH_POLICY.maxAgeMs },
    seed: { type: "int", min: 1, default: 42 },
    keep: { type: "boolean" },
    alloc: { type: "boolean" },
    "heap-mb": { type: "int", min: 0, default: HEAP_MB },
    "semi-space-mb": { type: "int", min: 1, default: SEMI_SPACE_MB },
  },
});

function parse(args: string[]) {
  const { values } = CLI.parse(args);
  return {
    heapMb: values["heap-mb"],
    semiSpaceMb: values["semi-space-mb"],
    events: values.events,
    seed: values.seed,
    keep: values.keep,
    allocations: values.alloc,
    policy: {
      maxRecords: values["max-records"],
      maxBytes: values["max-bytes"],
      maxAgeMs: values["max-age-ms"],
    },
  };
}

/**
 * Parses flags, runs the benchmark, prints the figures; returns the exit code.
 *
 * @example
 * ```ts
 * import { main } from "./sink.ts";
 * const code = await main(["--events", "20000"]);
 * ```
 */
export function main(args: string[]): Promise<number> {
  return runCommand(CLI.name, CLI.usage, args, parse, async (o) => {
    // The sink runs in a child process under the heap limits: its figures are a deployed sink's.
    const r = await benchSinkInChild(o);
    const n = (x: number) => Math.round(x).toLocaleString("en-US");
    console.log();
    console.log(formatTable(["figure", "value", "target"], [
      ["records", n(r.events), ""],
      ["bronze rows", n(r.bronzeRows), ""],
      ["dead letters", n(r.deadLetters), ""],
      ["objects", n(r.objects), ""],
      ["flushes", n(r.flushes), ""],
      ["seconds", r.seconds.toFixed(2), ""],
      ["  of it joining, to the first record", r.startupSeconds.toFixed(2), ""],
      ["records/s over the seconds", n(r.recordsPerSec), ""],
      ["records/s from the first record", n(r.workingPerSec), ">= 80,000"],
      ["CPU s", r.cpuSeconds.toFixed(2), ""],
      ["CPU us/record", r.cpuUsPerRecord.toFixed(1), ""],
      ["flush p50 ms", r.flushP50Ms.toFixed(1), ""],
      ["flush p95 ms", r.flushP95Ms.toFixed(1), ""],
      ["flush max ms", r.flushMaxMs.toFixed(1), ""],
      ["RSS before MB", r.baselineRssMb.toFixed(0), ""],
      ["peak RSS MB", r.peakRssMb.toFixed(0), "<= 250"],
      ["peak heap+ext MB", r.peakHeapMb.toFixed(0), ""],
    ]));
    if (r.cpu) {
      const heading = `\nCPU by component, from the sink's start to its last row (${
        n(r.events)
      } records):`;
      console.log(formatBenchCpu(r.cpu, SINK_ROW, "record", heading));
    }
    if (r.allocations) {
      const a = r.allocations;
      console.log(
        `\nallocated while the sink worked: ${(a.bytes / 1e6).toFixed(0)} MB, ` +
          `${Math.round(a.bytesPerUnit).toLocaleString("en-US")} B per record; most by:`,
      );
      console.log(formatTable(
        ["share", "function"],
        a.top.map((t) => [`${(t.share * 100).toFixed(1)}%`, t.where]),
      ));
    }
    return 0;
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
