/**
 * `deno task produce`: one record per stdin line, in the spirit of
 * `kafka-console-producer`. Keys with `--key-separator`, headers with
 * `--header k=v`; a summary per partition goes to stderr at the end.
 *
 * @example
 * ```sh
 * printf 'customer-1:{"total":12}\ncustomer-2:{"total":7}\n' | \
 *   deno task produce --topic orders --key-separator : --header source=cli
 * ```
 *
 * @module
 */
import { defineCli, formatTable, runCommand, UsageError } from "../lib/util/mod.ts";
import { loadConfig } from "../lib/config.ts";
import {
  type Acks,
  type Compression,
  COMPRESSION_TYPES,
  createKafka,
  type DeliveryReport,
  parseAcks,
  parsePairs,
  readLines,
  registerCodecs,
  splitLine,
  TopicProducer,
} from "../lib/kafka/mod.ts";

/** The usage text `--help` prints. */
export const USAGE = `usage: <lines> | deno task produce --topic T [flags]

Reads stdin, sends one record per non-empty line, waits for every
acknowledgement, then prints records and offsets per partition (stderr).

  --topic T                 topic to write (must exist: deno task admin topics create T)
  --key-separator S         each line is <key>S<value>; keys choose the partition
                            (Java's murmur2, so Java producers agree)
  --header k=v              add a header to every record (repeatable)
  --partition N             send every record to partition N
  --acks all|1|0            default all
  --compression C           none (default), gzip, snappy, zstd (lz4: no codec works under Deno)
  --linger-ms N             wait up to N ms to fill a batch (default 5)
  --batch-size N            records per request (default 1000)
  --sync                    send one line at a time and wait for each (slow; shows per-record offsets)
  --help                    this text

Exit status 0 when every record was acknowledged, 1 otherwise, 2 on a usage error.`;

/** Parsed `deno task produce` flags. */
export interface ProduceOptions {
  topic: string;
  keySeparator?: string;
  headers: Record<string, string>;
  partition?: number;
  acks: Acks;
  compression: Compression;
  lingerMs: number;
  batchSize: number;
  sync: boolean;
}

/** The command line of `deno task produce`. */
export const CLI = defineCli({
  name: "produce",
  usage: USAGE,
  flags: {
    topic: { type: "string", required: true },
    "key-separator": { type: "string" },
    header: { type: "string", multiple: true },
    partition: { type: "int", min: 0 },
    acks: { type: "string" },
    compression: { type: "string", choices: Object.keys(COMPRESSION_TYPES) as Compression[] },
    "linger-ms": { type: "int", min: 0, default: 5 },
    "batch-size": { type: "int", min: 1, default: 1000 },
    sync: { type: "boolean" },
  },
});

/**
 * Parses `deno task produce` flags; throws {@linkcode UsageError} on mistakes.
 *
 * @example
 * ```ts
 * import { parseProduceArgs } from "./produce.ts";
 * console.log(parseProduceArgs(["--topic", "t", "--key-separator", ":"]).keySeparator); // ":"
 * ```
 */
export function parseProduceArgs(args: string[]): ProduceOptions {
  const { values: v } = CLI.parse(args);
  if (v["key-separator"] === "") throw new UsageError("--key-separator must not be empty");
  return {
    topic: v.topic,
    keySeparator: v["key-separator"],
    headers: parsePairs(v.header, "--header"),
    partition: v.partition,
    acks: parseAcks(v.acks),
    compression: v.compression ?? "none",
    lingerMs: v["linger-ms"],
    batchSize: v["batch-size"],
    sync: v.sync,
  };
}

/**
 * Runs the console producer over `input` lines; returns the exit status.
 *
 * @example
 * ```ts
 * import { runProduce } from "./produce.ts";
 * Deno.exit(await runProduce(["--topic", "orders"], Deno.stdin.readable));
 * ```
 */
export function runProduce(
  args: string[],
  input: ReadableStream<Uint8Array>,
): Promise<number> {
  return runCommand(CLI.name, CLI.usage, args, parseProduceArgs, (o) => produce(o, input));
}

async function produce(o: ProduceOptions, input: ReadableStream<Uint8Array>): Promise<number> {
  if (o.compression === "snappy" || o.compression === "zstd") await registerCodecs();
  const config = loadConfig();
  let producer: TopicProducer;
  try {
    producer = new TopicProducer(createKafka(config, { clientId: config.clients.producer }), {
      topic: o.topic,
      acks: o.acks,
      compression: o.compression,
      lingerMs: o.lingerMs,
      batchSize: o.batchSize,
      headers: Object.keys(o.headers).length ? o.headers : undefined,
    });
    await producer.connect();
  } catch (e) {
    console.error(`produce: ${(e as Error).message}`);
    return 1;
  }
  const perPartition = new Map<number, { records: number; first: string; last: string }>();
  const note = (r: DeliveryReport) => {
    const p = perPartition.get(r.partition);
    if (p) {
      p.records++;
      p.last = r.offset;
    } else perPartition.set(r.partition, { records: 1, first: r.offset, last: r.offset });
  };
  let status = 0;
  let lineNo = 0;
  try {
    for await (const line of readLines(input)) {
      lineNo++;
      const { key, value } = splitLine(line, o.keySeparator);
      const message = { key, value, partition: o.partition };
      if (o.sync) {
        const [report] = await producer.send([message]);
        note(report);
        console.log(`${report.partition}\t${report.offset}`);
      } else {
        if (producer.buffered >= producer.maxBuffered) await producer.ready();
        producer.enqueue(message).then(note, () => {});
      }
    }
    await producer.flush();
  } catch (e) {
    console.error(
      `produce: ${e instanceof UsageError ? `line ${lineNo}: ` : ""}${(e as Error).message}`,
    );
    status = 1;
  } finally {
    try {
      await producer.disconnect();
    } catch (e) {
      console.error(`produce: ${(e as Error).message}`);
      status = 1;
    }
  }
  const m = producer.metrics();
  const rows = [...perPartition.entries()].sort(([a], [b]) => a - b)
    .map(([p, s]) => [p, s.records, s.first, s.last]);
  if (rows.length) {
    console.error(formatTable(["partition", "records", "first offset", "last offset"], rows));
  }
  console.error(
    `${m.records} record(s) acknowledged to ${o.topic} (acks=${o.acks === -1 ? "all" : o.acks}), ` +
      `${m.errors} failed`,
  );
  return status === 0 && m.errors === 0 ? 0 : 1;
}

if (import.meta.main) Deno.exit(await runProduce(Deno.args, Deno.stdin.readable));
