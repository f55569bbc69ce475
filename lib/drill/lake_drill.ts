/**
 * What the lake drills (`poison`, `minio-freeze`) share: fresh topics and a
 * fresh sink group per run, the good records regenerated from the seed (the
 * generator is deterministic, so what was sent is known without asking the
 * producer), and an independent reader: every bronze, silver and gold object
 * read back from MinIO and counted by event id, the dead-letter topic read
 * back record by record (its size checked against Kafka's GetOffsetShell),
 * and the group's committed offsets read from Kafka.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { openDrill } from "./context.ts";
 * import { lakeDrillNames, readLakeIds } from "./lake_drill.ts";
 * import { LakeStore } from "../lake/store.ts";
 * const drill = await openDrill(loadConfig());
 * const { topics } = lakeDrillNames("poison");
 * console.log(await readLakeIds(LakeStore.fromConfig(drill.config), topics));
 * await drill.close();
 * ```
 *
 * @module
 */
import { type DeadLetterInfo, readDeadLetter } from "../kafka/dlq.ts";
import { layerPrefix } from "../lake/paths.ts";
import type { LakeStore } from "../lake/store.ts";
import { RegistryClient } from "../schema/rest.ts";
import {
  compareGold,
  EventGenerator,
  type GeneratorOptions,
  LakeReader,
  ORDERS_HOURLY,
  Tally,
  TOPIC_KEYS,
  type TopicKey,
  topicsUnder,
} from "../shopstream/mod.ts";
import type { ShopTopics } from "../shopstream/topics.ts";
import { sleep, withDeadline } from "../util/deadline.ts";
import type { DrillContext } from "./context.ts";
import { logEndOffsets } from "./offsets.ts";

/** The topics and sink group of one run of a lake drill. */
export interface LakeDrillNames {
  /** The run's topic names. */
  readonly topics: ShopTopics;
  /** The sink's consumer group. */
  readonly group: string;
}

/**
 * Fresh names for one run: `drill.<kind>.<tag>.orders`, ... and a group.
 *
 * @example
 * ```ts
 * import { lakeDrillNames } from "./lake_drill.ts";
 * console.log(lakeDrillNames("poison").topics.orders.startsWith("drill.poison.")); // true
 * ```
 */
export function lakeDrillNames(kind: string): LakeDrillNames {
  const tag = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const base = `drill.${kind}.${tag}`;
  return { topics: topicsUnder(base), group: `${base}.sink` };
}

/** What a seeded produce run sent: the event ids per topic and the tally of its records. */
export interface SentRecords {
  /** Event ids produced, per topic. */
  readonly ids: Record<TopicKey, Set<string>>;
  /** The generator's independent tally. */
  readonly tally: Tally;
  /** Records produced in the run. */
  readonly records: number;
}

/**
 * The records a `ShopStreamProducer` with these generator options sends
 * for `events` records, regenerated (the generator is deterministic).
 * Options must have no malformed records and no duplicates: every record is
 * then one distinct event.
 *
 * @example
 * ```ts
 * import { regenerate } from "./lake_drill.ts";
 * const sent = regenerate({ seed: 3, malformedShare: 0, duplicateShare: 0 }, 100);
 * console.log(sent.tally.totals().produced); // 100
 * ```
 */
export function regenerate(options: GeneratorOptions, events: number): SentRecords {
  if ((options.malformedShare ?? 0) > 0 || (options.duplicateShare ?? 0) > 0) {
    throw new RangeError("regenerate: the lake drills send no malformed or duplicate records");
  }
  const ids = Object.fromEntries(TOPIC_KEYS.map((k) => [k, new Set<string>()])) as Record<
    TopicKey,
    Set<string>
  >;
  const tally = new Tally();
  for (const r of new EventGenerator(options).take(events)) {
    tally.add(r);
    const id = (r.value as { envelope: { eventId: string } }).envelope.eventId;
    ids[r.topic].add(id);
  }
  return { ids, tally, records: events };
}

