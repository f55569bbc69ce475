/**
 * The whole pipeline against the live stack, on unique topics: generator ->
 * producer -> Kafka -> lake sink -> silver -> gold. The pipeline's own checks
 * must pass, and an independent read of the lake must agree: bronze rows =
 * N - DLQ, every region folder holds only its region, silver has no
 * duplicate event ids, gold equals the tally to the cent, and v2 events sit
 * beside v1 ones with the v2-only columns null for v1 rows. A broker
 * SIGKILLed mid-run (and restarted) costs nothing: silver and gold stay
 * exact and every malformed record is in the DLQ by origin (bronze may hold
 * the copies of a retried send that the log holds).
 * The kill test needs the stack to itself (flock -x on a shared stack).
 */
import assert from "node:assert/strict";
import { ClusterAdmin } from "../lib/kafka/admin.ts";
import { createKafka } from "../lib/kafka/client.ts";
import { layerPrefix } from "../lib/lake/paths.ts";
import { LakeStore } from "../lib/lake/store.ts";
import { tableRows } from "../lib/lake/table.ts";
import { RegistryClient } from "../lib/schema/rest.ts";
import { LakeReader } from "../lib/shopstream/lake_reader.ts";
import { compareGold, formatPipelineSummary, Pipeline } from "../lib/shopstream/pipeline.ts";
import { type ShopTopics, TOPIC_KEYS, topicsUnder } from "../lib/shopstream/mod.ts";
import {
  openDrill,
  pipelineKillDrill,
  pipelineKillRunOk,
  pipelineKillSummary,
} from "../lib/drill/mod.ts";
import {
  config,
  requireKafka,
  requireMinio,
  requireRegistry,
  uniqueName,
  waitFor,
} from "./support.ts";

Deno.test("pipeline: N events in, the lake holds exactly the tally", async (t) => {
  await requireKafka();
  await requireRegistry();
  await requireMinio();
  const { topics, groupId } = pipelineNames("test.pipe");
  const n = 8000;
  const store = LakeStore.fromConfig(config);
  try {
    const pipeline = new Pipeline({
      config,
      topics,
      groupId,
      fresh: false, // new topics, new group: nothing to clear
      events: n,
      seed: 5,
      malformedShare: 0.03,
      duplicateShare: 0.03,
      schema: { v2From: 4000 },
      // A short age so the drain does not wait on the default 5 s buffers.
      policy: { maxRecords: 10_000, maxBytes: 8 * 1024 * 1024, maxAgeMs: 1000 },
      metricsPort: 0,
    });
    const running = pipeline.run();
    // Awaited below; until then a failed run must not surface as an unhandled rejection
    // (which fails the whole file without the run's own message).
    running.catch(() => {});
    // While it runs, /metrics serves the contract's names.
    const url = await waitFor("the metrics endpoint", () => pipeline.metricsUrl, 60_000, 50);
    const scraped = await waitFor(
      "a produced count on /metrics",
      async () => {
        const text = await (await fetch(`${url}/metrics`)).text();
        return /shopstream_produced_total\{topic="[^"]+"\} [1-9]/.test(text) ? text : undefined;
      },
      60_000,
      100,
    );
    const summary = await running;
    const tally = summary.tally;
    const totals = tally.totals();

    await t.step("metrics were served while it ran", () => {
      for (
        const name of ["shopstream_produced_total", "shopstream_sink_buffered_records"]
      ) assert.ok(scraped.includes(name), name);
    });

    await t.step("the pipeline's own checks pass", () => {
      assert.ok(summary.ok, formatPipelineSummary(summary));
      assert.equal(summary.produced, n);
      assert.equal(summary.consumed, n);
      assert.equal(summary.deadLetters, totals.malformed);
      assert.ok(totals.malformed > 100 && totals.duplicates > 100, JSON.stringify(totals));
      assert.equal(summary.endLag, 0);
    });

    const reader = new LakeReader(store);
    await t.step("bronze: N - DLQ rows, each region folder holds only its region", async () => {
      let rows = 0;
      for (const k of TOPIC_KEYS) {
        for (const table of await reader.tables("bronze", topics[k])) {
          const region = (table.parsed as { region: string }).region;
          for (const r of tableRows(table.table)) {
            assert.equal(r.region, region, table.key);
            rows++;
          }
        }
      }
      assert.equal(rows, n - summary.dlqAppended);
      assert.equal(rows, totals.bronze);
    });

    await t.step("silver: no duplicate event ids, as many as distinct events", async () => {
      let rows = 0;
      for (const k of TOPIC_KEYS) {
        const ids = new Set<string>();
        for (const r of await reader.rows("silver", topics[k])) {
          assert.ok(!ids.has(String(r.event_id)), `duplicate ${r.event_id} in ${topics[k]}`);
          ids.add(String(r.event_id));
          rows++;
        }
        assert.equal(ids.size, tally.topic(k).silver, topics[k]);
      }
      assert.equal(rows, totals.silver);
    });

    await t.step("gold equals the tally to the cent", async () => {
      const gold = await reader.rows("gold", `${topics.orders}/orders_hourly`);
      assert.ok(gold.length > 0);
      assert.deepEqual(compareGold(gold, tally.gold()), []);
    });

    await t.step("v2 rows beside v1 rows; v2-only columns null for v1", async () => {
      const orders = await reader.rows("bronze", topics.orders);
      const v1 = orders.filter((r) => Number(r.schema_version) === 1);
      const v2 = orders.filter((r) => Number(r.schema_version) === 2);
      assert.ok(v1.length > 50 && v2.length > 50, `${v1.length} v1, ${v2.length} v2`);
      for (const r of v1) assert.equal(r.channel, null, "v1 has no channel");
      for (const r of v2) assert.ok(typeof r.channel === "string" && r.tax_rate !== null);
      const clicks = await reader.rows("bronze", topics.clickstream);
      assert.ok(clicks.some((r) => Number(r.schema_version) === 1));
      assert.ok(clicks.some((r) => Number(r.schema_version) === 2));
    });
  } finally {
    await removePipelineRun(store, topics, groupId);
  }
});

