/**
 * The three delivery semantics, each crashed in the middle of a batch and
 * restarted, counted by an independent `read_committed` reader (not the
 * processor's own bookkeeping): at-most-once loses exactly the records in
 * flight, at-least-once duplicates exactly them, exactly-once does neither.
 */
import assert from "node:assert/strict";
import { ClusterAdmin } from "../lib/kafka/admin.ts";
import { createKafka } from "../lib/kafka/client.ts";
import { TopicProducer } from "../lib/kafka/producer.ts";
import { DeliveryProcessor, readOutput, type Semantics } from "../lib/kafka/semantics.ts";
import { config, requireKafka, uniqueName } from "./support.ts";

const RECORDS = 3000;

Deno.test("delivery semantics under a simulated crash", async (t) => {
  await requireKafka();
  const kafka = createKafka(config, { clientId: "test-kafka-semantics" });
  const admin = new ClusterAdmin(kafka);
  await admin.connect();
  const topics: string[] = [];
  const groups: string[] = [];
  const inputs = Array.from({ length: RECORDS }, (_, i) => `order-${i}`);

  /** Fills a fresh input, crashes a processor, restarts it; returns what a reader sees. */
  async function drill(semantics: Semantics) {
    const input = uniqueName(`test.sem.${semantics}.in`);
    const output = uniqueName(`test.sem.${semantics}.out`);
    const groupId = uniqueName(`test.sem.${semantics}`);
    topics.push(input, output);
    groups.push(groupId);
    await admin.createTopic(input, { partitions: 3 });
    await admin.createTopic(output, { partitions: 3 });
    const producer = new TopicProducer(kafka, { topic: input });
    await producer.connect();
    try {
      for (let i = 0; i < RECORDS; i += 500) {
        await producer.send(inputs.slice(i, i + 500).map((v) => ({ key: v, value: v })));
      }
    } finally {
      await producer.disconnect();
    }
    const options = { semantics, input, output, groupId };
    const crashed = await new DeliveryProcessor(kafka, { ...options, crashAfter: RECORDS / 2 })
      .run();
    assert.equal(crashed.crashed, true, "the first run crashed");
    assert.ok(crashed.inFlight > 0 && crashed.inFlight < RECORDS, `in flight ${crashed.inFlight}`);
    const restarted = await new DeliveryProcessor(kafka, options).run();
    assert.equal(restarted.crashed, false);
    const values = await readOutput(kafka, output, { isolation: "read_committed" });
    const distinct = new Set(values);
    for (const v of distinct) assert.ok(v.startsWith("order-"), v);
    const lost = inputs.filter((v) => !distinct.has(v)).length;
    const duplicated = values.length - distinct.size;
    console.log(
      `    ${semantics}: ${crashed.inFlight} in flight at the crash -> ` +
        `${lost} lost, ${duplicated} duplicated (read_committed: ${values.length} records)`,
    );
    return { inFlight: crashed.inFlight, lost, duplicated, output };
  }

  try {
    await t.step("at-most-once loses exactly the records in flight", async () => {
      const r = await drill("at-most-once");
      assert.equal(r.lost, r.inFlight);
      assert.equal(r.duplicated, 0);
    });

    await t.step("at-least-once duplicates exactly the records in flight", async () => {
      const r = await drill("at-least-once");
      assert.equal(r.lost, 0);
      assert.equal(r.duplicated, r.inFlight);
    });

    await t.step("exactly-once: no loss, no duplicate for read_committed readers", async () => {
      const r = await drill("exactly-once");
      assert.equal(r.lost, 0);
      assert.equal(r.duplicated, 0);
      // The aborted transaction's records are in the log all the same:
      const uncommitted = await readOutput(kafka, r.output, { isolation: "read_uncommitted" });
      assert.equal(uncommitted.length, RECORDS + r.inFlight, "aborted records hidden, not absent");
    });
  } finally {
    await admin.deleteTopics(topics).catch(() => {});
    await admin.deleteGroups(groups).catch(() => {});
    await admin.disconnect();
  }
});
