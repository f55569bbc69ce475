/**
 * The broker-kill drill: a keyed produce stream of sequential sends into a
 * fresh topic (RF 3, `min.insync.replicas=2`, acks=all); before a seeded
 * send in the middle of the stream, the leader of a seeded partition gets
 * SIGKILL (native: its process; Docker: `docker kill`) and the stream goes
 * on. Once that send is answered (the failover is over) the broker is
 * restarted while the stream continues; then the independent reader counts
 * the log by record id, and the next run waits for a full ISR everywhere.
 *
 * `guarded` streams through {@linkcode TopicProducer} (one kafkajs send per
 * partition, each verified); `raw` through a bare kafkajs producer with the
 * same settings, whose sends span several leaders, to show the acknowledged
 * records kafkajs drops and the ones it writes twice (see the facts in
 * lib/kafka/mod.ts). Each row counts the send attempts kafkajs retried: the
 * proof that the kill hit the stream.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { openDrill } from "./context.ts";
 * import { brokerKillDrill } from "./broker_kill.ts";
 * const drill = await openDrill(loadConfig());
 * try {
 *   const report = await brokerKillDrill(drill, { runs: 2, seed: 1, client: "raw" });
 *   console.log(report.lost);
 * } finally {
 *   await drill.close();
 * }
 * ```
 *
 * @module
 */
import { logLevel, type Message, type Producer } from "kafkajs";
import { createKafka } from "../kafka/client.ts";
import { javaPartition } from "../kafka/partitioners.ts";
import { TopicProducer } from "../kafka/producer.ts";
import { withDeadline } from "../util/deadline.ts";
import { awaitFullIsr, type DrillContext } from "./context.ts";
import { randomInt, seededRandom, spreadPoints } from "./seeded.ts";
import { readLogIds, tallyIds } from "./verdict.ts";
import { repeatRuns } from "./repeat.ts";

/** Which producer streams: ours (verified) or kafkajs unguarded. */
export type DrillClient = "guarded" | "raw";

/** Settings of {@linkcode brokerKillDrill}. */
export interface BrokerKillOptions {
  /** Runs, each on a fresh topic with its own kill (default 1). */
  runs?: number;
  /** Seed of the kill points and victims (default 1). */
  seed?: number;
  /** Records per run (default 1500). */
  records?: number;
  /** Records per send (default 100). */
  batch?: number;
  /** Default `guarded`. */
  client?: DrillClient;
  /** Partitions of the drill topic (default 3). */
  partitions?: number;
  /** Longest one run's stream may take, ms (default 90 000). */
  runTimeoutMs?: number;
  /** Called with each run's row as soon as it is known. */
  onRun?: (row: BrokerKillRow) => void;
}

/** One run of the broker-kill drill. */
export interface BrokerKillRow {
  /** Run number, from 1. */
  readonly run: number;
  /** Which producer streamed. */
  readonly client: DrillClient;
  /** The partition whose leader was killed. */
  readonly partition: number;
  /** The broker killed (the partition's leader at the kill). */
  readonly broker: number;
  /** Records sent before the kill. */
  readonly killAt: number;
  /** Records sent in all. */
  readonly sent: number;
  /** Records whose send resolved without error. */
  readonly acknowledged: number;
  /** Records whose send failed (not acknowledged, so not counted as lost). */
  readonly failed: number;
  /** Records the independent reader found in the log. */
  readonly inLog: number;
  /** Acknowledged ids missing from the log. */
  readonly lost: number;
  /** Extra copies in the log. */
  readonly duplicated: number;
  /** Records re-sent by the guard (raw: 0). */
  readonly resent: number;
  /**
   * Send attempts kafkajs saw fail and retried (a refused or broken connection
   * to the dead leader, a leader that moved): the fault really hit the stream.
   */
  readonly retried: number;
  /** Sends whose answer from kafkajs left out a targeted partition. */
  readonly shortAnswers: number;
  /** The first such send, e.g. `send 11: partition 0 left out (33 records)`; "" if none. */
  readonly firstShort: string;
  /** Wall-clock seconds of the run. */
  readonly seconds: number;
  /** Up to five lost ids. */
  readonly lostSample: readonly string[];
}

