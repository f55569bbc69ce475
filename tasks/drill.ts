/**
 * `deno task drill`: repeatable fault drills against the running cluster,
 * seeded and bounded in time; one table row per run, then a summary.
 *
 * @example
 * ```sh
 * deno task drill broker-kill --runs 10 --seed 7
 * deno task drill broker-kill --runs 10 --client raw
 * deno task drill consumer-kill --runs 2
 * deno task drill poison --runs 2
 * deno task drill minio-freeze --freeze 60
 * ```
 *
 * @module
 */
import { loadConfig } from "../lib/config.ts";

import { parseFlags, parseIntFlag, runCommand, UsageError } from "../lib/util/mod.ts";
import {
  brokerKillDrill,
  brokerKillSummary,
  brokerKillTable,
  consumerKillDrill,
  consumerKillSummary,
  consumerKillTable,
  type DrillClient,
  minioFreezeDrill,
  minioFreezeSummary,
  minioFreezeTable,
  openDrill,
  poisonDrill,
  poisonSummary,
  poisonTable,
} from "../lib/drill/mod.ts";

/** The usage text `--help` prints. */
export const USAGE = `usage: deno task drill <broker-kill|consumer-kill|poison|minio-freeze> [flags]

  broker-kill     a keyed produce stream (acks=all, RF 3, min ISR 2); before a
                  seeded send, SIGKILL the leader of a seeded partition; the
                  stream goes on; restart the broker and wait for a full ISR
  consumer-kill   an at-least-once group consumer (a subprocess) is SIGKILLed
                  mid-batch, restarted, and runs until the group has no lag
  poison          good records with poison among them (years past 9999 and
                  before 0000, a time past JavaScript's Date range, a null
                  region after a schema evolution, an order in another
                  region's currency) through the lake sink, silver and gold
  minio-freeze    SIGSTOP MinIO while the lake sink reads, SIGCONT after
                  --freeze seconds; the sink must wait visibly and resume

  --runs N        runs, each on a fresh topic (default 1)
  --seed S        seed of kill points and victims (default 1)
  --records N     records per run (default 1500 for broker-kill, 2000 for
                  consumer-kill, 3000 for poison, 6000 for minio-freeze)
  --freeze S      minio-freeze only: seconds MinIO stays frozen (default 60)
  --client C      broker-kill only: guarded (our verified producer, default)
                  or raw (kafkajs unguarded, to show the records it drops)
  --help          this text

The verdict comes from an independent reader: Kafka's GetOffsetShell for the
log size and a fresh consumer that reads every record id back; for poison
and minio-freeze, every bronze, silver and gold object read back from MinIO
by event id, the DLQ read back, and the group's committed offsets.
Run it alone on the cluster: flock -x /tmp/shopstream-fault.lock deno task drill ...
Exit status 0 when nothing was lost (broker-kill: no acknowledged record
missing from the log, for either client; consumer-kill: no record in the log
left unprocessed; poison and minio-freeze: nothing lost, doubled, misfiled or
stuck, no consumer restart), 1 on any loss or failure, 2 on a usage error. With
--client raw, status 1 is the expected outcome: it shows kafkajs's loss.`;

/** Parsed `deno task drill` arguments. */
export interface DrillArgs {
  drill: "broker-kill" | "consumer-kill" | "poison" | "minio-freeze";
  runs: number;
  seed: number;
  /** Default: the drill's own. */
  records?: number;
  client: DrillClient;
  /** minio-freeze: seconds MinIO stays frozen. */
  freezeSeconds: number;
}

/**
 * Parses `deno task drill` arguments; throws {@linkcode UsageError} on mistakes.
 *
 * @example
 * ```ts
 * import { parseDrillArgs } from "./drill.ts";
 * console.log(parseDrillArgs(["broker-kill", "--runs", "10"]).runs); // 10
 * ```
 */
