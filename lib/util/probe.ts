/**
 * Readiness probes with deadlines: a TCP port accepting, an HTTP endpoint
 * answering 2xx, and a generic poll loop.
 *
 * @example
 * ```ts
 * import { httpOk, pollUntil } from "./probe.ts";
 * await pollUntil("MinIO", () => httpOk("http://127.0.0.1:9000/minio/health/live"), 30_000);
 * ```
 *
 * @module
 */
import { sleep } from "./deadline.ts";

/**
 * Splits `host:port` (IPv6 hosts in brackets) into its parts.
 *
 * @example
 * ```ts
 * import { parseHostPort } from "./probe.ts";
 * console.log(parseHostPort("[::1]:9092")); // { host: "::1", port: 9092 }
 * ```
 */
export function parseHostPort(entry: string): { host: string; port: number } {
  const i = entry.lastIndexOf(":");
  return { host: entry.slice(0, i).replace(/^\[|\]$/g, ""), port: Number(entry.slice(i + 1)) };
}

/**
 * True when something accepts TCP connections on `hostname:port` within `timeoutMs`.
 *
 * @example
 * ```ts
 * import { tcpOpen } from "./probe.ts";
 * console.log(await tcpOpen("127.0.0.1", 9092));
 * ```
 */
export async function tcpOpen(hostname: string, port: number, timeoutMs = 1000): Promise<boolean> {
  let id: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((r) => {
    id = setTimeout(() => r(false), timeoutMs);
  });
  const attempt = Deno.connect({ hostname, port }).then((c) => {
    c.close();
    return true;
  }, () => false);
  try {
    return await Promise.race([attempt, timeout]);
  } finally {
    clearTimeout(id);
  }
}

/**
 * True when `GET url` answers 2xx within `timeoutMs`.
 *
 * @example
 * ```ts
 * import { httpOk } from "./probe.ts";
 * console.log(await httpOk("http://127.0.0.1:8081/subjects"));
 * ```
 */
export async function httpOk(url: string, timeoutMs = 2000): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}

/** Raised when a service is not ready before its deadline. */
export class NotReadyError extends Error {
  /** The service, how long it was waited for, and what the last probe said. */
  constructor(readonly service: string, readonly timeoutMs: number, readonly detail = "") {
    super(
      `${service} was not ready within ${Math.round(timeoutMs / 1000)} s${
        detail ? `: ${detail}` : ""
      }`,
    );
    this.name = "NotReadyError";
  }
}

/**
 * Calls `check` every `intervalMs` until it returns true; throws
 * {@linkcode NotReadyError} naming `service` after `timeoutMs`. `alive`, when
 * given, is checked each round so a crashed process fails at once.
 *
 * @example
 * ```ts
 * import { pollUntil, tcpOpen } from "./probe.ts";
 * await pollUntil("kafka-1", () => tcpOpen("127.0.0.1", 9092), 60_000);
 * ```
 */
export async function pollUntil(
  service: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
  options: { intervalMs?: number; alive?: () => Promise<boolean>; hint?: string } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    if (options.alive && !(await options.alive())) {
      throw new NotReadyError(
        service,
        timeoutMs,
        `the process exited${options.hint ? `; ${options.hint}` : ""}`,
      );
    }
    await sleep(options.intervalMs ?? 250);
  }
  throw new NotReadyError(service, timeoutMs, options.hint);
}
