/**
 * The operations lab (lib/lab), headless: each scenario's injection, the
 * diagnosis calls notebook 05 makes (the functions behind `deno task
 * health`, `monitor`, `admin`, the metrics endpoint, the registry), the fix
 * and the recovery check; then `deno task health` passes. A last test stops
 * scenarios halfway and checks that closing, or the next heal, leaves the
 * stack healthy. The broker and MinIO scenarios kill a broker and freeze
 * MinIO, and every scenario's start heals the stack (it starts any stopped
 * broker): run the whole file under the exclusive lock,
 * `flock -x /tmp/shopstream-fault.lock deno test -P tests/lab_test.ts`.
 */
import assert from "node:assert/strict";
import { checkCompatibility, diffSchemas } from "../lib/schema/mod.ts";
import { checkHealth, checkKafka } from "../lib/observe/mod.ts";
import { parseSamples } from "../lib/observe/prometheus.ts";
import {
  FLUSH_ALERT,
  minioState,
  NotRecoveredError,
  OperationsLab,
  readAs,
  REFUND_V1,
  selfCheck,
} from "../lib/lab/mod.ts";
import { config, requireKafka, requireMinio, requireRegistry } from "./support.ts";

const log = (line: string) => console.log(`    ${line}`);

async function openLab(): Promise<OperationsLab> {
  await requireKafka();
  await requireRegistry();
  await requireMinio();
  return await OperationsLab.open(config, { log });
}

async function assertHealthy(lab: OperationsLab): Promise<void> {
  const report = await lab.waitHealthy(120_000);
  assert.ok(report.ok, "deno task health passes");
  assert.equal(lab.openScenarios.length, 0, "no scenario left open");
  const left = (await lab.admin.listTopics()).filter((t) => t.startsWith("lab."));
  assert.deepEqual(left, [], "no lab topic left");
}

Deno.test("lab: the recovery self-check is a displayable line, or an error naming what is wrong", async () => {
  const ok = await selfCheck("lag back to 0", () => assert.equal(0, 0));
  const display = ok[Symbol.for("Jupyter.display")]();
  assert.match(display["text/plain"], /✓ lag back to 0: recovered/);
  assert.ok(!JSON.stringify(display).includes("exercise"), "not graded: no exercise verdict");
  await assert.rejects(
    selfCheck("lag back to 0", () => assert.equal(120, 0, "lag is 120")),
    (e) => e instanceof NotRecoveredError && /lag is 120/.test(e.message),
  );
});

Deno.test("lab: readAs resolves a v1 record with a newer reader, as a consumer would", () => {
  const v2 = {
    ...REFUND_V1,
    fields: [...REFUND_V1.fields, { name: "reason", type: ["null", "string"], default: null }],
  };
  const v1 = { refundId: "r", orderId: "o", amountMinor: 5, currency: "EUR" };
  assert.deepEqual(readAs(REFUND_V1, v2, v1), { ...v1, reason: null });
  const required = {
    ...REFUND_V1,
    fields: [...REFUND_V1.fields, { name: "reason", type: "string" }],
  };
  assert.throws(() => readAs(REFUND_V1, required, v1), "no default: v1 records cannot be read");
});

Deno.test("lab scenario 4: a schema rejected before send, then an evolution that passes", async () => {
  await using lab = await openLab();
  {
    await using s = await lab.schemaRejected();
    const r = await s.injectFault();
    assert.match(r.message, /incompatible/i, r.message);
    assert.equal(r.held, 20, "the release holds its records");
    assert.equal(r.endAfter, r.endBefore, "nothing was sent");
    // Diagnosis: what `deno task schemas check` and `schemas diff` say.
    const verdict = await lab.registry.testCompatibility(s.subject, JSON.stringify(s.attempted));
    assert.equal(verdict.is_compatible, false);
    const history = await lab.registry.history(s.subject);
    const local = checkCompatibility("BACKWARD", JSON.stringify(s.attempted), history);
    assert.ok(local.problems.some((p) => p.field === "reason" || /reason/.test(p.path)));
    assert.ok(diffSchemas(s.v1, s.attempted).some((c) => /reason/.test(JSON.stringify(c))));
    // The fix.
    const fixed = {
      ...s.v1,
      fields: [...s.v1.fields, { name: "reason", type: ["null", "string"], default: null }],
    };
    await s.fix(fixed);
    const v = await s.verify();
    log(JSON.stringify(v));
    assert.deepEqual(v, {
      sentBefore: 20,
      sentAfter: 20,
      inLog: 40,
      decoded: 40,
      withReason: 20,
      versions: 2,
    });
    assert.equal(s.held, 0);
  }
  assert.deepEqual(
    (await lab.registry.subjects()).filter((x) => x.startsWith("lab.")),
    [],
    "the subject is gone",
  );
  await assertHealthy(lab);
});

