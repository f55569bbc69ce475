/**
 * An HTTP endpoint for a process's metrics: `GET /metrics` answers the
 * registry's text exposition (scrape hooks run first), `GET /health`
 * answers JSON from a health function (200 when ok, 503 when not).
 * Lifecycle: `start()`, then `stop()`.
 *
 * @example
 * ```ts
 * import { MetricsRegistry } from "./prometheus.ts";
 * import { MetricsServer } from "./metrics_server.ts";
 * const registry = new MetricsRegistry();
 * registry.counter({ name: "demo_total", help: "Demo." }).inc();
 * const server = new MetricsServer(registry, { port: 0 });
 * await server.start();
 * console.log(await (await fetch(`${server.url}/metrics`)).text());
 * await server.stop();
 * ```
 *
 * @module
 */
import { CONTENT_TYPE, type MetricsRegistry } from "./prometheus.ts";

/** What `/health` reports: ok or not, and named details. */
export interface HealthStatus {
  /** false makes `/health` answer 503. */
  ok: boolean;
  /** Free-form details, e.g. `{ kafka: "connected", buffered: 120 }`. */
  details?: Record<string, unknown>;
}

/** Options of {@linkcode MetricsServer}. */
export interface MetricsServerOptions {
  /** TCP port; 0 picks a free one (see {@linkcode MetricsServer.port}). */
  port: number;
  /** Interface to bind; default 127.0.0.1. */
  hostname?: string;
  /** The health check behind `/health`; default: ok while the server runs. */
  health?: () => HealthStatus | Promise<HealthStatus>;
}

/**
 * Serves `/metrics` and `/health` with `Deno.serve`.
 *
 * @example
 * ```ts
 * import { MetricsRegistry } from "./prometheus.ts";
 * import { MetricsServer } from "./metrics_server.ts";
 * const server = new MetricsServer(new MetricsRegistry(), {
 *   port: 0,
 *   health: () => ({ ok: true, details: { kafka: "connected" } }),
 * });
 * await server.start();
 * console.log((await fetch(`${server.url}/health`)).status); // 200
 * await server.stop();
 * ```
 */
export class MetricsServer {
  readonly #registry: MetricsRegistry;
  readonly #options: MetricsServerOptions;
  #server?: Deno.HttpServer<Deno.NetAddr>;
  #port = 0;

  /** A server for `registry`; `start()` begins listening. */
  constructor(registry: MetricsRegistry, options: MetricsServerOptions) {
    this.#registry = registry;
    this.#options = options;
  }

  /** The port it listens on (after `start()`). */
  get port(): number {
    return this.#port;
  }

  /** `http://host:port` (after `start()`). */
  get url(): string {
    return `http://${this.#options.hostname ?? "127.0.0.1"}:${this.#port}`;
  }

  /** Starts listening; resolves once the socket is bound. Throws when the port is taken. */
  start(): Promise<void> {
    if (this.#server) return Promise.resolve();
    return new Promise((resolve, reject) => {
      try {
        this.#server = Deno.serve({
          port: this.#options.port,
          hostname: this.#options.hostname ?? "127.0.0.1",
          onListen: (addr) => {
            this.#port = addr.port;
            resolve();
          },
        }, (req) => this.#handle(req));
      } catch (e) {
        if (e instanceof Deno.errors.AddrInUse) {
          reject(
            new Error(
              `metrics port ${this.#options.port} is already in use: stop the other process or set METRICS_PORT`,
            ),
          );
        } else reject(e);
      }
    });
  }

  /** Stops listening and waits for open requests to finish. */
  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (server) await server.shutdown();
  }

  async #handle(req: Request): Promise<Response> {
    const path = new URL(req.url).pathname;
    if (req.method !== "GET" && req.method !== "HEAD") {
      return new Response("method not allowed\n", { status: 405 });
    }
    if (path === "/metrics") {
      try {
        return new Response(await this.#registry.scrape(), {
          headers: { "content-type": CONTENT_TYPE },
        });
      } catch (e) {
        return new Response(`scrape failed: ${(e as Error).message}\n`, { status: 500 });
      }
    }
    if (path === "/health") {
      let status: HealthStatus;
      try {
        status = this.#options.health ? await this.#options.health() : { ok: true };
      } catch (e) {
        status = { ok: false, details: { error: (e as Error).message } };
      }
      return Response.json({ status: status.ok ? "ok" : "fail", ...status.details }, {
        status: status.ok ? 200 : 503,
      });
    }
    return new Response("not found: try /metrics or /health\n", { status: 404 });
  }
}
