/**
 * The pipeline-kill drill: the whole ShopStream pipeline (generator with
 * malformed records and duplicates, Avro, producer, lake sink, silver, gold)
 * runs on fresh topics while a seeded broker is SIGKILLed at a seeded point
 * of the stream and restarted later in it. The pipeline must end on its own,
 * its sink must not crash, and the independent readers must agree: the
 * pipeline's checks read the lake back from MinIO (bronze rows = produced -
 * dead letters, silver without duplicates, gold to the cent) and a fresh
 * consumer reads the dead-letter topic back, where every malformed record
 * the generator made must be (by origin topic and key; a copy counts once).
 *
 * What the kill exercises: producers and the sink's consumer move to new
 * leaders, the sink's consumer restarts when a fetch or a dead-letter send
 * gives up, and the dead-letter writer takes a fresh producer when a send's
 * outcome is unknown (see the facts in lib/kafka/mod.ts).
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { openDrill } from "./context.ts";
 * import { pipelineKillDrill, pipelineKillTable } from "./pipeline_kill.ts";
 * const drill = await openDrill(loadConfig());
 * const report = await pipelineKillDrill(drill, { runs: 1 });
 * console.log(pipelineKillTable(report.rows));
 * await drill.close();
 * ```
 *
 * @module
 */
import { LakeStore } from "../lake/store.ts";
import { Pipeline, type PipelineSummary } from "../shopstream/mod.ts";
import { formatTable } from "../util/table.ts";
import type { DrillContext } from "./context.ts";
import { cleanupLakeDrill, lakeDrillNames, readDeadLetterTopic } from "./lake_drill.ts";
import { type DrillRuns, repeatDrill } from "./repeat.ts";
import { randomInt, seededRandom } from "./seeded.ts";

/** Settings of {@linkcode pipelineKillDrill}. */
export interface PipelineKillOptions {
  /** Runs to make (default 1). */
  runs?: number;
  /** Seed of the data, the victims and the kill points (default 1). */
  seed?: number;
  /** Records per run (default 10 000, produced over about 5 s). */
  records?: number;
  /** Called with each run's row as it ends. */
  onRun?: (row: PipelineKillRow) => void;
}

/** One run of the pipeline-kill drill. */
export interface PipelineKillRow {
  /** The run's number, from 1. */
  readonly run: number;
  /** The broker SIGKILLed (node id). */
  readonly victim: number;
  /** Records produced when it was killed (-1: the run ended first). */
  readonly killedAt: number;
  /** Records produced when it was started again (-1: after the run). */
  readonly restartedAt: number;
  /** Records the pipeline produced. */
  readonly produced: number;
  /** Dead letters the sink sent, by its own count (copies after a consumer restart included). */
  readonly deadLetters: number;
  /** Malformed records the generator made: each must be in the dead-letter topic. */
  readonly malformed: number;
  /** Distinct malformed records the fresh reader found in the dead-letter topic. */
  readonly inDlq: number;
  /** The pipeline's checks against the lake that failed (names). */
  readonly failedChecks: readonly string[];
  /** The group's lag after the run. */
  readonly endLag: number;
  /** Why the pipeline failed, when it did (e.g. the sink crashed). */
  readonly crashed?: string;
  /** The run's wall time, seconds. */
  readonly seconds: number;
}

/** Every run and the totals (failed runs: see {@linkcode pipelineKillRunOk}). */
export type PipelineKillReport = DrillRuns<PipelineKillRow>;

/**
 * Whether a run is clean: the broker was killed mid-stream, the pipeline
 * ended without a crash, every check of the lake passed, no lag was left,
 * and every malformed record is in the dead-letter topic.
 *
 * @example
 * ```ts
 * import { pipelineKillRunOk } from "./pipeline_kill.ts";
 * declare const row: import("./pipeline_kill.ts").PipelineKillRow;
 * console.log(pipelineKillRunOk(row));
 * ```
 */
