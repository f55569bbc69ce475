/**
 * A topic's low and high offsets per partition that survive a leadership
 * move: kafkajs's admin answers from leaders it cached, and does not look
 * again when a leader moved.
 *
 * @module
 */
import type { Admin, Kafka } from "./upstream.ts";
import { sleep } from "../util/deadline.ts";

/** kafkajs's answer of `fetchTopicOffsets`: each partition's offset (= high), high and low. */
export type TopicOffsetRows = Awaited<ReturnType<Admin["fetchTopicOffsets"]>>;

/** Answers that mean the client's cached leaders are out of date. */
const STALE_LEADER = new Set([
  "NOT_LEADER_FOR_PARTITION",
  "LEADER_NOT_AVAILABLE",
  "UNKNOWN_TOPIC_OR_PARTITION",
]);

/**
 * `admin.fetchTopicOffsets(topic)`, asked again through a fresh admin client
 * of `kafka` while the answer says the cached leaders are stale. kafkajs's
 * admin refreshes its metadata for an unknown topic only: after leadership
 * moved (a broker restarted, a preferred-leader election) it gives up with
 * NOT_LEADER_OR_FOLLOWER until its cache ages out (5 minutes). A fresh
 * client reads the current leaders.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { createKafka } from "./client.ts";
 * import { topicOffsets } from "./topic_offsets.ts";
 * const kafka = createKafka(loadConfig());
 * const admin = kafka.admin();
 * await admin.connect();
 * console.log(await topicOffsets(kafka, admin, "shopstream.orders")); // [{ partition, offset, high, low }, ...]
 * await admin.disconnect();
 * ```
 */
export async function topicOffsets(
  kafka: Kafka,
  admin: Admin,
  topic: string,
): Promise<TopicOffsetRows> {
  const stale = (e: unknown) => STALE_LEADER.has((e as { type?: string }).type ?? "");
  try {
    return await admin.fetchTopicOffsets(topic);
  } catch (e) {
    if (!stale(e)) throw e;
  }
  for (let attempt = 1;; attempt++) {
    const fresh = kafka.admin();
    try {
      await fresh.connect();
      return await fresh.fetchTopicOffsets(topic);
    } catch (e) {
      if (attempt >= 5 || !stale(e)) throw e;
    } finally {
      await fresh.disconnect().catch(() => {});
    }
    await sleep(200 * attempt);
  }
}
