/**
 * `deno task admin ...`: cluster administration in the spirit of
 * `kafka-topics`, `kafka-configs` and `kafka-consumer-groups`, printed as
 * aligned tables.
 *
 * @example
 * ```sh
 * deno task admin topics create orders --partitions 6 --config min.insync.replicas=2
 * deno task admin topics describe orders
 * deno task admin lag shopstream-sink
 * deno task admin groups reset-offsets shopstream-sink --topic orders --to latest --execute
 * deno task admin cluster
 * ```
 *
 * @module
 */
import { defineCommands, formatTable, runCommand, UsageError } from "../lib/util/mod.ts";
import { loadConfig } from "../lib/config.ts";
import { ClusterAdmin, createKafka, parsePairs, type SeekTarget } from "../lib/kafka/mod.ts";

/** The usage text `--help` prints. */
export const USAGE = `usage: deno task admin <command> [flags]

topics list [--internal]                     topic names (internal ones with --internal)
topics create <topic> [--partitions N] [--replication-factor N] [--config k=v ...]
topics describe <topic>                      partitions (leader, replicas, ISR) and configs
topics delete <topic> [<topic> ...]          delete topics and their data
topics alter-config <topic> [--set k=v ...] [--delete k ...]
topics add-partitions <topic> --total N      grow a topic to N partitions (keys move!)
groups list                                  consumer groups
groups describe <group>                      state, members and their partitions
groups reset-offsets <group> --topic T --to earliest|latest|<offset>|<ISO time> [--execute]
                                             move an empty group's offsets (a dry run
                                             without --execute, as kafka-consumer-groups)
lag <group> [--topic T]                      committed offset, log end and lag per partition
cluster [--topic T ...]                      brokers, leaders and ISR (the quorum: deno task health)

Defaults: 3 partitions, replication factor 3. Exit status 0 on success,
1 when Kafka refuses, 2 on a usage error.`;

/** A parsed command line. */
export interface AdminCommand {
  command:
    | "topics list"
    | "topics create"
    | "topics describe"
    | "topics delete"
    | "topics alter-config"
    | "topics add-partitions"
    | "groups list"
    | "groups describe"
    | "groups reset-offsets"
    | "lag"
    | "cluster";
  names: string[];
  internal: boolean;
  partitions?: number;
  replicationFactor?: number;
  configs: Record<string, string>;
  deletes: string[];
  total?: number;
  topics: string[];
  /** `groups reset-offsets`: where to move the offsets. */
  to?: SeekTarget;
  /** `groups reset-offsets`: commit (else a dry run). */
  execute?: boolean;
}

const TOPIC = { name: "<topic>", min: 1, max: 1 } as const;
const GROUP = { name: "<group>", min: 1, max: 1 } as const;

/** The command line of `deno task admin`. */
export const CLI = defineCommands({
  name: "admin",
  usage: USAGE,
  commands: {
    "topics list": { flags: { internal: { type: "boolean" } } },
    "topics create": {
      flags: {
        partitions: { type: "int", min: 1 },
        "replication-factor": { type: "int", min: 1 },
        config: { type: "string", multiple: true },
      },
      args: TOPIC,
    },
    "topics describe": { args: TOPIC },
    "topics delete": { args: { name: "<topic>", min: 1 } },
    "topics alter-config": {
      flags: {
        set: { type: "string", multiple: true },
        delete: { type: "string", multiple: true },
      },
      args: TOPIC,
    },
    "topics add-partitions": {
      flags: { total: { type: "int", min: 1, required: true } },
      args: TOPIC,
    },
    "groups list": {},
    "groups describe": { args: GROUP },
    "groups reset-offsets": {
      flags: {
        topic: { type: "string", required: true },
        to: { type: "string", required: true },
        execute: { type: "boolean" },
      },
      args: GROUP,
    },
    lag: { flags: { topic: { type: "string" } }, args: GROUP },
    cluster: { flags: { topic: { type: "string", multiple: true } } },
  },
});

/**
 * Parses `deno task admin` arguments; throws {@linkcode UsageError} on mistakes.
 *
 * @example
 * ```ts
 * import { parseAdminArgs } from "./admin.ts";
 * console.log(parseAdminArgs(["topics", "create", "t", "--partitions", "6"]).partitions); // 6
 * ```
 */
