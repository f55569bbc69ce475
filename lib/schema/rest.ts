/**
 * A small client for the Schema Registry REST API (Confluent's, or the native
 * one): the calls the `schemas` task, the compatibility gate and the notebooks
 * need, with the registry's `error_code` kept on every failure.
 *
 * @example
 * ```ts
 * import { RegistryClient } from "./rest.ts";
 * const registry = new RegistryClient("http://127.0.0.1:8081");
 * console.log(await registry.subjects());
 * ```
 *
 * @module
 */
import type { CompatibilityLevel } from "./compatibility.ts";

/**
 * A non-2xx answer: HTTP status, the registry's `error_code` and message.
 *
 * @example
 * ```ts
 * import { RegistryHttpError } from "./rest.ts";
 * const e = new RegistryHttpError("GET", "/subjects/x/versions", 404, 40401, "Subject 'x' not found.");
 * console.log(e.message);
 * ```
 */
export class RegistryHttpError extends Error {
  /** The request, the HTTP status, the registry's `error_code` (when it sent one) and message. */
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly errorCode: number | undefined,
    readonly detail: string,
  ) {
    super(
      `${method} ${path}: HTTP ${status}${
        errorCode === undefined ? "" : ` error_code ${errorCode}`
      }: ${detail}`,
    );
    this.name = "RegistryHttpError";
  }
}

/** A registered schema version. */
export interface SubjectVersion {
  /** Subject name. */
  subject: string;
  /** Version number in the subject. */
  version: number;
  /** Global schema id. */
  id: number;
  /** The schema text. */
  schema: string;
  /** `AVRO` when absent. */
  schemaType?: string;
}

/** The raw answer of one call, for conformance tests. */
export interface RawResponse {
  /** HTTP status. */
  status: number;
  /** The parsed JSON body; undefined when it is empty or not JSON. */
  // deno-lint-ignore no-explicit-any
  body: any;
  /** The raw body text. */
  text: string;
}

const CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";

/**
 * The REST client. Every method throws {@linkcode RegistryHttpError} on a non-2xx answer.
 *
 * @example
 * ```ts
 * import { RegistryClient } from "./rest.ts";
 * const r = new RegistryClient("http://127.0.0.1:8081");
 * const { id } = await r.register("demo-value", '{"type":"record","name":"D","fields":[]}');
 * console.log(id);
 * ```
 */
export class RegistryClient {
  /** The registry's base URL, without a trailing slash. */
  readonly url: string;

  /** A client for the registry at `url`; each request gives up after `timeoutMs`. */
  constructor(url: string, readonly timeoutMs = 10_000) {
    this.url = url.replace(/\/+$/, "");
  }

  /**
   * Any call, without throwing: status, parsed body and text.
   *
   * @example
   * ```ts
   * import { RegistryClient } from "./rest.ts";
   * const r = await new RegistryClient("http://127.0.0.1:8081").raw("GET", "/subjects/none/versions");
   * console.log(r.status, r.body.error_code); // 404 40401
   * ```
   */
  async raw(method: string, path: string, body?: unknown): Promise<RawResponse> {
    let res: Response;
    try {
      res = await fetch(`${this.url}${path}`, {
        method,
        headers: body === undefined ? {} : { "content-type": CONTENT_TYPE },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (e) {
      throw new Error(
        `Schema Registry at ${this.url} did not answer ${method} ${path} ` +
          `(${(e as Error).message}). Start the stack with \`deno task stack up\`.`,
        { cause: e },
      );
    }
    const text = await res.text();
    let parsed: unknown = undefined;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: res.status, body: parsed, text };
  }

  async #call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const r = await this.raw(method, path, body);
    if (r.status < 200 || r.status > 299) {
      throw new RegistryHttpError(
        method,
        path,
        r.status,
        typeof r.body?.error_code === "number" ? r.body.error_code : undefined,
        typeof r.body?.message === "string" ? r.body.message : r.text.slice(0, 500),
      );
    }
    return r.body as T;
  }

  /** Every live subject. */
  subjects(): Promise<string[]> {
    return this.#call("GET", "/subjects");
  }

  /** The live version numbers of `subject` (40401 when unknown). */
  versions(subject: string): Promise<number[]> {
    return this.#call("GET", `/subjects/${encodeURIComponent(subject)}/versions`);
  }

  /** One version (a number or `latest`). */
  version(subject: string, version: number | "latest"): Promise<SubjectVersion> {
    return this.#call("GET", `/subjects/${encodeURIComponent(subject)}/versions/${version}`);
  }

  /** Every live version of `subject`, oldest first; empty when the subject does not exist. */
  async history(subject: string): Promise<SubjectVersion[]> {
    let numbers: number[];
    try {
      numbers = await this.versions(subject);
    } catch (e) {
      if (e instanceof RegistryHttpError && e.errorCode === 40401) return [];
      throw e;
    }
    return await Promise.all(numbers.map((n) => this.version(subject, n)));
  }

  /** Registers (or finds) `schema` under `subject`; 409 when it breaks the level. */
  register(subject: string, schema: string): Promise<{ id: number }> {
    return this.#call("POST", `/subjects/${encodeURIComponent(subject)}/versions`, { schema });
  }

  /** The level that applies to `subject` (its own, else the global one). */
  async compatibility(subject: string): Promise<CompatibilityLevel> {
    const r = await this.#call<{ compatibilityLevel: CompatibilityLevel }>(
      "GET",
      `/config/${encodeURIComponent(subject)}?defaultToGlobal=true`,
    );
    return r.compatibilityLevel;
  }

  /** Sets `subject`'s own level. */
  setCompatibility(subject: string, level: CompatibilityLevel): Promise<unknown> {
    return this.#call("PUT", `/config/${encodeURIComponent(subject)}`, { compatibility: level });
  }

  /**
   * Asks the registry whether `schema` may join `subject` under its level (against
   * every version the level looks at); `messages` says why not.
   */
  testCompatibility(
    subject: string,
    schema: string,
  ): Promise<{ is_compatible: boolean; messages?: string[] }> {
    return this.#call(
      "POST",
      `/compatibility/subjects/${encodeURIComponent(subject)}/versions?verbose=true`,
      { schema },
    );
  }

  /**
   * Soft then hard delete of `subject`, and of its own compatibility level, so
   * nothing of it is left; a missing subject or level is fine.
   */
  async deleteSubject(subject: string): Promise<void> {
    const name = encodeURIComponent(subject);
    for (
      const path of [`/subjects/${name}`, `/subjects/${name}?permanent=true`, `/config/${name}`]
    ) {
      const r = await this.raw("DELETE", path);
      if (r.status !== 200 && r.status !== 404) {
        throw new RegistryHttpError("DELETE", path, r.status, r.body?.error_code, r.text);
      }
    }
  }
}
