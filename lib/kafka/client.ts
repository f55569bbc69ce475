/**
 * The one place a kafkajs client is made: brokers, timeouts and client id come
 * from {@linkcode Config}, and every kafkajs log line goes through one logger
 * (warnings and errors to stderr). A broker that cannot be reached (the stack
 * is down or still starting, or a broker was stopped) is one short line per
 * broker and minute instead of kafkajs's error and stack trace per retry.
 * `KAFKAJS_LOG_LEVEL=debug|info|warn|error|nothing` sets the level and shows
 * kafkajs's own lines, connection errors included.
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
import type { LogEntry } from "./upstream.ts";
import { Kafka, logLevel } from "./upstream.ts";
import "./fetch_decoder.ts"; // kafkajs decodes fetched record batches without a Long per field (see fetch_decoder.ts)
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
   * The longest wait between kafkajs's retries (kafkajs `retry.maxRetryTime`,
   * default 30 s). It also bounds how long a crashed consumer waits before
   * kafkajs restarts it, which the error's retry time decides.
   */
  maxRetryTimeMs?: number;
  /**
   * kafkajs's own lines for unreachable brokers too (its error and stack per
   * retry) instead of one summary line; default: whether `KAFKAJS_LOG_LEVEL` is set.
   */
  rawLogs?: boolean;
  /**
   * Receives each kafkajs log line instead of stderr (a notebook collects the
   * expected fault messages and shows them as a table).
   */
  onLog?: (line: KafkaLogLine) => void;
}

/** One kafkajs log line, as {@linkcode KafkaClientOptions.onLog} receives it. */
export interface KafkaLogLine {
  /** `ERROR`, `WARN`, `INFO` or `DEBUG`. */
  level: string;
  /** The kafkajs component, e.g. `Consumer`, `Runner`, `Connection`. */
  namespace: string;
  /** The log line's message. */
  message: string;
  /** The error's message, when the line carries one. */
  error?: string;
}

/** More options of {@linkcode createKafka}. */
export interface KafkaClientHooks {
  /**
   * Sees every kafkajs log entry at or above `level` first; returning true
   * keeps it off stderr. Drills count kafkajs's retries this way.
   */
  onEntry?: (entry: LogEntry) => boolean | void;
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
  const name = envLevel();
  return name && name in LEVELS ? LEVELS[name] : fallback;
}

function envLevel(): string | undefined {
  try {
    return Deno.env.get("KAFKAJS_LOG_LEVEL")?.trim().toLowerCase() || undefined;
  } catch {
    return undefined; // no env permission: keep the default
  }
}

/**
 * Whether `KAFKAJS_LOG_LEVEL` names a level: then kafkajs's log lines are
 * shown as they are, unreachable brokers included.
 *
 * @example
 * ```ts
 * import { rawLogsFromEnv } from "./client.ts";
 * console.log(rawLogsFromEnv()); // false unless KAFKAJS_LOG_LEVEL is set
 * ```
 */
