/**
 * Module 3, data contracts: Avro schemas loaded from `schemas/`, validation by
 * path, Confluent wire-format serde, one compatibility checker (shared with the
 * native registry in `./registry/`), and decoding of mixed-version topics with
 * dead letters for what cannot be read.
 *
 * @example
 * ```ts
 * import { checkCompatibility, loadCatalog } from "./mod.ts";
 * const order = (await loadCatalog()).family("order");
 * const [v1, v2] = order.versions;
 * console.log(checkCompatibility("FULL", v2.text, [{ version: 1, schema: v1.text }]).compatible);
 * ```
 *
 * @module
 */
export * from "./avro.ts";
export * from "./catalog.ts";
export * from "./compatibility.ts";
export * from "./consumer.ts";
export * from "./decimal.ts";
export * from "./decoder.ts";
export * from "./gate.ts";
export * from "./logical_types.ts";
export * from "./migration.ts";
export * from "./registry_errors.ts";
export * from "./rest.ts";
export * from "./serde.ts";
export * from "./subjects.ts";
export * from "./validate.ts";
