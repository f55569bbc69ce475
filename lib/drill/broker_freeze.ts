/**
 * The broker-freeze drill: the console tasks as a user runs them, `deno task
 * produce` fed a paced keyed stream and `deno task consume --group` reading
 * it, both child processes, on a fresh topic (RF 3, `min.insync.replicas=2`).
 * At a seeded point the leader of a seeded partition gets SIGSTOP (Docker:
 * `pause`) for longer than the consumer's session timeout (10 s by
 * default, so the group must notice), then SIGCONT. Its sockets stay open and
 * silent: requests to it time out instead of failing fast, the controller
 * fences it, leadership and the group coordinator move. Halfway through the
 * freeze a second console consumer gets SIGINT and must end within 10 s;
 * after the stream the first one must too.
 *
 * Verdict, from the independent reader (GetOffsetShell and a fresh consumer)
 * and the consumer's output: lost (lines written but not in the log),
 * doubled (extra copies in the log), stuck (the producer did not end, or
 * lines the consumer never printed), and the exit times after SIGINT.
 * Records the console consumer prints twice (it commits only when it ends,
 * so a rebalance replays) are counted, not failed.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { openDrill } from "./context.ts";
 * import { brokerFreezeDrill, brokerFreezeTable } from "./broker_freeze.ts";
 * const drill = await openDrill(loadConfig());
 * try {
 *   console.log(brokerFreezeTable((await brokerFreezeDrill(drill, { runs: 1 })).rows));
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

/** How long a task may take to end after SIGINT. */
export const SIGINT_BOUND_MS = 10_000;

/** Settings of {@linkcode brokerFreezeDrill}. */
export interface BrokerFreezeOptions {
  /** Runs to make (default 1). */
  runs?: number;
  /** Seed of the runs' choices (partition, timing). */
  seed?: number;
  /** Lines per run (default 2000). */
  records?: number;
  /** Lines per write to the producer's stdin (default 50). */
  chunk?: number;
  /** Pause between writes, ms (default 500: 2000 lines take 20 s). */
  paceMs?: number;
  /** How long the leader stays frozen, ms (default 15 000: the session timeout is 10 000). */
  freezeMs?: number;
  /** Longest the producer may take to end after its input, ms (default 120 000). */
  exitTimeoutMs?: number;
  /** Longest the consumer may take to print every line after the producer ended (default 60 000). */
  catchUpMs?: number;
  /** Called with each run's row as it ends. */
  onRun?: (row: BrokerFreezeRow) => void;
}

/** One run of the broker-freeze drill. */
export interface BrokerFreezeRow {
  /** The run's number, from 1. */
  readonly run: number;
  /** The partition whose leader was hit. */
  readonly partition: number;
  /** The broker frozen (the partition's leader). */
  readonly broker: number;
  /** Lines written before the freeze. */
  readonly freezeAt: number;
  /** How long the leader was stopped. */
  readonly frozenSeconds: number;
  /** Lines the producer was given. */
  readonly lines: number;
  /** The producer's exit code; null when it had to be killed. */
  readonly producerExit: number | null;
  /** Of them, how many the log holds (an independent read). */
  readonly inLog: number;
  /** Lines written but not in the log. */
  readonly lost: number;
  /** Extra copies in the log. */
  readonly doubled: number;
  /** 1 if the producer did not end, plus the lines the consumer never printed. */
  readonly stuck: number;
  /** Lines the consumer printed more than once (replayed after a rebalance). */
  readonly consumedTwice: number;
  /** Seconds the probe consumer took to end after SIGINT during the freeze; null: not within 10 s. */
  readonly sigintFrozen: number | null;
  /** Its exit code: 0 after a clean leave, 1 when its shutdown bound ended it. */
  readonly sigintFrozenCode: number | null;
  /** Seconds the consumer took to end after SIGINT at the end; null: not within 10 s. */
  readonly sigintAfter: number | null;
  /** The run's wall time. */
  readonly seconds: number;
  /** Ends of the tasks' stderr when the run failed, else "". */
  readonly failure: string;
}

/** Every run and the totals. */
export interface BrokerFreezeReport {
  /** Seed of the runs' choices (partition, timing). */
  readonly seed: number;
  /** One row per run. */
  readonly rows: readonly BrokerFreezeRow[];
  /** Records missing from the log, over all runs. */
  readonly lost: number;
  /** Records read more than once, over all runs. */
  readonly doubled: number;
  /** Runs that did not finish within their bound. */
  readonly stuck: number;
  /** Wall time of all runs. */
  readonly wallSeconds: number;
}

/**
 * Whether a run passed: producer exit 0, nothing lost, doubled or stuck, and
 * both SIGINTs answered within {@linkcode SIGINT_BOUND_MS}.
 *
 * @example
 * ```ts
 * import { brokerFreezePassed } from "./broker_freeze.ts";
 * declare const row: import("./broker_freeze.ts").BrokerFreezeRow;
 * console.log(brokerFreezePassed(row));
 * ```
 */
