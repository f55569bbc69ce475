/**
 * The lake's fault drills against the live stack (they freeze the shared
 * MinIO: run under `flock -x /tmp/shopstream-fault.lock`; MinIO is always
 * thawed in `finally`, and a guard process thaws it even if this test dies).
 *
 * - poison: good records with every kind of poison among them (years past
 *   9999 and before 0000, a time past JavaScript's Date range, a null region
 *   after a schema evolution, an order in another region's currency); the
 *   independent reader finds every good record in bronze and silver once,
 *   gold equal to the tally, every poison record in the DLQ with its reason,
 *   lag 0 and no consumer restart. 2 runs.
 * - minio-freeze: MinIO SIGSTOPped for 15 s while the sink reads (the task's
 *   default is 60 s); the sink shows that it waits, keeps its session,
 *   resumes, and loses or doubles nothing in bronze, silver or gold.
 * - `deno task pipeline` (the pipeline process) gets SIGINT while MinIO is
 *   frozen: it ends within 10 s with a non-zero status, and the sink group's
 *   committed offsets are not past what bronze holds (every offset below a
 *   committed one is a bronze row).
 */
import assert from "node:assert/strict";
import {
  freezeMinio,
  type FrozenMinio,
  minioFreezeDrill,
  minioFreezeTable,
  openDrill,
  POISON_KINDS,
  poisonDrill,
  poisonRunOk,
  poisonTable,
} from "../lib/drill/mod.ts";
import { ClusterAdmin } from "../lib/kafka/admin.ts";
import { createKafka } from "../lib/kafka/client.ts";
import { LakeStore } from "../lib/lake/store.ts";
import { LakeReader } from "../lib/shopstream/lake_reader.ts";
import { TOPIC_KEYS, topicsUnder } from "../lib/shopstream/topics.ts";
import { openStack } from "../lib/stack/mod.ts";
import { sleep } from "../lib/util/deadline.ts";
import {
  config,
  requireKafka,
  requireMinio,
  requireRegistry,
  uniqueName,
  waitFor,
} from "./support.ts";

Deno.test("drill poison --runs 2: every poison record in the DLQ with its reason, nothing lost, doubled or stuck", async () => {
  await requireKafka();
  await requireRegistry();
  await requireMinio();
  const drill = await openDrill(config, { clientId: "test-drill-poison" });
  try {
    const report = await poisonDrill(drill, { runs: 2, seed: 1, records: 2000, perKind: 2 });
    console.log(poisonTable(report.rows));
    assert.equal(report.rows.length, 2);
    for (const r of report.rows) {
      const why = r.problems.join("; ");
      assert.equal(r.poison, POISON_KINDS.length * 2);
      assert.equal(r.poisonInDlq, r.poison, `run ${r.run}: ${why}`);
      assert.equal(r.bronzeRows, r.good, `run ${r.run}: bronze holds every good record once`);
      assert.equal(r.silverRows, r.good, `run ${r.run}: silver too`);
      assert.ok(r.goldRows > 0, `run ${r.run}: gold has rows`);
      assert.equal(r.lost, 0, why);
      assert.equal(r.doubled, 0, why);
      assert.equal(r.misfiled, 0, why);
      assert.equal(r.stuck, 0, `run ${r.run}: the partitions moved on`);
      assert.equal(r.restarts, 0, `run ${r.run}: the consumer never restarted`);
      assert.equal(r.crashed, undefined);
      assert.ok(poisonRunOk(r));
    }
    assert.equal(report.failedRuns, 0);
  } finally {
    await drill.close();
  }
});

Deno.test("drill minio-freeze (15 s): the sink waits visibly, resumes, nothing lost or doubled", async () => {
  await requireKafka();
  await requireRegistry();
  await requireMinio();
  const drill = await openDrill(config, { clientId: "test-drill-minio-freeze" });
  try {
    const report = await minioFreezeDrill(drill, {
      runs: 1,
      seed: 1,
      records: 3000,
      freezeMs: 15_000,
    });
    console.log(minioFreezeTable(report.rows));
    const [r] = report.rows;
    const why = r.problems.join("; ");
    assert.ok(r.waitingAfter >= 0 && r.waitingAfter < 15, `the wait was visible: ${why}`);
    assert.ok(r.resumedAfter >= 0 && r.resumedAfter < 30, `it resumed after the thaw: ${why}`);
    assert.ok(r.failedCalls > 0, "store calls failed while frozen (the fault happened)");
    assert.equal(r.rebalances, 0, "the group session outlived the freeze");
    assert.equal(r.restarts, 0);
    assert.equal(r.bronzeRows, r.records);
    assert.equal(r.silverRows, r.records);
    assert.equal(r.lost, 0, why);
    assert.equal(r.doubled, 0, why);
    assert.equal(r.stuck, 0, why);
    assert.equal(report.failedRuns, 0);
  } finally {
    await drill.close();
  }
});

/** A free TCP port for the pipeline's metrics server. */
function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

