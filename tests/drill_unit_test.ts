/**
 * Unit tests (no broker): the drills' seeded kill points, GetOffsetShell
 * parsing, verdicts by record id, the pass rules of the producer-task and
 * broker-freeze drills, the pipeline-kill drill's plan and pass rule, and the
 * drill's command line.
 */
import assert from "node:assert/strict";
import {
  brokerFreezePassed,
  type BrokerFreezeRow,
  brokerKillSummary,
  compareProcessed,
  offsetShellArgs,
  parseOffsetShell,
  pipelineKillPlan,
  type PipelineKillRow,
  pipelineKillRunOk,
  pipelineKillSummary,
  producerTaskPassed,
  type ProducerTaskRow,
  producerTaskSummary,
  randomInt,
  seededRandom,
  spreadPoints,
  tallyIds,
} from "../lib/drill/mod.ts";
import { parseDrillArgs, runDrill } from "../tasks/drill.ts";

Deno.test("drill: seeded choices", async (t) => {
  await t.step("the same seed gives the same sequence, another seed another", () => {
    const a = seededRandom(42), b = seededRandom(42), c = seededRandom(43);
    const xs = Array.from({ length: 5 }, () => a());
    assert.deepEqual(xs, Array.from({ length: 5 }, () => b()));
    assert.notDeepEqual(xs, Array.from({ length: 5 }, () => c()));
    assert.ok(xs.every((x) => x >= 0 && x < 1));
  });

  await t.step("randomInt stays in its inclusive range and reaches both ends", () => {
    const r = seededRandom(1);
    const seen = new Set(Array.from({ length: 300 }, () => randomInt(r, 0, 2)));
    assert.deepEqual([...seen].sort(), [0, 1, 2]);
  });

  await t.step("kill points: one per stratum of the stream's middle, never at an end", () => {
    for (const seed of [1, 2, 3, 99]) {
      const points = spreadPoints(seededRandom(seed), 10, 30);
      assert.equal(points.length, 10);
      assert.ok(points.every((p) => p >= 1 && p <= 28), `inside the stream: ${points}`);
      const sorted = [...points].sort((a, b) => a - b);
      assert.equal(new Set(points).size, 10, `distinct: ${sorted}`);
      assert.ok(sorted[9] - sorted[0] >= 12, `spread over the stream: ${sorted}`);
    }
    assert.deepEqual(spreadPoints(seededRandom(5), 4, 40), spreadPoints(seededRandom(5), 4, 40));
    assert.throws(() => spreadPoints(seededRandom(1), 1, 2), RangeError);
  });
});

Deno.test("drill: GetOffsetShell", async (t) => {
  await t.step("arguments ask for the latest offsets of exactly this topic", () => {
    assert.deepEqual(offsetShellArgs("h:9092", "drill.a-1"), [
      "--bootstrap-server",
      "h:9092",
      "--topic",
      "^drill\\.a-1$",
      "--time",
      "-1",
    ]);
  });

  await t.step("its output is parsed per partition; other topics and noise are ignored", () => {
    const ends = parseOffsetShell("WARN x\nt:0:40\nt:2:7\nt.other:1:9\nt:1:35\n", "t");
    assert.deepEqual([...ends].sort(), [[0, 40n], [1, 35n], [2, 7n]]);
  });

  await t.step("no line for the topic is an error", () => {
    assert.throws(() => parseOffsetShell("Error: no such topic", "t"), /no offsets listed for t/);
  });
});

Deno.test("drill: verdicts by id", async (t) => {
  await t.step("lost are acknowledged ids not in the log; duplicates are extra copies", () => {
    const tally = tallyIds(["1", "2", "3", "4"], ["1", "3", "3", "5"]);
    assert.deepEqual(tally, {
      inLog: 4,
      distinct: 3,
      lost: 2,
      duplicated: 1,
      lostSample: ["2", "4"],
    });
  });

  await t.step("a full log is no loss, whatever the order", () => {
    assert.equal(tallyIds(["a", "b"], ["b", "a"]).lost, 0);
  });

  await t.step("consumer verdict: log ids never processed are missing; repeats counted", () => {
    assert.deepEqual(compareProcessed(["a", "b", "c"], ["a", "b", "a", "b"]), {
      missing: 1,
      duplicated: 2,
    });
  });

  await t.step("the summary states the loss rate and the lossy runs", () => {
    const line = brokerKillSummary({
      client: "raw",
      seed: 3,
      rows: [],
      acknowledged: 6000,
      lost: 30,
      lossyRuns: 1,
      wallSeconds: 12.34,
    });
    assert.match(line, /6000 acknowledged, 30 lost \(0\.50%\) in 1 of 0 runs/);
  });
});