export function brokerFreezePassed(r: BrokerFreezeRow): boolean {
  return r.producerExit === 0 && r.lost === 0 && r.doubled === 0 && r.stuck === 0 &&
    r.sigintFrozen !== null && r.sigintAfter !== null;
}

/**
 * One run: see the module doc.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { openDrill } from "./context.ts";
 * import { brokerFreezeRun } from "./broker_freeze.ts";
 * const drill = await openDrill(loadConfig());
 * console.log(await brokerFreezeRun(drill, { run: 1, partition: 1, freezeAt: 600 }));
 * await drill.close();
 * ```
 */
export async function brokerFreezeRun(
  drill: DrillContext,
  plan: { run: number; partition: number; freezeAt: number },
  options: BrokerFreezeOptions = {},
): Promise<BrokerFreezeRow> {
  const records = options.records ?? 2000;
  const chunk = options.chunk ?? 50;
  const paceMs = options.paceMs ?? 500;
  const freezeMs = options.freezeMs ?? 15_000;
  const started = performance.now();
  const tag = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const topic = `drill.broker-freeze.${tag}`;
  const group = `drill.broker-freeze.${tag}`;
  await drill.admin.createTopic(topic, {
    partitions: 3,
    replicationFactor: 3,
    configs: { "min.insync.replicas": "2" },
  });
  let victim = -1;
  const tasks: TaskProcess[] = [];
  try {
    const consumer = TaskProcess.start("consume", [
      "--topic",
      topic,
      "--group",
      group,
      "--from-beginning",
    ]);
    // A throwaway-group consumer: its SIGINT during the freeze leaves the group and deletes it.
    const probe = TaskProcess.start("consume", ["--topic", topic, "--from-beginning"]);
    const producer = TaskProcess.start("produce", ["--topic", topic, "--key-separator", ":"], {
      stdin: true,
    });
    tasks.push(consumer, probe, producer);
    let frozenAt = 0;
    let thawedAt = 0;
    let probeStop: Promise<{ seconds: number; status?: Deno.CommandStatus }> | undefined;
    const thaw = async () => {
      if (frozenAt === 0 || thawedAt > 0) return;
      await drill.stack.resumeService(`kafka-${victim}`);
      thawedAt = performance.now();
      drill.log(`run ${plan.run}: SIGCONT broker ${victim}`);
    };
    const tick = async () => {
      if (frozenAt === 0 || thawedAt > 0) return;
      const frozenFor = performance.now() - frozenAt;
      if (!probeStop && frozenFor >= freezeMs / 2) {
        probeStop = probe.stop("SIGINT", SIGINT_BOUND_MS);
      }
      if (frozenFor >= freezeMs) await thaw();
    };
    const ids: string[] = [];
    try {
      while (ids.length < records) {
        if (ids.length === plan.freezeAt) {
          victim = await partitionLeader(drill, topic, plan.partition);
          drill.log(
            `run ${plan.run}: SIGSTOP broker ${victim} (leader of partition ${plan.partition}) ` +
              `for ${freezeMs / 1000} s`,
          );
          await drill.stack.pauseService(`kafka-${victim}`);
          frozenAt = performance.now();
        }
        const batch = Array.from(
          { length: Math.min(chunk, records - ids.length) },
          (_, i) => `${plan.run}-${ids.length + i}`,
        );
        if (!(await producer.write(batch.map((id) => `${id}:${id}\n`).join("")))) break;
        ids.push(...batch);
        await sleep(paceMs);
        await tick();
      }
      while (frozenAt > 0 && thawedAt === 0) {
        await sleep(100);
        await tick();
      }
    } finally {
      await thaw();
    }
    await producer.closeStdin();
    const produced = await producer.wait(options.exitTimeoutMs ?? 120_000);
    const want = new Set(ids);
    const printed = () => consumer.lines.filter((l) => want.has(l));
    const catchUp = performance.now() + (options.catchUpMs ?? 60_000);
    while (new Set(printed()).size < want.size && performance.now() < catchUp) await sleep(250);
    const after = await consumer.stop("SIGINT", SIGINT_BOUND_MS);
    const frozen = probeStop ? await probeStop : undefined;
    const seen = await readLogIds(drill.kafka, drill.offsets, topic);
    const tally = tallyIds(ids, seen);
    const consumed = printed();
    const distinct = new Set(consumed);
    const row: BrokerFreezeRow = {
      run: plan.run,
      partition: plan.partition,
      broker: victim,
      freezeAt: plan.freezeAt,
      frozenSeconds: thawedAt > 0 ? (thawedAt - frozenAt) / 1000 : 0,
      lines: ids.length,
      producerExit: produced ? produced.code : null,
      inLog: tally.inLog,
      lost: tally.lost,
      doubled: tally.duplicated,
      stuck: (produced ? 0 : 1) + (want.size - distinct.size),
      consumedTwice: consumed.length - distinct.size,
      sigintFrozen: frozen?.status ? frozen.seconds : null,
      sigintFrozenCode: frozen?.status ? frozen.status.code : null,
      sigintAfter: after.status ? after.seconds : null,
      seconds: 0,
      failure: "",
    };
    const failure = brokerFreezePassed(row) ? "" : tasks
      .map((t, i) => `${["consumer", "probe", "producer"][i]}:\n${t.stderrTail(6)}`)
      .join("\n");
    return { ...row, failure, seconds: (performance.now() - started) / 1000 };
  } finally {
    for (const t of tasks) await t.kill();
    if (victim > 0) await restoreBroker(drill, victim);
    await awaitFullIsr(drill, [], 120_000).catch((e) => drill.log(`run ${plan.run}: ${e}`));
    await drill.admin.raw.deleteGroups([group]).catch(() => {});
    await drill.admin.deleteTopics([topic]).catch(() => {});
  }
}

