/**
 * A small object store over the MinIO client for one bucket: put, get, list,
 * remove, with bytes as `Uint8Array` both ways (the client itself wants a
 * Node `Buffer` to upload and hands back a stream to download).
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { LakeStore } from "./store.ts";
 * const store = LakeStore.fromConfig(loadConfig());
 * await store.ensureBucket();
 * await store.put("scratch/hello.txt", new TextEncoder().encode("hi"));
 * console.log(new TextDecoder().decode(await store.get("scratch/hello.txt"))); // hi
 * console.log((await store.list("scratch/")).map((o) => o.key)); // ["scratch/hello.txt"]
 * await store.removeAll("scratch/");
 * ```
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import type { Client } from "./upstream.ts";
import type { Config } from "../config.ts";
import { createObjectStoreClient, type ObjectStoreClientOptions } from "./client.ts";

/** One listed object. */
export interface StoredObject {
  /** The full key, e.g. `bronze/t/region=EU/.../p000-...parquet`. */
  readonly key: string;
  /** Size in bytes. */
  readonly size: number;
  /** The object's ETag (the MD5 of its bytes for a single-part upload). */
  readonly etag: string;
  /** When the object was last written. */
  readonly lastModified: Date;
}

/** How {@linkcode LakeStore.list} walks the keys below a prefix. */
export interface ListOptions {
  /** Every key below the prefix (default), or only the next level (`false`). */
  readonly recursive?: boolean;
}

/**
 * S3 error codes that say "try again later": the server is busy, starting,
 * or lost a quorum. Every other error the server answers with (AccessDenied,
 * InvalidAccessKeyId, SignatureDoesNotMatch, NoSuchBucket, NoSuchKey, ...)
 * stays the same however often it is retried.
 */
export const TRANSIENT_S3_CODES: ReadonlySet<string> = new Set([
  "InternalError",
  "ServiceUnavailable",
  "SlowDown",
  "RequestTimeout",
  "OperationAborted",
  "XMinioServerNotInitialized",
  "XMinioReadQuorum",
  "XMinioWriteQuorum",
  "XMinioStorageFull",
]);

/** Codes of network failures: nothing (or nothing complete) came back. */
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
  "EAI_AGAIN",
  "ENOTFOUND",
  "UND_ERR_SOCKET",
]);

/**
 * Whether retrying a failed object store call can help: `transient` for
 * network failures (refused, reset, timed out: MinIO down or frozen) and the
 * server's "busy" answers ({@linkcode TRANSIENT_S3_CODES}, and the client's
 * own "retryable HTTP status" after its retry); `permanent` for every other
 * answer of the server (403 AccessDenied, 404 NoSuchBucket, ...) and for
 * errors raised before a request was sent (an invalid bucket name).
 *
 * @example
 * ```ts
 * import { storeErrorKind } from "./store.ts";
 * console.log(storeErrorKind(Object.assign(new Error("x"), { code: "ECONNREFUSED" }))); // transient
 * console.log(storeErrorKind(Object.assign(new Error("x"), { name: "S3Error", code: "AccessDenied" }))); // permanent
 * ```
 */
export function storeErrorKind(error: unknown): "transient" | "permanent" {
  if (error instanceof LakeStoreError) return error.transient ? "transient" : "permanent";
  const e = error as { name?: string; code?: string; message?: string; cause?: unknown } | null;
  if (!e || typeof e !== "object") return "permanent";
  if (e.name === "S3Error") return TRANSIENT_S3_CODES.has(e.code ?? "") ? "transient" : "permanent";
  if (e.code !== undefined && NETWORK_CODES.has(e.code)) return "transient";
  if (/Retryable HTTP status|socket hang up|aborted|ECONNRE/i.test(e.message ?? "")) {
    return "transient";
  }
  // Deno's own network errors (a fetch-based transport) name the failure instead.
  if (["ConnectionRefused", "ConnectionReset", "TimedOut", "Interrupted"].includes(e.name ?? "")) {
    return "transient";
  }
  return e.cause !== undefined ? storeErrorKind(e.cause) : "permanent";
}

/**
 * A failed object store call: which operation on which key, the S3 (or
 * network) code, and whether retrying can help (`transient`, see
 * {@linkcode storeErrorKind}). The original error is the `cause`.
 *
 * @example
 * ```ts
 * import { LakeStoreError } from "./store.ts";
 * const e = new LakeStoreError("put", "bronze/x", Object.assign(new Error("denied"), { name: "S3Error", code: "AccessDenied" }));
 * console.log(e.transient, e.code, e.message);
 * // false AccessDenied put bronze/x: AccessDenied: denied (permanent: not retried)
 * ```
 */
