/**
 * Health of the local stack: every Kafka broker, the KRaft metadata quorum
 * (its leader, the active controller, and each voter's lag), under-replicated
 * partitions, the Schema Registry, and MinIO with its bucket. Each check is a
 * row; the report is ok only when every row is.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { checkHealth, formatHealth } from "./health.ts";
 * const report = await checkHealth(loadConfig());
 * console.log(formatHealth(report));
 * ```
 *
 * @module
 */
import type { Config } from "../config.ts";
import { logLevel } from "kafkajs";
import { createKafka, logLevelFromEnv, unreachableBroker } from "../kafka/client.ts";
import { createObjectStoreClient } from "../lake/client.ts";
import { describeQuorum, type QuorumStatus } from "./quorum.ts";
import { withDeadline } from "../util/deadline.ts";
import { formatTable } from "../util/table.ts";

/** One row of a health report. */
export interface HealthCheck {
  /** The service checked. */
  readonly service: "kafka" | "schema-registry" | "minio";
  /** What was checked, e.g. `controller`. */
  readonly check: string;
  /** Whether the check passed. */
  readonly ok: boolean;
  /** What was found, or what is wrong. */
  readonly detail: string;
}

/** All checks, and whether every one passed. */
export interface HealthReport {
  /** true when every check passed. */
  readonly ok: boolean;
  /** Every check, in the order run. */
  readonly checks: readonly HealthCheck[];
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Kafka rows: one per expected broker, the metadata quorum (see
 * {@linkcode checkQuorum}), and under-replicated partitions across all topics.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { checkKafka } from "./health.ts";
 * for (const row of await checkKafka(loadConfig())) console.log(row.check, row.ok);
 * ```
 */
export async function checkKafka(config: Config, timeoutMs = 10_000): Promise<HealthCheck[]> {
  // The row below reports an unreachable cluster: kafkajs's own lines only on request.
  const kafka = createKafka(config, {
    clientId: `${config.clients.admin}-health`,
    retries: 1,
    level: logLevelFromEnv(logLevel.NOTHING),
  });
  const admin = kafka.admin();
  const rows: HealthCheck[] = [];
  const quorum = checkQuorum(config, Math.max(timeoutMs, 20_000));
  let quorumShown = false;
  try {
    await withDeadline(admin.connect(), timeoutMs, "connecting to Kafka");
    const cluster = await withDeadline(admin.describeCluster(), timeoutMs, "describeCluster");
    const ids = cluster.brokers.map((b) => b.nodeId).sort((a, b) => a - b);
    for (let i = 0; i < Math.max(config.kafka.brokerCount, cluster.brokers.length); i++) {
      const b = cluster.brokers.find((x) => x.nodeId === ids[i]);
      rows.push(
        b
          ? {
            service: "kafka",
            check: `broker ${b.nodeId}`,
            ok: true,
            detail: `${b.host}:${b.port}`,
          }
          : {
            service: "kafka",
            check: `broker #${i + 1} of ${config.kafka.brokerCount}`,
            ok: false,
            detail: `missing: the cluster lists only ${ids.length} broker(s) [${ids.join(", ")}]`,
          },
      );
    }
    // Not cluster.controller: in KRaft that is a random live broker, not the active controller.
    rows.push(await quorum);
    quorumShown = true;
    const topics = await withDeadline(admin.listTopics(), timeoutMs, "listTopics");
    let partitions = 0;
    const under: string[] = [];
    if (topics.length > 0) {
      const meta = await withDeadline(
        admin.fetchTopicMetadata({ topics }),
        timeoutMs,
        "fetchTopicMetadata",
      );
      for (const t of meta.topics) {
        for (const p of t.partitions) {
          partitions++;
          if (p.isr.length < p.replicas.length || p.leader < 0) {
            under.push(`${t.name}-${p.partitionId}`);
          }
        }
      }
    }
    rows.push({
      service: "kafka",
      check: "under-replicated partitions",
      ok: under.length === 0,
      detail: under.length === 0
        ? `0 of ${partitions} in ${topics.length} topics`
        : `${under.length} of ${partitions}: ${under.slice(0, 5).join(", ")}${
          under.length > 5 ? ", ..." : ""
        }`,
    });
  } catch (e) {
    if (!quorumShown) rows.push(await quorum);
    const down = unreachableBroker("", { message: message(e) });
    rows.push({
      service: "kafka",
      check: "cluster reachable",
      ok: false,
      detail: `${config.kafka.brokers.join(",")}: ${
        down ? `${down.reason} (down, or still starting)` : message(e)
      }`,
    });
  } finally {
    await admin.disconnect().catch(() => {});
  }
  return rows;
}

/**
 * The quorum row for a quorum as {@linkcode describeQuorum} reports it: ok
 * when it has a leader; the detail names the leader and epoch and each
 * voter's lag (records behind the leader) and, when it has not fetched for
 * over `staleMs`, for how long.
 *
 * @example
 * ```ts
 * import { quorumHealth } from "./health.ts";
 * const row = quorumHealth({
 *   clusterId: "c", leaderId: -1, leaderEpoch: 4, highWatermark: 900, maxFollowerLag: 0,
 *   maxFollowerLagTimeMs: 0, voters: [{ id: 1, endpoints: [] }], observers: [], replicas: [],
 * });
 * console.log(row.ok, row.detail); // false no leader (epoch 4): ...
 * ```
 */
