/**
 * The registry's HTTP API (Confluent Schema Registry's REST routes, AVRO only)
 * on `Deno.serve`, and {@linkcode startRegistry}, which opens the Kafka-backed
 * store and serves it.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { startRegistry } from "./server.ts";
 * const registry = await startRegistry({ config: loadConfig(), port: 0 });
 * console.log(await (await fetch(`${registry.url}/subjects`)).json());
 * await registry.close();
 * ```
 *
 * @module
 */
import type { Kafka } from "../kafka/upstream.ts";
import type { Config } from "../config.ts";
import { RegistryError } from "../schema/registry_errors.ts";
import { RegistryService, type SchemaRequest } from "./service.ts";
import { SchemaStore } from "./store.ts";

/**
 * The content type Confluent answers with (and this registry too).
 *
 * @example
 * ```ts
 * import { CONTENT_TYPE } from "./server.ts";
 * const headers = { "content-type": CONTENT_TYPE }; // for POST bodies
 * ```
 */
export const CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";

/**
 * The largest request body the registry reads, in bytes (16 MiB), unless
 * {@linkcode StartRegistryOptions.maxBodyBytes} says otherwise. Confluent's
 * server accepts more, but no Avro schema a course needs comes near it, and
 * a bound keeps one request from filling the registry's memory; a larger
 * body is answered 413 with `{"error_code": 413, "message": ...}`.
 *
 * @example
 * ```ts
 * import { MAX_BODY_BYTES } from "./server.ts";
 * console.log(MAX_BODY_BYTES / 1024 / 1024); // 16
 * ```
 */
export const MAX_BODY_BYTES = 16 * 1024 * 1024;

/**
 * The request body as text, read up to `limit` bytes: a `content-length`
 * above it, or a body that grows past it, throws 413 (the rest is not read).
 *
 * @example
 * ```ts
 * import { readBodyText } from "./server.ts";
 * const request = new Request("http://registry/", { method: "POST", body: "{}" });
 * console.log(await readBodyText(request, 1024)); // {}
 * ```
 */
export async function readBodyText(request: Request, limit: number): Promise<string> {
  const declared = Number(request.headers.get("content-length") ?? NaN);
  if (declared > limit) {
    await request.body?.cancel().catch(() => {});
    throw RegistryError.payloadTooLarge(limit);
  }
  if (!request.body) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw RegistryError.payloadTooLarge(limit);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.byteLength;
  }
  return new TextDecoder().decode(bytes);
}

type Params = Record<string, string>;
type Handler = (p: Params, q: URLSearchParams, body: () => Promise<unknown>) => unknown;

interface Route {
  readonly parts: readonly string[];
  readonly methods: Readonly<Record<string, Handler>>;
}

/** A raw string body (the `/schema` routes answer the schema itself, not JSON-quoted). */
class Raw {
  constructor(readonly text: string) {}
}

/** Jersey's boolean query parameters: "true" in any case is true, anything else false. */
const flag = (q: URLSearchParams, name: string) => q.get(name)?.toLowerCase() === "true";

function object(body: unknown): Record<string, unknown> {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw RegistryError.unprocessable("The request body must be a JSON object");
  }
  return body as Record<string, unknown>;
}

