/**
 * The two child processes of `deno task bench sink`, so the figures are the
 * sink's own: the sink runs in a process of its own under V8 heap flags and
 * loads only what a deployed sink loads (the library's `mod.ts` entry points
 * also load the generator's Faker pools, ~20 MB of RSS a sink never has), and
 * the topics are filled by another process, whose producer memory is not the
 * sink's either. Each reads its request as JSON on stdin, prints its result
 * as JSON on its last stdout line and its progress on stderr:
 *
 * - `deno run -A [--v8-flags=...] lib/bench/sink_child.ts sink` ({@linkcode SinkChildOptions})
 * - `deno run -A lib/bench/sink_child.ts produce` (`{"topics": ..., "events": N, "seed": N}`)
 *
 * @example
 * ```ts
 * import { benchSinkInChild } from "./sink_child.ts";
 * const r = await benchSinkInChild({ events: 20_000, heapMb: 512, semiSpaceMb: 8 });
 * console.log(r.recordsPerSec, r.peakRssMb);
 * ```
 *
 * @module
 */
import { loadConfig } from "../config.ts";
import type { BatchPolicy } from "../shopstream/batcher.ts";
import type { ShopTopics } from "../shopstream/topics.ts";
import type { Totals } from "../shopstream/tally.ts";
import { benchSink, produceBenchRecords, type SinkBenchResult } from "./sink.ts";

/** Options of {@linkcode benchSinkInChild}. */
export interface SinkChildOptions {
  /** Records to produce first (see {@linkcode produceBenchRecords}). */
  events: number;
  /** Generator seed (default 42). */
  seed?: number;
  /** The sink's batching policy (default the sink's). */
  policy?: BatchPolicy;
  /** Keep the topics and bronze objects afterwards. */
  keep?: boolean;
  /** V8 old-space limit of the sink's process, MB (0: V8's own default). */
  heapMb: number;
  /** V8 young-generation semi-space of the sink's process, MB. */
  semiSpaceMb: number;
  /** Sample the sink's allocations (see `SinkBenchOptions.allocations`). */
  allocations?: boolean;
}

/**
 * The `--v8-flags=...` argument for a process with these heap limits.
 *
 * @example
 * ```ts
 * import { heapFlags } from "./sink_child.ts";
 * console.log(heapFlags(512, 8)); // --v8-flags=--max-old-space-size=512,--max-semi-space-size=8
 * console.log(heapFlags(0, 8)); // --v8-flags=--max-semi-space-size=8
 * ```
 */
export function heapFlags(heapMb: number, semiSpaceMb: number): string {
  const flags = heapMb > 0 ? [`--max-old-space-size=${heapMb}`] : [];
  flags.push(`--max-semi-space-size=${semiSpaceMb}`);
  return `--v8-flags=${flags.join(",")}`;
}

/**
 * Runs {@linkcode benchSink} in a child process with the given heap limits
 * (the topics filled by a second child) and returns its figures.
 *
 * @example
 * ```ts
 * import { benchSinkInChild } from "./sink_child.ts";
 * const r = await benchSinkInChild({ events: 5000, heapMb: 0, semiSpaceMb: 8 });
 * console.log(r.bronzeRows + r.deadLetters === r.events); // true
 * ```
 */
export async function benchSinkInChild(options: SinkChildOptions): Promise<SinkBenchResult> {
  const flags = heapFlags(options.heapMb, options.semiSpaceMb);
  return await runChild("sink", options, flags) as SinkBenchResult;
}

/** Runs this file as `mode` with `payload`; resolves with its last stdout line, parsed. */
async function runChild(mode: string, payload: unknown, v8Flags?: string): Promise<unknown> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ...(v8Flags ? [v8Flags] : []), import.meta.filename!, mode],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const writer = out.stdin.getWriter();
  await writer.write(new TextEncoder().encode(JSON.stringify(payload)));
  await writer.close();
  const { success, code, stdout } = await out.output();
  if (!success) throw new Error(`bench sink: the ${mode} process failed (exit ${code})`);
  const lines = new TextDecoder().decode(stdout).trim().split("\n");
  return JSON.parse(lines[lines.length - 1]);
}

async function childMain(mode: string | undefined): Promise<number> {
  const request = JSON.parse(await new Response(Deno.stdin.readable).text());
  const config = loadConfig();
  if (mode === "produce") {
    const { topics, events, seed } = request as {
      topics: ShopTopics;
      events: number;
      seed: number;
    };
    console.log(JSON.stringify(await produceBenchRecords(config, topics, events, seed)));
    return 0;
  }
  if (mode === "sink") {
    const o = request as SinkChildOptions;
    const result = await benchSink({
      config,
      events: o.events,
      seed: o.seed,
      policy: o.policy,
      keep: o.keep,
      allocations: o.allocations,
      log: (line) => console.error(line),
      produce: async (topics, events, seed) =>
        await runChild("produce", { topics, events, seed }) as Totals,
    });
    console.log(JSON.stringify(result));
    return 0;
  }
  console.error(`usage: lib/bench/sink_child.ts sink|produce (the request as JSON on stdin)`);
  return 2;
}

if (import.meta.main) Deno.exit(await childMain(Deno.args[0]));
