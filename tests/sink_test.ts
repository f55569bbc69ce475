/**
 * The lake sink on the live stack (Kafka, registry, MinIO), checked by an
 * independent reader: bronze listed and decoded from MinIO, dead letters read
 * from their topic, both compared with the generator's own tally: bronze rows
 * = N - DLQ exactly, regions apart, v1 rows null in v2 columns; and a crash
 * after an upload, before its commit, leaves no row missing or doubled, the
 * restarted sink's recovery listings covering one partition and hour each
 * (never the topic's whole folder), once per group; dead letters the topic
 * refuses for good stop the sink, naming the topic, with nothing committed
 * past them (a fresh sink writes them all); and a permanent store error (a
 * wrong secret) crashes the sink at once, with nothing committed.
 */
import assert from "node:assert/strict";
import { createObjectStoreClient } from "../lib/lake/client.ts";
import { LakeStore, type ListOptions, type StoredObject } from "../lib/lake/store.ts";
import { type SinkMetrics, sinkTotals } from "../lib/shopstream/sink.ts";
import {
  config,
  requireKafka,
  requireMinio,
  requireRegistry,
  uniqueName,
  waitFor,
} from "./support.ts";
import { produceBenchRecords } from "../lib/bench/sink.ts";
import { ClusterAdmin } from "../lib/kafka/admin.ts";
import { createKafka } from "../lib/kafka/client.ts";
import {
  assertLakeMatches,
  cleanup,
  eventTopics,
  produce,
  readDeadLetters,
  runToEnd,
  sinkFor,
  testTopics,
  waitCommittedToEnd,
} from "./sink_support.ts";

/** The real store, noting every prefix it lists. */
class ListingStore extends LakeStore {
  readonly prefixes: string[] = [];
  override list(prefix: string, options?: ListOptions): Promise<StoredObject[]> {
    this.prefixes.push(prefix);
    return super.list(prefix, options);
  }
}

async function ready(): Promise<LakeStore> {
  await requireKafka();
  await requireRegistry();
  await requireMinio();
  const store = LakeStore.fromConfig(config);
  await store.ensureBucket();
  return store;
}

Deno.test("sink: N records in -> bronze rows = N - DLQ exactly, regions apart, v1 rows null in v2 columns; stop flushes and commits", async () => {
  const store = await ready();
  const topics = testTopics("test.sink.e2e");
  const group = uniqueName("test.sink.e2e");
  try {
    const totals = await produce(topics, 4000);
    assert.ok(totals.malformed > 0 && totals.duplicates > 0);
    // Large age and count limits: most records are still buffered when stop() comes.
    const sink = sinkFor(topics, group, {
      policy: { maxRecords: 1500, maxBytes: 8 * 1024 * 1024, maxAgeMs: 600_000 },
    });
    await sink.connect();
    let m: SinkMetrics;
    try {
      await sink.run();
      await waitFor("every record buffered, written or dead-lettered", () => {
        m = sink.metrics();
        return sinkTotals(m).records + sinkTotals(m).buffered === totals.bronze &&
          sinkTotals(m).deadLetters === totals.malformed;
      }, 60_000);
      assert.ok(sinkTotals(sink.metrics()).buffered > 0, "records wait in buffers before stop()");
    } finally {
      await sink.stop();
    }
    m = sink.metrics();
    assert.equal(sinkTotals(m).records, totals.bronze);
    assert.equal(sinkTotals(m).buffered, 0);
    assert.ok(sinkTotals(m).flushes > 0);
    assert.equal(sinkTotals(m).flushFailures, 0);
    assert.equal(
      Object.values(m.flushLatencyMs).reduce((n, h) => n + h.count, 0),
      sinkTotals(m).flushes,
    );
    await waitCommittedToEnd(group, topics, 10_000);
    const rows = await assertLakeMatches(store, topics, totals);
    const orders = rows.filter((r) => r.topic === topics.orders);
    const v1 = orders.filter((r) => r.schemaVersion === 1);
    const v2 = orders.filter((r) => r.schemaVersion === 2);
    assert.ok(v1.length > 0 && v2.length > 0, "both versions in bronze");
    for (const r of v1) assert.equal(r.row.channel, null, "v1 order: channel is null");
    for (const r of v2) assert.notEqual(r.row.channel, null, "v2 order: channel is set");
  } finally {
    await cleanup(store, topics, [group]);
  }
});

