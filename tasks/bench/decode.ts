/**
 * `deno task bench decode [flags]`: one fetch's record set decoded by
 * kafkajs's own decoder and by lib/kafka's (`fetch_decoder.ts`), in turns:
 * µs per record, garbage collection included. No services needed. Logic:
 * lib/bench/decode.ts.
 *
 * @example
 * ```sh
 * deno task bench decode --records 4000 --rounds 3
 * ```
 *
 * @module
 */
import { defineCli, formatTable } from "../../lib/util/mod.ts";
import { benchFetchDecode } from "../../lib/bench/mod.ts";

const USAGE = `usage: deno task bench decode [--records N] [--batch N] [--value-bytes B]
                              [--seconds S] [--rounds N]

  --records N      records in the record set (default 4000, about one 1 MiB fetch)
  --batch N        records per record batch (default 500)
  --value-bytes B  value bytes per record (default 230, a ShopStream order)
  --seconds S      seconds each decoder decodes per round (default 1)
  --rounds N       timed rounds after one warm-up; medians are shown (default 3)`;

/** The command line of `deno task bench decode`. */
export const CLI = defineCli({
  name: "bench decode",
  usage: USAGE,
  flags: {
    records: { type: "int", min: 1, default: 4000 },
    batch: { type: "int", min: 1, default: 500 },
    "value-bytes": { type: "int", min: 0, default: 230 },
    seconds: { type: "number", min: 0.01, default: 1 },
    rounds: { type: "int", min: 1, default: 3 },
  },
});

async function run({ values }: ReturnType<typeof CLI.parse>): Promise<number> {
  const r = await benchFetchDecode({
    records: values.records,
    batchRecords: values.batch,
    valueBytes: values["value-bytes"],
    seconds: values.seconds,
    rounds: values.rounds,
  });
  console.log(formatTable(["measure", "value"], [
    ["records", r.records],
    ["bytes", r.bytes],
    ["kafkajs µs/record", r.kafkajsUsPerRecord.toFixed(3)],
    ["lib/kafka µs/record", r.oursUsPerRecord.toFixed(3)],
    ["kafkajs / lib/kafka", `${r.speedup.toFixed(2)}x`],
  ]));
  return 0;
}

/**
 * Parses flags, runs the benchmark, prints the table; returns the exit code.
 *
 * @example
 * ```ts
 * import { main } from "./decode.ts";
 * const code = await main(["--records", "1000", "--seconds", "0.1", "--rounds", "1"]);
 * ```
 */
export function main(args: string[]): Promise<number> {
  return CLI.run(args, run);
}

if (import.meta.main) Deno.exit(await main(Deno.args));
