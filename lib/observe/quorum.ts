/**
 * The KRaft metadata quorum as the Raft layer itself reports it: which node
 * leads (the *active controller*), in which leader epoch, how far the
 * metadata log's high watermark is, and for every voter (and observer) its
 * log end offset and lag behind the leader.
 *
 * Why not `describeCluster()`? In KRaft, clients cannot reach the
 * controllers, so the `ControllerId` a broker puts in its Metadata and
 * DescribeCluster answers is a *random live broker* (KIP-590), not the active
 * controller. The real answer comes from the DescribeQuorum API, which
 * kafkajs does not speak; Kafka's own `kafka-metadata-quorum` tool
 * (`MetadataQuorumCommand`) does, so {@linkcode describeQuorum} runs it and
 * parses its output.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { describeQuorum } from "./quorum.ts";
 * const quorum = await describeQuorum(loadConfig());
 * console.log(`leader ${quorum.leaderId} in epoch ${quorum.leaderEpoch}`);
 * for (const r of quorum.replicas) console.log(r.nodeId, r.status, r.lag);
 * ```
 *
 * @module
 */
import type { Config } from "../config.ts";
import { JavaToolError, runJavaTool } from "../util/java.ts";
import { pathExists, REPO_ROOT } from "../util/repo.ts";

/** The main class behind `kafka-metadata-quorum.sh`. */
export const METADATA_QUORUM_TOOL = "org.apache.kafka.tools.MetadataQuorumCommand";

/** A voter or observer as `describe --status` lists it. */
export interface QuorumMember {
  /** The node id. */
  readonly id: number;
  /** Its controller listener(s), e.g. `CONTROLLER://127.0.0.1:19093` (voters only). */
  readonly endpoints: readonly string[];
}

/** What `kafka-metadata-quorum describe --status` prints. */
export interface QuorumSummary {
  /** The cluster's id. */
  readonly clusterId: string;
  /** The Raft leader: the active controller. -1 when the quorum has none. */
  readonly leaderId: number;
  /** Raises by one with every election. */
  readonly leaderEpoch: number;
  /** The metadata log's high watermark: records a majority of voters has. */
  readonly highWatermark: number;
  /** The largest follower lag in records. */
  readonly maxFollowerLag: number;
  /** How long the most lagging follower has been behind, ms. */
  readonly maxFollowerLagTimeMs: number;
  /** The voters, leader included. */
  readonly voters: readonly QuorumMember[];
  /** Nodes that replicate the metadata log without a vote (brokers-only nodes). */
  readonly observers: readonly QuorumMember[];
}

/** One row of `kafka-metadata-quorum describe --replication`. */
export interface QuorumReplica {
  /** The replica's node id. */
  readonly nodeId: number;
  /** The voter's metadata directory id (all zeros for statically configured voters). */
  readonly directoryId: string;
  /** The end of its copy of the metadata log. */
  readonly logEndOffset: number;
  /** Records behind the leader's log end offset. */
  readonly lag: number;
  /** When it last fetched from the leader (ms since the epoch; -1 when unknown). */
  readonly lastFetchTimestamp: number;
  /** When it was last caught up with the leader (ms since the epoch; -1 when unknown). */
  readonly lastCaughtUpTimestamp: number;
  /** `Leader`, `Follower` or `Observer`. */
  readonly status: string;
}

/** The summary and the replication table together. */
export interface QuorumStatus extends QuorumSummary {
  /** Every voter and observer with its log end offset and lag. */
  readonly replicas: readonly QuorumReplica[];
}

function field(output: string, name: string): string | undefined {
  return new RegExp(`^\\s*${name}:\\s*(.*?)\\s*$`, "m").exec(output)?.[1];
}

function members(list: string | undefined): QuorumMember[] {
  if (!list) return [];
  // `[{"id": 1, "endpoints": ["CONTROLLER://127.0.0.1:19093"]}, ...]`; older tools print `[1, 2, 3]`.
  const out: QuorumMember[] = [];
  for (const m of list.matchAll(/\{[^{}]*\}|-?\d+/g)) {
    if (!m[0].startsWith("{")) {
      out.push({ id: Number(m[0]), endpoints: [] });
      continue;
    }
    const id = /"id"\s*:\s*(-?\d+)/.exec(m[0]);
    if (!id) continue;
    const endpoints = /"endpoints"\s*:\s*\[([^\]]*)\]/.exec(m[0])?.[1] ?? "";
    out.push({
      id: Number(id[1]),
      endpoints: [...endpoints.matchAll(/"([^"]*)"/g)].map((e) => e[1]),
    });
  }
  return out;
}

