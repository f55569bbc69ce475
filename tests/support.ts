/**
 * Shared helpers for integration tests: fail fast, with the command to run,
 * when a service of the stack is not reachable; unique names per test.
 *
 * @module
 */
import { type Config, loadConfig } from "../lib/config.ts";
import { parseHostPort, tcpOpen } from "../lib/util/probe.ts";

/** The configuration every test uses (environment overrides apply). */
export const config: Config = loadConfig();

const HOW_TO_START =
  "Start the stack with `deno task stack up` (or run everything with `deno task test`).";

/** Throws with the start command unless every configured Kafka broker accepts TCP. */
export async function requireKafka(c: Config = config): Promise<void> {
  for (const broker of c.kafka.brokers) {
    const { host, port } = parseHostPort(broker);
    if (!(await tcpOpen(host, port, 2000))) {
      throw new Error(`Kafka broker ${broker} is not reachable. ${HOW_TO_START}`);
    }
  }
}

/** Throws with the start command unless `GET url` answers 2xx. */
async function requireHttp(service: string, base: string, url: string): Promise<void> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
    await res.body?.cancel();
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
  } catch (e) {
    throw new Error(
      `${service} at ${base} is not reachable (${(e as Error).message}). ${HOW_TO_START}`,
    );
  }
}

/** Throws with the start command unless the Schema Registry answers. */
export function requireRegistry(c: Config = config): Promise<void> {
  return requireHttp("Schema Registry", c.schemaRegistry.url, `${c.schemaRegistry.url}/subjects`);
}

/** Throws with the start command unless MinIO's liveness endpoint answers. */
export function requireMinio(c: Config = config): Promise<void> {
  return requireHttp("MinIO", c.s3.endpoint, `${c.s3.endpoint}/minio/health/live`);
}

/** A name no other test run uses, e.g. `test.stack-acks.k3f9x2`. */
export function uniqueName(prefix: string): string {
  return `${prefix}.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}

/** Polls `check` until it returns a truthy value or the deadline passes. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 30_000,
  intervalMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${
      last ? `: ${(last as Error).message}` : ""
    }`,
  );
}