/** Every run of a drill and the totals. */
export interface BrokerKillReport {
  /** Which producer streamed. */
  readonly client: DrillClient;
  /** The seed of the kill points and victims. */
  readonly seed: number;
  /** One row per run. */
  readonly rows: readonly BrokerKillRow[];
  /** Acknowledged records over all runs. */
  readonly acknowledged: number;
  /** Acknowledged records missing from the log, over all runs. */
  readonly lost: number;
  /** Runs that lost at least one acknowledged record. */
  readonly lossyRuns: number;
  /** Wall-clock seconds of the whole drill. */
  readonly wallSeconds: number;
}

/**
 * A stream that sends one batch and says what kafkajs's answer left out:
 * raw, the partitions missing from the metadata (their records were not
 * written); guarded, how many records the guard had to re-send.
 */
interface Stream {
  send(messages: Message[]): Promise<string>;
  resent(): number;
  /** Send attempts kafkajs retried (counted from its log, kept off the console). */
  retried(): number;
  close(): Promise<void>;
}

async function openStream(
  drill: DrillContext,
  client: DrillClient,
  topic: string,
): Promise<Stream> {
  const retry = { retries: 10, initialRetryTime: 200 };
  let retried = 0;
  const kafka = createKafka(drill.config, {
    clientId: `shopstream-drill-${client}`,
    level: logLevel.ERROR,
    onEntry: ({ namespace, log }) => {
      // kafkajs logs each failed attempt of a send with its retry count, then retries it.
      if (namespace === "Producer" && log.retryCount !== undefined) retried++;
      return true;
    },
  });
  if (client === "guarded") {
    const producer = new TopicProducer(kafka, {
      topic,
      acks: -1,
      retries: retry.retries,
      retryBackoffMs: retry.initialRetryTime,
    });
    await producer.connect();
    return {
      async send(messages) {
        const before = producer.metrics().resent;
        await producer.send(
          messages.map((m) => ({ key: m.key as string, value: m.value as string })),
        );
        const resent = producer.metrics().resent - before;
        return resent > 0 ? `${resent} records re-sent by the guard` : "";
      },
      resent: () => producer.metrics().resent,
      retried: () => retried,
      close: () => producer.disconnect(),
    };
  }
  const producer: Producer = kafka.producer({ idempotent: true, retry });
  await producer.connect();
  const partitions = (await drill.admin.describeTopic(topic)).partitions.length;
  return {
    async send(messages) {
      const metadata = await producer.send({ topic, acks: -1, messages });
      const answered = new Set(metadata.map((m) => m.partition));
      const left = messages.map((m) => javaPartition(m.key as string, partitions))
        .filter((p) => !answered.has(p));
      if (left.length === 0) return "";
      const parts = [...new Set(left)].sort((a, b) => a - b).join(", ");
      return `partition ${parts} left out of the answer (${left.length} records)`;
    },
    resent: () => 0,
    retried: () => retried,
    close: () => producer.disconnect(),
  };
}

/**
 * One run: fresh topic, stream with a kill before send `killAtSend` of the
 * leader of `partition`, restart, verdict, full ISR again, topic deleted.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { openDrill } from "./context.ts";
 * import { brokerKillRun } from "./broker_kill.ts";
 * const drill = await openDrill(loadConfig());
 * const row = await brokerKillRun(drill, { run: 1, partition: 0, killAtSend: 10 });
 * console.log(row.lost);
 * await drill.close();
 * ```
 */
