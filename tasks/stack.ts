/**
 * `deno task stack up [--mode docker|native] | down | status | logs <service> [-n N] | reset`
 *
 * Brings the local stack (3 Kafka brokers, Schema Registry, MinIO) up or down
 * in Docker or native mode. See README "Set-up".
 *
 * @module
 */
import { loadConfig } from "../lib/config.ts";
import { openStack } from "../lib/stack/mod.ts";
import { defineCommands, formatTable } from "../lib/util/mod.ts";

const USAGE = `usage: deno task stack <command> [--mode auto|docker|native]
  up                    start everything and wait until healthy (idempotent)
  down                  stop what the stack started
  status                one row per service
  logs <service> [-n LINES]   the end of a service's log (default 100 lines)
  reset                 down, then delete all Kafka and MinIO data (keeps downloads)

  --mode M              docker, native, or auto (default: config stack.mode; auto is the
                        mode last used, else Docker when an engine answers, else native)`;

/** The command line of `deno task stack`. */
export const CLI = defineCommands({
  name: "stack",
  usage: USAGE,
  flags: { mode: { type: "string", choices: ["auto", "docker", "native"] } },
  commands: {
    up: {},
    down: {},
    status: {},
    logs: {
      flags: { n: { type: "int", short: "n", min: 1, default: 100 } },
      args: { name: "<service>", min: 1, max: 1 },
    },
    reset: {},
  },
});

async function run(cli: ReturnType<typeof CLI.parse>): Promise<number> {
  const { command } = cli;
  const config = loadConfig();
  const log = (line: string) => console.log(`  ${line}`);
  const started = Date.now();
  try {
    const stack = await openStack(config, { mode: cli.values.mode, log });
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
      case "logs": {
        const [service] = cli.args;
        if (!stack.services.includes(service)) {
          console.error(
            `stack logs: unknown service "${service}": one of ${stack.services.join(", ")}`,
          );
          return 2;
        }
        console.log(await stack.logs(service, cli.values.n));
        break;
      }
      case "reset":
        console.log(`stack reset (${stack.mode} mode)`);
        await stack.reset();
        break;
    }
    return 0;
  } catch (e) {
    console.error(`stack ${command} failed: ${e instanceof Error ? e.message : e}`);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await CLI.run(Deno.args, run));
