/** The one command-line helper (lib/util/cli.ts): flags, arguments, subcommands, help, mistakes. No services. */
import assert from "node:assert/strict";
import {
  defineCli,
  defineCommands,
  HelpRequested,
  orList,
  parseCommand,
  parseFlags,
  runCommand,
  UsageError,
} from "../lib/util/cli.ts";

function capture(): { out: string[]; err: string[]; restore(): void } {
  const out: string[] = [];
  const err: string[] = [];
  const { log, error } = console;
  console.log = (...a: unknown[]) => out.push(a.join(" "));
  console.error = (...a: unknown[]) => err.push(a.join(" "));
  return { out, err, restore: () => Object.assign(console, { log, error }) };
}

const FLAGS = {
  name: { type: "string" },
  runs: { type: "int", min: 1, default: 1 },
  rate: { type: "number", min: 0, max: 1 },
  wait: { type: "number", above: 0 },
  keep: { type: "boolean" },
  mode: { type: "string", choices: ["docker", "native"] },
  header: { type: "string", multiple: true },
  lines: { type: "int", short: "n" },
} as const;

const flags = (args: string[]) => parseFlags(args, { flags: FLAGS });

/** The mistake `parse` throws for `args`. */
function mistake(parse: (args: string[]) => unknown, args: string[]): string {
  try {
    parse(args);
  } catch (e) {
    assert.ok(e instanceof UsageError, `${args.join(" ")}: ${e}`);
    return e.message;
  }
  assert.fail(`${args.join(" ")} was accepted`);
}

Deno.test("parseFlags: typed values, defaults and the forms of a flag", () => {
  const d = flags([]).values;
  assert.deepEqual(d, {
    name: undefined,
    runs: 1,
    rate: undefined,
    wait: undefined,
    keep: false,
    mode: undefined,
    header: [],
    lines: undefined,
  });
  const v = flags([
    "--name",
    "ada",
    "--runs=3",
    "--rate",
    "0.25",
    "--wait",
    "1e3",
    "--keep",
    "--mode",
    "native",
    "--header",
    "a=1",
    "--header=b=2",
    "-n",
    "7",
  ]).values;
  assert.deepEqual(v, {
    name: "ada",
    runs: 3,
    rate: 0.25,
    wait: 1000,
    keep: true,
    mode: "native",
    header: ["a=1", "b=2"],
    lines: 7,
  });
  assert.equal(flags(["-n5"]).values.lines, 5, "-n5");
  assert.equal(flags(["-n=6"]).values.lines, 6, "-n=6");
  assert.equal(flags(["--lines", "8"]).values.lines, 8, "the long name works too");
  assert.equal(flags(["--runs", "2", "--runs", "4"]).values.runs, 4, "the last one wins");
  assert.equal(flags(["--name", "-"]).values.name, "-", "a lone dash is a value");
  assert.equal(flags(["--name", "-x"]).values.name, "-x", "so is a dash word");
  // The declarations type the values.
  const n: number = v.runs;
  const r: number | undefined = v.rate;
  const m: "docker" | "native" | undefined = v.mode;
  const h: string[] = v.header;
  const k: boolean = v.keep;
  // @ts-expect-error an int flag's value is a number
  const s: string = v.runs;
  assert.ok([n, r, m, h, k, s]);
});

Deno.test("parseFlags: every mistake names the flag", () => {
  const cases: [string[], string][] = [
    [["--nope"], "unknown flag --nope"],
    [["-x"], "unknown flag -x"],
    [["--nope=3"], "unknown flag --nope"],
    [["--runs", "abc"], `--runs must be a whole number >= 1, got "abc"`],
    [["--runs", "-1"], `--runs must be a whole number >= 1, got "-1"`],
    [["--runs", "0"], `--runs must be a whole number >= 1, got "0"`],
    [["--runs", "1.5"], `--runs must be a whole number >= 1, got "1.5"`],
    [["--runs", ""], `--runs must be a whole number >= 1, got ""`],
    [["--runs", "0x10"], `--runs must be a whole number >= 1, got "0x10"`],
    [
      ["--runs", "99999999999999999999"],
      `--runs must be a whole number >= 1, got "99999999999999999999"`,
    ],
    [["--rate", "1.5"], `--rate must be a number in 0..1, got "1.5"`],
    [["--rate", "NaN"], `--rate must be a number in 0..1, got "NaN"`],
    [["--rate", "Infinity"], `--rate must be a number in 0..1, got "Infinity"`],
    [["--wait", "0"], `--wait must be a number > 0, got "0"`],
    [["-n", "x"], `-n must be a whole number, got "x"`],
    [["--mode", "vm"], `--mode must be docker or native, got "vm"`],
    [["--name"], "--name needs a value"],
    [["--name", "--keep"], "--name needs a value"],
    [["--keep=yes"], "--keep takes no value"],
    [["stray"], `unexpected argument "stray"`],
  ];
  for (const [args, message] of cases) assert.equal(mistake(flags, args), message, args.join(" "));
  assert.equal(
    mistake(flags, ["--nope", "--runs", "abc"]),
    "unknown flag --nope",
    "the first mistake is the one reported",
  );
  const required = (args: string[]) =>
    parseFlags(args, { flags: { topic: { type: "string", required: true } } });
  assert.equal(mistake(required, []), "--topic is required");
  assert.equal(required(["--topic", "t"]).values.topic satisfies string, "t");
});

