/**
 * Every task's command line, run as a user runs it (a subprocess): `--help`
 * prints the usage and exits 0, an unknown flag and a bad number exit 2
 * naming the flag, with no stack trace. The subprocesses get a configuration
 * that cannot load (KAFKA_BROKER_COUNT=0), so a task that read its config or
 * touched a service before parsing its flags would fail here instead.
 * Also: every declared flag is in the task's usage text and every flag the
 * usage text names is declared.
 */
import assert from "node:assert/strict";
import type { Cli } from "../lib/util/cli.ts";
import { taskV8Flags } from "../lib/util/repo.ts";
import { heapFlags } from "../lib/bench/sink_child.ts";
import { CLI as stack } from "../tasks/stack.ts";
import { CLI as health } from "../tasks/health.ts";
import { CLI as registry } from "../tasks/registry.ts";
import { CLI as notebooks } from "../tasks/notebooks.ts";
import { CLI as pipeline } from "../tasks/pipeline.ts";
import { CLI as stream } from "../tasks/stream.ts";
import { CLI as admin } from "../tasks/admin.ts";
import { CLI as monitor } from "../tasks/monitor.ts";
import { CLI as produce } from "../tasks/produce.ts";
import { CLI as consume } from "../tasks/consume.ts";
import { CLI as schemas } from "../tasks/schemas.ts";
import { CLI as bench } from "../tasks/bench.ts";
import { CLI as benchLog } from "../tasks/bench/log.ts";
import { CLI as benchClients } from "../tasks/bench/clients.ts";
import { CLI as benchPipeline } from "../tasks/bench/pipeline.ts";
import { CLI as benchDecode } from "../tasks/bench/decode.ts";
import { CLI as benchLake } from "../tasks/bench/lake.ts";
import { CLI as benchPartitions } from "../tasks/bench/partitions.ts";
import { CLI as benchSink } from "../tasks/bench/sink.ts";
import { CLI as drill } from "../tasks/drill.ts";
import { CLI as test } from "../tasks/test.ts";

const ROOT = new URL("..", import.meta.url);

/** A task, how to reach it, a flag it refuses and (if it has numbers) a bad number. */
interface TaskCase {
  cli: Cli<unknown>;
  /** `tasks/x.ts` and any words before the flags (a subcommand, a benchmark). */
  run: string[];
  unknown?: string[];
  badNumber?: { args: string[]; flag: string };
  /** Flags of other programs the usage text mentions (`flock -x`). */
  foreign?: string[];
}

const CASES: TaskCase[] = [
  {
    cli: stack,
    run: ["tasks/stack.ts"],
    unknown: ["status", "--nope"],
    badNumber: { args: ["logs", "broker-1", "-n", "abc"], flag: "-n" },
  },
  { cli: health, run: ["tasks/health.ts"], unknown: ["--nope"] },
  { cli: registry, run: ["tasks/registry.ts"], unknown: ["--nope"] },
  {
    cli: notebooks,
    run: ["tasks/notebooks.ts"],
    unknown: ["strip", "--check", "--nope"],
    badNumber: { args: ["run", "--timeout", "-1", "none.ipynb"], flag: "--timeout" },
  },
  {
    cli: pipeline,
    run: ["tasks/pipeline.ts"],
    unknown: ["--nope"],
    badNumber: { args: ["--events", "abc"], flag: "--events" },
  },
  {
    cli: stream,
    run: ["tasks/stream.ts"],
    unknown: ["--nope"],
    badNumber: { args: ["--events", "abc"], flag: "--events" },
  },
  {
    cli: admin,
    run: ["tasks/admin.ts"],
    unknown: ["cluster", "--nope"],
    badNumber: { args: ["topics", "create", "t", "--partitions", "abc"], flag: "--partitions" },
  },
  {
    cli: monitor,
    run: ["tasks/monitor.ts"],
    unknown: ["--nope"],
    badNumber: { args: ["--iterations", "-1"], flag: "--iterations" },
  },
  {
    cli: produce,
    run: ["tasks/produce.ts"],
    unknown: ["--topic", "t", "--nope"],
    badNumber: { args: ["--topic", "t", "--batch-size", "abc"], flag: "--batch-size" },
  },
  {
    cli: consume,
    run: ["tasks/consume.ts"],
    unknown: ["--topic", "t", "--nope"],
    badNumber: { args: ["--topic", "t", "--max-messages", "-1"], flag: "--max-messages" },
  },
  { cli: schemas, run: ["tasks/schemas.ts"], unknown: ["list", "--nope"] },
  { cli: bench, run: ["tasks/bench.ts"], unknown: ["--nope"] },
  {
    cli: benchLog,
    run: ["tasks/bench.ts", "log"],
    unknown: ["--nope"],
    badNumber: { args: ["--seconds", "0"], flag: "--seconds" },
  },
  {
    cli: benchClients,
    run: ["tasks/bench.ts", "clients"],
    unknown: ["--nope"],
    badNumber: { args: ["--records", "abc"], flag: "--records" },
  },
  {
    cli: benchPartitions,
    run: ["tasks/bench.ts", "partitions"],
    unknown: ["--nope"],
    badNumber: { args: ["--records", "0"], flag: "--records" },
  },
  {
    cli: benchPipeline,
    run: ["tasks/bench.ts", "pipeline"],
    unknown: ["--nope"],
    badNumber: { args: ["--events", "1.5"], flag: "--events" },
  },
  {
    cli: benchDecode,
    run: ["tasks/bench.ts", "decode"],
    unknown: ["--nope"],
    badNumber: { args: ["--rounds", "0"], flag: "--rounds" },
  },
  {
    cli: benchLake,
    run: ["tasks/bench.ts", "lake"],
    unknown: ["--nope"],
    badNumber: { args: ["--rows", "0"], flag: "--rows" },
  },
  {
    cli: benchSink,
    run: ["tasks/bench.ts", "sink"],
    unknown: ["--nope"],
    badNumber: { args: ["--heap-mb", "-1"], flag: "--heap-mb" },
  },
  {
    cli: drill,
    run: ["tasks/drill.ts"],
    foreign: ["-x"],
    unknown: ["broker-kill", "--nope"],
    badNumber: { args: ["broker-kill", "--runs", "-1"], flag: "--runs" },
  },
  // Every other argument goes to `deno test`: there is no unknown flag.
  { cli: test, run: ["tasks/test.ts"] },
];

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