/**
 * Parses the output of `kafka-metadata-quorum describe --status`. Throws
 * {@linkcode JavaToolError} when there is no `LeaderId:` line.
 *
 * @example
 * ```ts
 * import { parseQuorumSummary } from "./quorum.ts";
 * const s = parseQuorumSummary([
 *   "ClusterId:              Vf7XF30CR3CCZjFlrD7pTA",
 *   "LeaderId:               3",
 *   "LeaderEpoch:            1",
 *   "HighWatermark:          642",
 *   "MaxFollowerLag:         0",
 *   "MaxFollowerLagTimeMs:   398",
 *   'CurrentVoters:          [{"id": 1, "endpoints": ["CONTROLLER://127.0.0.1:19093"]}]',
 *   "CurrentObservers:       []",
 * ].join("\n"));
 * console.log(s.leaderId, s.voters[0].endpoints[0]); // 3 CONTROLLER://127.0.0.1:19093
 * ```
 */
export function parseQuorumSummary(output: string): QuorumSummary {
  const leader = field(output, "LeaderId");
  if (leader === undefined || !/^-?\d+$/.test(leader)) {
    throw new JavaToolError(METADATA_QUORUM_TOOL, "no LeaderId line in its output", output);
  }
  const num = (name: string) => Number(field(output, name) ?? NaN);
  return {
    clusterId: field(output, "ClusterId") ?? "",
    leaderId: Number(leader),
    leaderEpoch: num("LeaderEpoch"),
    highWatermark: num("HighWatermark"),
    maxFollowerLag: num("MaxFollowerLag"),
    maxFollowerLagTimeMs: num("MaxFollowerLagTimeMs"),
    voters: members(field(output, "CurrentVoters")),
    observers: members(field(output, "CurrentObservers")),
  };
}

/**
 * Parses the table of `kafka-metadata-quorum describe --replication` (tab
 * separated, with a header line; other lines, such as warnings, are
 * ignored). Throws {@linkcode JavaToolError} when there is no header.
 *
 * @example
 * ```ts
 * import { parseQuorumReplication } from "./quorum.ts";
 * const rows = parseQuorumReplication([
 *   "NodeId\tDirectoryId\tLogEndOffset\tLag\tLastFetchTimestamp\tLastCaughtUpTimestamp\tStatus\t",
 *   "3\tAAAAAAAAAAAAAAAAAAAAAA\t646\t0\t1796478597090\t1796478597090\tLeader\t",
 *   "1\tAAAAAAAAAAAAAAAAAAAAAA\t640\t6\t1796478597031\t1796478597031\tFollower\t",
 * ].join("\n"));
 * console.log(rows[1].lag); // 6
 * ```
 */
export function parseQuorumReplication(output: string): QuorumReplica[] {
  const lines = output.split("\n");
  const at = lines.findIndex((l) => /^NodeId\s/.test(l.trim()));
  if (at < 0) {
    throw new JavaToolError(METADATA_QUORUM_TOOL, "no replication table in its output", output);
  }
  const split = (line: string) => {
    const cells = line.split("\t").map((s) => s.trim());
    while (cells.length && cells.at(-1) === "") cells.pop(); // the tool ends each line with a tab
    return cells;
  };
  const names = split(lines[at].trim());
  const rows: QuorumReplica[] = [];
  for (const line of lines.slice(at + 1)) {
    const cells = split(line.trim());
    if (cells.length !== names.length || !/^-?\d+$/.test(cells[0])) continue;
    const get = (name: string) => cells[names.indexOf(name)] ?? "";
    const num = (name: string) => {
      const v = get(name);
      return /^-?\d+$/.test(v) ? Number(v) : -1;
    };
    rows.push({
      nodeId: num("NodeId"),
      directoryId: get("DirectoryId"),
      logEndOffset: num("LogEndOffset"),
      lag: num("Lag"),
      lastFetchTimestamp: num("LastFetchTimestamp"),
      lastCaughtUpTimestamp: num("LastCaughtUpTimestamp"),
      status: get("Status"),
    });
  }
  return rows;
}

