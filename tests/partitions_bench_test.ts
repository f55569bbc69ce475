/**
 * The partition-count benchmark on the live cluster with small counts: every
 * record the brokers hold is processed exactly once, a group keeps at most one
 * member busy per partition, and the benchmark's topics are gone afterwards
 * (no timing assertions).
 */
import assert from "node:assert/strict";
import { benchPartitionCount, benchPartitions } from "../lib/bench/partitions.ts";
import { ClusterAdmin } from "../lib/kafka/admin.ts";
import { createKafka } from "../lib/kafka/client.ts";
import { config, requireKafka, uniqueName } from "./support.ts";

const RECORDS = 3000;

Deno.test("partition bench: 1 and 3 partitions, 3 consumers", async () => {
  await requireKafka();
  const prefix = uniqueName("test.partitions-bench");
  const rows = await benchPartitions(config, {
    partitions: [1, 3],
    records: RECORDS,
    consumers: 3,
    workMsPerRecord: 0.02,
    topicPrefix: prefix,
    timeoutMs: 30_000,
  });
  assert.deepEqual(rows.map((r) => r.partitions), [1, 3]);
  for (const r of rows) {
    const label = `${r.partitions} partition(s)`;
    assert.equal(r.produced, RECORDS, `${label}: producer acknowledged`);
    assert.equal(r.appended, RECORDS, `${label}: the brokers' log-end offsets`);
    assert.equal(r.consumed, r.appended, `${label}: processed once each`);
    assert.equal(r.perConsumer.reduce((a, b) => a + b, 0), r.consumed, `${label}: per member`);
    assert.equal(r.busyConsumers, Math.min(r.partitions, 3), `${label}: busy members`);
    assert.equal(
      r.perConsumer.filter((n) => n > 0).length,
      r.busyConsumers,
      `${label}: members that processed records = members with partitions`,
    );
    assert.ok(r.produceRecordsPerSec > 0 && r.consumeRecordsPerSec > 0, `${label}: rates`);
  }
  const admin = new ClusterAdmin(createKafka(config, { clientId: "test-partitions-bench" }));
  await admin.connect();
  try {
    const left = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    assert.deepEqual(left, [], "the benchmark deletes its topics");
  } finally {
    await admin.disconnect();
  }
});

Deno.test("partition bench: more partitions than members, every member busy", async () => {
  await requireKafka();
  const row = await benchPartitionCount(config, 3, {
    records: RECORDS,
    consumers: 2,
    workMsPerRecord: 0,
    topicPrefix: uniqueName("test.partitions-bench"),
    timeoutMs: 30_000,
  });
  assert.equal(row.busyConsumers, 2);
  assert.equal(row.consumed, RECORDS);
  assert.ok(row.perConsumer.every((n) => n > 0), `each member processed: ${row.perConsumer}`);
});

Deno.test("partition bench: a partition count below 1 is refused", async () => {
  await assert.rejects(
    () => benchPartitionCount(config, 0),
    /partitions must be a whole number >= 1/,
  );
});