export class LakeStoreError extends Error {
  /** The S3 error code (`AccessDenied`, `NoSuchBucket`) or network code (`ECONNREFUSED`). */
  readonly code?: string;
  /** Whether a retry may succeed (MinIO down, frozen or busy). */
  readonly transient: boolean;

  /** Builds the error and its message. */
  constructor(readonly op: string, readonly key: string, cause: unknown) {
    const e = cause as { code?: string; message?: string };
    const transient = storeErrorKind(cause) === "transient";
    const text = cause instanceof Error ? cause.message : String(cause);
    super(
      `${op} ${key}: ${e?.code && !text.includes(e.code) ? `${e.code}: ` : ""}${text}` +
        (transient ? "" : " (permanent: not retried)"),
      { cause },
    );
    this.name = "LakeStoreError";
    this.code = e?.code;
    this.transient = transient;
  }
}

/**
 * The objects of one bucket. Every failed call throws a
 * {@linkcode LakeStoreError} that says whether a retry can help; a request
 * that gets no answer is abandoned after the client's idle bound (see
 * `createObjectStoreClient`), so no call waits forever on a frozen MinIO.
 *
 * @example
 * ```ts
 * import { createObjectStoreClient, type ObjectStoreClientOptions } from "./client.ts";
 * import { loadConfig } from "../config.ts";
 * import { LakeStore } from "./store.ts";
 * const config = loadConfig();
 * const store = new LakeStore(createObjectStoreClient(config), config.s3.bucket);
 * console.log(store.bucket);
 * ```
 */
export class LakeStore {
  /** A store over `bucket` through `client`. */
  constructor(readonly client: Client, readonly bucket: string) {}

  /**
   * A store for `config.s3` (endpoint, credentials, bucket).
   *
   * @example
   * ```ts
   * import { loadConfig } from "../config.ts";
   * import { LakeStore } from "./store.ts";
   * console.log(LakeStore.fromConfig(loadConfig()).bucket); // e.g. "shopstream-lake"
   * ```
   */
  static fromConfig(config: Config, options: ObjectStoreClientOptions = {}): LakeStore {
    return new LakeStore(createObjectStoreClient(config, options), config.s3.bucket);
  }

