/**
 * Docker mode: `compose.yaml` through `docker compose`, project name
 * `shopstream`. Needs a running Docker engine (`docker info` must succeed).
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { DockerStack } from "./docker.ts";
 * const stack = new DockerStack(loadConfig(), console.log);
 * await stack.up(); // docker compose up -d --wait
 * ```
 *
 * @module
 */
import type { Config } from "../config.ts";
import { forgetMode, recordMode } from "./mode.ts";
import { stackPaths } from "./paths.ts";
import { httpOk, parseHostPort, pollUntil, tcpOpen } from "../util/probe.ts";
import type { ServiceStatus, Stack } from "./types.ts";

const PROJECT = "shopstream";

/**
 * True when a Docker engine answers (`docker info`); the client alone is not enough.
 *
 * @example
 * ```ts
 * import { dockerEngineAvailable } from "./docker.ts";
 * console.log(await dockerEngineAvailable());
 * ```
 */
export async function dockerEngineAvailable(): Promise<boolean> {
  try {
    const out = await new Deno.Command("docker", {
      args: ["info", "--format", "{{.ServerVersion}}"],
      stdout: "piped",
      stderr: "null",
    }).output();
    return out.success && new TextDecoder().decode(out.stdout).trim() !== "";
  } catch {
    return false;
  }
}

/** The compose stack behind the same {@linkcode Stack} lifecycle as native mode. */
export class DockerStack implements Stack {
  /** Docker compose mode. */
  readonly mode = "docker" as const;
  readonly #paths = stackPaths();

  /** The compose stack for `config`; progress lines go to `log`. */
  constructor(readonly config: Config, readonly log: (line: string) => void = () => {}) {}

  get services(): string[] {
    return ["minio", "kafka-1", "kafka-2", "kafka-3", "schema-registry", "kafka-ui"];
  }

  async #compose(args: string[], capture = false): Promise<string> {
    const out = await new Deno.Command("docker", {
      args: ["compose", "-p", PROJECT, "-f", this.#paths.composeFile, ...args],
      stdout: capture ? "piped" : "inherit",
      stderr: capture ? "piped" : "inherit",
    }).output();
    const text = capture ? new TextDecoder().decode(out.stdout) : "";
    if (!out.success) {
      const err = capture ? new TextDecoder().decode(out.stderr) : "";
      throw new Error(
        `docker compose ${args.join(" ")} failed (exit ${out.code}) ${err}\n` +
          `  see \`deno task stack logs <service>\` (docker compose -p ${PROJECT} logs)`,
      );
    }
    return text;
  }

  /** Starts every service and waits until they are healthy. */
  async up(): Promise<void> {
    this.log("docker: docker compose up -d --wait (first run builds MinIO and pulls images)");
    await recordMode(this.mode);
    await this.#compose(["up", "-d", "--wait", "--build"]);
  }

  /** Stops and removes the containers, keeping the volumes. */
  async down(): Promise<void> {
    await this.#compose(["down"]);
    await forgetMode();
  }

  /** Each service's state, from `docker compose ps`. */
  async status(): Promise<ServiceStatus[]> {
    const text = await this.#compose(["ps", "--all", "--format", "json"], true);
    const rows = text.trim().split("\n").filter((l) => l.trim()).flatMap((l) => {
      const parsed = JSON.parse(l);
      return Array.isArray(parsed) ? parsed : [parsed];
    }) as {
      Service: string;
      State: string;
      Health?: string;
      Publishers?: { URL: string; PublishedPort: number }[];
    }[];
    return this.services.map((service) => {
      const r = rows.find((x) => x.Service === service);
      const pub = r?.Publishers?.find((p) => p.PublishedPort > 0);
      return {
        service,
        state: r ? `${r.State}${r.Health ? ` (${r.Health})` : ""}` : "stopped",
        address: pub ? `${pub.URL}:${pub.PublishedPort}` : "",
        log: `docker compose -p ${PROJECT} logs ${service}`,
      };
    });
  }

  /** The last `lines` lines of `service`'s log. */
  logs(service: string, lines = 100): Promise<string> {
    return this.#compose(["logs", "--no-color", "--tail", String(lines), service], true);
  }

  /** Removes the containers and their volumes (all data). */
  async reset(): Promise<void> {
    await this.#compose(["down", "--volumes"]);
    await forgetMode();
  }

  async stopBroker(id: number, options: { kill?: boolean } = {}): Promise<void> {
    await this.#compose([options.kill ? "kill" : "stop", `kafka-${id}`], true);
  }

  async startBroker(id: number): Promise<void> {
    await this.#compose(["start", `kafka-${id}`], true);
    const { host, port } = parseHostPort(this.config.kafka.brokers[id - 1]);
    await pollUntil(`kafka-${id}`, () => tcpOpen(host, port), 120_000);
  }

  async stopMinio(options: { kill?: boolean } = {}): Promise<void> {
    await this.#compose([options.kill ? "kill" : "stop", "minio"], true);
  }

  async pauseService(service: string): Promise<void> {
    await this.#compose(["pause", service], true);
  }

  async resumeService(service: string): Promise<void> {
    await this.#compose(["unpause", service], true);
  }

  async startMinio(): Promise<void> {
    await this.#compose(["start", "minio"], true);
    const live = `${this.config.s3.endpoint}/minio/health/live`;
    await pollUntil("minio", () => httpOk(live), 120_000);
  }
}
