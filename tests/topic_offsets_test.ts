/**
 * topicOffsets (lib/kafka/topic_offsets.ts) without a broker: an admin whose
 * cached leaders are stale (kafkajs gives up with NOT_LEADER_OR_FOLLOWER) is
 * asked again through a fresh admin client; other errors pass through.
 */
import assert from "node:assert/strict";
import type { Admin, Kafka } from "kafkajs";
import { topicOffsets } from "../lib/kafka/topic_offsets.ts";

const ROWS = [{ partition: 0, offset: "5", high: "5", low: "0" }];
const stale = () =>
  Object.assign(new Error("This server is not the leader for that topic-partition"), {
    name: "KafkaJSProtocolError",
    type: "NOT_LEADER_FOR_PARTITION",
  });

/** An admin that throws `errors` in turn, then answers; and a client that makes such admins. */
function fakes(first: Error | undefined, fresh: (Error | undefined)[]) {
  let made = 0;
  const admin = (error: Error | undefined) =>
    ({
      connect: () => Promise.resolve(),
      disconnect: () => Promise.resolve(),
      fetchTopicOffsets: () => error ? Promise.reject(error) : Promise.resolve(ROWS),
    }) as unknown as Admin;
  const kafka = { admin: () => admin(fresh[made++]) } as unknown as Kafka;
  return { kafka, admin: admin(first), made: () => made };
}

Deno.test("topicOffsets", async (t) => {
  await t.step("a fresh answer is returned as it is, no other client made", async () => {
    const f = fakes(undefined, []);
    assert.deepEqual(await topicOffsets(f.kafka, f.admin, "t"), ROWS);
    assert.equal(f.made(), 0);
  });
  await t.step("stale leaders: asked again through fresh clients until one answers", async () => {
    const f = fakes(stale(), [stale(), undefined]);
    assert.deepEqual(await topicOffsets(f.kafka, f.admin, "t"), ROWS);
    assert.equal(f.made(), 2);
  });
  await t.step("any other error passes through at once", async () => {
    const f = fakes(new Error("TOPIC_AUTHORIZATION_FAILED"), []);
    await assert.rejects(topicOffsets(f.kafka, f.admin, "t"), /AUTHORIZATION/);
    assert.equal(f.made(), 0);
  });
  await t.step("still stale after five fresh clients: the broker's answer is thrown", async () => {
    const f = fakes(stale(), [stale(), stale(), stale(), stale(), stale(), undefined]);
    await assert.rejects(topicOffsets(f.kafka, f.admin, "t"), /not the leader/);
    assert.equal(f.made(), 5);
  });
});
