/**
 * The minio-freeze drill: a lake sink reads a seeded produce stream while
 * MinIO is frozen (SIGSTOP, see `freeze.ts`) for `freezeMs` in the middle of
 * the run, then thawed. A frozen MinIO accepts connections and answers
 * nothing: the sink's uploads hang until the client's idle bound, then are
 * retried; the sink must show that it waits (`waitingForStore`, the
 * "waiting for MinIO" log line), keep its group session (no rebalance, no
 * consumer restart), resume once MinIO answers, and lose or double nothing.
 * Verdict by the independent reader: every record in bronze and silver
 * exactly once by event id, gold equal to the tally, the group's lag 0.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { openDrill } from "./context.ts";
 * import { minioFreezeDrill, minioFreezeTable } from "./minio_freeze.ts";
 * const drill = await openDrill(loadConfig());
 * const report = await minioFreezeDrill(drill, { runs: 1, freezeMs: 15_000 });
 * console.log(minioFreezeTable(report.rows));
 * await drill.close();
 * ```
 *
 * @module
 */
import { LakeStore } from "../lake/store.ts";
import {
  FAMILY_OF,
  familyTopics,
  GoldJob,
  LakeSink,
  ShopStreamProducer,
  SilverJob,
  TOPIC_KEYS,
} from "../shopstream/mod.ts";
import { sleep, withDeadline } from "../util/deadline.ts";
import { formatTable } from "../util/table.ts";
import type { DrillContext } from "./context.ts";
import { freezeMinio, type FrozenMinio } from "./freeze.ts";
import {
  cleanupLakeDrill,
  groupLag,
  lakeDrillNames,
  lakeVerdict,
  regenerate,
  waitCaughtUp,
} from "./lake_drill.ts";
import { repeatDrill } from "./repeat.ts";

/** Settings of {@linkcode minioFreezeDrill}. */
export interface MinioFreezeOptions {
  /** Runs to make (default 1). */
  runs?: number;
  /** Seed of the runs' data and timing. */
  seed?: number;
  /** Records per run (default 6000). */
  records?: number;
  /** How long MinIO stays frozen, ms (default 60 000). */
  freezeMs?: number;
  /** Longest the sink may take to commit everything after the thaw, ms (default 120 000). */
  runTimeoutMs?: number;
  /** Called with each run's row as it ends. */
  onRun?: (row: MinioFreezeRow) => void;
}

/** One run of the minio-freeze drill. */
export interface MinioFreezeRow {
  /** The run's number, from 1. */
  readonly run: number;
  /** Records produced in the run. */
  readonly records: number;
  /** Seconds MinIO was frozen. */
  readonly frozenSeconds: number;
  /** Seconds from the freeze until the sink showed it waits (-1: never). */
  readonly waitingAfter: number;
  /** Seconds from the thaw until the sink stopped waiting (-1: never). */
  readonly resumedAfter: number;
  /** Failed store calls (each retried). */
  readonly failedCalls: number;
  /** Rebalances of the sink's group during the run beyond the first assignment. */
  readonly rebalances: number;
  /** Consumer restarts the sink reported. */
  readonly restarts: number;
  /** Rows in bronze (read back from MinIO). */
  readonly bronzeRows: number;
  /** Rows in silver (read back). */
  readonly silverRows: number;
  /** Rows in gold (read back). */
  readonly goldRows: number;
  /** Records missing from bronze or silver. */
  readonly lost: number;
  /** Extra copies in bronze or silver, plus gold rows that differ from the tally. */
  readonly doubled: number;
  /** The group's lag after the run. */
  readonly stuck: number;
  /** The crash, when the run crashed. */
  readonly crashed?: string;
  /** The run's wall time. */
  readonly seconds: number;
  /** What the independent count found wrong; empty when the run passed. */
  readonly problems: readonly string[];
}

/** Every run and the totals. */
export interface MinioFreezeReport {
  /** Seed of the runs' data and timing. */
  readonly seed: number;
  /** How long MinIO stayed frozen. */
  readonly freezeMs: number;
  /** One row per run. */
  readonly rows: readonly MinioFreezeRow[];
  /** Runs with a problem. */
  readonly failedRuns: number;
  /** Wall time of all runs. */
  readonly wallSeconds: number;
}

/**
 * Whether a run is clean: nothing lost, doubled or stuck, the wait was
 * visible and ended, no restart, no crash.
 *
 * @example
 * ```ts
 * import { minioFreezeRunOk } from "./minio_freeze.ts";
 * declare const row: import("./minio_freeze.ts").MinioFreezeRow;
 * console.log(minioFreezeRunOk(row));
 * ```
 */