  /** Runs one client call; a failure becomes a {@linkcode LakeStoreError}. */
  async #call<T>(op: string, key: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw e instanceof LakeStoreError ? e : new LakeStoreError(op, key, e);
    }
  }

  /**
   * Creates the bucket if it is missing; true when it was created.
   *
   * @example
   * ```ts
   * import { loadConfig } from "../config.ts";
   * import { LakeStore } from "./store.ts";
   * console.log(await LakeStore.fromConfig(loadConfig()).ensureBucket()); // false when it existed
   * ```
   */
  async ensureBucket(): Promise<boolean> {
    const exists = () =>
      this.#call("bucketExists", this.bucket, () => this.client.bucketExists(this.bucket));
    if (await exists()) return false;
    try {
      await this.#call("makeBucket", this.bucket, () => this.client.makeBucket(this.bucket));
    } catch (e) {
      // Another process made it between the check and here.
      if (await exists()) return false;
      throw e;
    }
    return true;
  }

  /**
   * Writes `bytes` under `key`, replacing any object there (S3 puts are atomic:
   * readers see the old object or the new one, never a mix).
   *
   * @example
   * ```ts
   * import { loadConfig } from "../config.ts";
   * import { LakeStore } from "./store.ts";
   * await LakeStore.fromConfig(loadConfig()).put("scratch/x.bin", new Uint8Array([1, 2, 3]));
   * ```
   */
  async put(
    key: string,
    bytes: Uint8Array,
    contentType = "application/octet-stream",
  ): Promise<void> {
    const body = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    await this.#call("put", key, () =>
      this.client.putObject(this.bucket, key, body, body.length, {
        "Content-Type": contentType,
      }));
  }

  /**
   * Writes `bytes` under `key` unless the object there already holds exactly
   * these bytes (compared by MD5, which is the ETag of a single-part upload).
   * Pass the ETag from a listing to save the lookup. True when it wrote.
   *
   * @example
   * ```ts
   * import { loadConfig } from "../config.ts";
   * import { LakeStore } from "./store.ts";
   * const store = LakeStore.fromConfig(loadConfig());
   * const bytes = new TextEncoder().encode("same");
   * await store.putIfChanged("scratch/y.txt", bytes);
   * console.log(await store.putIfChanged("scratch/y.txt", bytes)); // false
   * ```
   */
  async putIfChanged(key: string, bytes: Uint8Array, knownEtag?: string): Promise<boolean> {
    const md5 = createHash("md5").update(bytes).digest("hex");
    let etag = knownEtag;
    if (etag === undefined) {
      try {
        etag = (await this.#call("stat", key, () => this.client.statObject(this.bucket, key))).etag;
      } catch (e) {
        const code = (e as { code?: string }).code;
        if (code !== "NotFound" && code !== "NoSuchKey") throw e;
      }
    }
    if (etag !== undefined && etag.replaceAll('"', "") === md5) return false;
    await this.put(key, bytes);
    return true;
  }

  /**
   * The bytes stored under `key`; throws (S3 code `NoSuchKey`) when there is none.
   *
   * @example
   * ```ts
   * import { loadConfig } from "../config.ts";
   * import { LakeStore } from "./store.ts";
   * console.log((await LakeStore.fromConfig(loadConfig()).get("scratch/x.bin")).length);
   * ```
   */
  get(key: string): Promise<Uint8Array> {
    return this.#call("get", key, () => this.#get(key));
  }

  async #get(key: string): Promise<Uint8Array> {
    const stream = await this.client.getObject(this.bucket, key);
    const chunks: Uint8Array[] = [];
    let size = 0;
    for await (const chunk of stream) {
      const bytes = typeof chunk === "string" ? new TextEncoder().encode(chunk) : chunk;
      chunks.push(bytes);
      size += bytes.length;
    }
    const out = new Uint8Array(size);
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }

  /**
   * Whether an object exists under `key`.
   *
   * @example
   * ```ts
   * import { loadConfig } from "../config.ts";
   * import { LakeStore } from "./store.ts";
   * console.log(await LakeStore.fromConfig(loadConfig()).exists("scratch/none")); // false
   * ```
   */
  async exists(key: string): Promise<boolean> {
    try {
      await this.#call("stat", key, () => this.client.statObject(this.bucket, key));
      return true;
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === "NotFound" || code === "NoSuchKey") return false;
      throw e;
    }
  }

  /**
   * The objects whose key starts with `prefix`, sorted by key: every level
   * below it, or with `recursive: false` only the objects directly below it
   * (see {@linkcode LakeStore.folders} for the sub-folders).
   *
   * @example
   * ```ts
   * import { loadConfig } from "../config.ts";
   * import { LakeStore } from "./store.ts";
   * const objects = await LakeStore.fromConfig(loadConfig()).list("bronze/shopstream.orders/");
   * console.log(objects.length);
   * ```
   */
  list(prefix: string, options: ListOptions = {}): Promise<StoredObject[]> {
    return this.#call("list", prefix, () => this.#list(prefix, options));
  }

  async #list(prefix: string, options: ListOptions): Promise<StoredObject[]> {
    const out: StoredObject[] = [];
    const stream = this.client.listObjectsV2(this.bucket, prefix, options.recursive ?? true);
    for await (const item of stream) {
      if (item.name === undefined) continue;
      out.push({
        key: item.name,
        size: item.size,
        etag: item.etag,
        lastModified: item.lastModified,
      });
    }
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /**
   * The "folders" one level below `prefix` (each ending with `/`), sorted.
   *
   * @example
   * ```ts
   * import { loadConfig } from "../config.ts";
   * import { LakeStore } from "./store.ts";
   * console.log(await LakeStore.fromConfig(loadConfig()).folders("bronze/")); // ["bronze/shopstream.orders/", ...]
   * ```
   */
  folders(prefix: string): Promise<string[]> {
    return this.#call("list", prefix, async () => {
      const out: string[] = [];
      for await (const item of this.client.listObjectsV2(this.bucket, prefix, false)) {
        if (item.prefix !== undefined) out.push(item.prefix);
      }
      return out.sort();
    });
  }

  /**
   * Deletes `key` (no error when it does not exist).
   *
   * @example
   * ```ts
   * import { loadConfig } from "../config.ts";
   * import { LakeStore } from "./store.ts";
   * await LakeStore.fromConfig(loadConfig()).remove("scratch/x.bin");
   * ```
   */
  async remove(key: string): Promise<void> {
    await this.#call("remove", key, () => this.client.removeObject(this.bucket, key));
  }

  /**
   * Deletes every object below `prefix`; returns how many there were.
   *
   * @example
   * ```ts
   * import { loadConfig } from "../config.ts";
   * import { LakeStore } from "./store.ts";
   * console.log(await LakeStore.fromConfig(loadConfig()).removeAll("scratch/"));
   * ```
   */
  async removeAll(prefix: string): Promise<number> {
    if (prefix === "") {
      throw new Error("removeAll needs a non-empty prefix (refusing to empty the bucket)");
    }
    const keys = (await this.list(prefix)).map((o) => o.key);
    for (let i = 0; i < keys.length; i += 1000) {
      const slice = keys.slice(i, i + 1000);
      await this.#call(
        "removeObjects",
        prefix,
        () => this.client.removeObjects(this.bucket, slice),
      );
    }
    return keys.length;
  }
}
