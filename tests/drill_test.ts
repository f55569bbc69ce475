/**
 * The fault drills against the live cluster (they kill and freeze brokers
 * and consumers: run under `flock -x /tmp/shopstream-fault.lock`). The
 * guarded producer loses no acknowledged record and writes none twice over
 * 10 broker kills spread over the stream, and every run proves the kill hit
 * the stream (kafkajs had to retry a send); the guard's re-sends are
 * reported, not required: with one kafkajs send per partition the fault it
 * catches no longer arises (see the facts in lib/kafka/mod.ts). The console
 * producer rides out a leader's SIGKILL (exit 0, every line in the log,
 * once); produce and consume ride out a leader frozen past the session
 * timeout and end within 10 s of SIGINT; an at-least-once consumer killed
 * mid-batch leaves nothing unprocessed, and the killed batch is processed
 * again. Counted by Kafka's GetOffsetShell and a fresh consumer.
 */
import assert from "node:assert/strict";
import {
  brokerFreezeDrill,
  brokerFreezeTable,
  brokerKillDrill,
  brokerKillTable,
  consumerKillDrill,
  consumerKillTable,
  openDrill,
  producerTaskDrill,
  producerTaskTable,
  SIGINT_BOUND_MS,
} from "../lib/drill/mod.ts";
import { config, requireKafka } from "./support.ts";

Deno.test("drill broker-kill --runs 10 (guarded): nothing acknowledged is lost", async () => {
  await requireKafka();
  const drill = await openDrill(config, { clientId: "test-drill" });
  try {
    const records = 1500;
    const report = await brokerKillDrill(drill, { runs: 10, seed: 1, records, batch: 100 });
    console.log(brokerKillTable(report.rows));
    console.log(`    wall time ${report.wallSeconds.toFixed(1)} s`);
    assert.equal(report.rows.length, 10);
    for (const r of report.rows) {
      assert.ok([1, 2, 3].includes(r.broker), `run ${r.run} killed a broker (${r.broker})`);
      assert.ok(r.killAt > 0 && r.killAt < records, `run ${r.run} killed mid-stream (${r.killAt})`);
      assert.equal(r.sent, records);
      assert.equal(r.failed, 0, `run ${r.run}: every send acknowledged (min ISR 2 still met)`);
      assert.ok(r.inLog >= r.acknowledged, `run ${r.run}: the log holds at least what was acked`);
      assert.ok(r.retried > 0, `run ${r.run}: the kill hit the stream (kafkajs retried a send)`);
      assert.equal(r.duplicated, 0, `run ${r.run}: no record written twice`);
    }
    const points = report.rows.map((r) => r.killAt).sort((a, b) => a - b);
    assert.equal(new Set(points).size, 10, `distinct kill points: ${points}`);
    assert.ok(points[9] - points[0] >= records / 3, `kill points spread: ${points}`);
    assert.equal(new Set(report.rows.map((r) => r.partition)).size > 1, true, "victims vary");
    assert.equal(report.lost, 0, `lost: ${report.rows.flatMap((r) => r.lostSample)}`);
  } finally {
    await drill.close();
  }
});

Deno.test("drill producer-task --runs 3: deno task produce rides out a leader's SIGKILL", async () => {
  await requireKafka();
  const drill = await openDrill(config, { clientId: "test-drill" });
  try {
    const report = await producerTaskDrill(drill, { runs: 3, seed: 1 });
    console.log(producerTaskTable(report.rows));
    assert.equal(report.rows[0].killAt, -1, "run 1 kills while the task starts");
    for (const r of report.rows) {
      assert.ok([1, 2, 3].includes(r.broker), `run ${r.run} killed a broker (${r.broker})`);
      assert.equal(r.stuck, 0, `run ${r.run} ended in time`);
      assert.equal(r.uncaught, false, `run ${r.run}: no uncaught error\n${r.failure}`);
      assert.equal(r.exitCode, 0, `run ${r.run} exit 0\n${r.failure}`);
      assert.equal(r.lines, 2000);
      assert.equal(r.lost, 0, `run ${r.run}: every line in the log`);
      assert.equal(r.duplicated, 0, `run ${r.run}: every line once`);
    }
  } finally {
    await drill.close();
  }
});

Deno.test("drill broker-freeze: produce and consume ride out a frozen leader", async () => {
  await requireKafka();
  const drill = await openDrill(config, { clientId: "test-drill" });
  try {
    const report = await brokerFreezeDrill(drill, { runs: 1, seed: 1 });
    console.log(brokerFreezeTable(report.rows));
    const [r] = report.rows;
    const why = `\n${r.failure}`;
    assert.ok(r.frozenSeconds >= 15, `frozen for ${r.frozenSeconds} s, past the 10 s session`);
    assert.equal(r.producerExit, 0, `the producer exited 0${why}`);
    assert.equal(r.lost, 0, `nothing lost${why}`);
    assert.equal(r.doubled, 0, `nothing doubled in the log${why}`);
    assert.equal(r.stuck, 0, `the consumer printed every line${why}`);
    for (const [what, s] of [["while frozen", r.sigintFrozen], ["after", r.sigintAfter]] as const) {
      assert.ok(s !== null && s * 1000 < SIGINT_BOUND_MS, `SIGINT ${what}: ended in ${s} s${why}`);
    }
  } finally {
    await drill.close();
  }
});

Deno.test("drill consumer-kill: a consumer killed mid-batch leaves nothing unprocessed", async () => {
  await requireKafka();
  const drill = await openDrill(config, { clientId: "test-drill" });
  try {
    const report = await consumerKillDrill(drill, { runs: 1, seed: 1, records: 2000 });
    console.log(consumerKillTable(report.rows));
    const [r] = report.rows;
    assert.equal(r.inLog, 2000);
    assert.ok(r.killedAt > 0 && r.killedAt < 2000, `killed mid-stream (${r.killedAt})`);
    assert.ok(r.duplicated > 0, "the killed batch's uncommitted records were processed again");
    assert.equal(r.missing, 0);
  } finally {
    await drill.close();
  }
});
