/**
 * Shared helpers for integration tests: fail fast, with the command to run,
 * when a service of the stack is not reachable; unique names per test.
 *
 * @module
 */
import { type Config, loadConfig } from "../lib/config.ts";

/** The configuration every test uses (environment overrides apply). */
export const config: Config = loadConfig();

const HOW_TO_START =
  "Start the stack with `deno task stack up` (or run everything with `deno task test`).";

async function tcpOpen(hostPort: string, timeoutMs = 2000): Promise<boolean> {
  const i = hostPort.lastIndexOf(":");
  const hostname = hostPort.slice(0, i).replace(/^\[|\]$/g, "");
  const port = Number(hostPort.slice(i + 1));
  const attempt = Deno.connect({ hostname, port }).then((c) => {
    c.close();
    return true;
  }, () => false);
  let id: ReturnType<typeof setTimeout> | undefined;
  const guard = new Promise<false>((r) => {
    id = setTimeout(() => r(false), timeoutMs);
  });
  try {
    return await Promise.race([attempt, guard]);
  } finally {
    clearTimeout(id);
  }
}

/** Throws with the start command unless every configured Kafka broker accepts TCP. */
export async function requireKafka(c: Config = config): Promise<void> {
  for (const broker of c.kafka.brokers) {
    if (!(await tcpOpen(broker))) {
      throw new Error(`Kafka broker ${broker} is not reachable. ${HOW_TO_START}`);
    }
  }
}

/** Throws with the start command unless the Schema Registry answers. */
export async function requireRegistry(c: Config = config): Promise<void> {
  try {
    const res = await fetch(`${c.schemaRegistry.url}/subjects`, {
      signal: AbortSignal.timeout(3000),
    });
    await res.body?.cancel();
    if (res.ok) return;
    throw new Error(`HTTP ${res.status}`);
  } catch (e) {
    throw new Error(
      `Schema Registry at ${c.schemaRegistry.url} is not reachable (${
        (e as Error).message
      }). ${HOW_TO_START}`,
    );
  }
}

/** Throws with the start command unless MinIO's liveness endpoint answers. */
export async function requireMinio(c: Config = config): Promise<void> {
  try {
    const res = await fetch(`${c.s3.endpoint}/minio/health/live`, {
      signal: AbortSignal.timeout(3000),
    });
    await res.body?.cancel();
    if (res.ok) return;
    throw new Error(`HTTP ${res.status}`);
  } catch (e) {
    throw new Error(
      `MinIO at ${c.s3.endpoint} is not reachable (${(e as Error).message}). ${HOW_TO_START}`,
    );
  }
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
