/**
 * Partition count vs throughput and consumer parallelism, measured on the
 * live cluster: for each partition count a fresh topic, `records` keyed
 * records produced into it, then a group of `consumers` members reading them
 * all. `deno task bench partitions` and notebook 02a run
 * {@linkcode benchPartitions}.
 *
 * The consumers share one Deno process (one thread), so reading itself does
 * not get faster with more members; what parallel members overlap is the
 * *work* per record, simulated here as a wait (`workMsPerRecord`, like a
 * database call per record). A group can keep at most one member busy per
 * partition: the rest stand idle.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { benchPartitions } from "./partitions.ts";
 * const rows = await benchPartitions(loadConfig(), { partitions: [1, 3], records: 2000 });
 * console.log(rows.map((r) => `${r.partitions}: ${r.busyConsumers} busy`));
 * ```
 *
 * @module
 */
import type { Kafka } from "../kafka/upstream.ts";
import type { Config } from "../config.ts";
import { createKafka } from "../kafka/client.ts";
import { ClusterAdmin } from "../kafka/admin.ts";
import { GroupConsumer } from "../kafka/consumer.ts";
import { TopicProducer } from "../kafka/producer.ts";
import { sleep, withDeadline } from "../util/deadline.ts";
import { pollUntil } from "../util/probe.ts";

