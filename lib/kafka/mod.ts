/**
 * Module 2's Kafka library: the client factory, a topic producer, a group
 * consumer, cluster administration, partitioners, metrics, error
 * classification, the dead-letter contract and the delivery-semantics
 * processors.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { ClusterAdmin, createKafka, TopicProducer } from "./mod.ts";
 * const kafka = createKafka(loadConfig());
 * const admin = new ClusterAdmin(kafka);
 * await admin.connect();
 * await admin.createTopic("demo", { partitions: 3 });
 * await admin.disconnect();
 * const producer = new TopicProducer(kafka, { topic: "demo" });
 * await producer.connect();
 * await producer.send([{ key: "k", value: "v" }]);
 * await producer.disconnect();
 * ```
 *
 * @module
 */
export * from "./admin.ts";
export * from "./cli.ts";
export * from "./client.ts";
export * from "./codecs.ts";
export * from "./consumer.ts";
export * from "./dlq.ts";
export * from "./errors.ts";
export * from "./metrics.ts";
export * from "./partitioners.ts";
export * from "./producer.ts";
export * from "./semantics.ts";
export * from "./varint.ts";
export * from "./verified.ts";