Deno.test("deno task pipeline: SIGINT with MinIO frozen ends it within 10 s, non-zero, nothing committed past the lake", async () => {
  await requireKafka();
  await requireRegistry();
  await requireMinio();
  const base = uniqueName("test.sigint");
  const topics = topicsUnder(base);
  const group = `${base}.sink`;
  const env = {
    NO_COLOR: "1",
    TOPIC_ORDERS: topics.orders,
    TOPIC_PAYMENTS: topics.payments,
    TOPIC_SHIPMENTS: topics.shipments,
    TOPIC_CLICKSTREAM: topics.clickstream,
    TOPIC_DEAD_LETTER: topics.deadLetter,
    GROUP_ID_SINK: group,
    METRICS_PORT: String(freePort()),
  };
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "tasks/pipeline.ts",
      "--follow",
      "--rate",
      "2000",
      "--malformed",
      "0",
      "--duplicates",
      "0",
    ],
    cwd: new URL("..", import.meta.url),
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let out = "";
  const decoder = new TextDecoder();
  const read = (async () => {
    for await (const chunk of child.stdout) out += decoder.decode(chunk, { stream: true });
  })();
  const errText = new Response(child.stderr).text();
  let frozen: FrozenMinio | undefined;
  const admin = new ClusterAdmin(createKafka(config));
  const store = LakeStore.fromConfig(config);
  let status: Deno.CommandStatus | undefined;
  let stoppedAfterMs = Infinity;
  try {
    // The pipeline runs and has written to bronze (progress lines: "... bronze N ...").
    await waitFor(
      "the pipeline's first bronze rows",
      () => {
        const counts = [...out.matchAll(/bronze\s+(\d+)/g)].map((m) => Number(m[1]));
        return counts.some((n) => n > 0);
      },
      120_000,
      200,
    );
    frozen = await freezeMinio((await openStack(config)).mode, 40_000);
    await sleep(3000); // uploads now hang on the frozen MinIO
    const signalled = performance.now();
    child.kill("SIGINT");
    status = await Promise.race([
      child.status,
      sleep(15_000).then(() => undefined),
    ]);
    stoppedAfterMs = performance.now() - signalled;
  } finally {
    await frozen?.thaw();
    if (!status) {
      try {
        child.kill("SIGKILL");
      } catch { /* ended */ }
      await child.status;
    }
    await read.catch(() => {});
  }
  const stderr = await errText;
  const tail = `${out.slice(-1500)}\n--- stderr ---\n${stderr.slice(-1500)}`;
  console.log(
    `    ended ${stoppedAfterMs.toFixed(0)} ms after SIGINT, exit status ${status?.code}`,
  );
  try {
    assert.ok(status, `the pipeline still ran 15 s after SIGINT\n${tail}`);
    assert.ok(
      stoppedAfterMs < 10_000,
      `ended ${stoppedAfterMs.toFixed(0)} ms after SIGINT\n${tail}`,
    );
    assert.notEqual(status.code, 0, `exit status ${status.code}\n${tail}`);
    assert.match(`${out}\n${stderr}`, /aborted|exiting/, tail);

    // Nothing committed past what was uploaded: below each committed offset, every offset
    // of the partition is a bronze row (no malformed records: nothing went to the DLQ).
    await requireMinio();
    await admin.connect();
    const reader = new LakeReader(store);
    let committedTotal = 0;
    for (const k of TOPIC_KEYS) {
      const inBronze = new Map<number, Set<bigint>>();
      for (const row of await reader.rows("bronze", topics[k])) {
        const p = Number(row._partition);
        if (!inBronze.has(p)) inBronze.set(p, new Set());
        inBronze.get(p)!.add(BigInt(row._offset as bigint));
      }
      for (const l of await admin.lag(group, topics[k])) {
        const committed = BigInt(l.committed ?? "0");
        committedTotal += Number(committed);
        const have = inBronze.get(l.partition) ?? new Set();
        for (let o = 0n; o < committed; o++) {
          assert.ok(
            have.has(o),
            `${topics[k]}[${l.partition}]: committed ${committed} but offset ${o} is not in bronze`,
          );
        }
      }
    }
    assert.ok(committedTotal > 0, "the sink had committed something before the freeze");
  } finally {
    await admin.disconnect().catch(() => {});
    for (const k of TOPIC_KEYS) {
      await store.removeAll(`bronze/${topics[k]}/`).catch(() => {});
      await store.removeAll(`silver/${topics[k]}/`).catch(() => {});
    }
    await store.removeAll(`gold/${topics.orders}/`).catch(() => {});
    const cleanup = new ClusterAdmin(createKafka(config));
    await cleanup.connect();
    await cleanup.deleteGroups([group]).catch(() => {});
    await cleanup.deleteTopics([...TOPIC_KEYS.map((k) => topics[k]), topics.deadLetter])
      .catch(() => {});
    await cleanup.disconnect();
  }
});