Deno.test("drill: command line", async (t) => {
  await t.step("defaults and flags", () => {
    assert.deepEqual(parseDrillArgs(["broker-kill"]), {
      drill: "broker-kill",
      runs: 1,
      seed: 1,
      records: undefined,
      client: "guarded",
      freezeSeconds: 60,
    });
    const o = parseDrillArgs(["broker-kill", "--runs", "10", "--client", "raw", "--seed", "7"]);
    assert.equal(o.runs, 10);
    assert.equal(o.client, "raw");
    assert.equal(o.seed, 7);
    assert.equal(parseDrillArgs(["broker-freeze", "--runs", "2"]).drill, "broker-freeze");
    assert.equal(parseDrillArgs(["producer-task"]).drill, "producer-task");
    assert.equal(parseDrillArgs(["poison", "--runs", "2"]).drill, "poison");
    assert.equal(parseDrillArgs(["minio-freeze", "--freeze", "15"]).freezeSeconds, 15);
    assert.equal(parseDrillArgs(["pipeline-kill", "--runs", "5"]).runs, 5);
  });

  await t.step("mistakes exit 2 before touching the cluster", async () => {
    const errors: string[] = [];
    const original = console.error;
    console.error = (...a: unknown[]) => void errors.push(a.join(" "));
    try {
      assert.equal(await runDrill([]), 2);
      assert.equal(await runDrill(["broker-kill", "--client", "java"]), 2);
      assert.equal(await runDrill(["consumer-kill", "--client", "raw"]), 2);
      assert.equal(await runDrill(["producer-task", "--client", "raw"]), 2);
      assert.equal(await runDrill(["broker-kill", "--runs", "0"]), 2);
      assert.equal(await runDrill(["broker-kill", "--bogus"]), 2);
      assert.equal(await runDrill(["poison", "--freeze", "10"]), 2);
      assert.equal(await runDrill(["minio-freeze", "--freeze", "0"]), 2);
      assert.equal(await runDrill(["poison", "--client", "raw"]), 2);
      assert.equal(await runDrill(["pipeline-kill", "--freeze", "10"]), 2);
    } finally {
      console.error = original;
    }
    assert.match(
      errors[0],
      /name a drill: broker-kill, consumer-kill, broker-freeze, producer-task, poison, minio-freeze or pipeline-kill/,
    );
    assert.match(errors[1], /--client/);
  });
});

Deno.test("drill: pipeline-kill's seeded plan and pass rule", async (t) => {
  await t.step("the same seed and run give the same plan, inside the stream", () => {
    for (let run = 1; run <= 20; run++) {
      const plan = pipelineKillPlan(7, run, 10_000, 3);
      assert.deepEqual(pipelineKillPlan(7, run, 10_000, 3), plan);
      assert.ok(plan.victim >= 1 && plan.victim <= 3, `victim ${plan.victim}`);
      assert.ok(plan.killAt >= 2000 && plan.killAt <= 5000, `kill at ${plan.killAt}`);
      assert.equal(plan.restartAt, plan.killAt + 4000);
    }
    const victims = new Set(
      Array.from({ length: 20 }, (_, i) => pipelineKillPlan(7, i + 1, 10_000, 3).victim),
    );
    assert.equal(victims.size, 3, "every broker is a victim in some run");
  });

  const row: PipelineKillRow = {
    run: 1,
    victim: 2,
    killedAt: 3000,
    restartedAt: 7000,
    produced: 10_000,
    deadLetters: 40,
    malformed: 40,
    inDlq: 40,
    failedChecks: [],
    endLag: 0,
    seconds: 20,
  };
  await t.step("a run passes only if killed mid-stream, ended clean, every letter kept", () => {
    assert.equal(pipelineKillRunOk(row), true);
    for (
      const bad of [
        { crashed: "the lake sink crashed: out of order sequence number" },
        { killedAt: -1 },
        { failedChecks: ["bronze rows: expected 9960, got 9950"] },
        { endLag: 3 },
        { inDlq: 39 },
      ]
    ) {
      assert.equal(pipelineKillRunOk({ ...row, ...bad }), false, JSON.stringify(bad));
    }
    const line = pipelineKillSummary({
      seed: 1,
      rows: [row, { ...row, run: 2, inDlq: 39, crashed: "boom" }],
      failedRuns: 1,
      wallSeconds: 40,
    });
    assert.match(line, /2 runs \(seed 1\).*20000 records produced, 80 malformed, 79 of them/);
    assert.match(line, /run 2: crashed: boom/);
    assert.match(line, /run 2: 39 of 40 malformed in the DLQ/);
  });
});

Deno.test("drill: pass rules of producer-task and broker-freeze", async (t) => {
  const task: ProducerTaskRow = {
    run: 1,
    partition: 0,
    broker: 2,
    killAt: -1,
    lines: 100,
    exitCode: 0,
    stuck: 0,
    uncaught: false,
    inLog: 100,
    lost: 0,
    duplicated: 0,
    seconds: 1,
    failure: "",
  };
  await t.step("producer-task: exit 0, all lines once, in time, nothing uncaught", () => {
    assert.equal(producerTaskPassed(task), true);
    for (
      const bad of [
        { exitCode: 1 },
        { exitCode: null, stuck: 1 },
        { uncaught: true },
        { lost: 1 },
        { duplicated: 3 },
      ]
    ) {
      assert.equal(producerTaskPassed({ ...task, ...bad }), false, JSON.stringify(bad));
    }
    const line = producerTaskSummary({
      seed: 1,
      rows: [task, { ...task, run: 2, exitCode: 1 }],
      lost: 0,
      duplicated: 0,
      stuck: 0,
      failedRuns: 1,
      wallSeconds: 3,
    });
    assert.match(line, /2 runs \(seed 1\), 200 lines, 1 of 2 exited 0; 0 lost/);
  });

  await t.step("broker-freeze: also both SIGINTs answered within the bound", () => {
    const freeze: BrokerFreezeRow = {
      run: 1,
      partition: 0,
      broker: 1,
      freezeAt: 50,
      frozenSeconds: 15,
      lines: 100,
      producerExit: 0,
      inLog: 100,
      lost: 0,
      doubled: 0,
      stuck: 0,
      consumedTwice: 40,
      sigintFrozen: 8.1,
      sigintFrozenCode: 1,
      sigintAfter: 0.4,
      seconds: 40,
      failure: "",
    };
    assert.equal(brokerFreezePassed(freeze), true, "lines printed twice are not a failure");
    for (
      const bad of [{ sigintFrozen: null }, { sigintAfter: null }, { stuck: 2 }, { doubled: 1 }]
    ) {
      assert.equal(brokerFreezePassed({ ...freeze, ...bad }), false, JSON.stringify(bad));
    }
  });
});
