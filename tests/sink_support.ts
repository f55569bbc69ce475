/**
 * Helpers for the lake sink's live tests: unique topics filled by the
 * producer service, the sink pointed at them, and an independent reader of
 * what bronze and the dead-letter topic hold.
 *
 * @module
 */
import assert from "node:assert/strict";
import { ClusterAdmin } from "../lib/kafka/admin.ts";
import { createKafka } from "../lib/kafka/client.ts";
import { readDeadLetter } from "../lib/kafka/dlq.ts";
import { decodeParquet } from "../lib/lake/parquet.ts";
import { parseBronzeKey } from "../lib/lake/paths.ts";
import { LakeStore } from "../lib/lake/store.ts";
import { tableRows } from "../lib/lake/table.ts";
import type { BatchPolicy } from "../lib/shopstream/batcher.ts";
import { familyTopics, type ShopTopics, topicsUnder } from "../lib/shopstream/topics.ts";
import { produceBenchRecords } from "../lib/bench/sink.ts";
import { LakeSink, type LakeSinkOptions } from "../lib/shopstream/sink.ts";
import type { Totals } from "../lib/shopstream/tally.ts";
import { config, uniqueName, waitFor } from "./support.ts";

/** Small buffers so a few thousand records make many flushes. */
export const SMALL_POLICY: BatchPolicy = { maxRecords: 300, maxBytes: 256 * 1024, maxAgeMs: 400 };

/** Unique topic names for one test. */
export function testTopics(prefix: string): ShopTopics {
  return topicsUnder(uniqueName(prefix));
}

/** Produces `events` records (3% malformed, 1% duplicates, v2 from the middle on); returns the generator's tally. */
export function produce(topics: ShopTopics, events: number, seed = 7): Promise<Totals> {
  return produceBenchRecords(config, topics, events, seed, 0.03);
}

/** A sink on the test's topics (not connected). */
export function sinkFor(
  topics: ShopTopics,
  groupId: string,
  extra: Partial<LakeSinkOptions> = {},
): LakeSink {
  return new LakeSink({
    config,
    groupId,
    topics: familyTopics(topics),
    deadLetterTopic: topics.deadLetter,
    policy: SMALL_POLICY,
    ...extra,
  });
}

/** One bronze row as read back, with the folder it was found in. */
export interface ReadRow {
  topic: string;
  folderRegion: string;
  region: string;
  partition: number;
  offset: bigint;
  schemaVersion: number;
  row: Record<string, unknown>;
}

/** Every bronze row of `topics`, read from MinIO with list + get + Parquet decode. */
export async function readBronze(store: LakeStore, topics: ShopTopics): Promise<ReadRow[]> {
  const out: ReadRow[] = [];
  for (const topic of eventTopics(topics)) {
    for (const { key } of await store.list(`bronze/${topic}/`)) {
      const parts = parseBronzeKey(key);
      assert.ok(parts, `not a bronze key: ${key}`);
      for (const row of tableRows(decodeParquet(await store.get(key)))) {
        const offset = BigInt(row._offset as bigint | number);
        assert.equal(row._partition, parts.partition, key);
        assert.ok(offset >= parts.first && offset <= parts.last, `${key}: offset ${offset}`);
        out.push({
          topic,
          folderRegion: parts.region,
          region: String(row.region),
          partition: Number(row._partition),
          offset,
          schemaVersion: Number(row.schema_version),
          row,
        });
      }
    }
  }
  return out;
}