Deno.test("parseFlags: positional arguments and --", () => {
  const files = (args: string[]) =>
    parseFlags(args, {
      flags: { keep: { type: "boolean" } },
      args: { name: "<file>", min: 1, max: 2 },
    });
  assert.deepEqual(files(["a", "--keep", "b"]).args, ["a", "b"], "flags and arguments mix");
  assert.equal(mistake(files, []), "missing <file>");
  assert.equal(mistake(files, ["a", "b", "c"]), `unexpected argument "c"`);
  assert.deepEqual(
    files(["--", "--keep", "-h"]).args,
    ["--keep", "-h"],
    "after -- nothing is a flag",
  );
  assert.deepEqual(files(["-1"]).args, ["-1"], "a negative number is an argument");
});

Deno.test("parseFlags: --help and -h win over mistakes, but not after --", () => {
  for (
    const args of [["--help"], ["-h"], ["--nope", "--help"], ["--runs", "abc", "-h"], ["x", "-h"]]
  ) {
    assert.throws(() => flags(args), HelpRequested, args.join(" "));
  }
  assert.throws(() => flags(["--", "--help"]), UsageError);
});

Deno.test("parseFlags passThrough: only help is ours; the rest keeps its order", () => {
  const wrap = (args: string[]) => parseFlags(args, { passThrough: true });
  assert.deepEqual(wrap(["--filter", "kafka", "tests/a_test.ts", "-x"]).rest, [
    "--filter",
    "kafka",
    "tests/a_test.ts",
    "-x",
  ]);
  assert.throws(() => wrap(["--filter", "x", "--help"]), HelpRequested);
  assert.deepEqual(
    wrap(["--", "-h", "--", "x"]).rest,
    ["-h", "--", "x"],
    "the first -- is dropped",
  );
});

const STACK = {
  flags: { mode: { type: "string", choices: ["docker", "native"] } },
  commands: {
    up: {},
    logs: {
      flags: { n: { type: "int", short: "n", min: 1, default: 100 } },
      args: { name: "<service>", min: 1, max: 1 },
    },
    "topics create": {
      flags: { partitions: { type: "int", min: 1 } },
      args: { name: "<topic>", min: 1, max: 1 },
    },
    "topics list": { flags: { internal: { type: "boolean" } } },
    bench: { rest: true },
  },
} as const;

const stack = (args: string[]) => parseCommand(args, STACK);

Deno.test("parseCommand: subcommands, their flags and arguments", () => {
  const logs = stack(["--mode", "native", "logs", "broker-1", "-n", "20"]);
  assert.equal(logs.command, "logs");
  if (logs.command === "logs") {
    const n: number = logs.values.n;
    assert.deepEqual([logs.values.mode, n, logs.args], ["native", 20, ["broker-1"]]);
  }
  const create = stack(["topics", "--partitions", "6", "create", "orders"]);
  assert.equal(create.command, "topics create", "flags may come between the words");
  assert.deepEqual(create.args, ["orders"]);
  assert.equal(stack(["topics", "list", "--internal"]).command, "topics list");
  const bench = stack(["bench", "log", "--records", "x", "--help"]);
  assert.deepEqual(
    bench.rest,
    ["log", "--records", "x", "--help"],
    "a rest command parses nothing after its word",
  );
  assert.throws(
    () => stack(["--help", "bench", "log"]),
    HelpRequested,
    "before the word, help is ours",
  );
});

