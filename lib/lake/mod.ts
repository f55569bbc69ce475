/**
 * The lake: an S3/MinIO object store client, Parquet encoding with
 * apache-arrow and parquet-wasm, bronze/silver/gold object paths and tables.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { createObjectStoreClient } from "./mod.ts";
 * const client = createObjectStoreClient(loadConfig());
 * console.log(await client.bucketExists("shopstream"));
 * ```
 *
 * @module
 */
export * from "./client.ts";
export * from "./parquet.ts";
export * from "./paths.ts";
export * from "./store.ts";
export * from "./table.ts";
