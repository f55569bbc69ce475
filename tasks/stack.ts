/**
 * `deno task stack up [--mode docker|native] | down | status | logs <service> [-n N] | reset`
 *
 * Brings the local stack (3 Kafka brokers, Schema Registry, MinIO) up or down
 * in Docker or native mode. See README "Set-up".
 *
 * @module
 */
import { parseArgs } from "node:util";
import { loadConfig } from "../lib/config.ts";
import { openStack } from "../lib/stack/mod.ts";
import { formatTable } from "../lib/util/mod.ts";

const USAGE = `usage: deno task stack <command>
  up [--mode auto|docker|native]   start everything and wait until healthy (idempotent)
  down                             stop what the stack started
  status                           one row per service
  logs <service> [-n LINES]        the end of a service's log
  reset                            down, then delete all Kafka and MinIO data (keeps downloads)`;

const { values, positionals } = parseArgs({
  args: Deno.args,
  allowPositionals: true,
  options: {
    mode: { type: "string" },
    n: { type: "string", short: "n", default: "100" },
    help: { type: "boolean", short: "h" },
  },
});
const [command, service] = positionals;
if (values.help || !command) {
  console.log(USAGE);
  Deno.exit(command || values.help ? 0 : 2);
}
const mode = values.mode as "auto" | "docker" | "native" | undefined;
if (mode && !["auto", "docker", "native"].includes(mode)) {
  console.error(`--mode must be auto, docker or native, not "${mode}"`);
  Deno.exit(2);
}

const config = loadConfig();
const log = (line: string) => console.log(`  ${line}`);
const stack = await openStack(config, { mode, log });
const started = Date.now();

try {
  switch (command) {
    case "up":
      console.log(`stack up (${stack.mode} mode)`);
      await stack.up();
      console.log(`stack up: ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      break;
    case "down":
      console.log(`stack down (${stack.mode} mode)`);
      await stack.down();
      break;
    case "status": {
      const rows = await stack.status();
      console.log(`mode: ${stack.mode}`);
      console.log(formatTable(
        ["service", "state", "pid", "address", "log"],
        rows.map((r) => [r.service, r.state, r.pid ?? "", r.address, r.log]),
      ));
      break;
    }
    case "logs":
      if (!service) throw new Error(`logs needs a service: one of ${stack.services.join(", ")}`);
      console.log(await stack.logs(service, Number(values.n)));
      break;
    case "reset":
      console.log(`stack reset (${stack.mode} mode)`);
      await stack.reset();
      break;
    default:
      console.error(`unknown command "${command}"\n${USAGE}`);
      Deno.exit(2);
  }
} catch (e) {
  console.error(`stack ${command} failed: ${e instanceof Error ? e.message : e}`);
  Deno.exit(1);
}
