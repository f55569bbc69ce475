/**
 * The producer-task drill: `deno task produce` (the console producer, a
 * child process as a user runs it) reads a paced keyed stream from stdin
 * into a fresh topic (RF 3, `min.insync.replicas=2`, acks=all) while the
 * leader of a seeded partition gets SIGKILL, at a seeded point of the stream
 * or while the task is still starting (every fourth run). The broker stays
 * down until the task has ended: a producer of a 3-broker cluster must ride
 * out one broker's death on its own. Verdict: the task exits 0 within the
 * bound (else it is counted stuck), no Uncaught error on its stderr, and the
 * independent reader finds every line in the log, once.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { openDrill } from "./context.ts";
 * import { producerTaskDrill, producerTaskTable } from "./producer_task.ts";
 * const drill = await openDrill(loadConfig());
 * try {
 *   const report = await producerTaskDrill(drill, { runs: 2 });
 *   console.log(producerTaskTable(report.rows));
 * } finally {
 *   await drill.close();
 * }
 * ```
 *
 * @module
 */
import { sleep } from "../util/deadline.ts";
import { formatTable } from "../util/table.ts";
import { awaitFullIsr, type DrillContext, partitionLeader, restoreBroker } from "./context.ts";
import { randomInt, seededRandom, spreadPoints } from "./seeded.ts";
import { TaskProcess } from "./task_process.ts";
import { readLogIds, tallyIds } from "./verdict.ts";
import { repeatRuns } from "./repeat.ts";

/** Settings of {@linkcode producerTaskDrill}. */
export interface ProducerTaskOptions {
  /** Runs, each on a fresh topic with its own kill (default 1). */
  runs?: number;
  /** Seed of the kill points and victims (default 1). */
  seed?: number;
  /** Lines per run (default 2000). */
  records?: number;
  /** Lines per write to the task's stdin (default 50). */
  chunk?: number;
  /** Pause between writes, ms (default 250: 2000 lines take 10 s). */
  paceMs?: number;
  /** Longest the task may take to end after its stdin closes, ms (default 120 000). */
  exitTimeoutMs?: number;
  /** Called with each run's row as soon as it is known. */
  onRun?: (row: ProducerTaskRow) => void;
}

/** One run of the producer-task drill. */
export interface ProducerTaskRow {
  /** The run's number, from 1. */
  readonly run: number;
  /** The partition whose leader was hit. */
  readonly partition: number;
  /** The broker killed (the partition's leader). */
  readonly broker: number;
  /** Lines written before the kill; -1: killed while the task was starting. */
  readonly killAt: number;
  /** Lines written to the task's stdin. */
  readonly lines: number;
  /** The task's exit code; null when it had to be killed (stuck). */
  readonly exitCode: number | null;
  /** 1 when the task did not end within the bound. */
  readonly stuck: number;
  /** Whether its stderr shows an uncaught error. */
  readonly uncaught: boolean;
  /** Of them, how many the log holds (an independent read). */
  readonly inLog: number;
  /** Lines written but missing from the log. */
  readonly lost: number;
  /** Extra copies in the log. */
  readonly duplicated: number;
  /** The run's wall time. */
  readonly seconds: number;
  /** The end of the task's stderr when the run failed, else "". */
  readonly failure: string;
}

/** Every run and the totals. */
export interface ProducerTaskReport {
  /** Seed of the runs' choices (partition, timing). */
  readonly seed: number;
  /** One row per run. */
  readonly rows: readonly ProducerTaskRow[];
  /** Records missing from the log, over all runs. */
  readonly lost: number;
  /** Records in the log more than once, over all runs. */
  readonly duplicated: number;
  /** Runs that did not finish within their bound. */
  readonly stuck: number;
  /** Runs that did not exit 0. */
  readonly failedRuns: number;
  /** Wall time of all runs. */
  readonly wallSeconds: number;
}

/**
 * Whether a run passed: exit 0, nothing lost, nothing doubled, not stuck, no uncaught error.
 *
 * @example
 * ```ts
 * import { producerTaskPassed } from "./producer_task.ts";
 * declare const row: import("./producer_task.ts").ProducerTaskRow;
 * console.log(producerTaskPassed(row));
 * ```
 */
export function producerTaskPassed(r: ProducerTaskRow): boolean {
  return r.exitCode === 0 && r.lost === 0 && r.duplicated === 0 && r.stuck === 0 && !r.uncaught;
}

/**
 * One run: fresh topic, the task fed a paced stream, the kill, the task's
 * end, the verdict, the broker back and a full ISR, the topic deleted.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { openDrill } from "./context.ts";
 * import { producerTaskRun } from "./producer_task.ts";
 * const drill = await openDrill(loadConfig());
 * console.log(await producerTaskRun(drill, { run: 1, partition: 0, killAt: 1000 }));
 * await drill.close();
 * ```
 */
