/**
 * ClusterAdmin's topic configs say where each value comes from (set on the
 * topic, the brokers' configuration, Kafka's default), live; resetting a
 * group's offsets moves only an empty group, as Kafka's own tools do; and a
 * client made with `onLog` hands kafkajs's log lines to it instead of stderr.
 */
import assert from "node:assert/strict";
import { ClusterAdmin, GroupNotEmptyError } from "../lib/kafka/admin.ts";
import { createKafka, type KafkaLogLine } from "../lib/kafka/client.ts";
import { GroupConsumer } from "../lib/kafka/consumer.ts";
import { commitGroupOffsets } from "../lib/kafka/group_offsets.ts";
import type { Kafka } from "../lib/kafka/upstream.ts";
import { config, requireKafka, uniqueName, waitFor } from "./support.ts";

Deno.test("admin: topicConfig names the source of each value", async () => {
  await requireKafka();
  const admin = new ClusterAdmin(createKafka(config, { clientId: "test-admin-config" }));
  await admin.connect();
  const topic = uniqueName("test.admin-config");
  try {
    await admin.createTopic(topic, { partitions: 1, replicationFactor: 3 });
    const all = await admin.topicConfig(topic, true);
    // Both stack modes set min.insync.replicas in the brokers' configuration, none sets retention.ms.
    assert.equal(all["min.insync.replicas"].source, "broker");
    assert.equal(all["min.insync.replicas"].isDefault, false);
    assert.equal(all["retention.ms"].source, "default");
    assert.equal(all["retention.ms"].isDefault, true);
    await admin.alterTopicConfig(topic, { "retention.ms": "3600000" });
    const changed = await admin.topicConfig(topic);
    assert.deepEqual(changed["retention.ms"], {
      value: "3600000",
      isDefault: false,
      source: "topic",
      readOnly: false,
      sensitive: false,
    });
    assert.equal(changed["cleanup.policy"], undefined, "defaults are left out without `all`");
  } finally {
    await admin.deleteTopics([topic]).catch(() => {});
    await admin.disconnect();
  }
});

Deno.test("client: onLog receives kafkajs's lines", async () => {
  const lines: KafkaLogLine[] = [];
  const nowhere = { ...config, kafka: { ...config.kafka, brokers: ["127.0.0.1:1"] } };
  const kafka = createKafka(nowhere, {
    clientId: "test-onlog",
    retries: 0,
    onLog: (l) => lines.push(l),
  });
  const admin = kafka.admin();
  await assert.rejects(() => admin.connect());
  await admin.disconnect();
  assert.ok(lines.length > 0, "a refused connection is logged");
  assert.ok(
    lines.every((l) => typeof l.message === "string" && l.level === "ERROR"),
    JSON.stringify(lines),
  );
  assert.ok(
    lines.some((l) => /ECONNREFUSED/.test(`${l.message} ${l.error ?? ""}`)),
    JSON.stringify(lines),
  );
});

Deno.test("admin: resetOffsets moves an empty group's offsets; a running member stops it, as in Kafka", async () => {
  await requireKafka();
  const kafka = createKafka(config, { clientId: "test-admin-reset" });
  const admin = new ClusterAdmin(kafka);
  await admin.connect();
  const topic = uniqueName("test.admin-reset");
  const groupId = uniqueName("test.admin-reset-group");
  const committed = async () =>
    (await admin.lag(groupId, topic)).map((l) => `${l.partition}:${l.committed}/${l.end}`);
  const producer = kafka.producer();
  try {
    await admin.createTopic(topic, { partitions: 2, replicationFactor: 3 });
    await producer.connect();
    for (const partition of [0, 1]) {
      const messages = Array.from({ length: 6 }, (_, i) => ({ value: `r${i}`, partition }));
      await producer.send({ topic, acks: -1, messages });
    }
    // A group that does not exist yet: the commit creates its offsets.
    await admin.resetOffsets(groupId, topic, "latest");
    assert.deepEqual(await committed(), ["0:6/6", "1:6/6"]);
    await admin.resetOffsets(groupId, topic, { offset: "2" });
    assert.deepEqual(await committed(), ["0:2/6", "1:2/6"]);
    await admin.resetOffsets(groupId, topic, "earliest");
    assert.deepEqual(await committed(), ["0:0/6", "1:0/6"]);

    const member = new GroupConsumer(kafka, { groupId, topics: [topic], autoCommit: false });
    const { promise: held, resolve: release } = Promise.withResolvers<void>();
    await member.connect();
    try {
      await member.run({ eachBatch: () => held }); // holds its partitions, commits nothing
      await waitFor("the member's assignment", () => member.assignment[topic]?.length === 2);
      const refused = await admin.resetOffsets(groupId, topic, "latest").catch((e) => e);
      assert.ok(refused instanceof GroupNotEmptyError, String(refused));
      assert.match(refused.message, /1 running member .*Stop them first/);
      // Kafka's own answer to an administrator's commit (generation -1, no member id)
      // while the group has a member: refused, nothing moves.
      const broker = await commitGroupOffsets(kafka, groupId, [
        { topic, partitions: [{ partition: 0, offset: "6" }] },
      ]).catch((e) => e);
      assert.ok(broker instanceof Error, `the broker accepted the commit: ${broker}`);
      assert.match(
        `${(broker as { type?: string }).type} ${broker.message}`,
        /UNKNOWN_MEMBER_ID/,
      );
      assert.deepEqual(await committed(), ["0:0/6", "1:0/6"]);
    } finally {
      release();
      await member.disconnect();
    }
    // The member has left: the group is empty again and moves.
    await admin.resetOffsets(groupId, topic, "latest");
    assert.deepEqual(await committed(), ["0:6/6", "1:6/6"]);
  } finally {
    await producer.disconnect();
    await admin.deleteGroups([groupId]).catch(() => {});
    await admin.deleteTopics([topic]).catch(() => {});
    await admin.disconnect();
  }
});

Deno.test("commitGroupOffsets: a client without kafkajs's cluster factory sends nothing", async () => {
  const notKafkajs = { admin: () => ({}) } as unknown as Kafka;
  assert.equal(await commitGroupOffsets(notKafkajs, "g", []), false);
});