Deno.test("sink: flushNow uploads every buffer while the sink keeps running (a bounded run's drain)", async () => {
  const store = await ready();
  const topics = testTopics("test.sink.drain");
  const group = uniqueName("test.sink.drain");
  try {
    const totals = await produce(topics, 1500);
    // Neither count nor age would flush: only flushNow() can.
    const sink = sinkFor(topics, group, {
      policy: { maxRecords: 100_000, maxBytes: 64 * 1024 * 1024, maxAgeMs: 600_000 },
    });
    await sink.connect();
    try {
      await sink.run();
      await waitFor("every record read", () => {
        const t = sinkTotals(sink.metrics());
        return t.buffered === totals.bronze && t.deadLetters === totals.malformed;
      }, 60_000);
      assert.equal(sinkTotals(sink.metrics()).records, 0, "nothing written before flushNow()");
      sink.flushNow();
      await waitFor(
        "every row written",
        () => sinkTotals(sink.metrics()).records === totals.bronze,
        30_000,
      );
      await waitCommittedToEnd(group, topics, 30_000); // committed while the sink still runs
      assert.equal(sinkTotals(sink.metrics()).buffered, 0);
      assert.equal(sink.crashed, undefined);
    } finally {
      await sink.stop();
    }
    await assertLakeMatches(store, topics, totals);
  } finally {
    await cleanup(store, topics, [group]);
  }
});

Deno.test("sink: killed between an upload and its commit, a fresh sink re-reads but writes no row twice", async () => {
  const store = await ready();
  const topics = testTopics("test.sink.crash");
  const group = uniqueName("test.sink.crash");
  try {
    const totals = await produce(topics, 4000, 11);
    let flushes = 0;
    let crashKeys: string[] = [];
    const first = sinkFor(topics, group, {
      hooks: {
        afterUpload: ({ keys }) => {
          if (++flushes === 6) {
            crashKeys = keys;
            throw new Error("injected crash: after the upload, before the commit");
          }
        },
      },
    });
    await first.connect();
    await first.run();
    await waitFor("the injected crash", () => first.crashed, 60_000);
    await first.stop();
    assert.match(first.crashed!.message, /injected crash/);
    // The crashed flush's objects are in the lake, but their offsets are not committed.
    assert.ok(crashKeys.length > 0);
    for (const key of crashKeys) assert.ok(await store.exists(key), key);
    const written = sinkTotals(first.metrics()).records;
    assert.ok(written > 0 && written < totals.bronze, `first sink wrote ${written}`);

    const listing = new ListingStore(createObjectStoreClient(config), config.s3.bucket);
    const second = sinkFor(topics, group, { store: listing });
    await runToEnd(second, group, topics);
    const m = second.metrics();
    assert.ok(
      sinkTotals(m).skipped > 0,
      "the second sink re-read rows the first one wrote, and skipped them",
    );
    // Its recovery listings: one per (partition, region, hour) met, each that narrow.
    const narrow = /^bronze\/[^/]+\/region=[A-Z]+\/date=\d{4}-\d{2}-\d{2}\/hour=\d{2}\/p\d{3}-$/;
    assert.ok(listing.prefixes.length > 0);
    for (const prefix of listing.prefixes) assert.match(prefix, narrow);
    assert.equal(listing.prefixes.length, m.listings);
    if (m.rebalances === 1) {
      assert.equal(new Set(listing.prefixes).size, listing.prefixes.length, "once per group");
    }
    for (const key of crashKeys) {
      assert.ok(
        listing.prefixes.some((p) => key.startsWith(p)),
        `the re-read group of ${key} was listed`,
      );
    }
    await assertLakeMatches(store, topics, totals);
  } finally {
    await cleanup(store, topics, [group]);
  }
});

