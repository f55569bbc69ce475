/** The summary `deno task test` prints: deno test's last line parsed into passed, failed and steps. No services. */
import assert from "node:assert/strict";
import { parseDenoTestSummary } from "../lib/util/test_summary.ts";

Deno.test("parseDenoTestSummary", async (t) => {
  await t.step("a green run", () => {
    assert.deepEqual(parseDenoTestSummary("x\nok | 12 passed (40 steps) | 0 failed (3s)\n"), {
      passed: 12,
      failed: 0,
      steps: 40,
    });
  });
  await t.step("a red run with coloured output and failed steps", () => {
    const out =
      "\x1b[0m\x1b[31mFAILED\x1b[0m | 10 passed (31 steps) | 2 failed (4 steps) \x1b[38;5;245m(9s)\x1b[0m";
    assert.deepEqual(parseDenoTestSummary(out), { passed: 10, failed: 2, steps: 31 });
  });
  await t.step("no steps, one test", () => {
    assert.deepEqual(parseDenoTestSummary("ok | 1 passed | 0 failed (1ms)"), {
      passed: 1,
      failed: 0,
      steps: 0,
    });
  });
  await t.step("no summary", () => {
    assert.equal(parseDenoTestSummary("error: Module not found"), undefined);
  });
});