/** Where one of Kafka's command-line tools runs (`kafka-metadata-quorum`, `kafka-log-dirs`, ...). */
export type KafkaToolTarget =
  /** The host's `java` with the brokers' jars. */
  | { mode: "native"; libs: string; bootstrap: string }
  /** The script inside a broker container (Docker mode without a local JDK). */
  | { mode: "docker"; service: string; bootstrap: string };

/**
 * Where Kafka's tools can run here: the local jars under
 * `.cache/kafka/<version>/libs` when they are there (any stack mode: a tool
 * only needs a bootstrap server), else inside the `kafka-1` container.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { kafkaToolTarget } from "./quorum.ts";
 * console.log((await kafkaToolTarget(loadConfig())).mode);
 * ```
 */
export async function kafkaToolTarget(config: Config): Promise<KafkaToolTarget> {
  let cache = `${REPO_ROOT}/.cache`;
  try {
    cache = Deno.env.get("SHOPSTREAM_CACHE") ?? cache;
  } catch { /* no env permission: the default */ }
  const libs = `${cache}/kafka/${config.stack.kafkaVersion}/libs`;
  if (config.stack.mode !== "docker" && await pathExists(libs)) {
    return { mode: "native", libs, bootstrap: config.kafka.brokers.join(",") };
  }
  return { mode: "docker", service: "kafka-1", bootstrap: "kafka-1:29092" };
}

/** Options for {@linkcode describeQuorum}. */
export interface DescribeQuorumOptions {
  /** Default: {@linkcode kafkaToolTarget}. */
  target?: KafkaToolTarget;
  /** Give up after this long (default 20 000 ms; a quorum without a leader never answers). */
  timeoutMs?: number;
}

async function runQuorumTool(
  target: KafkaToolTarget,
  args: string[],
  timeoutMs: number,
): Promise<string> {
  if (target.mode === "native") {
    // Bound the admin client's own waits too, so a leaderless quorum fails fast.
    const props = await Deno.makeTempFile({ prefix: "shopstream-quorum-", suffix: ".properties" });
    try {
      const apiMs = Math.max(1000, timeoutMs - 3000);
      await Deno.writeTextFile(
        props,
        `request.timeout.ms=${Math.min(apiMs, 5000)}\ndefault.api.timeout.ms=${apiMs}\n`,
      );
      return await runJavaTool(
        target.libs,
        METADATA_QUORUM_TOOL,
        ["--bootstrap-server", target.bootstrap, "--command-config", props, ...args],
        { timeoutMs },
      );
    } finally {
      await Deno.remove(props).catch(() => {});
    }
  }
  const out = await new Deno.Command("docker", {
    args: [
      "compose",
      "-p",
      "shopstream",
      "-f",
      `${REPO_ROOT}/compose.yaml`,
      "exec",
      "-T",
      target.service,
      "/opt/kafka/bin/kafka-metadata-quorum.sh",
      "--bootstrap-server",
      target.bootstrap,
      ...args,
    ],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(timeoutMs),
  }).output().catch((e) => {
    throw new JavaToolError(METADATA_QUORUM_TOOL, `docker compose exec failed (${e})`, "");
  });
  const text = new TextDecoder().decode(out.stdout) + "\n" + new TextDecoder().decode(out.stderr);
  if (!out.success) {
    throw new JavaToolError(METADATA_QUORUM_TOOL, `exited with code ${out.code}`, text);
  }
  return text;
}

/**
 * The quorum as Kafka's `kafka-metadata-quorum` tool reports it (both
 * `describe --status` and `describe --replication`, run side by side).
 * Throws {@linkcode JavaToolError} when the tool fails or times out, which is
 * what a quorum without a leader does.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { describeQuorum } from "./quorum.ts";
 * const q = await describeQuorum(loadConfig(), { timeoutMs: 15_000 });
 * console.log(q.voters.map((v) => v.id), q.observers.length);
 * ```
 */
export async function describeQuorum(
  config: Config,
  options: DescribeQuorumOptions = {},
): Promise<QuorumStatus> {
  const target = options.target ?? await kafkaToolTarget(config);
  const timeoutMs = options.timeoutMs ?? 20_000;
  const [status, replication] = await Promise.all([
    runQuorumTool(target, ["describe", "--status"], timeoutMs),
    runQuorumTool(target, ["describe", "--replication"], timeoutMs),
  ]);
  return { ...parseQuorumSummary(status), replicas: parseQuorumReplication(replication) };
}
