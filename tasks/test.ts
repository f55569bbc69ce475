/**
 * `deno task test [<deno test args>]`: bring the stack up if needed, run
 * every test (unit, integration, notebooks) with the permissions in deno.json,
 * and finish with why each failure failed (its error's first lines) and a
 * plain `N passed, N failed` line for CI.
 *
 * @module
 */
import { loadConfig } from "../lib/config.ts";
import { openStack } from "../lib/stack/mod.ts";
import { defineCli, failureReasons, parseDenoTestSummary } from "../lib/util/mod.ts";

/** The command line of `deno task test`: everything but `--help` goes to `deno test`. */
export const CLI = defineCli({
  name: "test",
  usage: `usage: deno task test [<deno test args>]

Brings the stack up if needed (\`deno task stack up\`), then runs
\`deno test -P <deno test args>\` (default: every file under tests/) and ends
with "N passed, N failed". Every argument except --help and -h goes to deno test;
after a \`--\` even those do, e.g. \`deno task test -- -h\` for deno test's own help.

  deno task test tests/log_test.ts             one file
  deno task test --filter "consumer group"     tests whose name matches
  deno task test --fail-fast

Exit status 0 when every test passed, 1 otherwise.`,
  passThrough: true,
});

async function run({ rest }: ReturnType<typeof CLI.parse>): Promise<number> {
  const config = loadConfig();
  const started = Date.now();

  console.log("== stack up");
  try {
    const stack = await openStack(config, { log: (l) => console.log(`  ${l}`) });
    await stack.up();
    console.log(`  ready (${stack.mode} mode) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } catch (e) {
    console.error(`stack up failed: ${e instanceof Error ? e.message : e}`);
    console.log("0 passed, 1 failed");
    return 1;
  }

  console.log("== deno test -P");
  const child = new Deno.Command(Deno.execPath(), {
    args: ["test", "-P", ...rest],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  let output = "";
  const encoder = new TextEncoder();
  for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
    output += chunk;
    await Deno.stdout.write(encoder.encode(chunk));
  }
  const status = await child.status;
  const summary = parseDenoTestSummary(output);
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  if (!summary) {
    console.log(`\ndeno test ended (exit ${status.code}) without a summary after ${seconds} s`);
    console.log("0 passed, 1 failed");
    return status.code || 1;
  }
  const reasons = failureReasons(output);
  if (reasons.length > 0) {
    // A CI log is read from its end: why each test failed, without scrolling up.
    console.log("\n== why each failed (the first lines of each error)");
    for (const r of reasons) {
      console.log(`- ${r.name} (${r.at})`);
      for (const line of r.lines) console.log(`    ${line}`);
    }
  }
  console.log(`\n${summary.steps} steps; total wall time ${seconds} s`);
  console.log(`${summary.passed} passed, ${summary.failed} failed`);
  return status.success && summary.failed === 0 ? 0 : 1;
}

if (import.meta.main) Deno.exit(await CLI.run(Deno.args, run));
