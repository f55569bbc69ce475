/**
 * `deno task bench <name> [flags]`: run one benchmark and print its figures as
 * a table. Each benchmark lives in `tasks/bench/<name>.ts` and exports
 * `main(args)`; `deno task bench` alone lists them.
 *
 * @example
 * ```sh
 * deno task bench log --help
 * ```
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { defineCommands } from "../lib/util/mod.ts";

/** The benchmarks and what each measures. */
export const BENCHMARKS: Record<string, string> = {
  log: "module 1: appends/s and reads/s of lib/log, 100 B and 1 KiB, with and without fsync",
  clients: "module 2: our producer and consumer side by side with Kafka's Java perf tools",
  decode:
    "module 2: one fetch's records decoded by kafkajs and by lib/kafka: µs per record, GC included",
  partitions:
    "module 2: partition count vs produce/consume records/s and how many consumers get work",
  pipeline:
    "module 4: generator, encoding, and the pipeline end to end (events/s, flush latency, memory)",
  lake: "module 4: bronze rows to Parquet (zstd) and back: object size and rows/s",
  sink:
    "module 4: the lake sink alone: records/s to bronze, flush latency, peak memory, CPU by component",
};

function usage(): string {
  const width = Math.max(...Object.keys(BENCHMARKS).map((n) => n.length));
  const lines = Object.entries(BENCHMARKS).map(([n, what]) => `  ${n.padEnd(width)}  ${what}`);
  return [
    "usage: deno task bench <name> [--help | flags]",
    "",
    ...lines,
    "",
    "`deno task bench <name> --help` lists a benchmark's own flags.",
  ].join("\n");
}

/** The command line of `deno task bench`: a benchmark's name, then its own flags. */
export const CLI = defineCommands({
  name: "bench",
  usage: usage(),
  label: "benchmark",
  commands: Object.fromEntries(Object.keys(BENCHMARKS).map((name) => [name, { rest: true }])),
});

if (import.meta.main) {
  Deno.exit(
    await CLI.run(Deno.args, async ({ command, rest }) => {
      const url = new URL(`./bench/${command}.ts`, import.meta.url);
      const mod = await import(url.href) as { main(args: string[]): Promise<number> };
      if (typeof mod.main !== "function") {
        console.error(`${fileURLToPath(url)} does not export main(args)`);
        return 2;
      }
      return await mod.main(rest);
    }),
  );
}
