/**
 * The consumer-kill drill: records with unique ids go into a fresh topic; a
 * subprocess group consumer with at-least-once processing
 * ({@linkcode ./consumer_worker.ts}) is SIGKILLed in the middle of a batch,
 * at a seeded point, with records processed but not committed; a new one is
 * started in the same group and runs until the group has no lag. Verdict:
 * every id the independent reader finds in the log is in the processed set
 * (nothing missing); re-processed records (duplicates) are allowed and
 * counted.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { openDrill } from "./context.ts";
 * import { consumerKillDrill } from "./consumer_kill.ts";
 * const drill = await openDrill(loadConfig());
 * const report = await consumerKillDrill(drill, { runs: 1, seed: 1 });
 * console.log(report.missing); // 0
 * await drill.close();
 * ```
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { TopicProducer } from "../kafka/producer.ts";
import { withDeadline } from "../util/deadline.ts";
import { REPO_ROOT } from "../util/repo.ts";
import { pollUntil } from "../util/probe.ts";
import type { DrillContext } from "./context.ts";
import { randomInt, seededRandom } from "./seeded.ts";
import { readLogIds } from "./verdict.ts";
import { repeatRuns } from "./repeat.ts";

/** Settings of {@linkcode consumerKillDrill}. */
export interface ConsumerKillOptions {
  /** Runs, each with its own kill (default 1). */
  runs?: number;
  /** Seed of the kill points (default 1). */
  seed?: number;
  /** Records per run (default 2000). */
  records?: number;
  /** Longest one run may take, ms (default 120 000). */
  runTimeoutMs?: number;
  /** Called with each run's row as soon as it is known. */
  onRun?: (row: ConsumerKillRow) => void;
}

/** One run of the consumer-kill drill. */
export interface ConsumerKillRow {
  /** Run number, from 1. */
  readonly run: number;
  /** Records produced for the run. */
  readonly records: number;
  /** Ids processed when the consumer was killed (mid-batch). */
  readonly killedAt: number;
  /** Lines in the processed file (every processing counted). */
  readonly processed: number;
  /** Records the independent reader found in the log. */
  readonly inLog: number;
  /** Log ids never processed. */
  readonly missing: number;
  /** Processings beyond the first, i.e. records processed again after the kill. */
  readonly duplicated: number;
  /** Wall-clock seconds of the run. */
  readonly seconds: number;
}

/** Every run and the totals. */
export interface ConsumerKillReport {
  /** The seed of the kill points. */
  readonly seed: number;
  /** One row per run. */
  readonly rows: readonly ConsumerKillRow[];
  /** Log ids never processed, over all runs. */
  readonly missing: number;
  /** Wall-clock seconds of the whole drill. */
  readonly wallSeconds: number;
}

const WORKER = fileURLToPath(new URL("./consumer_worker.ts", import.meta.url));

function startWorker(args: string[]): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", WORKER, ...args],
    cwd: REPO_ROOT, // where deno.json (the import map) is
    stdin: "null",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
}

async function stopWorker(child: Deno.ChildProcess, signal: Deno.Signal): Promise<void> {
  try {
    child.kill(signal);
  } catch { /* already gone */ }
  const ended = await withDeadline(child.status, 15_000, "worker exit").catch(() => undefined);
  if (!ended) {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
    await child.status;
  }
}

/**
 * Counts processed ids against log ids.
 *
 * @example
 * ```ts
 * import { compareProcessed } from "./consumer_kill.ts";
 * console.log(compareProcessed(["a", "b", "c"], ["a", "b", "b"])); // { missing: 1, duplicated: 1 }
 * ```
 */
export function compareProcessed(
  logIds: readonly string[],
  processed: readonly string[],
): { missing: number; duplicated: number } {
  const seen = new Set(processed);
  return {
    missing: logIds.filter((id) => !seen.has(id)).length,
    duplicated: processed.length - seen.size,
  };
}