export function minioFreezeRunOk(r: MinioFreezeRow): boolean {
  return r.lost === 0 && r.doubled === 0 && r.stuck === 0 && r.restarts === 0 &&
    r.crashed === undefined && r.waitingAfter >= 0 && r.resumedAfter >= 0;
}

/**
 * One run: fresh topics and group, a sink running, a paced produce stream;
 * once the sink has uploaded, MinIO is frozen for `freezeMs` and thawed;
 * the sink catches up; silver, gold, verdict, cleanup. MinIO is thawed in
 * `finally` whatever happens.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { openDrill } from "./context.ts";
 * import { minioFreezeRun } from "./minio_freeze.ts";
 * const drill = await openDrill(loadConfig());
 * console.log(await minioFreezeRun(drill, 1, { freezeMs: 10_000 }));
 * await drill.close();
 * ```
 */
export async function minioFreezeRun(
  drill: DrillContext,
  run: number,
  options: MinioFreezeOptions = {},
): Promise<MinioFreezeRow> {
  const started = performance.now();
  const records = options.records ?? 6000;
  const freezeMs = options.freezeMs ?? 60_000;
  const seed = (options.seed ?? 1) * 1000 + run;
  const names = lakeDrillNames("minio-freeze");
  const { topics, group } = names;
  const store = LakeStore.fromConfig(drill.config);
  const generator = {
    seed,
    malformedShare: 0,
    duplicateShare: 0,
    schema: { v2From: Math.floor(records / 2) },
  };
  let sink: LakeSink | undefined;
  let frozen: FrozenMinio | undefined;
  try {
    await store.ensureBucket();
    const producer = new ShopStreamProducer(drill.kafka, drill.config, {
      topics,
      events: records,
      // Spread over the freeze and some seconds on either side of it.
      rate: Math.ceil(records / ((freezeMs + 20_000) / 1000)),
      generator,
    });
    await producer.connect();
    sink = new LakeSink({
      config: drill.config,
      groupId: group,
      topics: familyTopics(topics),
      deadLetterTopic: topics.deadLetter,
      policy: { maxRecords: 500, maxBytes: 4 * 1024 * 1024, maxAgeMs: 500 },
    });
    await sink.connect();
    await sink.run();
    const live = sink;
    let waitingAfter = -1;
    let resumedAfter = -1;
    let thawedAt = 0;
    const producing = producer.run();
    producing.catch(() => {}); // awaited below
    try {
      await withDeadline(
        (async () => {
          while (live.metrics().objects === 0 && !live.crashed) await sleep(100);
        })(),
        60_000,
        "the sink's first upload",
      );
      drill.log(`run ${run}: SIGSTOP MinIO for ${freezeMs / 1000} s`);
      frozen = await freezeMinio(drill.stack.mode, freezeMs);
      const until = frozen.since + freezeMs;
      while (Date.now() < until) {
        if (waitingAfter < 0 && live.metrics().waitingForStore) {
          waitingAfter = (Date.now() - frozen.since) / 1000;
          drill.log(`run ${run}: the sink waits for MinIO (after ${waitingAfter.toFixed(1)} s)`);
        }
        await sleep(250);
      }
      await frozen.thaw();
      thawedAt = Date.now();
      drill.log(`run ${run}: SIGCONT MinIO`);
      await withDeadline(
        (async () => {
          while (live.metrics().waitingForStore && !live.crashed) await sleep(100);
        })(),
        60_000,
        "the sink to resume",
      ).then(() => {
        if (!live.crashed) resumedAfter = (Date.now() - thawedAt) / 1000;
      }, () => {});
      await producing;
    } finally {
      producer.stop();
      await producing.catch(() => {});
      await producer.disconnect();
      await frozen?.thaw();
    }
    await waitCaughtUp(
      drill,
      group,
      topics,
      options.runTimeoutMs ?? 120_000,
      () => live.crashed !== undefined,
    );
    const m = sink.metrics();
    const crashed = sink.crashed?.message;
    await sink.stop(10_000);
    sink = undefined;
    const stuck = await groupLag(drill, group, topics);

    await withDeadline(
      (async () => {
        const silver = new SilverJob(store);
        for (const k of TOPIC_KEYS) await silver.run(topics[k], FAMILY_OF[k]);
        await new GoldJob(store).run(topics.orders);
      })(),
      120_000,
      "silver and gold",
    );
    const sent = regenerate(generator, records);
    const lake = await lakeVerdict(store, topics, sent);
    const failedCalls = Object.values(m.flushFailures).reduce((a, b) => a + b, 0);
    const problems: string[] = [];
    if (waitingAfter < 0) problems.push("the sink never showed it waits for MinIO");
    if (resumedAfter < 0) problems.push("the sink did not stop waiting after the thaw");
    if (lake.bronze.lost + lake.silver.lost > 0) {
      problems.push(`lost: ${lake.bronze.lost} in bronze, ${lake.silver.lost} in silver`);
    }
    if (lake.bronze.doubled + lake.silver.doubled > 0) {
      problems.push(`doubled: ${lake.bronze.doubled} in bronze, ${lake.silver.doubled} in silver`);
    }
    problems.push(...lake.goldDiffs.slice(0, 3).map((d) => `gold ${d}`));
    if (stuck > 0) problems.push(`${stuck} records not committed`);
    if (crashed) problems.push(`the sink crashed: ${crashed}`);
    return {
      run,
      records,
      frozenSeconds: freezeMs / 1000,
      waitingAfter,
      resumedAfter,
      failedCalls,
      rebalances: Math.max(0, m.rebalances - 1),
      restarts: m.consumerRestarts,
      bronzeRows: lake.bronze.rows,
      silverRows: lake.silver.rows,
      goldRows: lake.goldRows,
      lost: lake.bronze.lost + lake.silver.lost,
      doubled: lake.bronze.doubled + lake.silver.doubled + lake.goldDiffs.length,
      stuck,
      crashed,
      seconds: (performance.now() - started) / 1000,
      problems: problems.slice(0, 5),
    };
  } finally {
    await frozen?.thaw().catch(() => {});
    await sink?.stop(5000).catch(() => {});
    await cleanupLakeDrill(drill, store, names);
  }
}

