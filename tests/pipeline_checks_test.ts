/**
 * The pipeline's checks as a pure function (no broker, no lake): a run whose
 * figures agree with the tally passes every check, and each way a lake can
 * be wrong (a row short in bronze, a duplicate kept in silver, gold a cent
 * off, dead letters missing, copies beyond what the log holds) fails exactly
 * the check that names it.
 */
import assert from "node:assert/strict";
import type { Row } from "../lib/lake/table.ts";
import {
  EventGenerator,
  failedChecks,
  type LakeSummaryRow,
  type PipelineCheckInput,
  pipelineChecks,
  Tally,
  TOPIC_KEYS,
  topicsUnder,
} from "../lib/shopstream/mod.ts";

const topics = topicsUnder("unit.pipe");
const tally = new Tally();
for (
  const r of new EventGenerator({
    seed: 3,
    malformedShare: 0.02,
    duplicateShare: 0.02,
    meanStepMs: 2000,
  }).take(20_000)
) tally.add(r);

function lakeRow(layer: "bronze" | "silver", topic: string, rows: number): LakeSummaryRow {
  return { layer, topic, table: "", regions: 4, partitions: 12, files: 12, rows, bytes: 1 };
}

/** The figures of a run in which everything went right. */
function goodRun(): PipelineCheckInput {
  const malformed = tally.totals().malformed;
  return {
    topics,
    tally,
    appended: Object.fromEntries(TOPIC_KEYS.map((k) => [topics[k], tally.topic(k).produced])),
    sinkDeadLetters: malformed,
    dlqAppended: malformed,
    lake: TOPIC_KEYS.flatMap((k) => [
      lakeRow("bronze", topics[k], tally.topic(k).bronze),
      lakeRow("silver", topics[k], tally.topic(k).silver),
    ]),
    goldRows: tally.gold().map((g) => ({ ...g, hour_start: 0 }) as unknown as Row),
    endLag: 0,
  };
}

/** The names of the failed checks. */
function failed(input: PipelineCheckInput): string[] {
  return pipelineChecks(input).filter((c) => !c.ok).map((c) => c.name);
}

/** `input` with the rows of one layer's topic changed by `delta`. */
function withRows(
  input: PipelineCheckInput,
  layer: string,
  topic: string,
  delta: number,
): PipelineCheckInput {
  return {
    ...input,
    lake: input.lake.map((r) =>
      r.layer === layer && r.topic === topic ? { ...r, rows: r.rows + delta } : r
    ),
  };
}

Deno.test("the tally's figures have something to check", () => {
  const t = tally.totals();
  assert.ok(t.malformed > 100 && t.duplicates > 100, JSON.stringify(t));
  assert.ok(tally.gold().length > 10);
});

Deno.test("a run that agrees with the tally passes every check, in the table's order", () => {
  const checks = pipelineChecks(goodRun());
  assert.deepEqual(failedChecks(checks), []);
  assert.deepEqual(checks.map((c) => c.name), [
    ...TOPIC_KEYS.map((k) => `log holds every record sent to ${topics[k]}`),
    ...TOPIC_KEYS.map((k) => `bronze rows ${topics[k]}`),
    "dead letters (sink)",
    `dead letters (${topics.deadLetter})`,
    ...TOPIC_KEYS.map((k) => `silver rows ${topics[k]}`),
    "gold orders_hourly = tally",
    "end lag",
  ]);
  const bronze = checks.find((c) => c.name === `bronze rows ${topics.orders}`)!;
  assert.equal(bronze.expected, String(tally.topic("orders").bronze));
  assert.equal(bronze.actual, bronze.expected);
});

Deno.test("a lake one row short in bronze fails that topic's bronze check", () => {
  const input = withRows(goodRun(), "bronze", topics.shipments, -1);
  assert.deepEqual(failed(input), [`bronze rows ${topics.shipments}`]);
  const want = tally.topic("shipments").bronze;
  assert.deepEqual(failedChecks(pipelineChecks(input)), [
    `bronze rows ${topics.shipments}: expected ${want}, found ${want - 1}`,
  ]);
});

Deno.test("a duplicate kept in silver fails that topic's silver check", () => {
  const input = withRows(goodRun(), "silver", topics.payments, +1);
  assert.deepEqual(failed(input), [`silver rows ${topics.payments}`]);
});

Deno.test("gold one cent off fails the gold check, naming the row", () => {
  const input = goodRun();
  const rows = input.goldRows.map((r) => ({ ...r }));
  rows[2] = { ...rows[2], revenue_eur_minor: (rows[2].revenue_eur_minor as bigint) + 1n };
  const checks = pipelineChecks({ ...input, goldRows: rows });
  assert.deepEqual(checks.filter((c) => !c.ok).map((c) => c.name), ["gold orders_hourly = tally"]);
  const gold = checks.find((c) => !c.ok)!;
  const key = `${rows[2].region}|${rows[2].date}|${rows[2].hour}`;
  assert.match(gold.actual, /^1 differences: /);
  assert.ok(gold.actual.includes(`${key}: lake "`), gold.actual);
});

Deno.test("fewer dead letters than malformed records fail; more (a re-read) do not", () => {
  const input = goodRun();
  assert.deepEqual(failed({ ...input, sinkDeadLetters: input.sinkDeadLetters - 1 }), [
    "dead letters (sink)",
  ]);
  assert.deepEqual(failed({ ...input, dlqAppended: input.dlqAppended - 1 }), [
    `dead letters (${topics.deadLetter})`,
  ]);
  assert.deepEqual(failed({ ...input, dlqAppended: input.dlqAppended + 5 }), []);
});

Deno.test("copies in the log allow as many extra bronze rows, never more", () => {
  const input = goodRun();
  const appended = { ...input.appended, [topics.orders]: input.appended[topics.orders] + 2 };
  const twoCopies = { ...withRows(input, "bronze", topics.orders, +2), appended };
  assert.deepEqual(failed(twoCopies), []);
  const check = pipelineChecks(twoCopies).find((c) => c.name === `bronze rows ${topics.orders}`)!;
  assert.equal(check.expected, `${tally.topic("orders").bronze} + <= 2 copies`);
  assert.deepEqual(failed({ ...withRows(input, "bronze", topics.orders, +3), appended }), [
    `bronze rows ${topics.orders}`,
  ]);
  // Without copies in the log, an extra bronze row is a mistake.
  assert.deepEqual(failed(withRows(input, "bronze", topics.orders, +1)), [
    `bronze rows ${topics.orders}`,
  ]);
});

Deno.test("a log short of what was produced, or lag left, fails", () => {
  const input = goodRun();
  const appended = { ...input.appended, [topics.clickstream]: 0 };
  assert.deepEqual(failed({ ...input, appended }), [
    `log holds every record sent to ${topics.clickstream}`,
  ]);
  assert.deepEqual(failed({ ...input, endLag: 1 }), ["end lag"]);
});