export function parseAdminArgs(args: string[]): AdminCommand {
  const p = CLI.parse(args);
  const cmd: AdminCommand = {
    command: p.command,
    names: p.args,
    internal: false,
    configs: {},
    deletes: [],
    topics: [],
  };
  switch (p.command) {
    case "topics list":
      return { ...cmd, internal: p.values.internal };
    case "topics create":
      return {
        ...cmd,
        partitions: p.values.partitions,
        replicationFactor: p.values["replication-factor"],
        configs: parsePairs(p.values.config, "--config"),
      };
    case "topics alter-config": {
      const configs = parsePairs(p.values.set, "--set");
      if (Object.keys(configs).length === 0 && p.values.delete.length === 0) {
        throw new UsageError("topics alter-config needs --set k=v or --delete k");
      }
      return { ...cmd, configs, deletes: p.values.delete };
    }
    case "topics add-partitions":
      return { ...cmd, total: p.values.total };
    case "groups reset-offsets":
      return {
        ...cmd,
        topics: [p.values.topic],
        to: parseResetTarget(p.values.to),
        execute: p.values.execute,
      };
    case "lag":
      return { ...cmd, topics: p.values.topic === undefined ? [] : [p.values.topic] };
    case "cluster":
      return { ...cmd, topics: p.values.topic };
    default:
      return cmd;
  }
}

/**
 * The `--to` of `groups reset-offsets`: `earliest`, `latest`, an offset
 * (digits), or a date and time `Date` parses (ISO 8601, e.g.
 * `2026-12-06T10:00:00Z`: the first record at or after it).
 *
 * @example
 * ```ts
 * import { parseResetTarget } from "./admin.ts";
 * console.log(parseResetTarget("42"), parseResetTarget("1970-01-01T00:00:01Z")); // { offset: "42" } { timestamp: 1000 }
 * ```
 */
export function parseResetTarget(to: string): SeekTarget {
  if (to === "earliest" || to === "latest") return to;
  if (/^\d+$/.test(to)) return { offset: to };
  const at = /^\d{4}-\d\d-\d\d/.test(to) ? Date.parse(to) : NaN;
  if (Number.isNaN(at)) {
    throw new UsageError(
      `--to must be earliest, latest, an offset or an ISO date and time, got "${to}"`,
    );
  }
  return { timestamp: at };
}

/**
 * A line for each planned offset outside its partition's log (before the
 * log start or past the log end): Kafka commits it as asked, and a consumer
 * that starts there finds no record and falls back to its
 * `auto.offset.reset` (kafka-consumer-groups moves such offsets to the
 * nearest end instead).
 *
 * @example
 * ```ts
 * import { outOfRange } from "./admin.ts";
 * console.log(outOfRange([{ partition: 0, offset: "900" }], new Map([[0, { low: "0", high: "166" }]])));
 * // ["partition 0: offset 900 is past the log end (166); a consumer there falls back to its auto.offset.reset"]
 * ```
 */
export function outOfRange(
  planned: readonly { partition: number; offset: string }[],
  logs: ReadonlyMap<number, { low: string; high: string }>,
): string[] {
  const out: string[] = [];
  for (const p of planned) {
    const log = logs.get(p.partition);
    const where = log && outside(p.offset, log);
    if (where) {
      out.push(
        `partition ${p.partition}: offset ${p.offset} is ${where}; a consumer there falls back ` +
          "to its auto.offset.reset",
      );
    }
  }
  return out;
}

/** Where `offset` lies outside `log`, in words, or undefined when it is inside. */
function outside(offset: string, log: { low: string; high: string }): string | undefined {
  const at = BigInt(offset);
  if (at > BigInt(log.high)) return `past the log end (${log.high})`;
  if (at < BigInt(log.low)) return `before the log start (${log.low}; older records were deleted)`;
  return undefined;
}

const list = (xs: number[]) => xs.join(",");

function partitionTable(
  rows: { topic: string; partition: number; leader: number; replicas: number[]; isr: number[] }[],
): string {
  return formatTable(
    ["topic", "partition", "leader", "replicas", "isr", "in sync"],
    rows.map((p) => [
      p.topic,
      p.partition,
      p.leader < 0 ? "none" : p.leader,
      list(p.replicas),
      list(p.isr),
      p.isr.length === p.replicas.length ? "yes" : `no (${p.isr.length}/${p.replicas.length})`,
    ]),
  );
}

/**
 * Runs one admin command, printing to stdout; returns the exit status.
 *
 * @example
 * ```ts
 * import { runAdmin } from "./admin.ts";
 * Deno.exit(await runAdmin(["cluster"]));
 * ```
 */
export function runAdmin(args: string[]): Promise<number> {
  return runCommand(CLI.name, CLI.usage, args, parseAdminArgs, execute);
}