function routes(svc: RegistryService): Route[] {
  const schemaBody = async (body: () => Promise<unknown>) => object(await body()) as SchemaRequest;
  const table: [string, Record<string, Handler>][] = [
    ["/", { GET: () => ({}), POST: () => ({}) }],
    ["/schemas/types", { GET: () => ["AVRO"] }],
    ["/contexts", { GET: () => ["."] }],
    ["/subjects", { GET: (_p, q) => svc.listSubjects(flag(q, "deleted")) }],
    ["/subjects/:subject", {
      POST: async (p, q, b) => svc.lookup(p.subject, await schemaBody(b), flag(q, "deleted")),
      DELETE: (p, q) => svc.deleteSubject(p.subject, flag(q, "permanent")),
    }],
    ["/subjects/:subject/versions", {
      GET: (p, q) => svc.listVersions(p.subject, flag(q, "deleted")),
      POST: async (p, _q, b) => svc.register(p.subject, await schemaBody(b)),
    }],
    ["/subjects/:subject/versions/:version", {
      GET: (p, q) => svc.getVersion(p.subject, p.version, flag(q, "deleted")),
      DELETE: (p, q) => svc.deleteVersion(p.subject, p.version, flag(q, "permanent")),
    }],
    ["/subjects/:subject/versions/:version/schema", {
      GET: (p, q) => new Raw(svc.getVersion(p.subject, p.version, flag(q, "deleted")).schema),
    }],
    ["/subjects/:subject/versions/:version/referencedby", {
      GET: (p) => svc.referencedBy(p.subject, p.version),
    }],
    ["/schemas/ids/:id", { GET: (p) => svc.getSchemaById(p.id) }],
    ["/schemas/ids/:id/schema", { GET: (p) => new Raw(svc.getSchemaById(p.id).schema) }],
    ["/schemas/ids/:id/subjects", { GET: (p, q) => svc.subjectsOfId(p.id, flag(q, "deleted")) }],
    ["/schemas/ids/:id/versions", { GET: (p, q) => svc.versionsOfId(p.id, flag(q, "deleted")) }],
    ["/config", {
      GET: () => svc.getConfig(null, true),
      PUT: async (_p, _q, b) => svc.setConfig(null, object(await b())),
      DELETE: () => svc.deleteConfig(null),
    }],
    ["/config/:subject", {
      GET: (p, q) => svc.getConfig(p.subject, flag(q, "defaultToGlobal")),
      PUT: async (p, _q, b) => svc.setConfig(p.subject, object(await b())),
      DELETE: (p) => svc.deleteConfig(p.subject),
    }],
    ["/mode", { GET: () => svc.getMode(null, true) }],
    ["/mode/:subject", { GET: (p, q) => svc.getMode(p.subject, flag(q, "defaultToGlobal")) }],
    ["/compatibility/subjects/:subject/versions", {
      POST: async (p, q, b) =>
        svc.testCompatibility(p.subject, undefined, await schemaBody(b), flag(q, "verbose")),
    }],
    ["/compatibility/subjects/:subject/versions/:version", {
      POST: async (p, q, b) =>
        svc.testCompatibility(p.subject, p.version, await schemaBody(b), flag(q, "verbose")),
    }],
  ];
  return table.map(([path, methods]) => ({
    parts: path.split("/").filter((s) => s !== ""),
    methods,
  }));
}

function match(route: Route, segments: string[]): Params | undefined {
  if (route.parts.length !== segments.length) return undefined;
  const params: Params = {};
  for (let i = 0; i < segments.length; i++) {
    const part = route.parts[i];
    if (part.startsWith(":")) params[part.slice(1)] = segments[i];
    else if (part !== segments[i]) return undefined;
  }
  return params;
}

function respond(status: number, body: unknown): Response {
  const text = body instanceof Raw ? body.text : JSON.stringify(body);
  return new Response(text, { status, headers: { "content-type": CONTENT_TYPE } });
}

/**
 * The request handler: routes a request to the service and renders the answer
 * or the error as Confluent does. Usable with any `Deno.serve`.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { createHandler, RegistryService, SchemaStore } from "./mod.ts";
 * const handler = createHandler(new RegistryService(await SchemaStore.open({ config: loadConfig() })));
 * const res = await handler(new Request("http://registry/schemas/types"));
 * console.log(await res.json()); // ["AVRO"]
 * ```
 */
export function createHandler(
  service: RegistryService,
  log: (message: string) => void = (m) => console.error(m),
  options: { maxBodyBytes?: number } = {},
): (request: Request) => Promise<Response> {
  const maxBodyBytes = options.maxBodyBytes ?? MAX_BODY_BYTES;
  const table = routes(service);
  return async (request) => {
    const url = new URL(request.url);
    try {
      let segments: string[];
      try {
        segments = url.pathname.split("/").filter((s) => s !== "").map(decodeURIComponent);
      } catch {
        throw RegistryError.routeNotFound();
      }
      let params: Params | undefined;
      const route = table.find((r) => (params = match(r, segments)) !== undefined);
      if (!route || !params) throw RegistryError.routeNotFound();
      const handler = route.methods[request.method];
      if (!handler) throw RegistryError.methodNotAllowed();
      const body = async () => {
        const text = await readBodyText(request, maxBodyBytes);
        if (text.trim() === "") return null;
        try {
          return JSON.parse(text);
        } catch (e) {
          throw RegistryError.badRequest(`The request body is not JSON: ${(e as Error).message}`);
        }
      };
      return respond(200, await handler(params, url.searchParams, body));
    } catch (e) {
      if (e instanceof RegistryError) return respond(e.status, e.toJSON());
      log(`schema registry: ${request.method} ${url.pathname} failed: ${(e as Error)?.stack ?? e}`);
      const error = RegistryError.storeError(`Internal error: ${(e as Error)?.message ?? e}`);
      return respond(error.status, error.toJSON());
    }
  };
}