/** Options of {@linkcode benchPartitions}. */
export interface PartitionBenchOptions {
  /** Partition counts to measure, one fresh topic each (default 1, 3, 6, 12). */
  partitions?: readonly number[];
  /** Records per topic (default 10 000). */
  records?: number;
  /** Bytes of each record's value (default 100). */
  recordSize?: number;
  /** Members of the consumer group, the same for every partition count (default 4). */
  consumers?: number;
  /** Simulated work per record, a wait in ms (default 0.1: 10 000 records keep one member busy 1 s). */
  workMsPerRecord?: number;
  /** Replication factor of the topics (default 3). */
  replicationFactor?: number;
  /** Longest one partition count may take, ms (default 60 000). */
  timeoutMs?: number;
  /** Topic name prefix (default `bench.partitions`); a random suffix is added. */
  topicPrefix?: string;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

/** One partition count's figures. */
export interface PartitionBenchRow {
  /** Partitions of the topic. */
  partitions: number;
  /** Members in the group. */
  consumers: number;
  /** Members that were given at least one partition (at most `min(partitions, consumers)`). */
  busyConsumers: number;
  /** Records each member processed, in member order. */
  perConsumer: number[];
  /** Time to create the topic and see a leader for every partition, ms. */
  createMs: number;
  /** Records acknowledged by the brokers. */
  produced: number;
  /** Records in the topic by the brokers' own count (the partitions' log-end offsets). */
  appended: number;
  /** Distinct records the group processed (each offset counted once). */
  consumed: number;
  /** Records fetched again after a rebalance, not counted twice. */
  redelivered: number;
  /** Produce rate: records / (first send .. last acknowledgement). */
  produceRecordsPerSec: number;
  /** Consume rate: records / (group settled .. last record processed). */
  consumeRecordsPerSec: number;
  /** Time for the group to settle (every member joined, every partition assigned), ms. */
  joinMs: number;
}

/** The defaults of {@linkcode benchPartitions}. */
const DEFAULTS = {
  partitions: [1, 3, 6, 12] as readonly number[],
  records: 10_000,
  recordSize: 100,
  consumers: 4,
  workMsPerRecord: 0.1,
  replicationFactor: 3,
  timeoutMs: 60_000,
  topicPrefix: "bench.partitions",
};

function suffix(): string {
  return `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}

/**
 * Measures each partition count in turn (fresh topic and group, both deleted
 * afterwards) and returns one row per count.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { benchPartitions } from "./partitions.ts";
 * const rows = await benchPartitions(loadConfig(), {
 *   partitions: [1, 6], records: 5000, consumers: 3, log: console.log,
 * });
 * console.log(rows.map((r) => Math.round(r.consumeRecordsPerSec)));
 * ```
 */
export async function benchPartitions(
  config: Config,
  options: PartitionBenchOptions = {},
): Promise<PartitionBenchRow[]> {
  const rows: PartitionBenchRow[] = [];
  for (const p of options.partitions ?? DEFAULTS.partitions) {
    rows.push(await benchPartitionCount(config, p, options));
  }
  return rows;
}

/**
 * One partition count: creates the topic, produces, consumes with the group,
 * deletes the topic and the group (also when it fails).
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { benchPartitionCount } from "./partitions.ts";
 * const row = await benchPartitionCount(loadConfig(), 3, { records: 3000, consumers: 2 });
 * console.log(row.busyConsumers, row.consumed); // 2 3000
 * ```
 */
export async function benchPartitionCount(
  config: Config,
  partitions: number,
  options: PartitionBenchOptions = {},
): Promise<PartitionBenchRow> {
  const o = { ...DEFAULTS, ...options };
  if (!Number.isInteger(partitions) || partitions < 1) {
    throw new RangeError(`benchPartitionCount: partitions must be a whole number >= 1`);
  }
  if (!Number.isInteger(o.consumers) || o.consumers < 1) {
    throw new RangeError(`benchPartitionCount: consumers must be a whole number >= 1`);
  }
  const log = o.log ?? (() => {});
  const topic = `${o.topicPrefix}.p${partitions}.${suffix()}`;
  const group = `${topic}.group`;
  const kafka = createKafka(config, { clientId: "bench-partitions" });
  const admin = new ClusterAdmin(kafka);
  await admin.connect();
  try {
    let t = performance.now();
    await admin.createTopic(topic, { partitions, replicationFactor: o.replicationFactor });
    const createMs = performance.now() - t;
    t = performance.now();
    const produced = await produceKeyed(kafka, topic, o.records, o.recordSize);
    const produceSeconds = Math.max(1e-3, (performance.now() - t) / 1000);
    const appended = await admin.recordsAppended(topic);
    log(
      `${partitions} partition(s): produced ${produced} records in ${produceSeconds.toFixed(2)} s`,
    );
    const read = await consumeWithGroup(kafka, admin, topic, group, partitions, o);
    log(
      `${partitions} partition(s): ${read.busy} of ${o.consumers} consumers busy, ` +
        `consumed in ${read.seconds.toFixed(2)} s`,
    );
    return {
      partitions,
      consumers: o.consumers,
      busyConsumers: read.busy,
      perConsumer: read.perConsumer,
      createMs,
      produced,
      appended,
      consumed: read.consumed,
      redelivered: read.redelivered,
      produceRecordsPerSec: produced / produceSeconds,
      consumeRecordsPerSec: read.consumed / read.seconds,
      joinMs: read.joinMs,
    };
  } finally {
    await admin.deleteGroups([group]).catch(() => {});
    await admin.deleteTopics([topic]).catch(() => {});
    await admin.disconnect();
  }
}

/** Produces `records` keyed records (keys spread them over every partition); returns the count acknowledged. */
async function produceKeyed(
  kafka: Kafka,
  topic: string,
  records: number,
  recordSize: number,
): Promise<number> {
  const producer = new TopicProducer(kafka, { topic, acks: -1, lingerMs: 5 });
  await producer.connect();
  try {
    const value = new TextEncoder().encode("x".repeat(recordSize));
    for (let i = 0; i < records; i++) {
      if (producer.buffered >= producer.maxBuffered) await producer.ready();
      producer.enqueue({ key: `key-${i}`, value });
    }
    await producer.flush(); // throws if any record was not acknowledged
    return records;
  } finally {
    await producer.disconnect();
  }
}

interface GroupRead {
  busy: number;
  perConsumer: number[];
  consumed: number;
  redelivered: number;
  seconds: number;
  joinMs: number;
}

/**
 * Starts the group's members; they hold every batch until the group has
 * settled (all members joined, every partition assigned once), then process
 * from the beginning, so the clock measures reading, not joining.
 */
async function consumeWithGroup(
  kafka: Kafka,
  admin: ClusterAdmin,
  topic: string,
  group: string,
  partitions: number,
  o: typeof DEFAULTS & PartitionBenchOptions,
): Promise<GroupRead> {
  const { promise: settled, resolve: go } = Promise.withResolvers<void>();
  let going = false;
  const { promise: done, resolve: finish } = Promise.withResolvers<void>();
  const { promise: crashed, reject: crash } = Promise.withResolvers<never>();
  crashed.catch(() => {}); // observed by the races below
  const next = new Map<number, bigint>(); // per partition: the next offset not yet counted
  const perConsumer = new Array<number>(o.consumers).fill(0);
  let consumed = 0;
  let redelivered = 0;
  const members = Array.from(
    { length: o.consumers },
    () =>
      new GroupConsumer(kafka, {
        groupId: group,
        topics: [topic],
        fromBeginning: true,
        autoCommit: false,
        maxWaitMs: 100,
        onCrash: (e) => crash(e),
      }),
  );
  const started = performance.now();
  let clock = 0;
  try {
    await Promise.all(members.map((m) => m.connect()));
    await Promise.all(members.map((m, i) =>
      m.run({
        autoResolve: false,
        eachBatch: async ({ batch, resolveOffset, heartbeat, isStale }) => {
          if (!going) {
            // Unresolved, the batch is fetched again; wait for the group to settle first.
            await Promise.race([settled, sleep(200)]);
            if (!going || isStale()) return;
          }
          let from = next.get(batch.partition) ?? 0n;
          let fresh = 0;
          for (const message of batch.messages) {
            const offset = BigInt(message.offset);
            if (offset < from) {
              redelivered++;
              continue;
            }
            from = offset + 1n;
            fresh++;
          }
          next.set(batch.partition, from);
          if (fresh > 0) await sleep(fresh * o.workMsPerRecord);
          perConsumer[i] += fresh;
          consumed += fresh;
          resolveOffset(batch.lastOffset());
          await heartbeat();
          if (consumed >= o.records) finish();
        },
      })
    ));
    await Promise.race([
      crashed,
      pollUntil(
        `group ${group}: ${o.consumers} members sharing ${partitions} partition(s)`,
        async () => {
          const assigned = members.reduce((n, m) => n + (m.assignment[topic]?.length ?? 0), 0);
          if (assigned !== partitions) return false;
          const info = await admin.describeGroup(group);
          return info.state === "Stable" && info.members.length === o.consumers;
        },
        o.timeoutMs,
        { intervalMs: 50 },
      ),
    ]);
    const joinMs = performance.now() - started;
    const busy = members.filter((m) => (m.assignment[topic]?.length ?? 0) > 0).length;
    clock = performance.now();
    going = true;
    go();
    await withDeadline(
      Promise.race([
        done,
        crashed.catch((e) => {
          throw new Error(`a member of group ${group} crashed while reading: ${e.message}`);
        }),
      ]),
      o.timeoutMs,
      () => `group ${group} processed ${consumed} of ${o.records} records`,
    );
    const seconds = Math.max(1e-3, (performance.now() - clock) / 1000);
    return { busy, perConsumer, consumed, redelivered, seconds, joinMs };
  } finally {
    await Promise.all(members.map((m) => m.disconnect().catch(() => {})));
  }
}

/**
 * The rows of {@linkcode benchPartitions} as a table: header and cells
 * (rates rounded, the records per member as `a / b / c`), for `formatTable`
 * in a terminal or `htmlTable` in a notebook.
 *
 * @example
 * ```ts
 * import { partitionBenchTable, type PartitionBenchRow } from "./partitions.ts";
 * declare const rows: PartitionBenchRow[];
 * const { header, cells } = partitionBenchTable(rows);
 * console.log(header.join(" | "), cells.length);
 * ```
 */
export function partitionBenchTable(
  rows: readonly PartitionBenchRow[],
): { header: string[]; cells: (string | number)[][] } {
  return {
    header: [
      "partitions",
      "busy consumers",
      "records per consumer",
      "create ms",
      "produce rec/s",
      "consume rec/s",
    ],
    cells: rows.map((r) => [
      r.partitions,
      `${r.busyConsumers} of ${r.consumers}`,
      r.perConsumer.join(" / "),
      Math.round(r.createMs),
      Math.round(r.produceRecordsPerSec),
      Math.round(r.consumeRecordsPerSec),
    ]),
  };
}
