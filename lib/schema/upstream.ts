/**
 * The Confluent Schema Registry client and avsc's logical-type base class,
 * which the library's public signatures mention, imported from here rather
 * than from their packages directly.
 *
 * They are those packages' own API and documented there. `deno doc --lint`
 * wants every type a public signature mentions to be exported and documented
 * by this library, and re-exporting the packages' declarations would make it
 * lint the packages' own files. The `@internal` tag marks this module as that
 * boundary: a type reached through it counts as documented upstream. No
 * `mod.ts` re-exports it.
 *
 * @example
 * ```ts
 * import { AvroSerde } from "./serde.ts";
 * import type { SchemaRegistry } from "./upstream.ts";
 * const registry: SchemaRegistry = new AvroSerde({ url: "http://127.0.0.1:8081" }).registry;
 * ```
 *
 * @internal
 * @module
 */
import avsc from "avsc";

export { SchemaRegistry } from "@kafkajs/confluent-schema-registry";

/**
 * avsc's `LogicalType` base class. It is a plain constructor whose typings do
 * not model subclassing, hence `any`.
 */
// deno-lint-ignore no-explicit-any
export const LogicalType: any = avsc.types.LogicalType;