/**
 * Runs the drill `runs` times with seeded freeze points and victims.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { openDrill } from "./context.ts";
 * import { brokerFreezeDrill } from "./broker_freeze.ts";
 * const drill = await openDrill(loadConfig());
 * const report = await brokerFreezeDrill(drill, { runs: 3, seed: 2 });
 * console.log(report.lost, report.doubled, report.stuck);
 * await drill.close();
 * ```
 */
export async function brokerFreezeDrill(
  drill: DrillContext,
  options: BrokerFreezeOptions = {},
): Promise<BrokerFreezeReport> {
  const runs = options.runs ?? 1;
  const seed = options.seed ?? 1;
  const records = options.records ?? 2000;
  const chunk = options.chunk ?? 50;
  const random = seededRandom(seed);
  const points = spreadPoints(random, runs, Math.ceil(records / chunk)).map((p) => p * chunk);
  const started = performance.now();
  await awaitFullIsr(drill, [], 120_000);
  const rows = await repeatRuns<BrokerFreezeRow>(runs, async (run) => {
    const plan = { run, partition: randomInt(random, 0, 2), freezeAt: points[run - 1] };
    return await brokerFreezeRun(drill, plan, options);
  }, options.onRun);
  return {
    seed,
    rows,
    lost: rows.reduce((n, r) => n + r.lost, 0),
    doubled: rows.reduce((n, r) => n + r.doubled, 0),
    stuck: rows.reduce((n, r) => n + r.stuck, 0),
    wallSeconds: (performance.now() - started) / 1000,
  };
}

const seconds = (s: number | null) => s === null ? "> 10" : s.toFixed(1);

/**
 * The broker-freeze rows as an aligned table.
 *
 * @example
 * ```ts
 * import { brokerFreezeTable } from "./broker_freeze.ts";
 * console.log(brokerFreezeTable([]));
 * ```
 */
export function brokerFreezeTable(rows: readonly BrokerFreezeRow[]): string {
  return formatTable(
    [
      "run",
      "frozen",
      "at",
      "for s",
      "lines",
      "producer exit",
      "in the log",
      "lost",
      "doubled",
      "stuck",
      "consumed twice",
      "SIGINT frozen s",
      "SIGINT after s",
      "s",
    ],
    rows.map((r) => [
      r.run,
      `broker ${r.broker} (p${r.partition})`,
      r.freezeAt,
      r.frozenSeconds.toFixed(1),
      r.lines,
      r.producerExit ?? "-",
      r.inLog,
      r.lost,
      r.doubled,
      r.stuck,
      r.consumedTwice,
      r.sigintFrozen === null
        ? seconds(null)
        : `${seconds(r.sigintFrozen)} (exit ${r.sigintFrozenCode})`,
      seconds(r.sigintAfter),
      r.seconds.toFixed(1),
    ]),
  );
}

/**
 * The summary line of a broker-freeze drill.
 *
 * @example
 * ```ts
 * import { brokerFreezeSummary } from "./broker_freeze.ts";
 * console.log(brokerFreezeSummary({ seed: 1, rows: [], lost: 0, doubled: 0, stuck: 0, wallSeconds: 0 }));
 * ```
 */
export function brokerFreezeSummary(r: BrokerFreezeReport): string {
  const passed = r.rows.filter(brokerFreezePassed).length;
  return `broker-freeze: ${r.rows.length} runs (seed ${r.seed}), ${passed} passed; ` +
    `${r.lost} lost, ${r.doubled} doubled, ${r.stuck} stuck; ` +
    `wall time ${r.wallSeconds.toFixed(1)} s`;
}
