/**
 * A stopped broker: `deno task monitor --fail-on-alert` shows the
 * under-replicated partitions (read from Kafka's ISR) and exits 1 once
 * `ShopStreamUnderReplicatedPartitions` has held for its 30 s and fires.
 * Fault injection: run under the exclusive lock
 * (`flock -x /tmp/shopstream-fault.lock deno test -P tests/monitor_fault_test.ts`);
 * the broker is always restarted and every partition waited back in sync.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { ClusterAdmin } from "../lib/kafka/admin.ts";
import { createKafka } from "../lib/kafka/client.ts";
import { openStack } from "../lib/stack/mod.ts";
import { underReplicated } from "../lib/shopstream/monitoring.ts";
import { config, requireKafka, uniqueName, waitFor } from "./support.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

Deno.test("monitor: a stopped broker fires ShopStreamUnderReplicatedPartitions", async () => {
  await requireKafka();
  const admin = new ClusterAdmin(createKafka(config, { clientId: "test-monitor-fault" }));
  await admin.connect();
  const topic = uniqueName("test.monitor.fault");
  const group = uniqueName("test.monitor.fault.group");
  const stack = await openStack(config);
  const allInSync = async () =>
    underReplicated((await admin.describeCluster(await admin.listTopics(true))).partitions)
      .length === 0;
  let victim: number | undefined;
  try {
    await admin.createTopic(topic, { partitions: 3, replicationFactor: 3 });
    await waitFor("every partition in sync before the drill", allInSync, 60_000);
    victim = (await admin.describeTopic(topic)).partitions[0].leader;
    await stack.stopBroker(victim);
    await waitFor(
      `ISR of ${topic} without broker ${victim}`,
      async () =>
        (await admin.describeTopic(topic)).partitions.every((p) => !p.isr.includes(victim!)),
      60_000,
    );
    const started = Date.now();
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "tasks/monitor.ts",
        "--interval",
        "5s",
        "--iterations",
        "14",
        "--fail-on-alert",
        "--group",
        group,
        "--topic",
        topic,
        "--metrics-url",
        "http://127.0.0.1:9/metrics",
      ],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    const seconds = (Date.now() - started) / 1000;
    const text = new TextDecoder().decode(out.stdout);
    const err = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 1, `--fail-on-alert exits 1 when the alert fires:\n${err}\n${text}`);
    const views = text.split(/\n(?=ShopStream monitor )/);
    const first = views[0];
    const last = views.at(-1)!;
    const count = Number(/under-replicated (\d+)/.exec(first)?.[1]);
    assert.ok(count >= 3, `at least ${topic}'s 3 partitions are under-replicated: ${count}`);
    assert.match(first, /ShopStreamUnderReplicatedPartitions\s+critical\s+PENDING/);
    const row = new RegExp(
      `^${topic.replace(/\./g, "\\.")}\\s+0\\s+\\d+\\s+[\\d,]+\\s+[\\d,]+$`,
      "m",
    );
    assert.match(first, row, "the under-replicated table lists the topic's partitions");
    assert.match(last, /ShopStreamUnderReplicatedPartitions\s+critical\s+FIRING/);
    assert.match(last, /FIRING\s+-\s+\d+\s+\d+ partitions have fewer in-sync replicas/);
    assert.match(last, /notebooks\/runbook\.md#broker-down/);
    assert.ok(seconds >= 30, `fired only after the rule's 30 s (took ${seconds.toFixed(1)} s)`);
    console.log(
      `    broker ${victim} stopped: ${count} partitions under-replicated, alert fired after ` +
        `${views.length} views in ${seconds.toFixed(1)} s`,
    );
  } finally {
    if (victim !== undefined) {
      await stack.startBroker(victim);
      await waitFor(
        `every partition back in sync after broker ${victim} restarted`,
        allInSync,
        120_000,
        1000,
      );
    }
    await admin.deleteTopics([topic]).catch(() => {});
    await admin.disconnect();
  }
});