Deno.test("lab scenario 2: consumer lag grows under a slow member, scaling the group drains it", async () => {
  await using lab = await openLab();
  {
    await using s = await lab.lagGrowing({ rate: 600, perMember: 150, afterScaleMs: 2000 });
    const { sampler } = s.watch;
    await sampler.waitFor(
      "the lag alert firing",
      (x) => x?.alerts.ShopStreamConsumerLagHigh === "firing",
      30_000,
    );
    const group = await lab.admin.describeGroup(s.group);
    assert.equal(group.members.length, 1, "one member holds every partition");
    const first = await s.readLag();
    await new Promise((r) => setTimeout(r, 4000));
    const last = await s.readLag();
    const sum = (rows: typeof first.rows, f: (r: (typeof rows)[number]) => number) =>
      rows.reduce((a, r) => a + f(r), 0);
    const seconds = (last.timeMs - first.timeMs) / 1000;
    const input = (sum(last.rows, (r) => Number(r.end)) - sum(first.rows, (r) => Number(r.end))) /
      seconds;
    const growth = (sum(last.rows, (r) => r.lag) - sum(first.rows, (r) => r.lag)) / seconds;
    const perMember = (input - growth) / s.members;
    log(`input ${input.toFixed(0)}/s, consumed ${(input - growth).toFixed(0)}/s`);
    assert.ok(growth > 0, "the lag grows");
    assert.ok(perMember > 50 && perMember < 300, `about 150/s per member: ${perMember}`);
    const needed = Math.min(s.partitions, Math.floor(input / perMember) + 1);
    assert.ok(needed >= 4, `600/s in, at most 150/s per member: at least 4 members (${needed})`);
    await s.scaleTo(s.partitions); // one member per partition drains fastest
    await s.waitDrained();
    await sampler.waitFor(
      "the lag alert back to ok",
      (x) => x?.alerts.ShopStreamConsumerLagHigh === "ok",
      20_000,
    );
    const v = await s.verify();
    log(JSON.stringify(v));
    assert.equal(v.lag, 0);
    assert.ok(
      v.acknowledged > 5000,
      `the stream ran until the group was scaled: ${v.acknowledged}`,
    );
    assert.equal(v.inLog, v.acknowledged, "the brokers hold every record");
    assert.equal(v.missing, 0, "every record was processed");
    assert.equal(v.processed, v.acknowledged);
    assert.ok(s.events.some((e) => e.label === `scaled to ${s.partitions}`));
  }
  await assertHealthy(lab);
});

Deno.test("lab scenario 5: a poison record goes to the DLQ with its reason and is replayed after a fix", async () => {
  await using lab = await openLab();
  {
    await using s = await lab.poisonRecord();
    await s.injectFault();
    await s.waitDeadLettered();
    const letters = await s.deadLetters();
    assert.equal(letters.length, 1);
    const [d] = letters;
    assert.equal(d.info.reason, "validation");
    assert.match(d.info.error, /total\.amountMinor: \d+ != sum of qty x unitPrice/);
    assert.equal(d.info.topic, s.rig.topics.orders);
    assert.ok(d.value, "the original value decodes");
    const scrape = parseSamples(await (await fetch(`${s.rig.watch.url}/metrics`)).text());
    const dead = scrape.filter((x) => x.name === "shopstream_sink_dead_letters_total");
    assert.deepEqual(dead.map((x) => [x.labels.reason, x.value]), [["validation", 1]]);
    const replayed = await s.replay((order) => {
      let sum = 0;
      for (const i of order.items) sum += i.qty * i.unitPrice.amountMinor;
      return { ...order, total: { ...order.total, amountMinor: sum } };
    });
    assert.equal(replayed, 1);
    const v = await s.verify();
    log(JSON.stringify({ ...v, bronze: v.bronze.rows }));
    assert.equal(v.bronze.rows, v.expected, "bronze holds every good record and the repaired one");
    assert.equal(v.bronze.distinct, v.bronze.rows, "no record twice");
    assert.deepEqual(v.deadLetters, { validation: 1 });
    assert.ok(v.repairedInBronze, "the repaired order is in bronze");
    assert.equal(v.lag, 0);
  }
  await assertHealthy(lab);
});

