/**
 * `deno task consume`: print records as lines, in the spirit of
 * `kafka-console-consumer`. Without `--group` it reads in a throwaway group
 * and commits nothing; with `--group` it commits what it printed.
 * Stops after `--max-messages`, after `--timeout-ms` without a record, or on
 * Ctrl-C (leaving the group cleanly).
 *
 * @example
 * ```sh
 * deno task consume --topic orders --from-beginning --max-messages 10 --print-key
 * ```
 *
 * @module
 */
import { boundShutdown, defineCli, runCommand } from "../lib/util/mod.ts";
import { loadConfig } from "../lib/config.ts";
import {
  ClusterAdmin,
  createKafka,
  formatRecord,
  GroupConsumer,
  shutdownOnSignals,
} from "../lib/kafka/mod.ts";

/** The usage text `--help` prints. */
export const USAGE = `usage: deno task consume --topic T [flags]

Prints one line per record: [Partition:p] [Offset:o] [headers] [key] value,
separated by tabs (or --separator).

  --topic T                 topic to read
  --group G                 consumer group (commits what was printed); default:
                            a throwaway group that commits nothing and is deleted
  --from-beginning          with no committed offset, start at the oldest record
                            (default: only records written from now on)
  --max-messages N          exit after N records
  --timeout-ms N            exit when no record arrives for N ms
  --print-key               print the key
  --print-headers           print headers as k:v,k2:v2 (NO_HEADERS when none)
  --print-partition         print Partition:p
  --print-offset            print Offset:o
  --separator S             between fields (default tab)
  --isolation L             read_committed (default) or read_uncommitted
  --help                    this text

Exit status 0, 1 when Kafka fails, 2 on a usage error. Ctrl-C leaves the group cleanly
(exit 1 if Kafka does not answer within 8 s; a second Ctrl-C exits at once).`;

/** Parsed `deno task consume` flags. */
export interface ConsumeOptions {
  topic: string;
  group?: string;
  fromBeginning: boolean;
  maxMessages?: number;
  timeoutMs?: number;
  printKey: boolean;
  printHeaders: boolean;
  printPartition: boolean;
  printOffset: boolean;
  separator: string;
  readCommitted: boolean;
}

/** The command line of `deno task consume`. */
export const CLI = defineCli({
  name: "consume",
  usage: USAGE,
  flags: {
    topic: { type: "string", required: true },
    group: { type: "string" },
    "from-beginning": { type: "boolean" },
    "max-messages": { type: "int", min: 1 },
    "timeout-ms": { type: "int", min: 1 },
    "print-key": { type: "boolean" },
    "print-headers": { type: "boolean" },
    "print-partition": { type: "boolean" },
    "print-offset": { type: "boolean" },
    separator: { type: "string", default: "\t" },
    isolation: {
      type: "string",
      choices: ["read_committed", "read_uncommitted"],
      default: "read_committed",
    },
  },
});

/**
 * Parses `deno task consume` flags; throws a usage error on mistakes.
 *
 * @example
 * ```ts
 * import { parseConsumeArgs } from "./consume.ts";
 * console.log(parseConsumeArgs(["--topic", "t", "--max-messages", "5"]).maxMessages); // 5
 * ```
 */
export function parseConsumeArgs(args: string[]): ConsumeOptions {
  const { values: v } = CLI.parse(args);
  return {
    topic: v.topic,
    group: v.group,
    fromBeginning: v["from-beginning"],
    maxMessages: v["max-messages"],
    timeoutMs: v["timeout-ms"],
    printKey: v["print-key"],
    printHeaders: v["print-headers"],
    printPartition: v["print-partition"],
    printOffset: v["print-offset"],
    separator: v.separator,
    readCommitted: v.isolation === "read_committed",
  };
}

/**
 * Runs the console consumer, printing with `print`; returns the exit status.
 *
 * @example
 * ```ts
 * import { runConsume } from "./consume.ts";
 * Deno.exit(await runConsume(["--topic", "orders", "--from-beginning", "--max-messages", "3"]));
 * ```
 */
export function runConsume(
  args: string[],
  print: (line: string) => void = console.log,
): Promise<number> {
  return runCommand(CLI.name, CLI.usage, args, parseConsumeArgs, (o) => consume(o, print));
}

async function consume(o: ConsumeOptions, print: (line: string) => void): Promise<number> {
  const config = loadConfig();
  const kafka = createKafka(config, { clientId: "console-consumer" });
  const throwaway = o.group === undefined;
  const groupId = o.group ?? `console-consumer-${crypto.randomUUID().slice(0, 8)}`;
  const consumer = new GroupConsumer(kafka, {
    groupId,
    topics: [o.topic],
    fromBeginning: o.fromBeginning,
    autoCommit: false,
    readCommitted: o.readCommitted,
  });
  const finished = Promise.withResolvers<number>();
  let printed = 0;
  let lastRecordAt = Date.now();
  const processed = new Map<number, string>(); // partition -> last printed offset
  // Leaving the group and committing talk to Kafka: bounded, in case a broker does not answer.
  const unbound = boundShutdown("consume");
  const release = shutdownOnSignals([], () => finished.resolve(0));
  let idle: ReturnType<typeof setInterval> | undefined;
  let status: number;
  let connected = false;
  try {
    await consumer.connect();
    connected = true;
    consumer.raw.on(consumer.raw.events.CRASH, ({ payload }) => {
      if (!payload.restart) {
        console.error(`consume: ${payload.error.message}`);
        finished.resolve(1);
      }
    });
    await consumer.run({
      eachMessage: ({ partition, message }) => {
        if (o.maxMessages !== undefined && printed >= o.maxMessages) return;
        print(formatRecord({ partition, ...message }, o));
        printed++;
        lastRecordAt = Date.now();
        processed.set(partition, message.offset);
        if (o.maxMessages !== undefined && printed >= o.maxMessages) {
          consumer.pause();
          finished.resolve(0);
        }
      },
    });
    if (o.timeoutMs !== undefined) {
      const limit = o.timeoutMs;
      idle = setInterval(() => {
        if (Date.now() - lastRecordAt >= limit) finished.resolve(0);
      }, Math.min(250, limit));
    }
    status = await finished.promise;
  } catch (e) {
    console.error(`consume: ${(e as Error).message}`);
    status = 1;
  } finally {
    release();
    if (idle !== undefined) clearInterval(idle);
  }
  try {
    if (!throwaway && processed.size) {
      await consumer.commit(
        [...processed].map(([partition, offset]) => ({ topic: o.topic, partition, offset })),
      );
    }
    await consumer.disconnect();
    if (throwaway && connected) {
      const admin = new ClusterAdmin(kafka);
      await admin.connect();
      await admin.deleteGroups([groupId]).catch(() => {});
      await admin.disconnect();
    }
  } catch (e) {
    console.error(`consume: ${(e as Error).message}`);
    status = 1;
  }
  console.error(`Processed a total of ${printed} messages`);
  unbound();
  return status;
}

if (import.meta.main) Deno.exit(await runConsume(Deno.args));
