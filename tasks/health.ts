/**
 * `deno task health`: a table of every service check; exit 1 when anything is down.
 *
 * @module
 */
import { loadConfig } from "../lib/config.ts";
import { checkHealth, formatHealth } from "../lib/observe/mod.ts";
import { defineCli } from "../lib/util/mod.ts";

/** The command line of `deno task health`. */
export const CLI = defineCli({
  name: "health",
  usage: `usage: deno task health

One row per check: each Kafka broker, the KRaft controller, under-replicated
partitions, the Schema Registry's REST API, MinIO and its bucket.
Exit status 0 when every check passes, 1 when something is down, 2 on a usage error.`,
});

async function run(): Promise<number> {
  const report = await checkHealth(loadConfig());
  console.log(formatHealth(report));
  if (!report.ok) {
    console.error(
      "\nSomething is down: `deno task stack status` shows the processes, `deno task stack up` starts them.",
    );
    return 1;
  }
  return 0;
}

if (import.meta.main) Deno.exit(await CLI.run(Deno.args, run));
