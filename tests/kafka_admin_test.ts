/**
 * ClusterAdmin's topic configs say where each value comes from (set on the
 * topic, the brokers' configuration, Kafka's default), live; and a client
 * made with `onLog` hands kafkajs's log lines to it instead of stderr.
 */
import assert from "node:assert/strict";
import { ClusterAdmin } from "../lib/kafka/admin.ts";
import { createKafka, type KafkaLogLine } from "../lib/kafka/client.ts";
import { config, requireKafka, uniqueName } from "./support.ts";

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
