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

/** The benchmarks and what each measures. */
export const BENCHMARKS: Record<string, string> = {
  log: "module 1: appends/s and reads/s of lib/log, 100 B and 1 KiB, with and without fsync",
  clients: "module 2: our producer and consumer side by side with Kafka's Java perf tools",
  pipeline:
    "module 4: generator, encoding, and the pipeline end to end (events/s, flush latency, memory)",
  lake: "module 4: bronze rows to Parquet (zstd) and back: object size and rows/s",
  sink: "module 4: the lake sink alone: records/s to bronze, flush latency, peak memory",
};

function usage(): string {
  const width = Math.max(...Object.keys(BENCHMARKS).map((n) => n.length));
  const lines = Object.entries(BENCHMARKS).map(([n, what]) => `  ${n.padEnd(width)}  ${what}`);
  return ["usage: deno task bench <name> [--help | flags]", "", ...lines].join("\n");
}

if (import.meta.main) {
  const [name, ...rest] = Deno.args;
  if (!name || name === "--help" || name === "-h") {
    console.log(usage());
    Deno.exit(name ? 0 : 2);
  }
  if (!(name in BENCHMARKS)) {
    console.error(`unknown benchmark "${name}"\n\n${usage()}`);
    Deno.exit(2);
  }
  const url = new URL(`./bench/${name}.ts`, import.meta.url);
  const mod = await import(url.href) as { main(args: string[]): Promise<number> };
  if (typeof mod.main !== "function") {
    console.error(`${fileURLToPath(url)} does not export main(args)`);
    Deno.exit(2);
  }
  Deno.exit(await mod.main(rest));
}