/**
 * Runs the minio-freeze drill `runs` times.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { openDrill } from "./context.ts";
 * import { minioFreezeDrill } from "./minio_freeze.ts";
 * const drill = await openDrill(loadConfig());
 * console.log((await minioFreezeDrill(drill, { freezeMs: 15_000 })).failedRuns); // 0
 * await drill.close();
 * ```
 */
export async function minioFreezeDrill(
  drill: DrillContext,
  options: MinioFreezeOptions = {},
): Promise<MinioFreezeReport> {
  const report = await repeatDrill(
    options,
    (run) => minioFreezeRun(drill, run, options),
    minioFreezeRunOk,
  );
  return { ...report, freezeMs: options.freezeMs ?? 60_000 };
}

/** Column names of the minio-freeze table. */
export const MINIO_FREEZE_COLUMNS = [
  "run",
  "records",
  "frozen s",
  "waiting after s",
  "resumed after s",
  "failed calls",
  "rebalances",
  "restarts",
  "bronze",
  "silver",
  "gold rows",
  "lost",
  "doubled",
  "stuck",
  "s",
] as const;

/**
 * The minio-freeze rows as an aligned table.
 *
 * @example
 * ```ts
 * import { minioFreezeTable } from "./minio_freeze.ts";
 * console.log(minioFreezeTable([]));
 * ```
 */
export function minioFreezeTable(rows: readonly MinioFreezeRow[]): string {
  const s = (x: number) => (x < 0 ? "never" : x.toFixed(1));
  return formatTable(
    MINIO_FREEZE_COLUMNS,
    rows.map((r) => [
      r.run,
      r.records,
      r.frozenSeconds,
      s(r.waitingAfter),
      s(r.resumedAfter),
      r.failedCalls,
      r.rebalances,
      r.restarts,
      r.bronzeRows,
      r.silverRows,
      r.goldRows,
      r.lost,
      r.doubled,
      r.stuck,
      r.seconds.toFixed(1),
    ]),
  );
}

/**
 * The summary line of a minio-freeze drill.
 *
 * @example
 * ```ts
 * import { minioFreezeSummary } from "./minio_freeze.ts";
 * console.log(minioFreezeSummary({ seed: 1, freezeMs: 60_000, rows: [], failedRuns: 0, wallSeconds: 0 }));
 * ```
 */
export function minioFreezeSummary(r: MinioFreezeReport): string {
  const sum = (f: (x: MinioFreezeRow) => number) => r.rows.reduce((n, x) => n + f(x), 0);
  return `minio-freeze: ${r.rows.length} runs (seed ${r.seed}), MinIO frozen ` +
    `${r.freezeMs / 1000} s each; ${sum((x) => x.records)} records, ${sum((x) => x.lost)} lost, ` +
    `${sum((x) => x.doubled)} doubled, ${sum((x) => x.stuck)} stuck, ` +
    `${sum((x) => x.restarts)} consumer restarts, ${sum((x) => x.rebalances)} rebalances; ` +
    `${r.failedRuns} failed runs; wall time ${r.wallSeconds.toFixed(1)} s` +
    r.rows.flatMap((x) => x.problems.map((p) => `\n  run ${x.run}: ${p}`)).join("");
}