Deno.test("sink: dead letters refused for good stop it, naming the topic, with nothing committed past them; a fresh sink writes them all", async () => {
  const store = await ready();
  const topics = testTopics("test.sink.letters");
  const group = uniqueName("test.sink.letters");
  const admin = new ClusterAdmin(createKafka(config));
  await admin.connect();
  try {
    const totals = await produce(topics, 1200, 13);
    assert.ok(totals.malformed > 0);
    // The fault: the dead-letter topic takes no batch over 64 bytes, so the brokers refuse every
    // letter (MESSAGE_TOO_LARGE) until the override is removed. (A min.insync.replicas above the
    // replication factor would not do: these brokers apply at most the replica count.)
    await admin.alterTopicConfig(topics.deadLetter, { "max.message.bytes": "64" });
    const first = sinkFor(topics, group);
    await first.connect();
    try {
      await first.run();
      await waitFor("the sink to stop", () => first.crashed, 60_000, 50);
    } finally {
      await first.stop();
    }
    assert.match(first.crashed!.message, new RegExp(`dead-letter topic ${topics.deadLetter}`));
    assert.match(first.crashed!.message, /max message size.*max\.message\.bytes/);
    assert.equal(sinkTotals(first.metrics()).deadLetters, 0);
    const committed = new Map<string, number>();
    for (const t of eventTopics(topics)) {
      for (const l of await admin.lag(group, t)) {
        committed.set(`${t}:${l.partition}`, l.committed === null ? 0 : Number(l.committed));
      }
    }

    await admin.alterTopicConfig(topics.deadLetter, { "max.message.bytes": null });
    const second = sinkFor(topics, group);
    await runToEnd(second, group, topics);
    assert.equal(second.crashed, undefined);
    await assertLakeMatches(store, topics, totals); // every row once, every letter
    // Nothing the first sink committed had passed a record whose letter was refused.
    for (const origin of (await readDeadLetters(topics)).origins) {
      const at = origin.lastIndexOf(":");
      const position = committed.get(origin.slice(0, at)) ?? 0;
      assert.ok(position <= Number(origin.slice(at + 1)), `${origin}: committed up to ${position}`);
    }
  } finally {
    await admin.disconnect();
    await cleanup(store, topics, [group]);
  }
});

Deno.test("sink: a permanent store error (a wrong secret) crashes it at once with the store's error, nothing committed", async () => {
  const store = await ready();
  const topics = testTopics("test.sink.denied");
  const group = uniqueName("test.sink.denied");
  try {
    await produceBenchRecords(config, topics, 600, 5, 0); // no malformed: nothing may be committed
    const denied = LakeStore.fromConfig({
      ...config,
      s3: { ...config.s3, secretKey: "not-the-secret" },
    });
    const sink = sinkFor(topics, group, { store: denied });
    await sink.connect();
    const started = performance.now();
    try {
      await sink.run();
      await waitFor("the sink to crash", () => sink.crashed, 30_000, 50);
    } finally {
      await sink.stop();
    }
    assert.ok(performance.now() - started < 15_000, "failed fast, not retried");
    assert.match(sink.crashed!.message, /SignatureDoesNotMatch.*permanent: not retried/);
    assert.match(sink.crashed!.message, /S3_SECRET_KEY/);
    assert.equal(sinkTotals(sink.metrics()).flushFailures, 0, "no retry counted");
    const admin = new ClusterAdmin(createKafka(config));
    await admin.connect();
    try {
      for (const t of eventTopics(topics)) {
        for (const l of await admin.lag(group, t)) {
          assert.equal(l.committed, null, `${t}[${l.partition}]: nothing committed`);
        }
      }
    } finally {
      await admin.disconnect();
    }
  } finally {
    await cleanup(store, topics, [group]);
  }
});
