/**
 * `deno task admin`, `produce` and `consume` as a user runs them (real
 * subprocesses against the live cluster): each does what its `--help` says,
 * checked through ClusterAdmin and the records themselves.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { ClusterAdmin } from "../lib/kafka/admin.ts";
import { createKafka } from "../lib/kafka/client.ts";
import { javaPartition } from "../lib/kafka/partitioners.ts";
import { config, requireKafka, uniqueName } from "./support.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function task(name: string, args: string[], stdin?: string): Promise<Run> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `tasks/${name}.ts`, ...args],
    cwd: ROOT,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(stdin));
    await writer.close();
  }
  const out = await child.output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

function ok(r: Run, what: string): Run {
  assert.equal(r.code, 0, `${what} exited ${r.code}:\n${r.stderr}\n${r.stdout}`);
  return r;
}

Deno.test("console tasks: admin, produce, consume", async (t) => {
  await requireKafka();
  const admin = new ClusterAdmin(createKafka(config, { clientId: "test-kafka-tasks" }));
  await admin.connect();
  const topic = uniqueName("test.tasks");
  const group = uniqueName("test.tasks.group");
  let deleted = false;
  try {
    await t.step("--help of each task exits 0 and names its commands and flags", async () => {
      const [a, p, c] = await Promise.all([
        task("admin", ["--help"]),
        task("produce", ["--help"]),
        task("consume", ["--help"]),
      ]);
      for (const cmd of ["topics create", "topics describe", "add-partitions", "lag", "cluster"]) {
        assert.ok(ok(a, "admin --help").stdout.includes(cmd), cmd);
      }
      for (const flag of ["--topic", "--key-separator", "--header", "--acks"]) {
        assert.ok(ok(p, "produce --help").stdout.includes(flag), flag);
      }
      for (const flag of ["--group", "--from-beginning", "--max-messages", "--print-key"]) {
        assert.ok(ok(c, "consume --help").stdout.includes(flag), flag);
      }
    });

    await t.step("usage errors exit 2 with the usage", async () => {
      const r = await task("admin", ["topics", "create"]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /missing <topic>[\s\S]*usage:/);
      assert.equal((await task("produce", ["--acks", "2"])).code, 2);
    });

    await t.step("topics create / describe / alter-config / add-partitions", async () => {
      ok(
        await task("admin", [
          "topics",
          "create",
          topic,
          "--partitions",
          "4",
          "--config",
          "min.insync.replicas=2",
        ]),
        "create",
      );
      const created = await admin.describeTopic(topic);
      assert.equal(created.partitions.length, 4);
      assert.ok(created.partitions.every((p) => p.replicas.length === 3));
      assert.equal((await admin.topicConfig(topic))["min.insync.replicas"].value, "2");

      const described = ok(await task("admin", ["topics", "describe", topic]), "describe").stdout;
      const rows = described.split("\n").filter((l) => l.startsWith(topic));
      assert.equal(rows.length, 4, described);
      assert.match(described, /min\.insync\.replicas\s+2/);

      ok(
        await task("admin", ["topics", "alter-config", topic, "--set", "retention.ms=3600000"]),
        "alter-config",
      );
      const configs = await admin.topicConfig(topic);
      assert.equal(configs["retention.ms"].value, "3600000");
      assert.equal(configs["min.insync.replicas"].value, "2", "other overrides kept");

      ok(await task("admin", ["topics", "add-partitions", topic, "--total", "6"]), "add");
      assert.equal((await admin.describeTopic(topic)).partitions.length, 6);
      assert.ok(ok(await task("admin", ["topics", "list"]), "list").stdout.includes(topic));
    });

    const lines = Array.from({ length: 30 }, (_, i) => `customer-${i % 7}:order-${i}`);
    await t.step("produce: keyed lines land where Java would put them, with headers", async () => {
      const r = ok(
        await task(
          "produce",
          ["--topic", topic, "--key-separator", ":", "--header", "source=test"],
          lines.join("\n") + "\n",
        ),
        "produce",
      );
      assert.match(r.stderr, /30 record\(s\) acknowledged/);
      const ends = await admin.raw.fetchTopicOffsets(topic);
      for (const e of ends) {
        const expected = lines.filter((l) => javaPartition(l.split(":")[0], 6) === e.partition);
        assert.equal(Number(e.high), expected.length, `partition ${e.partition}`);
      }
    });

    await t.step(
      "consume: from the beginning, in a group, max messages, keys and headers",
      async () => {
        const r = ok(
          await task("consume", [
            "--topic",
            topic,
            "--group",
            group,
            "--from-beginning",
            "--max-messages",
            "30",
            "--print-key",
            "--print-headers",
          ]),
          "consume",
        );
        const got = r.stdout.trim().split("\n");
        assert.equal(got.length, 30);
        assert.deepEqual(
          got.map((l) => l.split("\t")).map(([h, k, v]) => `${h}|${k}:${v}`).sort(),
          lines.map((l) => `source:test|${l}`).sort(),
        );
        // Order per key survives the round trip.
        for (let c = 0; c < 7; c++) {
          const mine = got.filter((l) => l.split("\t")[1] === `customer-${c}`).map((l) =>
            Number(l.split("-").at(-1))
          );
          assert.deepEqual(mine, [...mine].sort((a, b) => a - b), `customer-${c}`);
        }
        assert.match(r.stderr, /Processed a total of 30 messages/);
      },
    );

    await t.step("lag and groups show the committed group; cluster shows brokers", async () => {
      const lag = ok(await task("admin", ["lag", group]), "lag").stdout;
      assert.match(lag, /total lag: 0/);
      const rows = await admin.lag(group, topic);
      assert.equal(rows.reduce((n, r) => n + r.lag, 0), 0);
      for (const r of rows) {
        // A partition no key hashed to has nothing to commit.
        assert.equal(r.committed ?? "0", r.end, `partition ${r.partition} committed to its end`);
      }
      assert.ok(ok(await task("admin", ["groups", "list"]), "groups").stdout.includes(group));
      assert.match(
        ok(await task("admin", ["groups", "describe", group]), "describe").stdout,
        /group .*: Empty/,
      );
      const cluster = ok(await task("admin", ["cluster", "--topic", topic]), "cluster").stdout;
      assert.match(cluster, /controller/);
      for (const b of config.kafka.brokers) assert.ok(cluster.includes(b.split(":")[1]), b);
      assert.equal(cluster.split("\n").filter((l) => l.startsWith(topic)).length, 6);
    });

    await t.step(
      "groups reset-offsets: a dry run changes nothing; --execute moves the group",
      async () => {
        const total = async () => (await admin.lag(group, topic)).reduce((n, r) => n + r.lag, 0);
        const reset = (to: string, ...more: string[]) =>
          task("admin", ["groups", "reset-offsets", group, "--topic", topic, "--to", to, ...more]);
        const dry = ok(await reset("earliest"), "dry run").stdout;
        assert.match(dry, /dry run: nothing changed/);
        assert.match(dry, /lag after/);
        assert.equal(await total(), 0, "the dry run committed nothing");
        assert.match(ok(await reset("earliest", "--execute"), "execute").stdout, /now reads/);
        assert.equal(await total(), lines.length, "every record is lag again");
        ok(await reset("latest", "--execute"), "back to latest");
        assert.equal(await total(), 0);
        const bad = await reset("yesterday");
        assert.equal(bad.code, 2, bad.stderr);
        assert.match(bad.stderr, /--to must be earliest, latest, an offset or an ISO date/);
      },
    );

    await t.step("consume without a group: only new records, nothing committed", async () => {
      const r = ok(
        await task("consume", ["--topic", topic, "--timeout-ms", "1500"]),
        "consume new only",
      );
      assert.equal(r.stdout.trim(), "");
      assert.match(r.stderr, /Processed a total of 0 messages/);
    });

    await t.step(
      "consume: Ctrl-C (SIGINT) leaves the group and commits what was printed",
      async () => {
        const group2 = `${group}.sigint`;
        const child = new Deno.Command(Deno.execPath(), {
          args: [
            "run",
            "-A",
            "tasks/consume.ts",
            "--topic",
            topic,
            "--group",
            group2,
            "--from-beginning",
          ],
          cwd: ROOT,
          stdin: "null",
          stdout: "piped",
          stderr: "piped",
          env: { NO_COLOR: "1" },
        }).spawn();
        const stderr = new Response(child.stderr).text();
        let printed = 0;
        let buffer = "";
        const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
        try {
          while (printed < lines.length) {
            const { value, done } = await reader.read();
            if (done) break;
            buffer += value;
            printed = buffer.split("\n").length - 1;
          }
        } finally {
          child.kill("SIGINT");
        }
        while (!(await reader.read()).done) { /* drain */ }
        const status = await child.status;
        assert.equal(printed, lines.length);
        assert.equal(status.code, 0, await stderr);
        assert.match(await stderr, /Processed a total of 30 messages/);
        const rows = await admin.lag(group2, topic);
        assert.equal(rows.reduce((n, r) => n + r.lag, 0), 0, "everything printed was committed");
        assert.equal((await admin.describeGroup(group2)).state, "Empty", "the member left");
        await admin.deleteGroups([group2]);
      },
    );

    await t.step("topics delete", async () => {
      ok(await task("admin", ["topics", "delete", topic]), "delete");
      deleted = true;
      assert.ok(!(await admin.listTopics()).includes(topic));
    });
  } finally {
    if (!deleted) await admin.deleteTopics([topic]).catch(() => {});
    await admin.deleteGroups([group]).catch(() => {});
    await admin.disconnect();
  }
});