export function pipelineKillRunOk(r: PipelineKillRow): boolean {
  return r.crashed === undefined && r.killedAt >= 0 && r.failedChecks.length === 0 &&
    r.endLag === 0 && r.inDlq === r.malformed;
}

/**
 * Where run `run` kills: a broker and a point between 20% and 50% of the
 * stream; the restart comes 40% of the stream later. Same seed, same plan.
 *
 * @example
 * ```ts
 * import { pipelineKillPlan } from "./pipeline_kill.ts";
 * console.log(pipelineKillPlan(1, 1, 10_000, 3)); // { victim, killAt, restartAt }
 * ```
 */
export function pipelineKillPlan(
  seed: number,
  run: number,
  records: number,
  brokers: number,
): { victim: number; killAt: number; restartAt: number } {
  const random = seededRandom(seed * 1000 + run);
  const victim = randomInt(random, 1, brokers);
  const killAt = randomInt(random, Math.floor(records * 0.2), Math.floor(records * 0.5));
  return { victim, killAt, restartAt: killAt + Math.floor(records * 0.4) };
}

/**
 * One run: fresh topics and group, the pipeline with the kill and the
 * restart wired to its progress, then the dead-letter topic read back and
 * everything the run made deleted. The broker is started again in `finally`
 * whatever happens.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { openDrill } from "./context.ts";
 * import { pipelineKillRun } from "./pipeline_kill.ts";
 * const drill = await openDrill(loadConfig());
 * console.log(await pipelineKillRun(drill, 1));
 * await drill.close();
 * ```
 */
