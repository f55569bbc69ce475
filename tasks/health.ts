/**
 * `deno task health`: a table of every service check; exit 1 when anything is down.
 *
 * @module
 */
import { loadConfig } from "../lib/config.ts";
import { checkHealth, formatHealth } from "../lib/observe/mod.ts";

const report = await checkHealth(loadConfig());
console.log(formatHealth(report));
if (!report.ok) {
  console.error(
    "\nSomething is down: `deno task stack status` shows the processes, `deno task stack up` starts them.",
  );
  Deno.exit(1);
}
