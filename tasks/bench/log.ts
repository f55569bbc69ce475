/**
 * `deno task bench log [flags]`: appends/s and reads/s of `lib/log` for
 * 100-byte and 1 KiB records, per batch size, with and without an fsync per
 * batch, printed as a table. Each case writes a fresh log in a temporary
 * directory that is deleted afterwards. Logic: lib/bench/log.ts.
 *
 * @example
 * ```sh
 * deno task bench log --records 5000 --seconds 1 --batch 1,100
 * ```
 *
 * @module
 */
import { defineCli, formatTable, runCommand, UsageError } from "../../lib/util/mod.ts";
import { benchCases, benchLog, type LogBenchResult } from "../../lib/bench/mod.ts";

const USAGE = `usage: deno task bench log [--records N] [--seconds S] [--sizes B,B] [--batch N,N]
                            [--fsync both|never|batch] [--dir DIR]

  --records N   records per case at most (default 20000)
  --seconds S   append time per case at most, whichever comes first (default 3)
  --sizes       value sizes in bytes (default 100,1024)
  --batch       records per append call (default 1,100)
  --fsync       fsync after every batch, never, or both (default both)
  --dir DIR     where the temporary logs go (default the system temp dir); removed afterwards`;

function numbers(flag: string, text: string): number[] {
  const list = text.split(",").map((s) => Number(s.trim()));
  if (list.length === 0 || list.some((n) => !Number.isSafeInteger(n) || n <= 0)) {
    throw new UsageError(`--${flag} needs positive integers separated by commas, got "${text}"`);
  }
  return list;
}

const perSecond = (n: number) => Math.round(n).toLocaleString("en-US");

/** The command line of `deno task bench log`. */
export const CLI = defineCli({
  name: "bench log",
  usage: USAGE,
  flags: {
    records: { type: "int", min: 1, default: 20000 },
    seconds: { type: "number", above: 0, default: 3 },
    sizes: { type: "string", default: "100,1024" },
    batch: { type: "string", default: "1,100" },
    fsync: { type: "string", choices: ["both", "never", "batch"], default: "both" },
    dir: { type: "string" },
  },
});

/**
 * Parses flags, runs the cases, prints the table; returns the exit code
 * (0, or 2 for bad flags). `tasks/bench.ts` calls it for `deno task bench log`.
 *
 * @example
 * ```ts
 * import { main } from "./log.ts";
 * const code = await main(["--records", "500", "--sizes", "100", "--batch", "10"]);
 * ```
 */
export function main(args: string[]): Promise<number> {
  return runCommand(CLI.name, CLI.usage, args, parseLogBenchArgs, run);
}

function parseLogBenchArgs(args: string[]) {
  const { values } = CLI.parse(args);
  const fsync = ({ both: ["never", "batch"], never: ["never"], batch: ["batch"] } as const)[
    values.fsync
  ];
  let cases;
  try {
    cases = benchCases(numbers("sizes", values.sizes), numbers("batch", values.batch), fsync);
  } catch (e) {
    throw e instanceof UsageError ? e : new UsageError((e as Error).message);
  }
  return { records: values.records, seconds: values.seconds, cases, dir: values.dir };
}

async function run(
  { records, seconds, cases, dir: parent }: ReturnType<typeof parseLogBenchArgs>,
): Promise<number> {
  const dir = await Deno.makeTempDir({ dir: parent, prefix: "shopstream-bench-log-" });
  const results: LogBenchResult[] = [];
  try {
    console.log(`${cases.length} cases, up to ${records} records or ${seconds} s each, in ${dir}`);
    for (const c of cases) {
      const r = await benchLog(dir, c, { records, seconds });
      console.log(
        `  ${c.recordBytes} B x ${c.batchRecords}/batch, fsync ${c.fsync}: ` +
          `${perSecond(r.appendsPerSec)} appends/s`,
      );
      results.push(r);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  console.log();
  console.log(formatTable(
    ["record", "batch", "fsync", "records", "appends/s", "MB/s", "reads/s"],
    results.map((r) => [
      `${r.recordBytes} B`,
      r.batchRecords,
      r.fsync === "batch" ? "per batch" : "never",
      r.records,
      perSecond(r.appendsPerSec),
      r.appendMBPerSec.toFixed(1),
      perSecond(r.readsPerSec),
    ]),
  ));
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
