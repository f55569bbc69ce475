/**
 * The consumer the consumer-kill drill runs as a subprocess: a group member
 * with at-least-once processing. "Processing" a record appends its id to a
 * file (one line each, written before the next record); the batch's offset
 * is committed only after the whole batch is processed. With `--pause-at N`
 * it stops in the middle of a batch once N ids are processed, writes
 * `<out>.paused` and waits there to be SIGKILLed: processed, not committed.
 * SIGTERM leaves the group cleanly.
 *
 * Run by {@linkcode ./consumer_kill.ts}:
 * `deno run -A lib/drill/consumer_worker.ts --topic T --group G --out F [--pause-at N]`
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { runConsumerWorker } from "./consumer_worker.ts";
 * await runConsumerWorker(loadConfig(), { topic: "t", group: "g", out: "/tmp/ids.txt" });
 * ```
 *
 * @module
 */
import type { Config } from "../config.ts";
import { loadConfig } from "../config.ts";
import { logLevel } from "kafkajs";
import { createKafka, logLevelFromEnv } from "../kafka/client.ts";
import { GroupConsumer, shutdownOnSignals } from "../kafka/consumer.ts";
import { parseFlags } from "../util/cli.ts";

/** Settings of {@linkcode runConsumerWorker}. */
export interface ConsumerWorkerOptions {
  topic: string;
  group: string;
  /** File the processed ids are appended to. */
  out: string;
  /** Stop mid-batch after this many ids and wait to be killed (0: never). */
  pauseAt?: number;
}

/**
 * Joins the group and processes until killed or sent SIGTERM.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { runConsumerWorker } from "./consumer_worker.ts";
 * await runConsumerWorker(loadConfig(), { topic: "t", group: "g", out: "ids.txt", pauseAt: 500 });
 * ```
 */
export async function runConsumerWorker(
  config: Config,
  options: ConsumerWorkerOptions,
): Promise<void> {
  const consumer = new GroupConsumer(
    createKafka(config, {
      clientId: "shopstream-drill-worker",
      level: logLevelFromEnv(logLevel.NOTHING),
    }),
    {
      groupId: options.group,
      topics: [options.topic],
      fromBeginning: true,
      autoCommit: false,
      sessionTimeoutMs: 6000,
      heartbeatIntervalMs: 500,
    },
  );
  await consumer.connect();
  shutdownOnSignals([consumer]);
  const encoder = new TextEncoder();
  let processed = 0;
  await consumer.run({
    eachBatch: async ({ batch }) => {
      const { messages } = batch;
      for (let i = 0; i < messages.length; i++) {
        Deno.writeFileSync(options.out, encoder.encode(`${messages[i].value}\n`), {
          append: true,
        });
        processed++;
        // Mid-batch: at least one record of this batch is still unprocessed.
        if (options.pauseAt && processed >= options.pauseAt && i < messages.length - 1) {
          Deno.writeTextFileSync(`${options.out}.paused`, `${processed}\n`);
          await new Promise(() => {}); // wait here for SIGKILL
        }
      }
      if (messages.length > 0) {
        await consumer.commit([{
          topic: batch.topic,
          partition: batch.partition,
          offset: messages[messages.length - 1].offset,
        }]);
      }
    },
  });
}

if (import.meta.main) {
  const { values } = parseFlags(Deno.args, {
    flags: {
      topic: { type: "string", required: true },
      group: { type: "string", required: true },
      out: { type: "string", required: true },
      "pause-at": { type: "int", min: 0, default: 0 },
    },
  });
  await runConsumerWorker(loadConfig(), {
    topic: values.topic,
    group: values.group,
    out: values.out,
    pauseAt: values["pause-at"],
  });
}
