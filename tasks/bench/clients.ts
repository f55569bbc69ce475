/**
 * `deno task bench clients [flags]`: our producer and consumer (lib/kafka)
 * side by side with Kafka's own `ProducerPerformance` and `ConsumerPerformance`
 * from the same jars, same settings, same topic layout; prints both and the
 * ratio ours/Java.
 *
 * @example
 * ```sh
 * deno task bench clients --records 100000 --record-size 512 --acks all
 * ```
 *
 * @module
 */
import { defineCli, formatTable, runCommand, UsageError } from "../../lib/util/mod.ts";
import { loadConfig } from "../../lib/config.ts";
import {
  benchSettings,
  BenchSettingsError,
  comparisonRows,
  DEFAULT_BENCH,
  ratio,
  runClientBench,
  verdict,
} from "../../lib/bench/mod.ts";

const d = DEFAULT_BENCH;

/**
 * The help text of `deno task bench clients`.
 *
 * @example
 * ```ts
 * import { HELP } from "./clients.ts";
 * console.log(HELP.split("\n")[0]); // usage: deno task bench clients [flags]
 * ```
 */
export const HELP = `usage: deno task bench clients [flags]

Producer and consumer throughput (records/s, MB/s) and producer latency p50/p99 of our
client (lib/kafka on kafkajs) and Kafka's Java tools, run one after the other with the same
settings on fresh topics of the same layout. Producer figures are steady state: both sides
leave out the first --warmup-records (the JVM compiles its hot code meanwhile). Both consumers
read the topic the Java producer wrote. Prints both and the ratio ours/java.

  --records N               records per producer and consumer (default ${d.records})
  --record-size BYTES       value size (default ${d.recordSize})
  --acks 0|1|all            (default ${d.acks}; idempotence on exactly with all)
  --batch-size BYTES        producer batch.size (default ${d.batchSize})
  --linger-ms MS            producer linger.ms (default ${d.lingerMs})
  --compression TYPE        none|gzip|snappy|lz4|zstd (default ${d.compression}; ours: no lz4)
  --partitions N            (default ${d.partitions})
  --replication-factor N    (default ${d.replicationFactor})
  --min-insync-replicas N   (default ${d.minInsyncReplicas})
  --buffer-memory BYTES     unacknowledged bytes a producer may hold (default ${d.bufferMemory})
  --warmup-records N        first records left out of both producers' figures (default: a fifth)
  --clients both|java|ours  which side to run (default ${d.clients})
  --keep                    keep the benchmark topics
  -h, --help                this text`;

/** The command line of `deno task bench clients`. */
export const CLI = defineCli({
  name: "bench clients",
  usage: HELP,
  flags: {
    records: { type: "int", min: 1 },
    "record-size": { type: "int", min: 1 },
    acks: { type: "string", choices: ["0", "1", "all", "-1"] },
    "batch-size": { type: "int", min: 1 },
    "linger-ms": { type: "int", min: 0 },
    compression: { type: "string", choices: ["none", "gzip", "snappy", "lz4", "zstd"] },
    partitions: { type: "int", min: 1 },
    "replication-factor": { type: "int", min: 1 },
    "min-insync-replicas": { type: "int", min: 1 },
    "buffer-memory": { type: "int", min: 1 },
    "warmup-records": { type: "int", min: 0 },
    clients: { type: "string", choices: ["both", "java", "ours"] },
    keep: { type: "boolean" },
  },
});

/**
 * Runs the benchmark with command-line `args`; returns the exit code
 * (0 ok, 1 failed, 2 bad flags).
 *
 * @example
 * ```ts
 * import { main } from "./clients.ts";
 * const code = await main(["--records", "10000"]);
 * ```
 */
export function main(args: string[]): Promise<number> {
  return runCommand(CLI.name, CLI.usage, args, parseClientBenchArgs, run);
}

function parseClientBenchArgs(args: string[]) {
  const { keep, ...values } = CLI.parse(args).values;
  // benchSettings checks what depends on several flags (warm-up below records, batch size).
  const flags = Object.fromEntries(
    Object.entries(values).filter(([, v]) => v !== undefined).map(([k, v]) => [k, String(v)]),
  );
  try {
    return { settings: benchSettings(flags), keep };
  } catch (e) {
    throw e instanceof BenchSettingsError ? new UsageError(e.message) : e;
  }
}

async function run(
  { settings: s, keep }: ReturnType<typeof parseClientBenchArgs>,
): Promise<number> {
  console.log(
    `${s.records} records of ${s.recordSize} B, acks=${s.acks}, batch.size=${s.batchSize}, ` +
      `linger.ms=${s.lingerMs}, compression=${s.compression}, ${s.partitions} partitions, ` +
      `RF ${s.replicationFactor}, min.insync.replicas=${s.minInsyncReplicas}`,
  );
  try {
    const results = await runClientBench(loadConfig(), s, {
      log: (line) => console.log(`  ${line}`),
      keepTopics: keep,
    });
    const { header, rows } = comparisonRows(results);
    console.log("\n" + formatTable(header, rows) + "\n");
    for (const r of results.filter((r) => r.note)) {
      console.log(`note: ${r.tool} ${r.role}: ${r.note}`);
    }
    if (s.clients === "both") {
      for (const role of ["producer", "consumer"] as const) {
        console.log(verdict(role, ratio(results, role)));
      }
    }
    return 0;
  } catch (e) {
    if (e instanceof BenchSettingsError) {
      console.error(e.message);
      return 2;
    }
    console.error(`bench clients failed: ${(e as Error).message}`);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
