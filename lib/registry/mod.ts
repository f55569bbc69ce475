/**
 * The native, Confluent-compatible Schema Registry (AVRO only) that native
 * mode runs in place of Confluent's server. Its state lives only in the
 * compacted `_schemas` topic, in Confluent's record format, so Confluent's own
 * server can take over the same cluster.
 *
 * - {@linkcode startRegistry}: open the store and serve the REST API.
 * - {@linkcode RegistryService}: the operations, without HTTP.
 * - {@linkcode SchemaStore}: the Kafka-backed state.
 * - {@linkcode checkCompatibility}, {@linkcode parseAvroSchema}: the pure parts.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { startRegistry } from "./mod.ts";
 * const registry = await startRegistry({ config: loadConfig() }); // port of SCHEMA_REGISTRY_URL
 * console.log(`schema registry listening on ${registry.url}`);
 * // ... later
 * await registry.close();
 * ```
 *
 * @module
 */
export * from "./records.ts";
export * from "./server.ts";
export * from "./service.ts";
export * from "./state.ts";
export * from "./store.ts";
