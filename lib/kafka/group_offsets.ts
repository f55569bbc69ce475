/**
 * A consumer group's committed offsets, set the way Kafka's own tools set
 * them: `kafka-consumer-groups.sh --reset-offsets` (Java's
 * `Admin.alterConsumerGroupOffsets`) sends one OffsetCommit request to the
 * group's coordinator with generation -1 and no member id, which the
 * coordinator accepts only while the group has no members. kafkajs's
 * `admin.setOffsets` does it another way: it joins the group with a
 * throwaway consumer, seeks, and leaves at that consumer's first fetch,
 * about 5 s per topic (a fresh `deno task pipeline` spent 20 s on its four
 * topics).
 *
 * kafkajs has no public call for that request, so {@linkcode commitGroupOffsets}
 * reaches for the client's own cluster factory (a private symbol of
 * kafkajs's `Kafka`) and answers false when kafkajs is not that shape; the
 * caller then falls back to `setOffsets`.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { createKafka } from "./client.ts";
 * import { commitGroupOffsets } from "./group_offsets.ts";
 * const done = await commitGroupOffsets(createKafka(loadConfig()), "orders-audit", [
 *   { topic: "orders", partitions: [{ partition: 0, offset: "0" }] },
 * ]);
 * console.log(done); // true
 * ```
 *
 * @module
 */
import type { Kafka } from "./upstream.ts";

/** One topic's offsets to commit. */
export interface GroupOffsets {
  /** Topic name. */
  readonly topic: string;
  /** The offset (the next record the group reads) of each partition. */
  readonly partitions: readonly { partition: number; offset: string }[];
}

/** The part of kafkajs's internal cluster this module calls. */
interface InternalCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  findGroupCoordinator(o: { groupId: string }): Promise<{
    offsetCommit(o: {
      groupId: string;
      groupGenerationId: number;
      memberId: string;
      topics: { topic: string; partitions: { partition: number; offset: string }[] }[];
    }): Promise<unknown>;
  }>;
}

/**
 * A kafkajs cluster of `kafka`'s brokers and settings, made by the client's
 * private factory; undefined when `kafka` has none.
 */
function internalCluster(kafka: Kafka): InternalCluster | undefined {
  const symbol = Object.getOwnPropertySymbols(kafka)
    .find((s) => s.description === "private:Kafka:createCluster");
  const create = symbol && (kafka as unknown as Record<symbol, unknown>)[symbol];
  if (typeof create !== "function") return undefined;
  const cluster = create({ allowAutoTopicCreation: false }) as Partial<InternalCluster>;
  const shaped = typeof cluster.connect === "function" &&
    typeof cluster.findGroupCoordinator === "function" &&
    typeof cluster.disconnect === "function";
  return shaped ? cluster as InternalCluster : undefined;
}

/**
 * Commits `offsets` for `groupId` as an administrator does: generation -1,
 * no member id, to the group's coordinator. The group must have no members:
 * otherwise the coordinator refuses the whole request with
 * `UNKNOWN_MEMBER_ID` ("The coordinator is not aware of this member",
 * pinned in tests/kafka_admin_test.ts), which this throws as kafkajs reports
 * it. Resolves false, having sent nothing, when kafkajs is not the expected
 * shape.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { createKafka } from "./client.ts";
 * import { commitGroupOffsets } from "./group_offsets.ts";
 * await commitGroupOffsets(createKafka(loadConfig()), "lake-sink", [
 *   { topic: "shopstream.orders", partitions: [{ partition: 0, offset: "1200" }] },
 * ]);
 * ```
 */
export async function commitGroupOffsets(
  kafka: Kafka,
  groupId: string,
  offsets: readonly GroupOffsets[],
): Promise<boolean> {
  const cluster = internalCluster(kafka);
  if (!cluster) return false;
  await cluster.connect();
  try {
    const coordinator = await cluster.findGroupCoordinator({ groupId });
    await coordinator.offsetCommit({
      groupId,
      groupGenerationId: -1,
      memberId: "",
      topics: offsets.map((t) => ({
        topic: t.topic,
        partitions: t.partitions.map((p) => ({ partition: p.partition, offset: p.offset })),
      })),
    });
    return true;
  } finally {
    await cluster.disconnect();
  }
}