/** Options for {@linkcode startRegistry}. */
export interface StartRegistryOptions {
  /** Kafka settings and the default URL and topic. */
  config: Config;
  /** Port to listen on; default the port of `config.schemaRegistry.url`; 0 picks a free one. */
  port?: number;
  /** Interface to bind; default the host of `config.schemaRegistry.url`. */
  hostname?: string;
  /** State topic; default `config.schemaRegistry.topic` (`_schemas`). */
  topic?: string;
  /** How long to wait for Kafka at startup; default 60 s. */
  startTimeoutMs?: number;
  /** Where warnings go; default `console.error`. */
  log?: (message: string) => void;
  /** A kafkajs client to use instead of one made from `config` (for tests). */
  kafka?: Kafka;
  /** Largest request body read, in bytes; default {@linkcode MAX_BODY_BYTES} (16 MiB). */
  maxBodyBytes?: number;
  /**
   * How long one `_schemas` write may take, waiting for an earlier one included,
   * before the request is answered 500/50002; default 10 s.
   */
  writeTimeoutMs?: number;
}

/** A running registry from {@linkcode startRegistry}. */
export interface RunningRegistry {
  /** Base URL, e.g. `http://127.0.0.1:8081`. */
  readonly url: string;
  /** Host it listens on. */
  readonly hostname: string;
  /** Port it listens on. */
  readonly port: number;
  /** The `_schemas` topic it keeps its state in. */
  readonly topic: string;
  /** The operations, for in-process use. */
  readonly service: RegistryService;
  /** Stop serving HTTP, then disconnect from Kafka. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * Host and port named by `config.schemaRegistry.url` (where the registry listens by default).
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { registryAddress } from "./server.ts";
 * console.log(registryAddress(loadConfig())); // { hostname: "127.0.0.1", port: 8081 }
 * ```
 */
export function registryAddress(config: Config): { hostname: string; port: number } {
  const url = new URL(config.schemaRegistry.url);
  const port = url.port ? Number(url.port) : url.protocol === "https:" ? 443 : 80;
  return { hostname: url.hostname.replace(/^\[|\]$/g, ""), port };
}

/**
 * Open the store (create or check the topic, read it to its end), then serve
 * the REST API. Resolves once requests are answered from the current state.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { startRegistry } from "./server.ts";
 * const registry = await startRegistry({ config: loadConfig(), port: 0, topic: "_schemas_demo" });
 * const res = await fetch(`${registry.url}/subjects/demo-value/versions`, {
 *   method: "POST",
 *   headers: { "content-type": "application/vnd.schemaregistry.v1+json" },
 *   body: JSON.stringify({ schema: '"string"' }),
 * });
 * console.log(await res.json()); // { id: 1 }
 * await registry.close();
 * ```
 */
export async function startRegistry(options: StartRegistryOptions): Promise<RunningRegistry> {
  const { config } = options;
  const log = options.log ?? ((m: string) => console.error(m));
  const address = registryAddress(config);
  const hostname = options.hostname ?? address.hostname;
  const store = await SchemaStore.open({
    config,
    topic: options.topic,
    startTimeoutMs: options.startTimeoutMs,
    log,
    kafka: options.kafka,
    writeTimeoutMs: options.writeTimeoutMs,
  });
  const service = new RegistryService(store);
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve(
      { port: options.port ?? address.port, hostname, onListen: () => {} },
      createHandler(service, log, { maxBodyBytes: options.maxBodyBytes }),
    );
  } catch (e) {
    await store.close();
    throw e;
  }
  const port = server.addr.port;
  const host = hostname === "0.0.0.0" || hostname === "::" ? "127.0.0.1" : hostname;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    hostname,
    port,
    topic: store.topic,
    service,
    close: () =>
      closing ??= (async () => {
        await server.shutdown();
        await store.close();
      })(),
  };
}