Deno.test("parseCommand: mistakes say which command or flag is wrong", () => {
  const cases: [string[], string][] = [
    [[], "name a command: up, logs, topics or bench"],
    [["down"], `unknown command "down"`],
    [["topics"], "topics needs one of: create or list"],
    [["topics", "drop"], `unknown command "topics drop"`],
    [["up", "-n", "5"], "-n is a flag of logs, not of up"],
    [
      ["topics", "list", "--partitions", "3"],
      "--partitions is a flag of topics create, not of topics list",
    ],
    [["up", "--nope"], "unknown flag --nope"],
    [["--nope"], "unknown flag --nope"],
    [["logs"], "missing <service>"],
    [["logs", "a", "-n", "0"], `-n must be a whole number >= 1, got "0"`],
    [["up", "--mode", "vm"], `--mode must be docker or native, got "vm"`],
  ];
  for (const [args, message] of cases) assert.equal(mistake(stack, args), message, args.join(" "));
  const drill = (args: string[]) =>
    parseCommand(args, { label: "drill", commands: { "broker-kill": {}, "consumer-kill": {} } });
  assert.equal(mistake(drill, []), "name a drill: broker-kill or consumer-kill");
  assert.equal(mistake(drill, ["x"]), `unknown drill "x"`);
});

Deno.test("parseCommand: a default command when none is named", () => {
  const monitor = (args: string[]) =>
    parseCommand(args, {
      defaultCommand: "watch",
      commands: {
        watch: { flags: { once: { type: "boolean" } } },
        rules: { flags: { check: { type: "boolean" } } },
      },
    });
  assert.equal(monitor(["--once"]).command, "watch");
  assert.equal(monitor(["rules", "--check"]).command, "rules");
  assert.equal(mistake(monitor, ["--check"]), "--check is a flag of rules, not of watch");
  assert.equal(mistake(monitor, ["status"]), `unknown command "status"`);
});

Deno.test("runCommand: help, usage errors and the run's own status", async (t) => {
  const io = capture();
  let ran = 0;
  const parse = (args: string[]) => flags(args).values;
  const run = (v: { runs: number }) => {
    ran++;
    return Promise.resolve(v.runs === 1 ? 0 : 1);
  };
  try {
    await t.step("--help and -h print the usage to stdout, exit 0, nothing runs", async () => {
      assert.equal(await runCommand("demo", "usage: demo", ["--nope", "--help"], parse, run), 0);
      assert.equal(await runCommand("demo", "usage: demo", ["-h"], parse, run), 0);
      assert.deepEqual(io.out, ["usage: demo", "usage: demo"]);
      assert.equal(ran, 0);
    });
    await t.step("a mistake prints name, mistake and usage to stderr; exit 2", async () => {
      assert.equal(await runCommand("demo", "usage: demo", ["--runs", "abc"], parse, run), 2);
      assert.equal(
        io.err.at(-1),
        `demo: --runs must be a whole number >= 1, got "abc"\n\nusage: demo`,
      );
      assert.equal(ran, 0);
    });
    await t.step("otherwise the run decides the status; other errors propagate", async () => {
      assert.equal(await runCommand("demo", "u", [], parse, run), 0);
      assert.equal(await runCommand("demo", "u", ["--runs", "2"], parse, run), 1);
      assert.equal(ran, 2);
      await assert.rejects(
        runCommand("demo", "u", [], () => {
          throw new TypeError("bug");
        }, run),
        TypeError,
      );
    });
  } finally {
    io.restore();
  }
});

Deno.test("defineCli and defineCommands: name, usage, declared flags (hidden ones left out)", async () => {
  const cli = defineCli({
    name: "bench sink",
    usage: "usage: deno task bench sink [--events N]",
    flags: {
      events: { type: "int", min: 1, default: 10 },
      "sink-child": { type: "boolean", hidden: true },
      lines: { type: "int", short: "n" },
    },
  });
  assert.deepEqual(cli.flags, [{ long: "--events" }, { long: "--lines", short: "-n" }]);
  assert.equal(cli.parse(["--sink-child"]).values["sink-child"], true, "hidden, not refused");
  const io = capture();
  try {
    assert.equal(await cli.run(["--events", "x"], () => Promise.resolve(0)), 2);
    assert.match(io.err[0], /^bench sink: --events must be a whole number/);
  } finally {
    io.restore();
  }
  const commands = defineCommands({ name: "stack", usage: "usage: stack", ...STACK });
  assert.deepEqual(commands.flags.map((f) => f.long), [
    "--mode",
    "--n",
    "--partitions",
    "--internal",
  ]);
  assert.equal(commands.passThrough, false);
  assert.equal(orList(["a"]), "a");
  assert.equal(orList(["a", "b", "c"]), "a, b or c");
});
