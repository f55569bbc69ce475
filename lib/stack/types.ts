/**
 * What both stack modes (Docker compose and native processes) offer.
 *
 * @module
 */

/** The two ways the stack runs. */
export type RunMode = "docker" | "native";

/** One service's state as `deno task stack status` shows it. */
export interface ServiceStatus {
  /** Service name, e.g. `kafka-1`. */
  readonly service: string;
  /** running; starting (process up, port not yet); stopped; foreign (port taken by something else). */
  readonly state: "running" | "starting" | "stopped" | "foreign" | string;
  /** Process id, in native mode. */
  readonly pid?: number;
  /** `host:port` it listens on. */
  readonly address: string;
  /** Where its log is. */
  readonly log: string;
}

/**
 * The lifecycle every mode implements.
 *
 * @example
 * ```ts
 * import type { Stack } from "./types.ts";
 * async function restart(stack: Stack) {
 *   await stack.down();
 *   await stack.up();
 * }
 * ```
 */
export interface Stack {
  /** Docker or native. */
  readonly mode: RunMode;
  /** Service names, e.g. `kafka-1`, `minio`, `schema-registry`. */
  readonly services: readonly string[];
  /** Starts every service and waits until it answers. */
  up(): Promise<void>;
  /** Stops every service. */
  down(): Promise<void>;
  /** Each service's state. */
  status(): Promise<ServiceStatus[]>;
  /** The last `lines` lines of `service`'s log. */
  logs(service: string, lines?: number): Promise<string>;
  /** Stops every service and deletes its data. */
  reset(): Promise<void>;
  /** Stops broker `id` (1-based); `kill` simulates a crash. */
  stopBroker(id: number, options?: { kill?: boolean }): Promise<void>;
  /** Starts broker `id` again and waits for its listener. */
  startBroker(id: number): Promise<void>;
  /** Stops MinIO (an object store outage); `kill` simulates a crash. */
  stopMinio(options?: { kill?: boolean }): Promise<void>;
  /** Starts MinIO again and waits until it answers its liveness check. */
  startMinio(): Promise<void>;
  /**
   * Freezes a service (`kafka-2`, `minio`, ...) without ending it: SIGSTOP
   * (native) or `docker compose pause`. Its connections stay open and go
   * silent, as with a process stuck in a long GC pause or a hung host.
   */
  pauseService(service: string): Promise<void>;
  /** Lets a frozen service run again: SIGCONT (native) or `docker compose unpause`. */
  resumeService(service: string): Promise<void>;
}