export function quorumHealth(q: QuorumStatus, now = Date.now(), staleMs = 5_000): HealthCheck {
  const voters = q.voters.map((v) => {
    const r = q.replicas.find((x) => x.nodeId === v.id);
    if (!r) return `${v.id}: not reporting`;
    if (v.id === q.leaderId) return `${v.id}: leader`;
    const idle = r.lastFetchTimestamp > 0 ? now - r.lastFetchTimestamp : -1;
    return `${v.id}: lag ${r.lag}` +
      (idle > staleMs ? `, no fetch for ${Math.round(idle / 1000)} s` : "");
  }).join(", ");
  const observers = q.observers.length
    ? `; observers ${q.observers.map((o) => o.id).join(", ")}`
    : "";
  if (q.leaderId < 0) {
    return {
      service: "kafka",
      check: "quorum",
      ok: false,
      detail: `no leader (epoch ${q.leaderEpoch}): voters ${voters}${observers}`,
    };
  }
  return {
    service: "kafka",
    check: "quorum",
    ok: true,
    detail: `leader ${q.leaderId} (epoch ${q.leaderEpoch}, high watermark ${q.highWatermark}); ` +
      `voters ${voters}${observers}`,
  };
}

/**
 * The KRaft quorum row: Kafka's own `kafka-metadata-quorum` tool asked for the
 * Raft leader and each voter's lag ({@linkcode describeQuorum}); not ok when
 * the quorum has no leader or the tool gets no answer in `timeoutMs`.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { checkQuorum } from "./health.ts";
 * console.log((await checkQuorum(loadConfig())).detail);
 * ```
 */
export async function checkQuorum(config: Config, timeoutMs = 20_000): Promise<HealthCheck> {
  try {
    return quorumHealth(await describeQuorum(config, { timeoutMs }));
  } catch (e) {
    const first = message(e).split("\n").find((l) => /Exception|Error|no answer/.test(l)) ??
      message(e).split("\n")[0];
    return { service: "kafka", check: "quorum", ok: false, detail: `no answer: ${first.trim()}` };
  }
}

/**
 * Schema Registry row: `GET /subjects` answers with a JSON list.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { checkRegistry } from "./health.ts";
 * console.log(await checkRegistry(loadConfig()));
 * ```
 */
export async function checkRegistry(config: Config, timeoutMs = 5_000): Promise<HealthCheck> {
  const url = config.schemaRegistry.url;
  try {
    const res = await fetch(`${url}/subjects`, { signal: AbortSignal.timeout(timeoutMs) });
    const body = await res.text();
    if (!res.ok) throw new Error(`HTTP ${res.status} ${body.slice(0, 120)}`);
    const subjects = JSON.parse(body) as unknown[];
    return {
      service: "schema-registry",
      check: "REST API",
      ok: true,
      detail: `${url}: ${subjects.length} subject(s)`,
    };
  } catch (e) {
    return {
      service: "schema-registry",
      check: "REST API",
      ok: false,
      detail: `${url}: ${message(e)}`,
    };
  }
}

/**
 * MinIO rows: the server is live and the configured bucket exists.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { checkMinio } from "./health.ts";
 * console.log(await checkMinio(loadConfig()));
 * ```
 */
export async function checkMinio(config: Config, timeoutMs = 5_000): Promise<HealthCheck[]> {
  const endpoint = config.s3.endpoint;
  const rows: HealthCheck[] = [];
  try {
    const res = await fetch(`${endpoint}/minio/health/live`, {
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.body?.cancel();
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    rows.push({ service: "minio", check: "server live", ok: true, detail: endpoint });
  } catch (e) {
    rows.push({
      service: "minio",
      check: "server live",
      ok: false,
      detail: `${endpoint}: ${message(e)}`,
    });
    return rows;
  }
  try {
    const client = createObjectStoreClient(config);
    const exists = await withDeadline(
      client.bucketExists(config.s3.bucket),
      timeoutMs,
      "bucketExists",
    );
    rows.push({
      service: "minio",
      check: `bucket ${config.s3.bucket}`,
      ok: exists,
      detail: exists ? "reachable" : "missing: run `deno task stack up` to create it",
    });
  } catch (e) {
    rows.push({
      service: "minio",
      check: `bucket ${config.s3.bucket}`,
      ok: false,
      detail: message(e),
    });
  }
  return rows;
}

/**
 * Every check, run concurrently.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { checkHealth } from "./health.ts";
 * const { ok } = await checkHealth(loadConfig());
 * if (!ok) Deno.exit(1);
 * ```
 */
export async function checkHealth(config: Config): Promise<HealthReport> {
  const [kafka, registry, minio] = await Promise.all([
    checkKafka(config),
    checkRegistry(config),
    checkMinio(config),
  ]);
  const checks = [...kafka, registry, ...minio];
  return { ok: checks.every((c) => c.ok), checks };
}

/**
 * The report as an aligned text table, one row per check.
 *
 * @example
 * ```ts
 * import { formatHealth } from "./health.ts";
 * console.log(formatHealth({ ok: true, checks: [] }));
 * ```
 */
export function formatHealth(report: HealthReport): string {
  const rows = report.checks.map((c) => [c.service, c.check, c.ok ? "OK" : "DOWN", c.detail]);
  return formatTable(["service", "check", "status", "detail"], rows) +
    `\n${report.ok ? "healthy" : "UNHEALTHY"}: ${
      report.checks.filter((c) => c.ok).length
    }/${report.checks.length} checks passed`;
}
