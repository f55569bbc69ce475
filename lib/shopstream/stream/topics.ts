/**
 * The stream processor's topics, named after a run's topics
 * (`shopstream.orders` -> `shopstream.stream.windows`, ...): the results
 * (compacted, keyed by window and region), the late events, the join's
 * outcomes, and the join's state changelog (compacted). Created with the
 * cluster's replication factor and `min.insync.replicas`.
 *
 * @example
 * ```ts
 * import { streamTopicsFor } from "./topics.ts";
 * import { topicsUnder } from "../topics.ts";
 * console.log(streamTopicsFor(topicsUnder("demo")).windows); // demo.stream.windows
 * ```
 *
 * @module
 */
import type { Config } from "../../config.ts";
import type { ClusterAdmin } from "../../kafka/admin.ts";
import { pollUntil } from "../../util/probe.ts";
import type { ShopTopics } from "../topics.ts";

/** The stream processor's output topics. */
export interface StreamTopics {
  /** Window results: updates and finals, compacted, keyed `<window start>|<region>`. */
  windows: string;
  /** Events that arrived below the watermark, keyed by order id. */
  late: string;
  /** Join outcomes (paid, unpaid), keyed by order id. */
  joined: string;
  /** The join's state changelog, compacted. */
  state: string;
}

/**
 * The stream topics of a run: `<base>.stream.<name>`, where `<base>` is the
 * orders topic without its `.orders` suffix.
 *
 * @example
 * ```ts
 * import { streamTopicsFor } from "./topics.ts";
 * import { loadConfig } from "../../config.ts";
 * console.log(streamTopicsFor(loadConfig().topics).late); // shopstream.stream.late
 * ```
 */
export function streamTopicsFor(topics: Pick<ShopTopics, "orders">): StreamTopics {
  const base = topics.orders.endsWith(".orders") ? topics.orders.slice(0, -7) : topics.orders;
  return {
    windows: `${base}.stream.windows`,
    late: `${base}.stream.late`,
    joined: `${base}.stream.joined`,
    state: `${base}.stream.state`,
  };
}

/**
 * The stream processor's consumer group for a run's topics (also the prefix
 * of its transactional id).
 *
 * @example
 * ```ts
 * import { streamGroupFor } from "./topics.ts";
 * console.log(streamGroupFor({ orders: "shopstream.orders" })); // shopstream.stream
 * ```
 */
export function streamGroupFor(topics: Pick<ShopTopics, "orders">): string {
  return streamTopicsFor(topics).windows.replace(/\.windows$/, "");
}

/**
 * Creates the stream topics that are missing (3 partitions each; windows and
 * state compacted); returns the names created.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../../config.ts";
 * import { ClusterAdmin, createKafka } from "../../kafka/mod.ts";
 * import { ensureStreamTopics, streamTopicsFor } from "./topics.ts";
 * const config = loadConfig();
 * const admin = new ClusterAdmin(createKafka(config));
 * await admin.connect();
 * console.log(await ensureStreamTopics(admin, config, streamTopicsFor(config.topics)));
 * await admin.disconnect();
 * ```
 */
export async function ensureStreamTopics(
  admin: ClusterAdmin,
  config: Config,
  topics: StreamTopics,
  partitions = 3,
): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  const created: string[] = [];
  const isr = { "min.insync.replicas": String(config.kafka.minInsyncReplicas) };
  for (
    const [name, compacted] of [
      [topics.windows, true],
      [topics.late, false],
      [topics.joined, false],
      [topics.state, true],
    ] as const
  ) {
    if (existing.has(name)) continue;
    const configs = compacted ? { ...isr, "cleanup.policy": "compact" } : isr;
    const made = await admin.createTopic(name, {
      partitions,
      replicationFactor: config.kafka.replicationFactor,
      configs,
    });
    if (made) created.push(name);
  }
  return created;
}

/**
 * Deletes the stream topics that exist and waits until the cluster no longer
 * lists them (a fresh run recreates them empty).
 *
 * @example
 * ```ts
 * import { loadConfig } from "../../config.ts";
 * import { ClusterAdmin, createKafka } from "../../kafka/mod.ts";
 * import { deleteStreamTopics, streamTopicsFor } from "./topics.ts";
 * const config = loadConfig();
 * const admin = new ClusterAdmin(createKafka(config));
 * await admin.connect();
 * await deleteStreamTopics(admin, streamTopicsFor(config.topics));
 * await admin.disconnect();
 * ```
 */
export async function deleteStreamTopics(admin: ClusterAdmin, topics: StreamTopics): Promise<void> {
  const names = Object.values(topics);
  const existing = new Set(await admin.listTopics());
  const present = names.filter((n) => existing.has(n));
  if (present.length === 0) return;
  await admin.deleteTopics(present);
  await pollUntil(`${present.join(", ")} deleted`, async () => {
    const now = new Set(await admin.listTopics());
    return present.every((n) => !now.has(n));
  }, 30_000);
}
