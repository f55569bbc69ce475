/** The summary `deno task test` prints: deno test's last line parsed into passed, failed and steps. No services. */
import assert from "node:assert/strict";
import { failureReasons, parseDenoTestSummary } from "../lib/util/test_summary.ts";

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

Deno.test("failureReasons: each failure's first error lines, stack frames left out", () => {
  const out = [
    "\x1b[0m\x1b[1m\x1b[37m\x1b[41m ERRORS \x1b[0m",
    "",
    "admin: topicConfig names the source \x1b[38;5;245m=> ./tests/kafka_admin_test.ts:11:6\x1b[0m",
    "\x1b[1m\x1b[31merror\x1b[0m: KafkaJSProtocolError: This server does not host this topic-partition",
    "  return new KafkaJSProtocolError(errorCodes.find(e => e.code === code))",
    "    at createErrorFromCode (file:///x/error.js:581:10)",
    "    at Object.parse (file:///x/response.js:45:11)",
    "",
    "./tests/pipeline_test.ts (uncaught error)",
    "error: (in promise) KafkaJSProtocolError: This server is not the leader for that topic-partition",
    "This error was not caught from a test and caused the test runner to fail on the referenced module.",
    "",
    "notebooks execute ... notebooks/03.ipynb ... no cell raised => ./tests/notebooks_test.ts:151:17",
    "error: AssertionError: cell 41 raised: Error: read 3 of 7 records",
    "  assert.ok(raised.length === 0, raised.join());",
    "\x1b[31m         ^\x1b[0m",
    "",
    "\x1b[0m\x1b[1m\x1b[37m\x1b[41m FAILURES \x1b[0m",
    "",
    "admin: topicConfig names the source => ./tests/kafka_admin_test.ts:11:6",
    "FAILED | 1 passed | 2 failed (1s)",
  ].join("\n");
  assert.deepEqual(failureReasons(out), [
    {
      name: "admin: topicConfig names the source",
      at: "./tests/kafka_admin_test.ts:11:6",
      lines: [
        "error: KafkaJSProtocolError: This server does not host this topic-partition",
        "  return new KafkaJSProtocolError(errorCodes.find(e => e.code === code))",
      ],
    },
    {
      name: "uncaught error",
      at: "./tests/pipeline_test.ts",
      lines: [
        "error: (in promise) KafkaJSProtocolError: This server is not the leader for that topic-partition",
        "This error was not caught from a test and caused the test runner to fail on the referenced module.",
      ],
    },
    {
      name: "notebooks execute ... notebooks/03.ipynb ... no cell raised",
      at: "./tests/notebooks_test.ts:151:17",
      lines: ["error: AssertionError: cell 41 raised: Error: read 3 of 7 records"],
    },
  ]);
  assert.equal(failureReasons(out, 1)[0].lines.length, 1);
  assert.deepEqual(failureReasons("ok | 3 passed | 0 failed (1s)"), []);
});
