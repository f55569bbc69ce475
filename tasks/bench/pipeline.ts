/**
 * `deno task bench pipeline [flags]`: the generator alone, the generator with
 * Avro encoding, then the whole pipeline end to end on fresh topics:
 * events/s from generator to bronze, sink flush latency, peak memory, then
 * CPU per event by component (this process, each broker, MinIO, the registry,
 * everything else on the machine; this process and the brokers also by
 * thread) and the events/s limit that CPU implies, also without the brokers'
 * JIT compilers (warm-up work).
 * It runs in a child process with the V8 flags of `deno task pipeline` (read
 * from deno.json), so the memory figures are the task's. The targets: >= 40,000
 * events/s end to end on a 2-core machine with every service on it, the process
 * (producer + sink) at <= 450 MB peak RSS. Logic: lib/bench/pipeline.ts.
 *
 * @example
 * ```sh
 * deno task bench pipeline --events 300000
 * ```
 *
 * @module
 */
import { loadConfig } from "../../lib/config.ts";
import { defineCli, formatTable, taskV8Flags } from "../../lib/util/mod.ts";
import { benchPipeline, formatBenchCpu, PIPELINE_ROW } from "../../lib/bench/mod.ts";

import { formatPipelineSummary } from "../../lib/shopstream/mod.ts";

const USAGE = `usage: deno task bench pipeline [--events N] [--sample N] [--seed N] [--keep]

  --events N   records of the end-to-end run (default 300000)
  --sample N   records for the generator and encoding figures (default 200000)
  --seed N     generator seed (default 42)
  --keep       keep the bench topics, subjects and lake folders

Runs in a child process under the V8 flags of \`deno task pipeline\` (deno.json).`;

/** The command line of `deno task bench pipeline`. */
export const CLI = defineCli({
  name: "bench pipeline",
  usage: USAGE,
  flags: {
    events: { type: "int", min: 1, default: 300000 },
    sample: { type: "int", min: 1, default: 200000 },
    seed: { type: "int", min: 1, default: 42 },
    keep: { type: "boolean" },
    // internal: this process runs the benchmark under the pipeline task's V8 flags
    child: { type: "boolean", hidden: true },
  },
});

/**
 * Runs this file again in a child process with the V8 flags of `deno task
 * pipeline` (its heap limits), so the memory and CPU figures are those of the
 * task measured; returns the child's exit code.
 */
async function inPipelineChild(args: string[]): Promise<number> {
  const flags = taskV8Flags("pipeline");
  const child = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ...(flags ? [flags] : []), import.meta.filename!, ...args, "--child"],
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  return child.code;
}

/**
 * Runs the benchmark with command-line `args`; returns the exit code.
 *
 * @example
 * ```ts
 * import { main } from "./pipeline.ts";
 * Deno.exit(await main(["--events", "50000"]));
 * ```
 */
export async function main(args: string[]): Promise<number> {
  return await CLI.run(args, async ({ values: { child, ...o } }) => {
    if (!child) return await inPipelineChild(args);
    const r = await benchPipeline({
      config: loadConfig(),
      ...o,
      log: (l) => console.log(`- ${l}`),
    });
    const s = r.summary;
    console.log(`\n${formatPipelineSummary(s)}\n`);
    console.log(formatTable(["figure", "value", "target"], [
      ["generator alone", `${Math.round(r.generatorPerSec)} events/s`, ">= 100000 events/s"],
      ["generator + Avro encoding", `${Math.round(r.encodePerSec)} events/s`, ""],
      [
        "end to end (generator -> bronze)",
        `${Math.round(s.endToEndPerSec)} events/s`,
        ">= 40000 events/s",
      ],
      ["produce only", `${Math.round(s.producedPerSec)} events/s`, ""],
      ["sink flush p50 / p99", `${s.flushP50Ms.toFixed(0)} / ${s.flushP99Ms.toFixed(0)} ms`, ""],
      ["peak RSS (producer + sink)", `${(s.peakRss / 1e6).toFixed(0)} MB`, "<= 450 MB"],
    ]));
    if (r.cpu) {
      const heading =
        `\nCPU by component, producing to the sink's last commit (${s.produced} events):`;
      console.log(formatBenchCpu(r.cpu, PIPELINE_ROW, "event", heading));
    }
    return s.ok ? 0 : 1;
  });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
