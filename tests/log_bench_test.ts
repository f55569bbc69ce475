/**
 * Unit: the log benchmark runs, reads back every record it wrote and cleans
 * up; the task parses its flags. No timing assertions (figures are printed).
 */
import assert from "node:assert/strict";
import { benchCases, benchLog } from "../lib/bench/log.ts";
import { main } from "../tasks/bench/log.ts";

function silenced<T>(work: () => Promise<T>): Promise<T> {
  const { log, error } = console;
  const lines: string[] = [];
  console.log = (...a: unknown[]) => lines.push(a.join(" "));
  console.error = (...a: unknown[]) => lines.push(a.join(" "));
  return work().finally(() => {
    console.log = log;
    console.error = error;
  });
}

Deno.test("log benchmark", async (t) => {
  await t.step("benchCases is the full matrix", () => {
    const cases = benchCases([100, 1024], [1, 100], ["never", "batch"]);
    assert.equal(cases.length, 8);
    assert.deepEqual(cases[0], { recordBytes: 100, batchRecords: 1, fsync: "never" });
  });
  await t.step("a small case counts records and leaves nothing behind", async () => {
    const dir = await Deno.makeTempDir({ prefix: "log-bench-test-" });
    try {
      const r = await benchLog(
        dir,
        { recordBytes: 100, batchRecords: 7, fsync: "batch" },
        { records: 300, seconds: 30 },
      );
      assert.equal(r.records, 300, "stops at the record limit, last batch trimmed");
      assert.ok(r.appendsPerSec > 0 && r.readsPerSec > 0);
      assert.deepEqual([...Deno.readDirSync(dir)], [], "the case's log is deleted");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
  await t.step("the task: --help, bad flags, a tiny run in a temp dir it removes", async () => {
    const parent = await Deno.makeTempDir({ prefix: "log-bench-task-" });
    try {
      assert.equal(await silenced(() => main(["--help"])), 0);
      assert.equal(await silenced(() => main(["--fsync", "sometimes"])), 2);
      assert.equal(await silenced(() => main(["--sizes", "0"])), 2);
      assert.equal(await silenced(() => main(["--unknown"])), 2);
      const args = ["--records", "50", "--sizes", "100", "--batch", "10", "--dir", parent];
      assert.equal(await silenced(() => main(args)), 0);
      assert.deepEqual([...Deno.readDirSync(parent)], [], "the temp dir is removed");
    } finally {
      await Deno.remove(parent, { recursive: true });
    }
  });
});