async function task(args: string[]): Promise<Outcome> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1", KAFKA_BROKER_COUNT: "0", KAFKAJS_LOG_LEVEL: "" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

/** Runs `jobs` with at most `width` at a time (the machine is small and shared). */
async function pool<T>(jobs: (() => Promise<T>)[], width: number): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, jobs.length) }, worker));
  return results;
}

const NO_TRACE = /^\s+at |Uncaught|error: /m;

Deno.test("every task: --help exits 0; an unknown flag and a bad number exit 2 naming the flag", async () => {
  type Check = { label: string; args: string[]; verify(o: Outcome): void };
  const checks: Check[] = [];
  for (const c of CASES) {
    // -h is the same switch in the parser (tests/cli_test.ts); one task shows it end to end.
    for (const help of c.cli === stack ? ["--help", "-h"] : ["--help"]) {
      checks.push({
        label: `${c.run.join(" ")} ${help}`,
        args: [...c.run, help],
        verify: (o) => {
          assert.equal(o.code, 0, o.stderr);
          assert.ok(o.stdout.startsWith("usage"), o.stdout.slice(0, 200));
          assert.equal(o.stdout.trim(), c.cli.usage.trim(), "prints the task's usage text");
          assert.doesNotMatch(o.stderr, NO_TRACE);
        },
      });
    }
    const usageError = (flag: string) => (o: Outcome) => {
      assert.equal(o.code, 2, o.stdout + o.stderr);
      const [first] = o.stderr.split("\n");
      assert.ok(first.startsWith(`${c.cli.name}: `), first);
      assert.ok(first.includes(flag), `${first} names ${flag}`);
      assert.match(o.stderr, /\n\nusage/, "the usage follows");
      assert.doesNotMatch(o.stderr, NO_TRACE);
      assert.equal(o.stdout, "");
    };
    if (c.unknown) {
      checks.push({
        label: `${c.run.join(" ")} ${c.unknown.join(" ")}`,
        args: [...c.run, ...c.unknown],
        verify: usageError(c.unknown.at(-1)!),
      });
    }
    if (c.badNumber) {
      checks.push({
        label: `${c.run.join(" ")} ${c.badNumber.args.join(" ")}`,
        args: [...c.run, ...c.badNumber.args],
        verify: usageError(c.badNumber.flag),
      });
    }
  }
  const outcomes = await pool(checks.map((c) => () => task(c.args)), 4);
  const failures: string[] = [];
  checks.forEach((c, i) => {
    try {
      c.verify(outcomes[i]);
    } catch (e) {
      failures.push(`${c.label}: ${(e as Error).message}`);
    }
  });
  assert.deepEqual(failures, []);
});

Deno.test("every task: the usage text names each declared flag, and declares each flag it names", () => {
  const problems: string[] = [];
  for (const { cli, foreign = [] } of CASES) {
    const named = new Set(cli.usage.match(/(?<![\w-])--?[a-z][\w-]*/g) ?? []);
    for (const flag of cli.flags) {
      if (!named.has(flag.long) && !(flag.short && named.has(flag.short))) {
        problems.push(`${cli.name}: ${flag.long} is not in the usage`);
      }
    }
    if (cli.passThrough) continue; // its usage names the other program's flags
    const declared = new Set(cli.flags.flatMap((f) => f.short ? [f.long, f.short] : [f.long]));
    for (const word of named) {
      if (!declared.has(word) && !["--help", "-h", ...foreign].includes(word)) {
        problems.push(`${cli.name}: the usage names ${word}, which is not declared`);
      }
    }
  }
  assert.deepEqual(problems, []);
});

Deno.test("taskV8Flags: a task's --v8-flags from deno.json; none, or an unknown task", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const file = `${dir}/deno.json`;
    Deno.writeTextFileSync(
      file,
      JSON.stringify({
        tasks: {
          plain: "deno run -A --v8-flags=--max-old-space-size=64 x.ts --v8-flags=ignored",
          described: { description: "d", command: "deno run --v8-flags=--a,--b -A y.ts" },
          bare: "deno run -A z.ts",
        },
      }),
    );
    assert.equal(taskV8Flags("plain", file), "--v8-flags=--max-old-space-size=64");
    assert.equal(taskV8Flags("described", file), "--v8-flags=--a,--b");
    assert.equal(taskV8Flags("bare", file), undefined);
    assert.throws(() => taskV8Flags("missing", file), /no task "missing"/);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
  // The pipeline runs with both heap limits; its benchmark reads them from here.
  const pipelineFlags = taskV8Flags("pipeline") ?? "";
  assert.match(pipelineFlags, /--max-old-space-size=\d+/);
  assert.match(pipelineFlags, /--max-semi-space-size=\d+/);
});

Deno.test("heapFlags: the sink bench child's V8 flags; 0 leaves the old space to V8", () => {
  assert.equal(heapFlags(512, 8), "--v8-flags=--max-old-space-size=512,--max-semi-space-size=8");
  assert.equal(heapFlags(0, 4), "--v8-flags=--max-semi-space-size=4");
});
