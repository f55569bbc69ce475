/**
 * Every long-running task ends within 10 s of SIGINT and of SIGTERM, as a
 * user runs it (a child process): the console consumer in a group (it leaves
 * the group and commits on the way out), the monitor, the console producer
 * waiting on its input, and the native Schema Registry started the way the
 * native stack starts it, with only the permissions it needs. (With a broker
 * frozen, the broker-freeze drill checks the same bound for the consumer.)
 */
import assert from "node:assert/strict";
import { loadConfig } from "../lib/config.ts";
import { ClusterAdmin, createKafka, TopicProducer } from "../lib/kafka/mod.ts";
import { SIGINT_BOUND_MS, TaskProcess } from "../lib/drill/mod.ts";
import { registryPermissions } from "../lib/stack/mod.ts";
import { REPO_ROOT } from "../lib/util/mod.ts";
import { config, requireKafka, uniqueName, waitFor } from "./support.ts";

const SIGNALS: Deno.Signal[] = ["SIGINT", "SIGTERM"];

async function endsInTime(task: TaskProcess, signal: Deno.Signal): Promise<number> {
  const { status, seconds } = await task.stop(signal, SIGINT_BOUND_MS + 5_000);
  try {
    assert.ok(status, `${task.name} still running ${seconds.toFixed(1)} s after ${signal}`);
    assert.ok(seconds * 1000 < SIGINT_BOUND_MS, `${task.name} took ${seconds.toFixed(1)} s`);
  } finally {
    await task.kill();
  }
  return seconds;
}

Deno.test("consume, monitor and produce end within 10 s of SIGINT and SIGTERM", async (t) => {
  await requireKafka();
  const kafka = createKafka(config, { clientId: "test-signals", level: 0 });
  const admin = new ClusterAdmin(kafka);
  await admin.connect();
  const topic = uniqueName("test.signals");
  await admin.createTopic(topic, { partitions: 3 });
  const producer = new TopicProducer(kafka, { topic });
  await producer.connect();
  await producer.send([{ key: "k", value: "hello" }]);
  await producer.disconnect();
  const groups: string[] = [];
  try {
    for (const signal of SIGNALS) {
      await t.step(`consume --group, ${signal}`, async () => {
        const group = uniqueName("test-signals");
        groups.push(group);
        const task = TaskProcess.start("consume", [
          "--topic",
          topic,
          "--group",
          group,
          "--from-beginning",
        ]);
        await waitFor("the consumer printed the record", () => task.lines.includes("hello"));
        await endsInTime(task, signal);
        assert.match(task.stderr, /Processed a total of [12] messages/); // a clean leave
      });
      await t.step(`monitor, ${signal}`, async () => {
        const task = TaskProcess.start("monitor", ["--interval", "1s", "--topic", topic]);
        await waitFor("the monitor's first view", () => task.lines.length > 0, 60_000);
        await endsInTime(task, signal);
      });
      await t.step(`produce waiting on stdin, ${signal}`, async () => {
        const task = TaskProcess.start("produce", ["--topic", topic], { stdin: true });
        await task.write("one line\n");
        await new Promise((r) => setTimeout(r, 2000));
        await endsInTime(task, signal);
      });
    }
  } finally {
    await admin.raw.deleteGroups(groups).catch(() => {});
    await admin.deleteTopics([topic]).catch(() => {});
    await admin.disconnect();
  }
});

Deno.test("the registry runs with narrowed permissions and ends within 10 s of a signal", async (t) => {
  await requireKafka();
  const kafka = createKafka(config, { clientId: "test-signals", level: 0 });
  const admin = new ClusterAdmin(kafka);
  await admin.connect();
  const topic = uniqueName("_schemas_signals");
  try {
    for (const signal of SIGNALS) {
      await t.step(signal, async () => {
        const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
        const port = listener.addr.port;
        listener.close();
        const url = `http://127.0.0.1:${port}`;
        const env = {
          ...Deno.env.toObject(),
          SCHEMA_REGISTRY_URL: url,
          SCHEMA_REGISTRY_TOPIC: topic,
        };
        const permissions = registryPermissions(loadConfig(env), REPO_ROOT);
        assert.ok(!permissions.some((p) => /^-A$|--allow-all|--allow-(write|run|sys|ffi)/.test(p)));
        const child = new Deno.Command(Deno.execPath(), {
          args: ["run", ...permissions, "--quiet", `${REPO_ROOT}/tasks/registry.ts`],
          cwd: REPO_ROOT,
          env,
          stdout: "piped",
          stderr: "piped",
        }).spawn();
        const output = child.output();
        try {
          const reply = await waitFor("the registry answering", async () => {
            const res = await fetch(`${url}/subjects/signals-value/versions`, {
              method: "POST",
              headers: { "content-type": "application/vnd.schemaregistry.v1+json" },
              body: JSON.stringify({ schema: '"string"' }),
            }).catch(() => undefined);
            return res && { status: res.status, body: await res.json() };
          }, 60_000);
          assert.equal(reply.status, 200, JSON.stringify(reply.body));
          const started = performance.now();
          child.kill(signal);
          const out = await output;
          const seconds = (performance.now() - started) / 1000;
          assert.ok(
            seconds * 1000 < SIGINT_BOUND_MS,
            `ended ${seconds.toFixed(1)} s after ${signal}`,
          );
          assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
        } finally {
          try {
            child.kill("SIGKILL");
          } catch { /* ended */ }
          await output.catch(() => {});
        }
      });
    }
  } finally {
    await admin.deleteTopics([topic]).catch(() => {});
    await admin.disconnect();
  }
});
