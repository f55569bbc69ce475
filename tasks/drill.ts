/**
 * `deno task drill`: repeatable fault drills against the running cluster,
 * seeded and bounded in time; one table row per run, then a summary.
 *
 * @example
 * ```sh
 * deno task drill broker-kill --runs 10 --seed 7
 * deno task drill broker-kill --runs 10 --client raw
 * deno task drill consumer-kill --runs 2
 * ```
 *
 * @module
 */
import { loadConfig } from "../lib/config.ts";

import { defineCommands, runCommand } from "../lib/util/mod.ts";
import {
  brokerFreezeDrill,
  brokerFreezePassed,
  brokerFreezeSummary,
  brokerFreezeTable,
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
  pipelineKillDrill,
  pipelineKillSummary,
  pipelineKillTable,
  poisonDrill,
  poisonSummary,
  poisonTable,
  producerTaskDrill,
  producerTaskPassed,
  producerTaskSummary,
  producerTaskTable,
} from "../lib/drill/mod.ts";

/** The usage text `--help` prints. */
export const USAGE =
  `usage: deno task drill <broker-kill|consumer-kill|broker-freeze|producer-task|poison|minio-freeze|pipeline-kill> [flags]

  broker-kill     a keyed produce stream (acks=all, RF 3, min ISR 2); before a
                  seeded send, SIGKILL the leader of a seeded partition; the
                  stream goes on; restart the broker and wait for a full ISR
  consumer-kill   an at-least-once group consumer (a subprocess) is SIGKILLed
                  mid-batch, restarted, and runs until the group has no lag
  broker-freeze   deno task produce and deno task consume on a paced stream;
                  SIGSTOP a partition leader for 15 s (longer than the 10 s
                  session timeout), then SIGCONT; SIGINT a consumer while frozen
  producer-task   deno task produce on a paced keyed stream; SIGKILL a
                  partition leader (every fourth run while the task starts);
                  the task must exit 0 with every line in the log
  poison          good records with poison among them (years past 9999 and
                  before 0000, a time past JavaScript's Date range, a null
                  region after a schema evolution, an order in another
                  region's currency) through the lake sink, silver and gold
  minio-freeze    SIGSTOP MinIO while the lake sink reads, SIGCONT after
                  --freeze seconds; the sink must wait visibly and resume
  pipeline-kill   the whole pipeline (malformed records and duplicates
                  included); SIGKILL a seeded broker at a seeded point of
                  the stream and start it again later; the pipeline must end
                  by itself with every check of the lake passing

  --runs N        runs, each on a fresh topic (default 1)
  --seed S        seed of kill points and victims (default 1)
  --records N     records per run (default 1500 for broker-kill, 3000 for
                  poison, 6000 for minio-freeze, 10000 for pipeline-kill,
                  2000 for the others)
  --freeze S      minio-freeze only: seconds MinIO stays frozen (default 60)
  --client C      broker-kill only: guarded (our verified producer, default)
                  or raw (kafkajs unguarded, to show the records it drops)
  --help          this text

The verdict comes from an independent reader: Kafka's GetOffsetShell for the
log size and a fresh consumer that reads every record id back; for poison
and minio-freeze, every bronze, silver and gold object read back from MinIO
by event id, the DLQ read back, and the group's committed offsets; for
pipeline-kill, the pipeline's own checks of the lake read back from MinIO
and the DLQ read back by a fresh consumer.
Run it alone on the cluster: flock -x /tmp/shopstream-fault.lock deno task drill ...
Exit status 0 when nothing was lost (broker-kill: no acknowledged record
missing from the log, for either client; consumer-kill: no record in the log
left unprocessed; poison and minio-freeze: nothing lost, doubled, misfiled or
stuck, no consumer restart; pipeline-kill: no crash, every check passed,
every malformed record in the DLQ), 1 on any loss or failure, 2 on a usage
error. With --client raw, status 1 is the expected outcome: it shows kafkajs's loss.`;

/** Parsed `deno task drill` arguments. */
export interface DrillArgs {
  drill:
    | "broker-kill"
    | "consumer-kill"
    | "broker-freeze"
    | "producer-task"
    | "poison"
    | "minio-freeze"
    | "pipeline-kill";
  runs: number;
  seed: number;
  /** Default: the drill's own. */
  records?: number;
  client: DrillClient;
  /** minio-freeze: seconds MinIO stays frozen. */
  freezeSeconds: number;
}

const RUN_FLAGS = {
  runs: { type: "int", min: 1, default: 1 },
  seed: { type: "int", min: 0, default: 1 },
  records: { type: "int", min: 300 },
} as const;

/** The command line of `deno task drill`. */
export const CLI = defineCommands({
  name: "drill",
  usage: USAGE,
  label: "drill",
  flags: RUN_FLAGS,
  commands: {
    "broker-kill": { flags: { client: { type: "string", choices: ["guarded", "raw"] } } },
    "consumer-kill": {},
    "broker-freeze": {},
    "producer-task": {},
    poison: {},
    "minio-freeze": { flags: { freeze: { type: "int", min: 1, default: 60 } } },
    "pipeline-kill": {},
  },
});

/**
 * Parses `deno task drill` arguments; throws a usage error on mistakes.
 *
 * @example
 * ```ts
 * import { parseDrillArgs } from "./drill.ts";
 * console.log(parseDrillArgs(["broker-kill", "--runs", "10"]).runs); // 10
 * ```
 */
export function parseDrillArgs(args: string[]): DrillArgs {
  const parsed = CLI.parse(args);
  const { runs, seed, records } = parsed.values;
  const client = parsed.command === "broker-kill" ? parsed.values.client ?? "guarded" : "guarded";
  const freezeSeconds = parsed.command === "minio-freeze" ? parsed.values.freeze : 60;
  return { drill: parsed.command, runs, seed, records, client, freezeSeconds };
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
      if (o.drill === "pipeline-kill") {
        const report = await pipelineKillDrill(drill, {
          runs: o.runs,
          seed: o.seed,
          records: o.records,
          onRun: (row) =>
            console.error(
              `run ${row.run}: ${row.crashed ? "crashed" : "ended"}, ` +
                `${row.failedChecks.length} failed checks, ${row.inDlq}/${row.malformed} in the DLQ`,
            ),
        });
        console.log(pipelineKillTable(report.rows));
        console.log(`\n${pipelineKillSummary(report)}`);
        return report.failedRuns > 0 ? 1 : 0;
      }
      if (o.drill === "producer-task" || o.drill === "broker-freeze") {
        const settings = { runs: o.runs, seed: o.seed, records: o.records };
        if (o.drill === "producer-task") {
          const report = await producerTaskDrill(drill, {
            ...settings,
            onRun: (r) => console.error(`run ${r.run}: exit ${r.exitCode}, ${r.lost} lost`),
          });
          console.log(producerTaskTable(report.rows));
          for (const r of report.rows) if (r.failure) console.log(`run ${r.run}:\n${r.failure}`);
          console.log(`\n${producerTaskSummary(report)}`);
          return report.rows.every(producerTaskPassed) ? 0 : 1;
        }
        const report = await brokerFreezeDrill(drill, {
          ...settings,
          onRun: (r) => console.error(`run ${r.run}: ${r.lost} lost, ${r.stuck} stuck`),
        });
        console.log(brokerFreezeTable(report.rows));
        for (const r of report.rows) if (r.failure) console.log(`run ${r.run}:\n${r.failure}`);
        console.log(`\n${brokerFreezeSummary(report)}`);
        return report.rows.every(brokerFreezePassed) ? 0 : 1;
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
