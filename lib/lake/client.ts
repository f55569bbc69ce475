/**
 * The S3 (MinIO) client made from config, and the bucket the lake lives in.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { createObjectStoreClient, ensureBucket } from "./client.ts";
 * const config = loadConfig();
 * const s3 = createObjectStoreClient(config);
 * await ensureBucket(s3, config);
 * ```
 *
 * @module
 */
import { Client } from "./upstream.ts";
import type { Config } from "../config.ts";

/**
 * A MinIO client for `config.s3`: endpoint, credentials, region, path-style.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { createObjectStoreClient } from "./client.ts";
 * const s3 = createObjectStoreClient(loadConfig());
 * console.log(await s3.listBuckets());
 * ```
 */
export function createObjectStoreClient(config: Config): Client {
  const url = new URL(config.s3.endpoint);
  const useSSL = url.protocol === "https:";
  return new Client({
    endPoint: url.hostname,
    port: url.port ? Number(url.port) : useSSL ? 443 : 80,
    useSSL,
    accessKey: config.s3.accessKey,
    secretKey: config.s3.secretKey,
    region: config.s3.region,
    pathStyle: true,
  });
}

/**
 * Creates the configured bucket if it is missing; returns whether it was created.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { createObjectStoreClient, ensureBucket } from "./client.ts";
 * const config = loadConfig();
 * console.log(await ensureBucket(createObjectStoreClient(config), config)); // false if it existed
 * ```
 */
export async function ensureBucket(client: Client, config: Config): Promise<boolean> {
  if (await client.bucketExists(config.s3.bucket)) return false;
  await client.makeBucket(config.s3.bucket, config.s3.region);
  return true;
}
