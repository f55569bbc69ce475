/**
 * The one place a kafkajs client is made: brokers, timeouts and client id come
 * from {@linkcode Config}, and every kafkajs log line goes through one logger
 * (warnings and errors to stderr; set `KAFKAJS_LOG_LEVEL=debug|info|warn|error|nothing`).
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { createKafka } from "./client.ts";
 * const kafka = createKafka(loadConfig(), { clientId: "notebook" });
 * const admin = kafka.admin();
 * await admin.connect();
 * console.log(await admin.listTopics());
 * await admin.disconnect();
 * ```
 *
 * @module
 */
import { Kafka, type LogEntry, logLevel } from "kafkajs";
import process from "node:process";
import type { Config } from "../config.ts";

// kafkajs under Deno schedules timers with negative delays (harmless: they fire
// at once), and Node's timer shim warns on every one. Drop just that warning.
const emitWarning = process.emitWarning;
// deno-lint-ignore no-explicit-any
(process as any).emitWarning = (warning: unknown, ...rest: any[]) => {
  const type = typeof rest[0] === "string" ? rest[0] : rest[0]?.type;
  if (type === "TimeoutNegativeWarning") return;
  // deno-lint-ignore no-explicit-any
  return (emitWarning as any).call(process, warning, ...rest);
};

try {
  // We choose partitions ourselves (see verified.ts); kafkajs's notice about its v2
  // default partitioner change is noise for this course.
  Deno.env.set("KAFKAJS_NO_PARTITIONER_WARNING", "1");
} catch { /* no env permission: the notice stays */ }

/**
 * The environment variables kafkajs (and this module) read when loaded or
 * when a client logs: a process allowed to read only some variables must be
 * allowed these (`--allow-env=...`), or loading kafkajs fails.
 *
 * @example
 * ```ts
 * import { KAFKAJS_ENV } from "./client.ts";
 * console.log(KAFKAJS_ENV.join(","));
 * ```
 */
export const KAFKAJS_ENV: readonly string[] = [
  "NODE_ENV",
  "KAFKAJS_LOG_LEVEL",
  "KAFKAJS_NO_PARTITIONER_WARNING",
  "KAFKAJS_DEBUG_PROTOCOL_BUFFERS",
  "KAFKAJS_DEBUG_EXTENDED_PROTOCOL_BUFFERS",
];

/** Options for {@linkcode createKafka}. */
export interface KafkaClientOptions {
  /** Overrides `config.kafka.clientId`. */
  clientId?: string;
  /** kafkajs log level; default from `KAFKAJS_LOG_LEVEL`, else WARN. */
  level?: logLevel;
  /** Retries for metadata and other retriable requests (kafkajs `retry.retries`). */
  retries?: number;
  /**
   * Sees every kafkajs log entry at or above `level` first; returning true
   * keeps it off stderr. Drills count kafkajs's retries this way.
   */
  onLog?: (entry: LogEntry) => boolean | void;
}

const LEVELS: Record<string, logLevel> = {
  nothing: logLevel.NOTHING,
  error: logLevel.ERROR,
  warn: logLevel.WARN,
  info: logLevel.INFO,
  debug: logLevel.DEBUG,
};

/**
 * The kafkajs log level named by `KAFKAJS_LOG_LEVEL`, else `fallback` (WARN).
 * Fault drills pass NOTHING: the connection errors to a broker they killed
 * on purpose are the expected result, not news.
 *
 * @example
 * ```ts
 * import { logLevelFromEnv } from "./client.ts";
 * console.log(logLevelFromEnv()); // 2 (WARN) unless KAFKAJS_LOG_LEVEL is set
 * ```
 */
export function logLevelFromEnv(fallback: logLevel = logLevel.WARN): logLevel {
  let name: string | undefined;
  try {
    name = Deno.env.get("KAFKAJS_LOG_LEVEL")?.toLowerCase();
  } catch {
    name = undefined; // no env permission: keep the default
  }
  return name && name in LEVELS ? LEVELS[name] : fallback;
}

const LEVEL_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(LEVELS).map(([name, level]) => [level, name.toUpperCase()]),
);

/**
 * Lines kafkajs logs that say nothing useful here: timer warnings under Deno
 * (see the facts in lib/kafka/mod.ts).
 */
const NOISE = [
  /TimeoutNegativeWarning/,
  /negative number/i,
];

