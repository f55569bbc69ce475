/**
 * The lake sink through a MinIO outage (fault injection: run under the
 * exclusive lock, `flock -x /tmp/shopstream-fault.lock deno test -P
 * tests/sink_outage_test.ts`). While MinIO is down, uploads are retried,
 * fetching pauses and nothing is committed past the lake; once it is back,
 * nothing is lost or doubled. MinIO is always started again.
 */
import assert from "node:assert/strict";
import { LakeStore } from "../lib/lake/store.ts";
import { openStack } from "../lib/stack/mod.ts";
import { ClusterAdmin } from "../lib/kafka/admin.ts";
import { createKafka } from "../lib/kafka/client.ts";
import { sleep } from "../lib/util/deadline.ts";
import type { Totals } from "../lib/shopstream/tally.ts";
import { sinkTotals } from "../lib/shopstream/sink.ts";
import {
  config,
  requireKafka,
  requireMinio,
  requireRegistry,
  uniqueName,
  waitFor,
} from "./support.ts";
import {
  assertLakeMatches,
  cleanup,
  eventTopics,
  produce,
  sinkFor,
  testTopics,
  waitCommittedToEnd,
} from "./sink_support.ts";

Deno.test("sink: MinIO down mid-run: the sink retries, pauses fetching, resumes, nothing lost or doubled", async () => {
  await requireKafka();
  await requireRegistry();
  await requireMinio();
  const store = LakeStore.fromConfig(config);
  await store.ensureBucket();
  const stack = await openStack(config);
  const topics = testTopics("test.sink.outage");
  const group = uniqueName("test.sink.outage");
  let minioDown = false;
  try {
    const wave1 = await produce(topics, 3000, 21);
    const sink = sinkFor(topics, group, {
      maxPendingRecords: 1200,
      retryBackoffMs: { initial: 100, max: 800 },
    });
    await sink.connect();
    let wave2: Totals;
    try {
      await sink.run();
      await waitFor("a first flush", () => sinkTotals(sink.metrics()).records > 0, 60_000);
      await stack.stopMinio();
      minioDown = true;
      wave2 = await produce(topics, 3000, 22);
      await waitFor("failed uploads and paused fetching", () => {
        const m = sink.metrics();
        return sinkTotals(m).flushFailures > 0 && m.paused;
      }, 60_000);
      // While MinIO is down nothing past the lake is committed: the group lags.
      await sleep(1500);
      const admin = new ClusterAdmin(createKafka(config));
      await admin.connect();
      let lag = 0;
      for (const t of eventTopics(topics)) {
        lag += (await admin.lag(group, t)).reduce((n, r) => n + r.lag, 0);
      }
      await admin.disconnect();
      assert.ok(lag > 0, "offsets of records not yet uploaded are not committed");
      const pending = sink.metrics();
      assert.ok(
        sinkTotals(pending).buffered <= 1200 + 2 * 300,
        "buffers stay bounded while paused",
      );
      minioDown = false; // started once: a failed start is the test's error, not retried
      await stack.startMinio();
      await waitCommittedToEnd(group, topics, 90_000);
    } finally {
      if (minioDown) {
        minioDown = false;
        await stack.startMinio();
      }
      await sink.stop();
    }
    const totals: Totals = {
      produced: wave1.produced + wave2!.produced,
      bronze: wave1.bronze + wave2!.bronze,
      silver: wave1.silver + wave2!.silver,
      duplicates: wave1.duplicates + wave2!.duplicates,
      malformed: wave1.malformed + wave2!.malformed,
      orders: wave1.orders + wave2!.orders,
    };
    assert.equal(sinkTotals(sink.metrics()).records, totals.bronze);
    await assertLakeMatches(store, topics, totals);
  } finally {
    if (minioDown) await stack.startMinio();
    await requireMinio();
    await cleanup(store, topics, [group]);
  }
});
