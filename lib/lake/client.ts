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
import http from "node:http";
import https from "node:https";
import { Client } from "./upstream.ts";
import type { Config } from "../config.ts";

/**
 * How long a request to the object store may go without a byte in either
 * direction before it is abandoned, ms. MinIO on the same machine answers in
 * milliseconds; a process that answers nothing for this long (frozen, or a
 * black-holed connection) is an outage, not a slow request.
 */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

/** Options of {@linkcode createObjectStoreClient}. */
export interface ObjectStoreClientOptions {
  /**
   * Idle bound of one request, ms (default {@linkcode DEFAULT_REQUEST_TIMEOUT_MS}):
   * no byte sent or received for this long ends it with an error whose code is
   * `ETIMEDOUT`. A long upload that keeps moving is not cut.
   */
  requestTimeoutMs?: number;
}

/**
 * A request of the object store client that outlived its idle bound.
 *
 * @example
 * ```ts
 * import { ObjectStoreTimeoutError } from "./client.ts";
 * console.log(new ObjectStoreTimeoutError("127.0.0.1:9000", 5000).code); // "ETIMEDOUT"
 * ```
 */
export class ObjectStoreTimeoutError extends Error {
  /** Node's error code for a timeout. */
  readonly code = "ETIMEDOUT";
  /** Builds the error and its message. */
  constructor(readonly host: string, readonly timeoutMs: number) {
    super(`${host} sent nothing for ${timeoutMs} ms (request abandoned)`);
    this.name = "ObjectStoreTimeoutError";
  }
}

/**
 * A MinIO client for `config.s3`: endpoint, credentials, region, path-style,
 * and an idle bound on every request (see {@linkcode ObjectStoreClientOptions}):
 * without one, a frozen MinIO holds a call forever.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { createObjectStoreClient } from "./client.ts";
 * const s3 = createObjectStoreClient(loadConfig(), { requestTimeoutMs: 5000 });
 * console.log(await s3.listBuckets());
 * ```
 */
export function createObjectStoreClient(
  config: Config,
  options: ObjectStoreClientOptions = {},
): Client {
  const url = new URL(config.s3.endpoint);
  const useSSL = url.protocol === "https:";
  const timeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const base = useSSL ? https : http;
  // The client makes every request through `transport.request(options, callback)`.
  const request = (opt: http.RequestOptions, callback?: (res: http.IncomingMessage) => void) => {
    const req = base.request(opt, callback);
    req.setTimeout(timeoutMs, () => req.destroy(new ObjectStoreTimeoutError(url.host, timeoutMs)));
    return req;
  };
  const transport = { request } as unknown as Pick<typeof http, "request">;
  // One connection per request: Deno's node:http retries a request whose reused keep-alive
  // socket fails (our timeout included) on a fresh socket that has no timeout, and that
  // retry then hangs on a frozen MinIO for good. A local connection costs well under 1 ms.
  const transportAgent = new base.Agent({ keepAlive: false });
  return new Client({
    endPoint: url.hostname,
    port: url.port ? Number(url.port) : useSSL ? 443 : 80,
    useSSL,
    accessKey: config.s3.accessKey,
    secretKey: config.s3.secretKey,
    region: config.s3.region,
    pathStyle: true,
    transport,
    transportAgent,
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