Deno.test("lab scenario 1 (fault): a broker down, ISR shrinks, new leaders, the broker rejoins, nothing lost", async () => {
  await using lab = await openLab();
  {
    await using s = await lab.brokerDown();
    await new Promise((r) => setTimeout(r, 1500));
    await s.injectFault();
    const victim = s.faultyBroker!;
    const rows = await s.isrRows();
    for (const r of rows) {
      assert.ok(!r.isrNow.includes(victim), `partition ${r.partition}: ISR without ${victim}`);
      assert.equal(r.isrNow.length, 2);
      assert.notEqual(r.leaderNow, victim);
      if (r.leaderBefore !== victim) {
        assert.equal(r.leaderNow, r.leaderBefore, "others keep theirs");
      }
    }
    assert.equal(rows.find((r) => r.partition === 0)!.leaderBefore, victim);
    const kafkaRows = await checkKafka(config);
    assert.ok(kafkaRows.some((r) => !r.ok), "deno task health shows the cluster short of a broker");
    const cluster = await lab.admin.describeCluster([s.topic]);
    assert.ok(
      !cluster.brokers.some((b) => b.nodeId === victim),
      "the dead broker left the metadata",
    );
    await s.watch.sampler.waitFor(
      "the under-replicated alert firing",
      (x) => x?.alerts.ShopStreamUnderReplicatedPartitions === "firing",
      30_000,
    );
    await s.restartBroker();
    await s.waitRejoined();
    const after = await s.isrRows();
    assert.ok(after.every((r) => r.isrNow.length === 3), "every ISR full again");
    const v = await s.verify();
    log(JSON.stringify(v));
    assert.ok(v.acknowledged > 0);
    assert.equal(v.lost, 0, "no acknowledged record lost");
    assert.ok(v.readBack >= v.acknowledged);
    assert.equal(v.inLog, v.readBack, "the reader read what the brokers hold");
  }
  await assertHealthy(lab);
});

Deno.test("lab scenario 3 (fault): MinIO frozen, the sink waits, the alert fires and resolves, nothing lost", async () => {
  await using lab = await openLab();
  {
    await using s = await lab.minioUnreachable();
    await s.injectFault();
    assert.equal(await minioState(lab.stack), "paused");
    await s.waitAlert("firing");
    const health = await checkHealth(config);
    assert.ok(
      health.checks.some((c) => c.service === "minio" && !c.ok),
      "deno task health shows MinIO down",
    );
    const last = s.rig.watch.sampler.samples.at(-1)!;
    assert.ok((last.flushFailures ?? 0) > 0, "the metrics endpoint counts failed uploads");
    assert.ok(last.lag > 0, "nothing is committed that is not uploaded");
    await s.resumeMinio();
    await s.waitRecovered();
    const v = await s.verify();
    log(JSON.stringify({ ...v, bronze: v.bronze.rows }));
    assert.equal(v.bronze.rows, v.expected, "bronze holds both waves");
    assert.equal(v.bronze.distinct, v.bronze.rows, "no record twice");
    assert.ok(v.flushFailures > 0);
    assert.equal(v.lag, 0);
    assert.equal(s.rig.watch.sampler.samples.at(-1)!.alerts[FLUSH_ALERT], "ok");
    const slowest = Math.max(...s.rig.watch.sampler.samples.map((x) => x.flushSecondsMax ?? 0));
    assert.ok(
      slowest >= 5,
      `a flush caught in the outage took as long as it (histogram: ${slowest} s)`,
    );
  }
  await assertHealthy(lab);
});

Deno.test("lab (fault): scenarios stopped halfway leave the stack healthy", async () => {
  await using lab = await openLab();
  // MinIO frozen, then the learner stops: closing resumes it.
  const minio = await lab.minioUnreachable();
  await minio.injectFault();
  assert.equal(await minioState(lab.stack), "paused");
  assert.deepEqual(await minio.close(), []);
  assert.equal(await minioState(lab.stack), "running");
  await assertHealthy(lab);
  // A broker killed, the scenario abandoned (a kernel restarted): the next lab's heal
  // restarts the broker and deletes what the run left.
  const broker = await lab.brokerDown();
  await broker.injectFault();
  const topic = broker.topic;
  {
    await using next = await OperationsLab.open(config, { log });
    const actions = await next.heal();
    log(actions.join(" | "));
    assert.ok(actions.some((a) => /kafka-\d .*started it/.test(a)), actions.join("; "));
    assert.ok(!(await next.admin.listTopics()).includes(topic), "the abandoned topic is gone");
    await assertHealthy(next);
  }
  await broker.close(); // the abandoned handle closes without harm
  await assertHealthy(lab);
});
