/**
 * `deno task registry`: the native Schema Registry on the port of
 * `SCHEMA_REGISTRY_URL` (default 8081), state in `SCHEMA_REGISTRY_TOPIC`
 * (default `_schemas`). Stops cleanly on SIGINT/SIGTERM, within 8 s even when
 * Kafka does not answer.
 *
 * @example
 * ```sh
 * deno run -A tasks/registry.ts
 * # schema registry listening on http://127.0.0.1:8081 (state in topic _schemas)
 * ```
 *
 * @module
 */
import { configEnv, loadConfig } from "../lib/config.ts";
import { startRegistry } from "../lib/registry/mod.ts";
import { boundShutdown, defineCli } from "../lib/util/mod.ts";

/** The command line of `deno task registry`. */
export const CLI = defineCli({
  name: "registry",
  usage: `usage: deno task registry

Runs the native, Confluent-compatible Schema Registry in the foreground on the
port of SCHEMA_REGISTRY_URL (default 8081), its state in the topic
SCHEMA_REGISTRY_TOPIC (default _schemas). Ctrl-C (or SIGTERM) stops it cleanly.
\`deno task stack up\` starts it for you in native mode.`,
});

async function run(): Promise<number> {
  // Only the configuration's variables: the stack runs this task with --allow-env=<those>.
  const config = loadConfig(configEnv());
  let registry;
  try {
    registry = await startRegistry({ config });
  } catch (e) {
    console.error(`schema registry failed to start: ${(e as Error).message}`);
    return 1;
  }
  console.log(`schema registry listening on ${registry.url} (state in topic ${registry.topic})`);
  boundShutdown("schema registry"); // closing talks to Kafka; a stuck broker must not hold it
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`schema registry: ${signal}, shutting down`);
    await registry.close();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", () => stop("SIGINT"));
  Deno.addSignalListener("SIGTERM", () => stop("SIGTERM"));
  return 0; // the server keeps the process alive until a signal stops it
}

if (import.meta.main) {
  const status = await CLI.run(Deno.args, run);
  if (status !== 0) Deno.exit(status);
}