export async function brokerKillRun(
  drill: DrillContext,
  plan: { run: number; partition: number; killAtSend: number },
  options: BrokerKillOptions = {},
): Promise<BrokerKillRow> {
  const client = options.client ?? "guarded";
  const records = options.records ?? 1500;
  const batch = options.batch ?? 100;
  const started = performance.now();
  const topic = `drill.broker-kill.${client}.${Date.now().toString(36)}${
    Math.random().toString(36).slice(2, 6)
  }`;
  await drill.admin.createTopic(topic, {
    partitions: options.partitions ?? 3,
    replicationFactor: 3,
    configs: { "min.insync.replicas": "2" },
  });
  let restarting: Promise<void> | undefined;
  try {
    const acknowledged: string[] = [];
    let sent = 0;
    let failed = 0;
    let victim = -1;
    let shortAnswers = 0;
    let firstShort = "";
    let resent = 0;
    let retried = 0;
    const restart = () => {
      if (victim < 0 || restarting) return;
      restarting = drill.stack.startBroker(victim);
      restarting.catch(() => {}); // awaited below; this only marks it handled meanwhile
    };
    const stream = await openStream(drill, client, topic);
    try {
      const produce = async () => {
        for (let s = 0; sent < records; s++) {
          if (s === plan.killAtSend) {
            victim = (await drill.admin.describeTopic(topic)).partitions[plan.partition].leader;
            drill.log(
              `run ${plan.run}: SIGKILL broker ${victim} (leader of partition ${plan.partition})`,
            );
            await drill.stack.stopBroker(victim, { kill: true });
          }
          const ids = Array.from(
            { length: Math.min(batch, records - sent) },
            (_, i) => `${plan.run}-${sent + i}`,
          );
          sent += ids.length;
          try {
            const short = await stream.send(ids.map((id) => ({ key: id, value: id })));
            acknowledged.push(...ids);
            if (short) {
              shortAnswers++;
              firstShort ||= `send ${s + 1}: ${short}`;
            }
          } catch (e) {
            failed += ids.length;
            drill.log(`run ${plan.run}: send ${s + 1} failed: ${(e as Error).message}`);
          }
          // The send after the kill has outlived the failover: the broker restarts now,
          // while the rest of the stream goes on (as a crashed broker's supervisor would).
          if (s === plan.killAtSend) restart();
        }
      };
      await withDeadline(produce(), options.runTimeoutMs ?? 90_000, `broker-kill run ${plan.run}`);
    } finally {
      resent = stream.resent();
      retried = stream.retried();
      await stream.close().catch(() => {});
      restart();
    }
    const ids = await readLogIds(drill.kafka, drill.offsets, topic);
    const tally = tallyIds(acknowledged, ids);
    await restarting;
    await awaitFullIsr(drill, [topic], 120_000);
    return {
      run: plan.run,
      client,
      partition: plan.partition,
      broker: victim,
      killAt: Math.min(plan.killAtSend * batch, records),
      sent,
      acknowledged: acknowledged.length,
      failed,
      inLog: tally.inLog,
      lost: tally.lost,
      duplicated: tally.duplicated,
      resent,
      retried,
      shortAnswers,
      firstShort,
      seconds: (performance.now() - started) / 1000,
      lostSample: tally.lostSample,
    };
  } finally {
    await restarting?.catch(() => {});
    await drill.admin.deleteTopics([topic]).catch(() => {});
  }
}

/**
 * Runs the drill `runs` times with seeded kill points spread over the stream
 * and seeded victim partitions; returns every row and the totals.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { openDrill } from "./context.ts";
 * import { brokerKillDrill } from "./broker_kill.ts";
 * const drill = await openDrill(loadConfig());
 * const report = await brokerKillDrill(drill, { runs: 10, onRun: (r) => console.log(r.lost) });
 * await drill.close();
 * ```
 */
export async function brokerKillDrill(
  drill: DrillContext,
  options: BrokerKillOptions = {},
): Promise<BrokerKillReport> {
  const runs = options.runs ?? 1;
  const seed = options.seed ?? 1;
  const records = options.records ?? 1500;
  const batch = options.batch ?? 100;
  const partitions = options.partitions ?? 3;
  const random = seededRandom(seed);
  const sends = Math.ceil(records / batch);
  const killPoints = spreadPoints(random, runs, sends);
  const started = performance.now();
  await awaitFullIsr(drill, [], 120_000);
  const rows = await repeatRuns<BrokerKillRow>(runs, async (run) => {
    const plan = {
      run,
      partition: randomInt(random, 0, partitions - 1),
      killAtSend: killPoints[run - 1],
    };
    return await brokerKillRun(drill, plan, options);
  }, options.onRun);
  return {
    client: options.client ?? "guarded",
    seed,
    rows,
    acknowledged: rows.reduce((n, r) => n + r.acknowledged, 0),
    lost: rows.reduce((n, r) => n + r.lost, 0),
    lossyRuns: rows.filter((r) => r.lost > 0).length,
    wallSeconds: (performance.now() - started) / 1000,
  };
}
