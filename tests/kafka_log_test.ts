/**
 * kafkajs's log through lib/kafka/client.ts: an unreachable broker is one
 * short line (per broker and minute), not an error with a stack trace per
 * retry; KAFKAJS_LOG_LEVEL brings kafkajs's own lines back. The connections
 * are real: to a local port nothing listens on. No stack needed.
 */
import assert from "node:assert/strict";
import { type LogEntry, logLevel } from "kafkajs";
import { loadConfig } from "../lib/config.ts";
import {
  createKafka,
  isRestartNotice,
  kafkaLogLines,
  UNREACHABLE_REPEAT_MS,
  unreachableBroker,
} from "../lib/kafka/client.ts";

const STACK =
  "Error: connect ECONNREFUSED 127.0.0.1:19092\n    at _afterConnectImpl (ext:deno_node/net.ts:1:6347)";

function entry(namespace: string, message: string, extra: Record<string, unknown> = {}): LogEntry {
  return {
    namespace,
    level: logLevel.ERROR,
    label: "ERROR",
    log: { timestamp: "2026-01-01T00:00:00.000Z", logger: "kafkajs", message, ...extra },
  };
}

const refused = entry("Connection", "Connection error: connect ECONNREFUSED 127.0.0.1:19092", {
  broker: "127.0.0.1:19092",
  clientId: "shopstream-admin",
  stack: STACK,
});
const seed = entry(
  "BrokerPool",
  "Failed to connect to seed broker, trying another broker from the list: Connection error: connect ECONNREFUSED 127.0.0.1:19092",
  { retryCount: 0, retryTime: 300 },
);

Deno.test("unreachableBroker: which entries mean nobody answers, where, and why", () => {
  assert.deepEqual(unreachableBroker("Connection", refused.log), {
    address: "127.0.0.1:19092",
    reason: "connection refused",
  });
  assert.deepEqual(unreachableBroker("BrokerPool", seed.log), {
    address: "127.0.0.1:19092",
    reason: "connection refused",
  });
  assert.deepEqual(
    unreachableBroker("Connection", { message: "Connection timeout", broker: "[::1]:9093" }),
    { address: "[::1]:9093", reason: "timed out" },
  );
  assert.deepEqual(
    unreachableBroker("Consumer", {
      message: "Crash: KafkaJSNumberOfRetriesExceeded: Connection error: read ECONNRESET",
    }),
    { address: "", reason: "connection closed" },
  );
  for (
    const [namespace, message, error] of [
      ["Producer", "Failed to send messages: Not enough in-sync replicas", undefined],
      ["Connection", "Response Produce(key: 0, version: 7)", "The coordinator is loading"],
      ["Consumer", "Restarting the consumer in 5000ms", undefined],
    ]
  ) {
    assert.equal(unreachableBroker(namespace!, { message: message!, error }), undefined, message);
  }
});

Deno.test("kafkaLogLines: one line per unreachable broker and minute; raw on request", () => {
  let now = 1_000_000;
  const lines = kafkaLogLines(logLevel.WARN, { now: () => now });
  const first = lines(refused)!;
  assert.equal(
    first,
    "kafka: cannot reach 127.0.0.1:19092 (connection refused): the stack is down or still " +
      "starting; kafkajs retries (KAFKAJS_LOG_LEVEL=error shows its own log)",
  );
  assert.equal(lines(seed), undefined, "the seed-broker retry about the same broker");
  assert.equal(lines(refused), undefined, "the next retry");
  const other = entry("Connection", "Connection error: connect ECONNREFUSED 127.0.0.1:19093", {
    broker: "127.0.0.1:19093",
  });
  assert.match(lines(other)!, /^kafka: cannot reach 127\.0\.0\.1:19093 /, "another broker");
  now += UNREACHABLE_REPEAT_MS;
  assert.equal(lines(refused), first, "a minute later it is news again");

  const isrError = lines(
    entry("Producer", "Failed to send messages: Not enough in-sync replicas"),
  );
  assert.equal(
    isrError,
    "[kafkajs ERROR] Producer: Failed to send messages: Not enough in-sync replicas",
    "every other error is shown as kafkajs says it",
  );
  assert.equal(lines(entry("Connection", "x TimeoutNegativeWarning")), undefined, "noise");
  const group = {
    groupId: "g",
    memberId: "m",
    error: "The group is rebalancing, so a rejoin is needed",
  };
  assert.equal(
    lines(entry("Runner", "The group is rebalancing, re-joining", group)),
    undefined,
    "a member re-joining in a rebalance is routine",
  );
  assert.match(
    kafkaLogLines(logLevel.DEBUG)(entry("Runner", "The group is rebalancing, re-joining", group))!,
    /^\[kafkajs ERROR\] Runner: The group is rebalancing/,
    "and shown at DEBUG",
  );
  assert.match(
    lines(
      entry("Runner", "The coordinator is not aware of this member, re-joining the group", group),
    )!,
    /^\[kafkajs ERROR\] Runner: The coordinator is not aware/,
    "an evicted member is news",
  );

  const raw = kafkaLogLines(logLevel.ERROR, { raw: true });
  const line = raw(refused)!;
  assert.ok(line.startsWith("[kafkajs ERROR] Connection: Connection error: connect ECONNREFUSED"));
  assert.ok(line.includes("_afterConnectImpl"), "raw keeps kafkajs's stack");
  assert.ok(raw(seed)!.startsWith("[kafkajs ERROR] BrokerPool: "), "and every retry");
});

