/**
 * The kafkajs classes, enums and types that the library's public signatures
 * mention, imported from here rather than from `kafkajs` directly.
 *
 * They are kafkajs's own API and kafkajs documents them. `deno doc --lint`
 * wants every type a public signature mentions to be exported and documented
 * by this library, and re-exporting kafkajs's declarations would make it lint
 * kafkajs's own files. The `@internal` tag marks this module as that
 * boundary: a type reached through it counts as documented upstream. No
 * `mod.ts` re-exports it.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { createKafka } from "./client.ts";
 * import type { Admin, Kafka } from "./upstream.ts";
 * const kafka: Kafka = createKafka(loadConfig());
 * const admin: Admin = kafka.admin();
 * ```
 *
 * @internal
 * @module
 */
export { CompressionTypes, Kafka, logLevel } from "kafkajs";
export type {
  Admin,
  Consumer,
  EachBatchPayload,
  EachMessagePayload,
  IHeaders,
  LogEntry,
  Message,
  Producer,
  ProducerConfig,
  ProducerRecord,
  RecordMetadata,
  Sender,
} from "kafkajs";