/** Distinct dead-lettered origins (topic:partition:offset) in the dead-letter topic, by reason. */
export async function readDeadLetters(
  topics: ShopTopics,
): Promise<{ origins: Set<string>; letters: number; byReason: Record<string, number> }> {
  const kafka = createKafka(config);
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topics.deadLetter);
  await admin.disconnect();
  const total = ends.reduce((n, o) => n + Number(o.high) - Number(o.low), 0);
  const origins = new Set<string>();
  const byReason: Record<string, number> = {};
  let letters = 0;
  if (total === 0) return { origins, letters, byReason };
  const consumer = kafka.consumer({ groupId: uniqueName("test.sink.dlq-reader") });
  await consumer.connect();
  await consumer.subscribe({ topic: topics.deadLetter, fromBeginning: true });
  await consumer.run({
    eachMessage: ({ message }) => {
      letters++;
      const info = readDeadLetter(message)!;
      const origin = `${info.topic}:${info.partition}:${info.offset}`;
      if (!origins.has(origin)) byReason[info.reason] = (byReason[info.reason] ?? 0) + 1;
      origins.add(origin);
      return Promise.resolve();
    },
  });
  try {
    await waitFor("the dead-letter topic read to its end", () => letters >= total, 30_000);
  } finally {
    await consumer.disconnect();
  }
  return { origins, letters, byReason };
}

/** The four event topics of a test. */
export function eventTopics(topics: ShopTopics): string[] {
  return [topics.orders, topics.payments, topics.shipments, topics.clickstream];
}

/** Waits until `groupId` has committed every partition of the event topics to its end. */
export async function waitCommittedToEnd(
  groupId: string,
  topics: ShopTopics,
  timeoutMs = 60_000,
): Promise<void> {
  const admin = new ClusterAdmin(createKafka(config));
  await admin.connect();
  try {
    await waitFor(
      `group ${groupId} committed to the end`,
      async () => {
        for (const topic of eventTopics(topics)) {
          const rows = await admin.lag(groupId, topic);
          if (rows.length === 0 || rows.some((r) => r.lag !== 0)) return false;
        }
        return true;
      },
      timeoutMs,
      500,
    );
  } finally {
    await admin.disconnect();
  }
}

/** Runs `sink` until `groupId` has committed every event topic to its end, then stops it. */
export async function runToEnd(
  sink: LakeSink,
  groupId: string,
  topics: ShopTopics,
  timeoutMs = 60_000,
): Promise<void> {
  await sink.connect();
  try {
    await sink.run();
    await waitCommittedToEnd(groupId, topics, timeoutMs);
  } finally {
    await sink.stop();
  }
}

/**
 * Checks bronze against the tally: rows = produced - malformed exactly, no
 * (topic, partition, offset) twice, every row in its region's folder, and
 * every malformed record in the dead-letter topic.
 */
export async function assertLakeMatches(
  store: LakeStore,
  topics: ShopTopics,
  totals: Totals,
): Promise<ReadRow[]> {
  const rows = await readBronze(store, topics);
  const ids = new Set(rows.map((r) => `${r.topic}:${r.partition}:${r.offset}`));
  assert.equal(ids.size, rows.length, "no row twice in bronze");
  assert.equal(rows.length, totals.bronze, "bronze rows = produced - dead-lettered");
  assert.equal(totals.produced - totals.malformed, totals.bronze);
  for (const r of rows) {
    assert.equal(r.region, r.folderRegion, "a region folder holds only its region");
  }
  const dlq = await readDeadLetters(topics);
  assert.equal(dlq.origins.size, totals.malformed, "every malformed record is dead-lettered");
  for (const o of dlq.origins) assert.ok(!ids.has(o), `${o} both in bronze and the DLQ`);
  // The generator's three kinds of malformed records, each with its reason.
  assert.deepEqual(Object.keys(dlq.byReason).sort(), [
    "deserialization",
    "unknown-schema",
    "validation",
  ]);
  return rows;
}

/** Deletes the test's topics, bronze objects and group. */
export async function cleanup(
  store: LakeStore,
  topics: ShopTopics,
  groups: string[],
): Promise<void> {
  for (const topic of eventTopics(topics)) await store.removeAll(`bronze/${topic}/`);
  const admin = new ClusterAdmin(createKafka(config));
  await admin.connect();
  try {
    await admin.deleteGroups(groups).catch(() => {});
    await admin.deleteTopics([...eventTopics(topics), topics.deadLetter]);
  } finally {
    await admin.disconnect();
  }
}