/** A local port nothing listens on. */
function deadPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return port;
}

async function connectLines(port: number, rawLogs: boolean): Promise<string[]> {
  const config = loadConfig({
    ...Deno.env.toObject(),
    KAFKA_BOOTSTRAP_SERVERS: `127.0.0.1:${port}`,
  });
  const lines: string[] = [];
  const error = console.error;
  console.error = (...a: unknown[]) => lines.push(a.join(" "));
  try {
    const admin = createKafka(config, { retries: 1, level: logLevel.WARN, rawLogs }).admin();
    await assert.rejects(admin.connect(), /ECONNREFUSED/);
    await admin.disconnect();
  } finally {
    console.error = error;
  }
  return lines;
}

Deno.test("createKafka against a port nothing listens on: one line, or kafkajs's own with rawLogs", async () => {
  const port = deadPort();
  assert.deepEqual(await connectLines(port, false), [
    `kafka: cannot reach 127.0.0.1:${port} (connection refused): the stack is down or still ` +
    "starting; kafkajs retries (KAFKAJS_LOG_LEVEL=error shows its own log)",
  ]);
  const raw = await connectLines(deadPort(), true);
  assert.ok(raw.length >= 2, raw.join("\n"));
  assert.ok(raw.every((l) => l.startsWith("[kafkajs ERROR] ")), raw.join("\n"));
  assert.ok(raw.some((l) => l.includes('"stack":"Error: connect ECONNREFUSED')), raw.join("\n"));
});

Deno.test("deno task health with Kafka unreachable: a DOWN row, no kafkajs lines unless asked", async () => {
  const env = {
    NO_COLOR: "1",
    KAFKA_BOOTSTRAP_SERVERS: `127.0.0.1:${deadPort()}`,
    SCHEMA_REGISTRY_URL: `http://127.0.0.1:${deadPort()}`,
    S3_ENDPOINT: `http://127.0.0.1:${deadPort()}`,
  };
  const health = async (extra: Record<string, string>) => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "tasks/health.ts"],
      cwd: new URL("..", import.meta.url),
      env: { ...env, ...extra },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder();
    return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
  };
  const [quiet, loud] = await Promise.all([
    health({ KAFKAJS_LOG_LEVEL: "" }),
    health({ KAFKAJS_LOG_LEVEL: "error" }),
  ]);
  assert.equal(quiet.code, 1, quiet.stdout + quiet.stderr);
  const kafka = quiet.stdout.split("\n").filter((l) => l.startsWith("kafka "));
  // One row says the cluster is unreachable; the quorum row (Kafka's own tool) is DOWN too.
  const reachable = kafka.filter((l) => /cluster reachable/.test(l));
  assert.equal(reachable.length, 1, quiet.stdout);
  for (const row of kafka) assert.match(row, /\sDOWN\s/, quiet.stdout);
  assert.match(
    reachable[0],
    /cluster reachable\s+DOWN\s+.*connection refused \(down, or still starting\)/,
  );
  assert.doesNotMatch(quiet.stderr, /kafkajs|^\s+at /m, quiet.stderr);
  assert.equal(loud.code, 1);
  assert.match(
    loud.stderr,
    /^\[kafkajs ERROR\] Connection: Connection error: connect ECONNREFUSED/m,
  );
});

Deno.test("isRestartNotice: kafkajs's consumer restart line, for one group only", () => {
  const restart = (group: string) =>
    entry("Consumer", "Restarting the consumer in 300ms", {
      retryCount: 0,
      retryTime: 300,
      groupId: group,
    });
  assert.equal(isRestartNotice(restart("sink"), "sink"), true);
  assert.equal(isRestartNotice(restart("other"), "sink"), false, "another group's consumer");
  assert.equal(
    isRestartNotice(
      entry("Consumer", "Crash: KafkaJSNumberOfRetriesExceeded", { groupId: "sink" }),
      "sink",
    ),
    false,
    "the crash itself stays",
  );
  assert.equal(
    isRestartNotice(
      entry("Runner", "Restarting the consumer in 300ms", { groupId: "sink" }),
      "sink",
    ),
    false,
  );
});