export async function pipelineKillRun(
  drill: DrillContext,
  run: number,
  options: PipelineKillOptions = {},
): Promise<PipelineKillRow> {
  const started = performance.now();
  const records = options.records ?? 10_000;
  const seed = options.seed ?? 1;
  const plan = pipelineKillPlan(seed, run, records, drill.config.kafka.brokers.length);
  const names = lakeDrillNames("pipeline-kill");
  const { topics, group } = names;
  const store = LakeStore.fromConfig(drill.config);
  const faults: Promise<void>[] = [];
  let killedAt = -1;
  let restartedAt = -1;
  let summary: PipelineSummary | undefined;
  let crashed: string | undefined;
  try {
    try {
      summary = await new Pipeline({
        config: drill.config,
        topics,
        groupId: group,
        fresh: false,
        events: records,
        rate: Math.ceil(records / 5), // about 5 s of producing: the kill lands mid-stream
        seed: seed * 1000 + run,
        policy: { maxRecords: 10_000, maxBytes: 8 * 1024 * 1024, maxAgeMs: 1000 },
        metricsPort: 0,
        progressMs: 200,
        onProgress: (p) => {
          if (killedAt < 0 && p.produced >= plan.killAt) {
            killedAt = p.produced;
            drill.log(`run ${run}: SIGKILL broker ${plan.victim} at ${killedAt} records`);
            faults.push(drill.stack.stopBroker(plan.victim, { kill: true }));
          } else if (killedAt >= 0 && restartedAt < 0 && p.produced >= plan.restartAt) {
            restartedAt = p.produced;
            drill.log(`run ${run}: start broker ${plan.victim} at ${restartedAt} records`);
            faults.push(Promise.all(faults).then(() => drill.stack.startBroker(plan.victim)));
          }
        },
      }).run();
    } catch (e) {
      crashed = (e as Error).message;
    } finally {
      // The broker runs again before anything is read back or deleted, whatever happened.
      await Promise.allSettled(faults);
      await drill.stack.startBroker(plan.victim).catch(() => {}); // a no-op when it runs
    }
    return {
      run,
      victim: plan.victim,
      killedAt,
      restartedAt,
      produced: summary?.produced ?? 0,
      deadLetters: summary?.deadLetters ?? 0,
      malformed: summary?.tally.totals().malformed ?? 0,
      inDlq: summary ? await dlqOrigins(drill, topics.deadLetter) : 0,
      failedChecks: summary?.checks.filter((c) =>
        !c.ok
      ).map((c) => `${c.name}: expected ${c.expected}, got ${c.actual}`) ?? [],
      endLag: summary?.endLag ?? -1,
      crashed,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await cleanupLakeDrill(drill, store, names);
  }
}

/** Distinct dead letters in `topic`, by origin topic and key (a copy counts once). */
async function dlqOrigins(drill: DrillContext, topic: string): Promise<number> {
  const letters = await readDeadLetterTopic(drill, topic);
  return new Set(letters.map((l) => `${l.info.topic}/${l.key}`)).size;
}

/**
 * Runs the pipeline-kill drill `runs` times.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { openDrill } from "./context.ts";
 * import { pipelineKillDrill } from "./pipeline_kill.ts";
 * const drill = await openDrill(loadConfig());
 * console.log((await pipelineKillDrill(drill, { runs: 2 })).failedRuns); // 0
 * await drill.close();
 * ```
 */
export async function pipelineKillDrill(
  drill: DrillContext,
  options: PipelineKillOptions = {},
): Promise<PipelineKillReport> {
  return await repeatDrill(
    options,
    (run) => pipelineKillRun(drill, run, options),
    pipelineKillRunOk,
  );
}

/** Column names of the pipeline-kill table. */
export const PIPELINE_KILL_COLUMNS = [
  "run",
  "victim",
  "killed at",
  "restarted at",
  "produced",
  "dead letters",
  "malformed",
  "in DLQ",
  "failed checks",
  "lag",
  "crashed",
  "s",
] as const;

/**
 * The pipeline-kill rows as an aligned table.
 *
 * @example
 * ```ts
 * import { pipelineKillTable } from "./pipeline_kill.ts";
 * console.log(pipelineKillTable([]));
 * ```
 */
export function pipelineKillTable(rows: readonly PipelineKillRow[]): string {
  return formatTable(
    PIPELINE_KILL_COLUMNS,
    rows.map((r) => [
      r.run,
      r.victim,
      r.killedAt < 0 ? "never" : r.killedAt,
      r.restartedAt < 0 ? "after" : r.restartedAt,
      r.produced,
      r.deadLetters,
      r.malformed,
      r.inDlq,
      r.failedChecks.length,
      r.endLag,
      r.crashed === undefined ? "no" : "yes",
      r.seconds.toFixed(1),
    ]),
  );
}

/**
 * The summary line of a pipeline-kill drill, then each failed run's reasons.
 *
 * @example
 * ```ts
 * import { pipelineKillSummary } from "./pipeline_kill.ts";
 * console.log(pipelineKillSummary({ seed: 1, rows: [], failedRuns: 0, wallSeconds: 0 }));
 * ```
 */
export function pipelineKillSummary(r: PipelineKillReport): string {
  const sum = (f: (x: PipelineKillRow) => number) => r.rows.reduce((n, x) => n + f(x), 0);
  const reasons = r.rows.flatMap((x) => {
    const why = [...(x.crashed ? [`crashed: ${x.crashed}`] : []), ...x.failedChecks.slice(0, 3)];
    if (x.killedAt < 0) why.push("the run ended before the kill");
    if (x.inDlq !== x.malformed) why.push(`${x.inDlq} of ${x.malformed} malformed in the DLQ`);
    if (x.endLag !== 0) why.push(`lag ${x.endLag} left`);
    return why.map((w) => `\n  run ${x.run}: ${w}`);
  });
  return `pipeline-kill: ${r.rows.length} runs (seed ${r.seed}), a broker SIGKILLed in each; ` +
    `${sum((x) => x.produced)} records produced, ${sum((x) => x.malformed)} malformed, ` +
    `${sum((x) => x.inDlq)} of them in the DLQ; ${r.failedRuns} failed runs; ` +
    `wall time ${r.wallSeconds.toFixed(1)} s` + reasons.join("");
}
