/**
 * Unit tests of the pipeline's pure parts: flags, durations, the gold
 * comparison, the progress line and the summary text (no services).
 */
import assert from "node:assert/strict";
import { UsageError } from "../lib/util/cli.ts";
import { compareGold, formatProgress } from "../lib/shopstream/pipeline.ts";
import { EventGenerator, Tally } from "../lib/shopstream/mod.ts";
import type { Row } from "../lib/lake/table.ts";
import { DEFAULT_EVENTS, parseDuration, parsePipelineArgs } from "../tasks/pipeline.ts";

Deno.test("pipeline flags", () => {
  const d = parsePipelineArgs([]);
  assert.equal(d.events, DEFAULT_EVENTS);
  assert.equal(d.fresh, true);
  assert.equal(d.follow, false);
  const f = parsePipelineArgs(["--duration", "30s", "--rate", "5000", "--seed", "7", "--keep"]);
  assert.deepEqual([f.events, f.durationMs, f.rate, f.seed, f.fresh], [
    undefined,
    30_000,
    5000,
    7,
    false,
  ]);
  assert.deepEqual(parsePipelineArgs(["--schema", "v2-from=100"]).schema, { v2From: 100 });
  assert.equal(parsePipelineArgs(["--follow"]).events, undefined);
  for (
    const bad of [
      ["--events", "0"],
      ["--events", "10", "--duration", "5s"],
      ["--follow", "--events", "10"],
      ["--malformed", "2"],
      ["--schema", "v3"],
      ["--duration", "soon"],
      ["--nope"],
    ]
  ) assert.throws(() => parsePipelineArgs(bad), UsageError, bad.join(" "));
  assert.deepEqual(["60s", "2m", "250ms", "1.5", "1h"].map(parseDuration), [
    60_000,
    120_000,
    250,
    1500,
    3_600_000,
  ]);
});

Deno.test("compareGold agrees with the tally's own rows and names every difference", () => {
  const tally = new Tally();
  for (const r of new EventGenerator({ seed: 8, meanStepMs: 2000 }).take(20_000)) tally.add(r);
  const gold = tally.gold();
  assert.ok(gold.length > 10);
  const lake = gold.map((g) => ({ ...g, hour_start: 0 }) as unknown as Row);
  assert.deepEqual(compareGold(lake, gold), []);
  const off = lake.map((r) => ({ ...r }));
  off[3] = { ...off[3], revenue_minor: (off[3].revenue_minor as bigint) + 1n };
  off.pop();
  off.push({ ...off[0] });
  const problems = compareGold(off, gold);
  assert.equal(problems.length, 3, problems.join("\n"));
  assert.match(problems.join("\n"), /lake ".*" != tally/);
  assert.match(problems.join("\n"), /two gold rows/);
  assert.match(problems.join("\n"), /missing in the lake/);
});

Deno.test("progress line", () => {
  const line = formatProgress({
    stage: "produce",
    elapsedMs: 2000,
    produced: 40000,
    acknowledged: 39000,
    bronze: 30000,
    deadLetters: 300,
    buffered: 8000,
    producedPerSec: 19500,
    sunkPerSec: 15150,
    rss: 2e8,
  });
  assert.match(
    line,
    /2\.0 s\s+produce\s+produced\s+39000 \(19500\/s\)\s+bronze\s+30000\s+dlq\s+300/,
  );
});
