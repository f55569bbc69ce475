/**
 * `deno task pipeline` with its default flags, as an operator runs it: it
 * exits 0, says the run was consistent, and the per-topic row counts in its
 * summary are what an independent read of the lake finds (every bronze and
 * silver object of the default topics read back and counted here).
 * It uses the configured (default) topics and sink group and, like every
 * default run, starts them fresh.
 */
import assert from "node:assert/strict";
import { LakeStore } from "../lib/lake/store.ts";
import { LakeReader } from "../lib/shopstream/lake_reader.ts";
import { config, requireKafka, requireMinio, requireRegistry } from "./support.ts";

Deno.test("deno task pipeline (default flags): exit 0, its summary is what the lake holds", async () => {
  await requireKafka();
  await requireRegistry();
  await requireMinio();
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "tasks/pipeline.ts"],
    cwd: new URL("..", import.meta.url),
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  const tail = `${stdout.slice(-3000)}\n${new TextDecoder().decode(out.stderr).slice(-2000)}`;
  assert.equal(out.code, 0, tail);
  assert.match(stdout, /^consistent: /m, tail);

  // The summary's lake table: "<layer> <topic> [<table>] regions partitions files rows" (rows as 13,269).
  const printed = new Map<string, number>();
  for (const line of stdout.split("\n")) {
    const cells = line.trim().split(/\s+/);
    if (cells[0] !== "bronze" && cells[0] !== "silver") continue;
    if (!cells[1]?.startsWith("shopstream.")) continue;
    printed.set(`${cells[0]} ${cells[1]}`, Number(cells.at(-1)?.replaceAll(",", "")));
  }
  const topics = [
    config.topics.orders,
    config.topics.payments,
    config.topics.shipments,
    config.topics.clickstream,
  ];
  assert.equal(printed.size, 2 * topics.length, tail);

  const reader = new LakeReader(LakeStore.fromConfig(config));
  for (const layer of ["bronze", "silver"] as const) {
    for (const topic of topics) {
      const rows = (await reader.rows(layer, topic)).length;
      assert.ok(rows > 0, `${layer} ${topic} has rows`);
      assert.equal(printed.get(`${layer} ${topic}`), rows, `${layer} ${topic}`);
    }
  }
});
