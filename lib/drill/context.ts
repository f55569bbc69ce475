/**
 * What every drill needs: a Kafka client, an admin, the stack (to kill and
 * restart brokers in either mode) and where Kafka's `GetOffsetShell` runs;
 * plus the way back to a healthy cluster after a fault.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { openDrill } from "./context.ts";
 * const drill = await openDrill(loadConfig());
 * try {
 *   console.log(drill.stack.mode);
 * } finally {
 *   await drill.close();
 * }
 * ```
 *
 * @module
 */
import type { Kafka } from "../kafka/upstream.ts";
import type { Config } from "../config.ts";
import { ClusterAdmin } from "../kafka/admin.ts";
import { logLevel } from "kafkajs";
import { createKafka, logLevelFromEnv } from "../kafka/client.ts";
import { installKafka } from "../stack/install.ts";
import { openStack } from "../stack/mod.ts";
import { parseHostPort, pollUntil, tcpOpen } from "../util/probe.ts";
import type { Stack } from "../stack/types.ts";
import type { OffsetShellTarget } from "./offsets.ts";

/** An open drill session. */
export interface DrillContext {
  /** The configuration the drill runs with. */
  readonly config: Config;
  /** A kafkajs client for the drill's producers and readers. */
  readonly kafka: Kafka;
  /** A connected admin client. */
  readonly admin: ClusterAdmin;
  /** The stack, to stop and start brokers. */
  readonly stack: Stack;
  /** How to run Kafka's GetOffsetShell against the stack. */
  readonly offsets: OffsetShellTarget;
  /** Progress lines. */
  readonly log: (line: string) => void;
  /** Disconnects the admin. */
  close(): Promise<void>;
}

/**
 * Connects an admin, finds the stack's mode and Kafka's tools (native mode:
 * the brokers' own jars under `.cache/kafka`).
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { openDrill } from "./context.ts";
 * const drill = await openDrill(loadConfig(), { log: console.error });
 * await drill.close();
 * ```
 */
export async function openDrill(
  config: Config,
  options: { log?: (line: string) => void; clientId?: string } = {},
): Promise<DrillContext> {
  const log = options.log ?? (() => {});
  const stack = await openStack(config, { log });
  const offsets: OffsetShellTarget = stack.mode === "native"
    ? {
      mode: "native",
      libs: await installKafka(config.stack.kafkaVersion, log),
      bootstrap: config.kafka.brokers.join(","),
    }
    : { mode: "docker", service: "kafka-1", bootstrap: "kafka-1:29092" };
  const kafka = createKafka(config, {
    clientId: options.clientId ?? "shopstream-drill",
    level: logLevelFromEnv(logLevel.NOTHING),
  });
  const admin = new ClusterAdmin(kafka);
  await admin.connect();
  return { config, kafka, admin, stack, offsets, log, close: () => admin.disconnect() };
}

/**
 * Waits until every partition of `topics` and of the internal topics
 * (`__consumer_offsets`, `__transaction_state`) has a leader and its full ISR.
 *
 * @example
 * ```ts
 * import { awaitFullIsr, openDrill } from "./context.ts";
 * import { loadConfig } from "../config.ts";
 * const drill = await openDrill(loadConfig());
 * await awaitFullIsr(drill, ["orders"], 90_000);
 * ```
 */
export async function awaitFullIsr(
  drill: DrillContext,
  topics: readonly string[],
  timeoutMs: number,
): Promise<void> {
  const internal = (await drill.admin.listTopics(true)).filter((t) =>
    t === "__consumer_offsets" || t === "__transaction_state"
  );
  for (const topic of [...topics, ...internal]) {
    await pollUntil(`${topic} with a full ISR`, () => drill.admin.inSync(topic), timeoutMs, {
      intervalMs: 300,
      hint: "a restarted broker did not catch up; check deno task stack status",
    });
  }
}

/**
 * Brings broker `id` back whatever a drill did to it: SIGCONT (or unpause) if
 * it was frozen, a start if it is not running. Safe to call in `finally`
 * blocks on a healthy broker.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { openDrill, restoreBroker } from "./context.ts";
 * const drill = await openDrill(loadConfig());
 * await restoreBroker(drill, 2);
 * await drill.close();
 * ```
 */
export async function restoreBroker(drill: DrillContext, id: number): Promise<void> {
  const service = `kafka-${id}`;
  await drill.stack.resumeService(service).catch(() => {});
  const row = (await drill.stack.status()).find((s) => s.service === service);
  if (row && /running|starting/.test(row.state)) return;
  // Something already listens on its port (a broker started some other way): no second one.
  const { host, port } = parseHostPort(drill.config.kafka.brokers[id - 1]);
  if (await tcpOpen(host, port, 1000)) return;
  await drill.stack.startBroker(id);
}

/**
 * The leader of `partition` of `topic`, asking again for up to `timeoutMs`
 * while the metadata does not know the topic yet (it was created a moment
 * ago) or names no leader.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { openDrill, partitionLeader } from "./context.ts";
 * const drill = await openDrill(loadConfig());
 * console.log(await partitionLeader(drill, "orders", 0));
 * await drill.close();
 * ```
 */
export async function partitionLeader(
  drill: DrillContext,
  topic: string,
  partition: number,
  timeoutMs = 15_000,
): Promise<number> {
  let leader = -1;
  await pollUntil(
    `a leader for ${topic}-${partition}`,
    async () => {
      leader = (await drill.admin.describeTopic(topic)).partitions[partition]?.leader ?? -1;
      return leader >= 0;
    },
    timeoutMs,
    { intervalMs: 200 },
  );
  return leader;
}