export function parseDrillArgs(args: string[]): DrillArgs {
  const { values, positionals } = parseFlags({
    args,
    allowPositionals: true,
    options: {
      runs: { type: "string" },
      seed: { type: "string" },
      records: { type: "string" },
      client: { type: "string" },
      freeze: { type: "string" },
    },
  });
  const [drill, ...extra] = positionals;
  const kinds = ["broker-kill", "consumer-kill", "poison", "minio-freeze"] as const;
  if (!kinds.includes(drill as DrillArgs["drill"])) {
    throw new UsageError(`name a drill: ${kinds.join(", ")} (got "${drill ?? ""}")`);
  }
  if (extra.length) throw new UsageError(`unexpected argument "${extra[0]}"`);
  const client = values.client ?? "guarded";
  if (client !== "guarded" && client !== "raw") {
    throw new UsageError(`--client must be guarded or raw, got "${client}"`);
  }
  if (drill !== "broker-kill" && values.client !== undefined) {
    throw new UsageError("--client applies to broker-kill only");
  }
  if (drill !== "minio-freeze" && values.freeze !== undefined) {
    throw new UsageError("--freeze applies to minio-freeze only");
  }
  return {
    drill: drill as DrillArgs["drill"],
    runs: parseIntFlag(values.runs, "--runs", 1, 1)!,
    seed: parseIntFlag(values.seed, "--seed", 0, 1)!,
    records: parseIntFlag(values.records, "--records", 300),
    client,
    freezeSeconds: parseIntFlag(values.freeze, "--freeze", 1, 60)!,
  };
}

/**
 * Runs `deno task drill` and returns its exit status.
 *
 * @example
 * ```ts
 * import { runDrill } from "./drill.ts";
 * const status = await runDrill(["consumer-kill", "--runs", "1"]);
 * ```
 */
export function runDrill(args: string[]): Promise<number> {
  return runCommand("drill", USAGE, args, parseDrillArgs, async (o) => {
    const drill = await openDrill(loadConfig(), { log: (l) => console.error(l) });
    try {
      if (o.drill === "broker-kill") {
        const report = await brokerKillDrill(drill, {
          runs: o.runs,
          seed: o.seed,
          records: o.records,
          client: o.client,
          onRun: (row) =>
            console.error(
              `run ${row.run}: ${row.acknowledged} acknowledged, ${row.lost} lost` +
                (row.firstShort ? ` (${row.firstShort})` : ""),
            ),
        });
        console.log(brokerKillTable(report.rows));
        console.log(`\n${brokerKillSummary(report)}`);
        return report.lost > 0 ? 1 : 0;
      }
      if (o.drill === "poison") {
        const report = await poisonDrill(drill, {
          runs: o.runs,
          seed: o.seed,
          records: o.records,
          onRun: (row) =>
            console.error(`run ${row.run}: ${row.poisonInDlq}/${row.poison} poison in the DLQ`),
        });
        console.log(poisonTable(report.rows));
        console.log(`\n${poisonSummary(report)}`);
        return report.failedRuns > 0 ? 1 : 0;
      }
      if (o.drill === "minio-freeze") {
        const report = await minioFreezeDrill(drill, {
          runs: o.runs,
          seed: o.seed,
          records: o.records,
          freezeMs: o.freezeSeconds * 1000,
          onRun: (row) => console.error(`run ${row.run}: ${row.lost} lost, ${row.doubled} doubled`),
        });
        console.log(minioFreezeTable(report.rows));
        console.log(`\n${minioFreezeSummary(report)}`);
        return report.failedRuns > 0 ? 1 : 0;
      }
      const report = await consumerKillDrill(drill, {
        runs: o.runs,
        seed: o.seed,
        records: o.records,
        onRun: (row) => console.error(`run ${row.run}: ${row.missing} missing`),
      });
      console.log(consumerKillTable(report.rows));
      console.log(`\n${consumerKillSummary(report)}`);
      return report.missing > 0 ? 1 : 0;
    } catch (e) {
      console.error(`drill: ${(e as Error).message}`);
      return 1;
    } finally {
      await drill.close();
    }
  });
}

if (import.meta.main) Deno.exit(await runDrill(Deno.args));