async function execute(cmd: AdminCommand): Promise<number> {
  const config = loadConfig();
  const admin = new ClusterAdmin(createKafka(config, { clientId: config.clients.admin }));
  try {
    await admin.connect();
    const [name] = cmd.names;
    switch (cmd.command) {
      case "topics list": {
        const topics = await admin.listTopics(cmd.internal);
        console.log(topics.join("\n"));
        break;
      }
      case "topics create": {
        const created = await admin.createTopic(name, {
          partitions: cmd.partitions ?? 3,
          replicationFactor: cmd.replicationFactor ?? config.kafka.replicationFactor,
          configs: cmd.configs,
        });
        console.log(
          created
            ? `created ${name}: ${cmd.partitions ?? 3} partitions, replication factor ${
              cmd.replicationFactor ?? config.kafka.replicationFactor
            }`
            : `${name} already exists (left unchanged)`,
        );
        break;
      }
      case "topics describe": {
        const topic = await admin.describeTopic(name);
        console.log(partitionTable(topic.partitions));
        const configs = await admin.topicConfig(name);
        const rows = Object.entries(configs).map(([k, c]) => [k, c.sensitive ? "***" : c.value]);
        if (rows.length) console.log(`\n${formatTable(["config", "value"], rows)}`);
        break;
      }
      case "topics delete": {
        await admin.deleteTopics(cmd.names);
        console.log(`deleted ${cmd.names.join(", ")}`);
        break;
      }
      case "topics alter-config": {
        const changes: Record<string, string | null> = { ...cmd.configs };
        for (const k of cmd.deletes) changes[k] = null;
        await admin.alterTopicConfig(name, changes);
        const configs = await admin.topicConfig(name);
        console.log(
          formatTable(["config", "value"], Object.entries(configs).map(([k, c]) => [k, c.value])),
        );
        break;
      }
      case "topics add-partitions": {
        await admin.addPartitions(name, cmd.total!);
        console.log(`${name} now has ${cmd.total} partitions`);
        break;
      }
      case "groups list": {
        const groups = await admin.listGroups();
        console.log(
          formatTable(["group", "protocol type"], groups.map((g) => [g.groupId, g.protocolType])),
        );
        break;
      }
      case "groups describe": {
        const g = await admin.describeGroup(name);
        console.log(
          `group ${g.groupId}: ${g.state}${g.protocol ? `, assignor ${g.protocol}` : ""}`,
        );
        if (g.members.length) {
          console.log(
            formatTable(
              ["member", "client", "host", "partitions"],
              g.members.map((m) => [
                m.memberId,
                m.clientId,
                m.host,
                Object.entries(m.assignment).map(([t, ps]) => `${t}:${list(ps)}`).join(" ") || "-",
              ]),
            ),
          );
        }
        break;
      }
      case "groups reset-offsets": {
        const topic = cmd.topics[0];
        const committed = new Map((await admin.lag(name, topic)).map((r) => [r.partition, r]));
        const rows = await admin.topicOffsets(topic);
        const logs = new Map(rows.map((o) => [o.partition, o]));
        const planned = await admin.offsetsAt(topic, cmd.to!, rows);
        console.log(formatTable(
          ["topic", "partition", "committed now", "new offset", "log end", "lag after"],
          planned.map((p) => {
            const log = logs.get(p.partition);
            const lag = !log
              ? "?"
              : outside(p.offset, log)
              ? "out of range"
              : String(BigInt(log.high) - BigInt(p.offset));
            const now = committed.get(p.partition)?.committed ?? "-";
            return [topic, p.partition, now, p.offset, log?.high ?? "?", lag];
          }),
        ));
        for (const line of outOfRange(planned, logs)) console.log(`warning: ${line}`);
        if (!cmd.execute) {
          const { members } = await admin.describeGroup(name);
          const running = members.length
            ? ` (it cannot run now: group ${name} has ${members.length} running members)`
            : "";
          console.log(`dry run: nothing changed; add --execute to commit these offsets${running}`);
          break;
        }
        // The offsets shown, not a second look at the log: "latest" may have moved since.
        await admin.commitOffsets(name, topic, planned);
        console.log(`group ${name} now reads ${topic} from the offsets above`);
        break;
      }
      case "lag": {
        const rows = await admin.lag(name, cmd.topics[0]);
        if (rows.length === 0) {
          console.log(
            `group ${name} has no committed offsets${cmd.topics[0] ? ` on ${cmd.topics[0]}` : ""}`,
          );
          break;
        }
        console.log(
          formatTable(
            ["topic", "partition", "committed", "log end", "lag"],
            rows.map((r) => [r.topic, r.partition, r.committed ?? "-", r.end, r.lag]),
          ),
        );
        console.log(`total lag: ${rows.reduce((n, r) => n + r.lag, 0)}`);
        break;
      }
      case "cluster": {
        const c = await admin.describeCluster(cmd.topics.length ? cmd.topics : undefined);
        // In KRaft the controller id a broker reports is a random live broker (KIP-590), not
        // the active controller: the Raft leader is in `deno task health`'s quorum row.
        console.log(
          `cluster ${c.clusterId} (active controller: see the quorum row of deno task health)`,
        );
        console.log(
          formatTable(["broker", "host", "port"], c.brokers.map((b) => [b.nodeId, b.host, b.port])),
        );
        if (c.partitions.length) console.log(`\n${partitionTable(c.partitions)}`);
        break;
      }
    }
    return 0;
  } catch (e) {
    console.error(`admin ${cmd.command}: ${(e as Error).message}`);
    return 1;
  } finally {
    await admin.disconnect();
  }
}

if (import.meta.main) Deno.exit(await runAdmin(Deno.args));
