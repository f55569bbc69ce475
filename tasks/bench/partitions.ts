/**
 * `deno task bench partitions [flags]`: partition count vs produce and
 * consume throughput and consumer parallelism on the live cluster, one fresh
 * topic per count (deleted afterwards), printed as a table. Logic:
 * lib/bench/partitions.ts.
 *
 * @example
 * ```sh
 * deno task bench partitions --partitions 1,3,6,12 --records 50000 --consumers 6
 * ```
 *
 * @module
 */
import { defineCli, formatTable, runCommand, UsageError } from "../../lib/util/mod.ts";
import { loadConfig } from "../../lib/config.ts";
import { benchPartitions, partitionBenchTable } from "../../lib/bench/mod.ts";

const USAGE =
  `usage: deno task bench partitions [--partitions N,N] [--records N] [--consumers N] [--work-ms MS]

  --partitions  partition counts, one fresh topic each (default 1,3,6,12)
  --records N   records per topic (default 50000)
  --consumers N members of the consumer group for every count (default 6)
  --work-ms MS  simulated work per record, a wait in ms (default 0.05)`;

/** The command line of `deno task bench partitions`. */
export const CLI = defineCli({
  name: "bench partitions",
  usage: USAGE,
  flags: {
    partitions: { type: "string", default: "1,3,6,12" },
    records: { type: "int", min: 1, default: 50_000 },
    consumers: { type: "int", min: 1, default: 6 },
    "work-ms": { type: "number", default: 0.05 },
  },
});

function parseArgs(args: string[]) {
  const { values } = CLI.parse(args);
  const partitions = values.partitions.split(",").map((s) => Number(s.trim()));
  if (partitions.some((n) => !Number.isSafeInteger(n) || n < 1)) {
    throw new UsageError(`--partitions needs whole numbers >= 1, got "${values.partitions}"`);
  }
  if (values["work-ms"] < 0) throw new UsageError(`--work-ms must be >= 0`);
  return { ...values, partitions };
}

/**
 * Parses flags, runs the benchmark, prints the table; returns the exit code
 * (0, or 2 for bad flags). `tasks/bench.ts` calls it for `deno task bench partitions`.
 *
 * @example
 * ```ts
 * import { main } from "./partitions.ts";
 * const code = await main(["--partitions", "1,3", "--records", "2000"]);
 * ```
 */
export function main(args: string[]): Promise<number> {
  return runCommand(CLI.name, CLI.usage, args, parseArgs, run);
}

async function run(o: ReturnType<typeof parseArgs>): Promise<number> {
  console.log(
    `${o.records} records per topic, ${o.consumers} consumers, ` +
      `${o["work-ms"]} ms of simulated work per record`,
  );
  const rows = await benchPartitions(loadConfig(), {
    partitions: o.partitions,
    records: o.records,
    consumers: o.consumers,
    workMsPerRecord: o["work-ms"],
    log: (line) => console.log(`  ${line}`),
  });
  const { header, cells } = partitionBenchTable(rows);
  console.log();
  console.log(formatTable(header, cells));
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