/** One layer's count of a run's event ids. */
export interface LayerCount {
  /** Rows read back. */
  readonly rows: number;
  /** Sent ids missing from the layer. */
  readonly lost: number;
  /** Rows beyond the first of each id. */
  readonly doubled: number;
  /** Rows whose id was never sent as a good record (a poison record in the lake). */
  readonly foreign: number;
}

/**
 * Counts `found` ids (one per row) against the `sent` ones.
 *
 * @example
 * ```ts
 * import { countIds } from "./lake_drill.ts";
 * console.log(countIds(new Set(["a", "b"]), ["a", "a", "x"]));
 * // { rows: 3, lost: 1, doubled: 1, foreign: 1 }
 * ```
 */
export function countIds(sent: ReadonlySet<string>, found: readonly string[]): LayerCount {
  const seen = new Set(found);
  let lost = 0;
  for (const id of sent) if (!seen.has(id)) lost++;
  let foreign = 0;
  for (const id of seen) if (!sent.has(id)) foreign++;
  return { rows: found.length, lost, doubled: found.length - seen.size, foreign };
}

/** The event ids of every bronze and silver row of the run's topics, read back from MinIO. */
export async function readLakeIds(
  store: LakeStore,
  topics: ShopTopics,
): Promise<Record<"bronze" | "silver", Record<TopicKey, string[]>>> {
  const reader = new LakeReader(store);
  const out = { bronze: {}, silver: {} } as Record<"bronze" | "silver", Record<TopicKey, string[]>>;
  for (const layer of ["bronze", "silver"] as const) {
    for (const k of TOPIC_KEYS) {
      out[layer][k] = (await reader.rows(layer, topics[k])).map((r) => String(r.event_id));
    }
  }
  return out;
}

/** The lake against what was sent: per layer, summed over topics; gold's differences. */
export interface LakeVerdict {
  /** What bronze holds. */
  readonly bronze: LayerCount;
  /** What silver holds. */
  readonly silver: LayerCount;
  /** Gold rows read back. */
  readonly goldRows: number;
  /** Gold rows that differ from the tally's (missing, extra, doubled, different figures). */
  readonly goldDiffs: readonly string[];
}

/**
 * Reads the run's lake back and compares it with `sent`, by event id in
 * bronze and silver, to the cent in gold.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { LakeStore } from "../lake/store.ts";
 * import { lakeDrillNames, lakeVerdict, regenerate } from "./lake_drill.ts";
 * const sent = regenerate({ seed: 1 }, 10);
 * const v = await lakeVerdict(LakeStore.fromConfig(loadConfig()), lakeDrillNames("x").topics, sent);
 * console.log(v.bronze.lost); // 10 (nothing was sent there)
 * ```
 */
export async function lakeVerdict(
  store: LakeStore,
  topics: ShopTopics,
  sent: SentRecords,
): Promise<LakeVerdict> {
  const ids = await readLakeIds(store, topics);
  const sum = (layer: "bronze" | "silver"): LayerCount => {
    const counts = TOPIC_KEYS.map((k) => countIds(sent.ids[k], ids[layer][k]));
    return {
      rows: counts.reduce((n, c) => n + c.rows, 0),
      lost: counts.reduce((n, c) => n + c.lost, 0),
      doubled: counts.reduce((n, c) => n + c.doubled, 0),
      foreign: counts.reduce((n, c) => n + c.foreign, 0),
    };
  };
  const gold = await new LakeReader(store).rows("gold", `${topics.orders}/${ORDERS_HOURLY}`);
  return {
    bronze: sum("bronze"),
    silver: sum("silver"),
    goldRows: gold.length,
    goldDiffs: compareGold(gold, sent.tally.gold()),
  };
}

/** One dead letter read back: the record's key and its `dlq.*` headers. */
export interface ReadLetter {
  /** The dead letter's key. */
  readonly key: string;
  /** Its reason and origin. */
  readonly info: DeadLetterInfo;
}