/**
 * One run: produce, start a worker that pauses at `killAt`, SIGKILL it,
 * start another, wait for zero lag, stop it, compare.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { openDrill } from "./context.ts";
 * import { consumerKillRun } from "./consumer_kill.ts";
 * const drill = await openDrill(loadConfig());
 * console.log(await consumerKillRun(drill, { run: 1, killAt: 1200 }, { records: 3000 }));
 * await drill.close();
 * ```
 */
export async function consumerKillRun(
  drill: DrillContext,
  plan: { run: number; killAt: number },
  options: ConsumerKillOptions = {},
): Promise<ConsumerKillRow> {
  const records = options.records ?? 2000;
  const timeoutMs = options.runTimeoutMs ?? 120_000;
  const started = performance.now();
  const tag = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const topic = `drill.consumer-kill.${tag}`;
  const group = `drill.consumer-kill.${tag}`;
  const out = await Deno.makeTempFile({ prefix: "shopstream-drill-processed-" });
  await drill.admin.createTopic(topic, { partitions: 3, replicationFactor: 3 });
  const children: Deno.ChildProcess[] = [];
  try {
    const producer = new TopicProducer(drill.kafka, { topic });
    await producer.connect();
    try {
      for (let i = 0; i < records; i++) {
        await producer.ready();
        producer.enqueue({ key: `${plan.run}-${i}`, value: `${plan.run}-${i}` });
      }
    } finally {
      await producer.disconnect();
    }
    const args = ["--topic", topic, "--group", group, "--out", out];
    const first = startWorker([...args, "--pause-at", String(plan.killAt)]);
    children.push(first);
    await pollUntil(
      "the drill consumer paused mid-batch",
      () => Deno.stat(`${out}.paused`).then(() => true, () => false),
      timeoutMs,
      { intervalMs: 100 },
    );
    await stopWorker(first, "SIGKILL");
    const killedAt = Number((await Deno.readTextFile(`${out}.paused`)).trim());
    drill.log(`run ${plan.run}: consumer SIGKILLed mid-batch after ${killedAt} records`);
    const second = startWorker(args);
    children.push(second);
    await pollUntil(
      `group ${group} caught up`,
      async () => {
        const lag = await drill.admin.lag(group, topic);
        return lag.length > 0 && lag.every((p) => p.committed !== null && p.lag === 0);
      },
      timeoutMs,
      { intervalMs: 300 },
    );
    await stopWorker(second, "SIGTERM");
    const processed = (await Deno.readTextFile(out)).split("\n").filter((l) => l !== "");
    const logIds = await readLogIds(drill.kafka, drill.offsets, topic);
    const { missing, duplicated } = compareProcessed(logIds, processed);
    return {
      run: plan.run,
      records,
      killedAt,
      processed: processed.length,
      inLog: logIds.length,
      missing,
      duplicated,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    for (const c of children) await stopWorker(c, "SIGKILL");
    await Deno.remove(out).catch(() => {});
    await Deno.remove(`${out}.paused`).catch(() => {});
    await drill.admin.raw.deleteGroups([group]).catch(() => {});
    await drill.admin.deleteTopics([topic]).catch(() => {});
  }
}

/**
 * Runs the consumer-kill drill `runs` times with seeded kill points.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { openDrill } from "./context.ts";
 * import { consumerKillDrill } from "./consumer_kill.ts";
 * const drill = await openDrill(loadConfig());
 * const { missing } = await consumerKillDrill(drill, { runs: 2, seed: 7 });
 * await drill.close();
 * ```
 */
export async function consumerKillDrill(
  drill: DrillContext,
  options: ConsumerKillOptions = {},
): Promise<ConsumerKillReport> {
  const runs = options.runs ?? 1;
  const seed = options.seed ?? 1;
  const records = options.records ?? 2000;
  const random = seededRandom(seed);
  const started = performance.now();
  const rows = await repeatRuns<ConsumerKillRow>(runs, async (run) => {
    const killAt = randomInt(random, Math.ceil(records * 0.1), Math.floor(records * 0.9));
    return await consumerKillRun(drill, { run, killAt }, options);
  }, options.onRun);
  return {
    seed,
    rows,
    missing: rows.reduce((n, r) => n + r.missing, 0),
    wallSeconds: (performance.now() - started) / 1000,
  };
}
