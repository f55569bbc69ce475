/**
 * The tasks' shared command line (lib/util/cli.ts): `--help`, usage errors
 * (exit 2), the run's exit status. No services.
 */
import assert from "node:assert/strict";
import { parseFlags, runCommand, UsageError } from "../lib/util/cli.ts";

function capture(): { out: string[]; err: string[]; restore(): void } {
  const out: string[] = [];
  const err: string[] = [];
  const { log, error } = console;
  console.log = (...a: unknown[]) => out.push(a.join(" "));
  console.error = (...a: unknown[]) => err.push(a.join(" "));
  return { out, err, restore: () => Object.assign(console, { log, error }) };
}

const parse = (args: string[]) =>
  parseFlags({ args, options: { n: { type: "string" }, help: { type: "boolean", short: "h" } } })
    .values;

Deno.test("parseFlags turns parseArgs mistakes into UsageError", () => {
  assert.equal(parse(["--n", "3"]).n, "3");
  assert.throws(() => parse(["--nope"]), UsageError);
  assert.throws(() => parse(["stray"]), UsageError, "positionals need allowPositionals");
});

Deno.test("runCommand: help, usage errors and the run's own status", async (t) => {
  const io = capture();
  let ran = 0;
  const run = (v: { n?: string }) => {
    ran++;
    return Promise.resolve(v.n === "1" ? 0 : 1);
  };
  try {
    await t.step("--help and -h print the usage and skip parsing", async () => {
      assert.equal(await runCommand("demo", "usage: demo", ["--nope", "--help"], parse, run), 0);
      assert.equal(await runCommand("demo", "usage: demo", ["-h"], parse, run), 0);
      assert.deepEqual(io.out, ["usage: demo", "usage: demo"]);
    });
    await t.step("a usage mistake prints name, mistake and usage to stderr; exit 2", async () => {
      assert.equal(await runCommand("demo", "usage: demo", ["--nope"], parse, run), 2);
      assert.match(io.err.at(-1)!, /^demo: .*nope[\s\S]*\n\nusage: demo$/);
    });
    await t.step("a -h after -- is an argument, not a help request", async () => {
      const positional = (args: string[]) =>
        parseFlags({ args, allowPositionals: true, options: {} }).positionals;
      const seen: string[][] = [];
      await runCommand("demo", "u", ["--", "-h"], positional, (p) => {
        seen.push(p);
        return Promise.resolve(0);
      });
      assert.deepEqual(seen, [["-h"]]);
    });
    await t.step("otherwise the run decides the status; other errors propagate", async () => {
      assert.equal(await runCommand("demo", "u", ["--n", "1"], parse, run), 0);
      assert.equal(await runCommand("demo", "u", ["--n", "2"], parse, run), 1);
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
