/**
 * `deno task bench lake [flags]`: bronze rows to Parquet (zstd) and back:
 * object size, and rows/s for records -> Arrow -> Parquet and Parquet ->
 * Arrow -> rows. No services needed. Logic: lib/bench/lake.ts.
 *
 * @example
 * ```sh
 * deno task bench lake --rows 10000 --repeats 5
 * ```
 *
 * @module
 */
import { defineCli, formatTable } from "../../lib/util/mod.ts";
import { benchBronze } from "../../lib/bench/mod.ts";

const USAGE = `usage: deno task bench lake [--rows N] [--repeats N]

  --rows N      rows in the bronze object (synthetic orders; default 10000)
  --repeats N   timed repetitions after one warm-up; medians are shown (default 5)`;

/** The command line of `deno task bench lake`. */
export const CLI = defineCli({
  name: "bench lake",
  usage: USAGE,
  flags: {
    rows: { type: "int", min: 1, default: 10000 },
    repeats: { type: "int", min: 1, default: 5 },
  },
});

const rate = (n: number) => Math.round(n).toLocaleString("en-US");

async function run({ values }: ReturnType<typeof CLI.parse>): Promise<number> {
  const r = await benchBronze(values);
  console.log(formatTable(["measure", "value"], [
    ["rows", r.rows],
    ["parquet bytes", `${r.bytes} (${r.codecs.join(",")})`],
    ["bytes/row", r.bytesPerRow.toFixed(1)],
    ["arrow bytes (uncompressed)", r.arrowBytes],
    ["records -> arrow ms", r.tableMs.toFixed(1)],
    ["arrow -> parquet ms", r.encodeMs.toFixed(1)],
    ["parquet -> arrow ms", r.decodeMs.toFixed(1)],
    ["arrow -> rows ms", r.rowsMs.toFixed(1)],
    ["encode rows/s (records -> parquet)", rate(r.encodeRowsPerSec)],
    ["decode rows/s (parquet -> arrow)", rate(r.decodeRowsPerSec)],
  ]));
  return 0;
}

/**
 * Parses flags, runs the benchmark, prints the table; returns the exit code.
 *
 * @example
 * ```ts
 * import { main } from "./lake.ts";
 * const code = await main(["--rows", "1000", "--repeats", "1"]);
 * ```
 */
export function main(args: string[]): Promise<number> {
  return CLI.run(args, run);
}

if (import.meta.main) Deno.exit(await main(Deno.args));