export async function producerTaskRun(
  drill: DrillContext,
  plan: { run: number; partition: number; killAt: number },
  options: ProducerTaskOptions = {},
): Promise<ProducerTaskRow> {
  const records = options.records ?? 2000;
  const chunk = options.chunk ?? 50;
  const paceMs = options.paceMs ?? 250;
  const started = performance.now();
  const topic = `drill.producer-task.${Date.now().toString(36)}${
    Math.random().toString(36).slice(2, 6)
  }`;
  await drill.admin.createTopic(topic, {
    partitions: 3,
    replicationFactor: 3,
    configs: { "min.insync.replicas": "2" },
  });
  let victim = -1;
  let task: TaskProcess | undefined;
  try {
    const kill = async () => {
      victim = await partitionLeader(drill, topic, plan.partition);
      drill.log(
        `run ${plan.run}: SIGKILL broker ${victim} (leader of partition ${plan.partition}) ` +
          (plan.killAt < 0 ? "while the task starts" : `after ${plan.killAt} lines`),
      );
      await drill.stack.stopBroker(victim, { kill: true });
    };
    task = TaskProcess.start("produce", ["--topic", topic, "--key-separator", ":"], {
      stdin: true,
    });
    if (plan.killAt < 0) await kill();
    const ids: string[] = [];
    while (ids.length < records) {
      if (ids.length === plan.killAt) await kill();
      const batch = Array.from(
        { length: Math.min(chunk, records - ids.length) },
        (_, i) => `${plan.run}-${ids.length + i}`,
      );
      if (!(await task.write(batch.map((id) => `${id}:${id}\n`).join("")))) break;
      ids.push(...batch);
      await sleep(paceMs);
    }
    await task.closeStdin();
    const status = await task.wait(options.exitTimeoutMs ?? 120_000);
    const stuck = status ? 0 : 1;
    if (!status) await task.kill();
    const seen = await readLogIds(drill.kafka, drill.offsets, topic);
    const tally = tallyIds(ids, seen);
    const uncaught = /Uncaught/.test(task.stderr);
    const row: ProducerTaskRow = {
      run: plan.run,
      partition: plan.partition,
      broker: victim,
      killAt: plan.killAt,
      lines: ids.length,
      exitCode: status ? status.code : null,
      stuck,
      uncaught,
      inLog: tally.inLog,
      lost: tally.lost,
      duplicated: tally.duplicated,
      seconds: 0,
      failure: "",
    };
    return {
      ...row,
      failure: producerTaskPassed(row) ? "" : task.stderrTail(),
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await task?.kill();
    if (victim > 0) await restoreBroker(drill, victim);
    await awaitFullIsr(drill, [], 120_000).catch((e) => drill.log(`run ${plan.run}: ${e}`));
    await drill.admin.deleteTopics([topic]).catch(() => {});
  }
}

/**
 * Runs the drill `runs` times: seeded kill points spread over the stream,
 * every fourth run (the first included) killing while the task starts.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { openDrill } from "./context.ts";
 * import { producerTaskDrill } from "./producer_task.ts";
 * const drill = await openDrill(loadConfig());
 * const report = await producerTaskDrill(drill, { runs: 10, seed: 3 });
 * console.log(report.failedRuns, report.lost);
 * await drill.close();
 * ```
 */
export async function producerTaskDrill(
  drill: DrillContext,
  options: ProducerTaskOptions = {},
): Promise<ProducerTaskReport> {
  const runs = options.runs ?? 1;
  const seed = options.seed ?? 1;
  const records = options.records ?? 2000;
  const chunk = options.chunk ?? 50;
  const random = seededRandom(seed);
  const points = spreadPoints(random, runs, Math.ceil(records / chunk)).map((p) => p * chunk);
  const started = performance.now();
  await awaitFullIsr(drill, [], 120_000);
  const rows = await repeatRuns<ProducerTaskRow>(runs, async (run) => {
    const plan = {
      run,
      partition: randomInt(random, 0, 2),
      killAt: run % 4 === 1 ? -1 : points[run - 1],
    };
    return await producerTaskRun(drill, plan, options);
  }, options.onRun);
  return {
    seed,
    rows,
    lost: rows.reduce((n, r) => n + r.lost, 0),
    duplicated: rows.reduce((n, r) => n + r.duplicated, 0),
    stuck: rows.reduce((n, r) => n + r.stuck, 0),
    failedRuns: rows.filter((r) => r.exitCode !== 0).length,
    wallSeconds: (performance.now() - started) / 1000,
  };
}

/**
 * The producer-task rows as an aligned table.
 *
 * @example
 * ```ts
 * import { producerTaskTable } from "./producer_task.ts";
 * console.log(producerTaskTable([]));
 * ```
 */
export function producerTaskTable(rows: readonly ProducerTaskRow[]): string {
  return formatTable(
    ["run", "killed", "kill at", "lines", "exit", "in the log", "lost", "doubled", "stuck", "s"],
    rows.map((r) => [
      r.run,
      `broker ${r.broker} (p${r.partition})`,
      r.killAt < 0 ? "start" : r.killAt,
      r.lines,
      r.exitCode === null ? "-" : `${r.exitCode}${r.uncaught ? " uncaught" : ""}`,
      r.inLog,
      r.lost,
      r.duplicated,
      r.stuck,
      r.seconds.toFixed(1),
    ]),
  );
}

/**
 * The summary line of a producer-task drill.
 *
 * @example
 * ```ts
 * import { producerTaskSummary } from "./producer_task.ts";
 * console.log(producerTaskSummary({
 *   seed: 1, rows: [], lost: 0, duplicated: 0, stuck: 0, failedRuns: 0, wallSeconds: 0,
 * }));
 * ```
 */
export function producerTaskSummary(r: ProducerTaskReport): string {
  const lines = r.rows.reduce((n, x) => n + x.lines, 0);
  return `producer-task: ${r.rows.length} runs (seed ${r.seed}), ${lines} lines, ` +
    `${r.rows.length - r.failedRuns} of ${r.rows.length} exited 0; ${r.lost} lost, ` +
    `${r.duplicated} doubled, ${r.stuck} stuck; wall time ${r.wallSeconds.toFixed(1)} s`;
}