/**
 * Every record of a dead-letter topic, read from the beginning by a
 * throwaway consumer; the count is checked against GetOffsetShell's end
 * offsets (taken first).
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { openDrill } from "./context.ts";
 * import { readDeadLetterTopic } from "./lake_drill.ts";
 * const drill = await openDrill(loadConfig());
 * console.log((await readDeadLetterTopic(drill, "shopstream.dlq")).length);
 * await drill.close();
 * ```
 */
export async function readDeadLetterTopic(
  drill: DrillContext,
  topic: string,
  timeoutMs = 60_000,
): Promise<ReadLetter[]> {
  const ends = await logEndOffsets(drill.offsets, topic);
  const total = Number([...ends.values()].reduce((a, b) => a + b, 0n));
  const letters: ReadLetter[] = [];
  if (total === 0) return letters;
  const group = `${topic}.reader.${Date.now().toString(36)}`;
  // A short fetch wait: kafkajs's disconnect() waits for the fetch in flight (5 s by default).
  const consumer = drill.kafka.consumer({ groupId: group, maxWaitTimeInMs: 200 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: ({ message }) => {
        const info = readDeadLetter(message);
        if (info) letters.push({ key: message.key?.toString() ?? "", info });
        return Promise.resolve();
      },
    });
    await withDeadline(
      (async () => {
        while (letters.length < total) await sleep(100);
      })(),
      timeoutMs,
      () => `reading ${topic}: ${letters.length} of ${total} dead letters`,
    );
  } finally {
    await consumer.disconnect();
    await drill.admin.raw.deleteGroups([group]).catch(() => {});
  }
  return letters;
}

/** The group's lag summed over the run's event topics (from Kafka's committed offsets). */
export async function groupLag(
  drill: DrillContext,
  group: string,
  topics: ShopTopics,
): Promise<number> {
  let lag = 0;
  for (const k of TOPIC_KEYS) {
    lag += (await drill.admin.lag(group, topics[k])).reduce((n, l) => n + l.lag, 0);
  }
  return lag;
}

/**
 * Waits until the group's lag is 0 on every event topic, or `timeoutMs`
 * passed, or `gaveUp()` says so; returns the lag left (0 when caught up).
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { openDrill } from "./context.ts";
 * import { lakeDrillNames, waitCaughtUp } from "./lake_drill.ts";
 * const drill = await openDrill(loadConfig());
 * const { topics, group } = lakeDrillNames("x");
 * console.log(await waitCaughtUp(drill, group, topics, 1000));
 * await drill.close();
 * ```
 */
export async function waitCaughtUp(
  drill: DrillContext,
  group: string,
  topics: ShopTopics,
  timeoutMs: number,
  gaveUp: () => boolean = () => false,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let lag = Infinity;
  while (true) {
    lag = await groupLag(drill, group, topics).catch(() => lag);
    if (lag === 0 || Date.now() > deadline || gaveUp()) return lag;
    await sleep(500);
  }
}

/** Deletes a run's topics, group, lake folders and schema subjects (errors ignored: best effort). */
export async function cleanupLakeDrill(
  drill: DrillContext,
  store: LakeStore,
  names: LakeDrillNames,
): Promise<void> {
  const { topics, group } = names;
  for (const k of TOPIC_KEYS) {
    for (const layer of ["bronze", "silver"] as const) {
      await store.removeAll(layerPrefix(layer, topics[k])).catch(() => {});
    }
  }
  await store.removeAll(layerPrefix("gold", topics.orders)).catch(() => {});
  await drill.admin.raw.deleteGroups([group]).catch(() => {});
  await drill.admin.deleteTopics([...TOPIC_KEYS.map((k) => topics[k]), topics.deadLetter])
    .catch(() => {});
  // The run's producers registered each event topic's value subject.
  const registry = new RegistryClient(drill.config.schemaRegistry.url);
  for (const k of TOPIC_KEYS) await registry.deleteSubject(`${topics[k]}-value`).catch(() => {});
}