Deno.test("pipeline: a broker SIGKILLed mid-run and restarted, nothing lost", async () => {
  await requireKafka();
  await requireRegistry();
  await requireMinio();
  // One run of `deno task drill pipeline-kill`: the pipeline's checks read the lake back,
  // a fresh consumer reads the dead-letter topic back (many runs: the drill itself).
  const drill = await openDrill(config, { log: (l) => console.error(l) });
  try {
    const report = await pipelineKillDrill(drill, { seed: 11, records: 10_000 });
    const [row] = report.rows;
    assert.ok(pipelineKillRunOk(row), pipelineKillSummary(report));
    assert.equal(row.produced, 10_000);
    assert.ok(row.malformed > 0, "the run had malformed records to dead-letter");
  } finally {
    await drill.close();
  }
});

/** Unique topics and group for one pipeline run. */
function pipelineNames(prefix: string): { topics: ShopTopics; groupId: string } {
  const base = uniqueName(prefix);
  return {
    topics: topicsUnder(base),
    groupId: `${base}.sink`,
  };
}

/** Deletes a run's topics, group, subjects and lake folders. */
async function removePipelineRun(store: LakeStore, topics: ShopTopics, groupId: string) {
  const admin = new ClusterAdmin(createKafka(config));
  await admin.connect();
  await admin.deleteTopics(Object.values(topics)).catch(() => {});
  await admin.deleteGroups([groupId]).catch(() => {});
  await admin.disconnect();
  const registry = new RegistryClient(config.schemaRegistry.url);
  for (const k of TOPIC_KEYS) await registry.deleteSubject(`${topics[k]}-value`).catch(() => {});
  for (const k of TOPIC_KEYS) {
    for (const layer of ["bronze", "silver", "gold"] as const) {
      await store.removeAll(layerPrefix(layer, topics[k])).catch(() => {});
    }
  }
}