export function rawLogsFromEnv(): boolean {
  const name = envLevel();
  return name !== undefined && name in LEVELS;
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
export const BOUNDED_RETRIES_NOTE: string =
  "(a send that gives up may still have been written, and the next batch would reuse its " +
  "sequence numbers). TopicProducer bounds retries on purpose and, after such a send, fails " +
  "every later send (ProducerPoisonedError) until it is connected again with a fresh " +
  "producer id. Shown once per process.";

/**
 * Broker answers kafkajs logs as errors on arrival although it retries them
 * itself: a coordinator still loading or not yet available, a leader
 * election, a rebalance, a topic the broker does not know yet, a transaction
 * whose previous one is still completing. They are expected on a fresh cluster, after a
 * broker restart and in every rebalance; if the retries run out, the call
 * fails with the error anyway. Also a produce request refused as too large
 * for the topic's `max.message.bytes`: `TopicProducer` splits it and sends
 * the halves again, and a single record too large fails with the error.
 * Shown only with KAFKAJS_LOG_LEVEL=debug, like the consumer's own re-join in
 * a rebalance.
 */
const RETRIED = [
  /coordinator is loading/,
  /not the correct coordinator/,
  /coordinator is not available/,
  /leadership election/,
  /not the leader for that topic-partition/,
  /does not host this topic-partition/,
  /group is rebalancing/,
  // CONCURRENT_TRANSACTIONS: the previous transaction's markers are still being written.
  /another concurrent operation on the same transaction/,
  // MESSAGE_TOO_LARGE, answered to a produce request.
  /larger than the max message size the server will accept/,
];

/**
 * Whether a kafkajs log entry reports a broker answer kafkajs retries by
 * itself (a coordinator loading, a leader election, a rebalance, a topic not
 * known yet) or the consumer re-joining its group in a rebalance; such lines
 * are hidden unless the log level is DEBUG.
 *
 * @example
 * ```ts
 * import { isRetriedResponse } from "./client.ts";
 * const error = "The coordinator is loading and hence can't process requests for this group";
 * console.log(isRetriedResponse("Connection", "Response InitProducerId(key: 22, version: 1)", error)); // true
 * console.log(isRetriedResponse("Connection", "Connection error: read ECONNRESET", "")); // false
 * console.log(isRetriedResponse("Runner", "The group is rebalancing, re-joining", "")); // true
 * ```
 */
export function isRetriedResponse(namespace: string, message: string, error: unknown): boolean {
  if (namespace === "Runner") return REJOIN.test(message);
  return namespace === "Connection" && message.startsWith("Response ") &&
    RETRIED.some((re) => re.test(String(error)));
}

/**
 * The consumer's runner answering a rebalance the way Kafka's protocol asks
 * (stop fetching, join the group again): every member logs it in every
 * rebalance, and `GroupConsumer` reports the rebalance itself. A member the
 * coordinator no longer knows (evicted after its session timeout) is still
 * shown: that one says the handler was too slow.
 */
const REJOIN = /^The group is rebalancing, re-joining/;

/** Errors that mean "nobody answers at that address", not "the broker said no". */
const UNREACHABLE =
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EPIPE|Connection error|Connection timeout|Closed connection|Failed to connect to seed broker|KafkaJSConnection/;

const REASONS: [RegExp, string][] = [
  [/ECONNREFUSED/, "connection refused"],
  [/ECONNRESET|EPIPE|Closed connection/, "connection closed"],
  [/ETIMEDOUT|Connection timeout/, "timed out"],
  [/EHOSTUNREACH|ENETUNREACH/, "no route to host"],
  [/ENOTFOUND/, "unknown host"],
];

/**
 * When a kafkajs log entry says a broker cannot be reached: the address
 * (`host:port`, or `""` when the entry names none) and why, in a few words.
 * Undefined for every other entry.
 *
 * @example
 * ```ts
 * import { unreachableBroker } from "./client.ts";
 * const entry = { message: "Connection error: connect ECONNREFUSED 127.0.0.1:9092", broker: "127.0.0.1:9092" };
 * console.log(unreachableBroker("Connection", entry)); // { address: "127.0.0.1:9092", reason: "connection refused" }
 * console.log(unreachableBroker("Producer", { message: "Not enough in-sync replicas" })); // undefined
 * ```
 */
export function unreachableBroker(
  namespace: string,
  log: { message: string; broker?: unknown; error?: unknown },
): { address: string; reason: string } | undefined {
  const text = `${log.message} ${log.error ?? ""}`;
  if (!UNREACHABLE.test(text)) return undefined;
  // A broker's answer that merely mentions a connection is not one.
  if (namespace === "Connection" && log.message.startsWith("Response ")) return undefined;
  const address = typeof log.broker === "string"
    ? log.broker
    : /(?:\[[0-9a-fA-F:]+\]|[\w.-]+):\d+/.exec(text)?.[0] ?? "";
  const reason = REASONS.find(([re]) => re.test(text))?.[1] ?? "unreachable";
  return { address, reason };
}

/** How often the same unreachable broker is reported again (ms). */
export const UNREACHABLE_REPEAT_MS = 60_000;

/**
 * The logger behind {@linkcode createKafka} as a pure function: the line a
 * kafkajs log entry becomes, or undefined when it is not shown. Noise and
 * retried broker answers are dropped (the latter unless `configured` is
 * DEBUG). Unless `raw`, an unreachable broker becomes one line, repeated at
 * most every {@linkcode UNREACHABLE_REPEAT_MS} per address, without kafkajs's
 * stack trace.
 *
 * @example
 * ```ts
 * import { logLevel } from "kafkajs";
 * import { kafkaLogLines } from "./client.ts";
 * const line = kafkaLogLines(logLevel.WARN);
 * console.log(line({
 *   namespace: "Connection",
 *   level: logLevel.ERROR,
 *   label: "ERROR",
 *   log: { timestamp: "", logger: "kafkajs", message: "Connection error: connect ECONNREFUSED 127.0.0.1:9092", broker: "127.0.0.1:9092" },
 * }));
 * // kafka: cannot reach 127.0.0.1:9092 (connection refused): the stack is down or still starting; ...
 * ```
 */
export function kafkaLogLines(
  configured: logLevel,
  options: {
    raw?: boolean;
    now?: () => number;
    /** Address -> when it was last reported; share one map to report across clients. */
    reported?: Map<string, number>;
  } = {},
): (entry: LogEntry) => string | undefined {
  const now = options.now ?? Date.now;
  const reported = options.reported ?? new Map<string, number>();
  return ({ namespace, level, log }) => {
    const { message, timestamp: _t, logger: _l, ...extra } = log;
    if (NOISE.some((re) => re.test(message))) return undefined;
    if (BOUNDED_RETRIES.test(message)) {
      if (boundedRetriesShown) return undefined;
      boundedRetriesShown = true;
      return `kafka: kafkajs warns (${namespace}): ${message} ${BOUNDED_RETRIES_NOTE}`;
    }
    if (configured < logLevel.DEBUG && isRetriedResponse(namespace, message, extra.error)) {
      return undefined;
    }
    // The producer's own retry of such an answer ("Failed to send messages: ..."): retried, not news.
    if (
      configured < logLevel.DEBUG && namespace === "Producer" && "retryCount" in extra &&
      RETRIED.some((re) => re.test(message))
    ) return undefined;
    const down = options.raw ? undefined : unreachableBroker(namespace, log);
    if (down) {
      const last = reported.get(down.address);
      if (last !== undefined && now() - last < UNREACHABLE_REPEAT_MS) return undefined;
      reported.set(down.address, now());
      return `kafka: cannot reach ${down.address || "the cluster"} (${down.reason}): ` +
        "the stack is down or still starting; kafkajs retries " +
        "(KAFKAJS_LOG_LEVEL=error shows its own log)";
    }
    const tag = LEVEL_NAMES[level] ?? String(level);
    const detail = Object.keys(extra).length ? " " + JSON.stringify(extra) : "";
    return `[kafkajs ${tag}]${namespace ? ` ${namespace}:` : ""} ${message}${detail}`;
  };
}

/**
 * Whether `entry` is kafkajs's "Restarting the consumer in N ms" for the
 * group `groupId`: a client whose caller reports each restart itself (with
 * its error, as the lake sink does) passes this to `onEntry`, so the news is
 * printed once.
 *
 * @example
 * ```ts
 * import { logLevel } from "kafkajs";
 * import { isRestartNotice } from "./client.ts";
 * const log = { timestamp: "", logger: "kafkajs", message: "Restarting the consumer in 300ms", groupId: "g" };
 * console.log(isRestartNotice({ namespace: "Consumer", level: logLevel.ERROR, label: "ERROR", log }, "g")); // true
 * ```
 */
export function isRestartNotice(entry: LogEntry, groupId: string): boolean {
  const { message, groupId: group } = entry.log as { message?: unknown; groupId?: unknown };
  return entry.namespace === "Consumer" && group === groupId &&
    typeof message === "string" && message.startsWith("Restarting the consumer in ");
}

/** Unreachable brokers this process reported: one client's report stands for all. */
const REPORTED = new Map<string, number>();

const logCreator = (raw: boolean) => (configured: logLevel) => {
  const lines = kafkaLogLines(configured, { raw, reported: REPORTED });
  return (entry: LogEntry): void => {
    const line = lines(entry);
    if (line !== undefined) console.error(line);
  };
};

/** Like `writeLine`, but hands each line to `sink` instead of stderr. */
const sendLine = (sink: (line: KafkaLogLine) => void) => (configured: logLevel) => {
  return ({ namespace, level, log }: LogEntry): void => {
    const { message, error } = log as { message: string; error?: unknown };
    if (NOISE.some((re) => re.test(message))) return;
    if (configured < logLevel.DEBUG && isRetriedResponse(namespace, message, error)) return;
    const tag = LEVEL_NAMES[level] ?? String(level);
    sink({
      level: tag,
      namespace,
      message,
      ...(error === undefined ? {} : { error: String(error) }),
    });
  };
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
export function createKafka(
  config: Config,
  options: KafkaClientOptions & KafkaClientHooks = {},
): Kafka {
  const creator = options.onLog
    ? sendLine(options.onLog)
    : logCreator(options.rawLogs ?? rawLogsFromEnv());
  const hook = options.onEntry;
  const client = new Kafka({
    clientId: options.clientId ?? config.kafka.clientId,
    brokers: [...config.kafka.brokers],
    connectionTimeout: config.kafka.connectionTimeoutMs,
    requestTimeout: config.kafka.requestTimeoutMs,
    logLevel: options.level ?? logLevelFromEnv(),
    logCreator: hook
      ? (level: logLevel) => {
        const write = creator(level);
        return (entry: LogEntry) => {
          if (!hook(entry)) write(entry);
        };
      }
      : creator,
    retry: options.retries === undefined && options.maxRetryTimeMs === undefined ? undefined : {
      ...(options.retries === undefined ? {} : { retries: options.retries }),
      ...(options.maxRetryTimeMs === undefined ? {} : { maxRetryTime: options.maxRetryTimeMs }),
    },
  });
  SIBLINGS.set(client, () => createKafka(config, options));
  return client;
}

/** How to make another client like one {@linkcode createKafka} made. */
const SIBLINGS = new WeakMap<Kafka, () => Kafka>();

/**
 * A new client with the same settings as `kafka` (when {@linkcode createKafka}
 * made it; otherwise `kafka` itself), so that its consumers share no state
 * with `kafka`'s. kafkajs keeps one committed-offsets cache per group for all
 * consumers of one client, and a member that rebalances clears it under the
 * others (see the facts in lib/kafka/mod.ts); `GroupConsumer` therefore
 * takes a client of its own.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { createKafka, siblingClient } from "./client.ts";
 * const kafka = createKafka(loadConfig());
 * console.log(siblingClient(kafka) !== kafka); // true
 * ```
 */
export function siblingClient(kafka: Kafka): Kafka {
  return SIBLINGS.get(kafka)?.() ?? kafka;
}
