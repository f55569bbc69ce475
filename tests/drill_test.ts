/**
 * The fault drills against the live cluster (they kill brokers and
 * consumers: run under `flock -x /tmp/shopstream-fault.lock`). The guarded
 * producer loses no acknowledged record over 10 broker kills spread over the
 * stream; an at-least-once consumer killed mid-batch leaves nothing
 * unprocessed, and the killed batch is processed again. Counted by Kafka's GetOffsetShell and a fresh consumer.
 */
import assert from "node:assert/strict";
import {
  brokerKillDrill,
  brokerKillTable,
  consumerKillDrill,
  consumerKillTable,
  openDrill,
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
