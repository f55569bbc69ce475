/**
 * The MinIO client and Apache Arrow classes that the library's public
 * signatures mention, imported from here rather than from `minio` or
 * `apache-arrow` directly.
 *
 * They are those packages' own API and documented there. `deno doc --lint`
 * wants every type a public signature mentions to be exported and documented
 * by this library, and re-exporting the packages' declarations would make it
 * lint their own files. The `@internal` tag marks this module as that
 * boundary: a type reached through it counts as documented upstream. No
 * `mod.ts` re-exports it.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { createObjectStoreClient } from "./client.ts";
 * import { arrowSchema } from "./table.ts";
 * import type { Client, Schema } from "./upstream.ts";
 * const s3: Client = createObjectStoreClient(loadConfig());
 * const schema: Schema = arrowSchema([{ name: "n", type: "int32" }]);
 * ```
 *
 * @internal
 * @module
 */
export { Client } from "minio";
export { type DataType, Schema } from "apache-arrow";