/**
 * kafkajs warns, for every idempotent producer whose retries are bounded,
 * that this "may invalidate EoS guarantees". True: a send that gives up may
 * have been written, and the next batch would reuse its sequence numbers.
 * `TopicProducer` bounds retries on purpose and answers the risk by refusing
 * every later send (`ProducerPoisonedError`). The warning is shown once per
 * process, with that explanation.
 */
const BOUNDED_RETRIES = /Limiting retries for the idempotent producer/;
let boundedRetriesShown = false;

/**
 * The explanation shown (once per process) after kafkajs's warning about an
 * idempotent producer's bounded retries.
 *
 * @example
 * ```ts
 * import { BOUNDED_RETRIES_NOTE } from "./client.ts";
 * console.log(BOUNDED_RETRIES_NOTE.includes("ProducerPoisonedError")); // true
 * ```
 */
export const BOUNDED_RETRIES_NOTE =
  "(a send that gives up may still have been written, and the next batch would reuse its " +
  "sequence numbers). TopicProducer bounds retries on purpose and, after such a send, fails " +
  "every later send (ProducerPoisonedError) until it is connected again with a fresh " +
  "producer id. Shown once per process.";

/**
 * Broker answers kafkajs logs as errors on arrival although it retries them
 * itself: a coordinator still loading, a leader election, a rebalance, a topic
 * the broker does not know yet. They are expected on a fresh cluster, after a
 * broker restart and in every rebalance; if the retries run out, the call
 * fails with the error anyway. Shown only with KAFKAJS_LOG_LEVEL=debug.
 */
const RETRIED = [
  /coordinator is loading/,
  /not the correct coordinator/,
  /leadership election/,
  /not the leader for that topic-partition/,
  /does not host this topic-partition/,
  /group is rebalancing/,
];

/**
 * Whether a kafkajs log entry reports a broker answer kafkajs retries by
 * itself (a coordinator loading, a leader election, a rebalance, a topic not
 * known yet); such lines are hidden unless the log level is DEBUG.
 *
 * @example
 * ```ts
 * import { isRetriedResponse } from "./client.ts";
 * const error = "The coordinator is loading and hence can't process requests for this group";
 * console.log(isRetriedResponse("Connection", "Response InitProducerId(key: 22, version: 1)", error)); // true
 * console.log(isRetriedResponse("Connection", "Connection error: read ECONNRESET", "")); // false
 * ```
 */
export function isRetriedResponse(namespace: string, message: string, error: unknown): boolean {
  return namespace === "Connection" && message.startsWith("Response ") &&
    RETRIED.some((re) => re.test(String(error)));
}

const writeLine = (configured: logLevel) => ({ namespace, level, log }: LogEntry): void => {
  const { message, timestamp: _t, logger: _l, ...extra } = log;
  if (NOISE.some((re) => re.test(message))) return;
  if (BOUNDED_RETRIES.test(message)) {
    if (boundedRetriesShown) return;
    boundedRetriesShown = true;
    console.error(`[kafkajs WARN] ${namespace}: ${message} ${BOUNDED_RETRIES_NOTE}`);
    return;
  }
  if (configured < logLevel.DEBUG && isRetriedResponse(namespace, message, extra.error)) return;
  const tag = LEVEL_NAMES[level] ?? String(level);
  const detail = Object.keys(extra).length ? " " + JSON.stringify(extra) : "";
  console.error(`[kafkajs ${tag}]${namespace ? ` ${namespace}:` : ""} ${message}${detail}`);
};

/**
 * A kafkajs client for the configured cluster.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { createKafka } from "./client.ts";
 * const producer = createKafka(loadConfig()).producer({ idempotent: true });
 * ```
 */
export function createKafka(config: Config, options: KafkaClientOptions = {}): Kafka {
  return new Kafka({
    clientId: options.clientId ?? config.kafka.clientId,
    brokers: [...config.kafka.brokers],
    connectionTimeout: config.kafka.connectionTimeoutMs,
    requestTimeout: config.kafka.requestTimeoutMs,
    logLevel: options.level ?? logLevelFromEnv(),
    logCreator: options.onLog
      ? (level) => {
        const write = writeLine(level);
        return (entry) => {
          if (!options.onLog!(entry)) write(entry);
        };
      }
      : writeLine,
    retry: options.retries === undefined ? undefined : { retries: options.retries },
  });
}
