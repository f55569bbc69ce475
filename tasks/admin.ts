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
 * deno task admin cluster
 * ```
 *
 * @module
 */
import { formatTable, parseFlags, parseIntFlag, runCommand, UsageError } from "../lib/util/mod.ts";
import { loadConfig } from "../lib/config.ts";
import { ClusterAdmin, createKafka, parsePairs } from "../lib/kafka/mod.ts";

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
lag <group> [--topic T]                      committed offset, log end and lag per partition
cluster [--topic T ...]                      brokers, controller, leaders and ISR

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
    | "lag"
    | "cluster"
    | "help";
  names: string[];
  internal: boolean;
  partitions?: number;
  replicationFactor?: number;
  configs: Record<string, string>;
  deletes: string[];
  total?: number;
  topics: string[];
}

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
  const parsed = parseFlags({
    args,
    allowPositionals: true,
    options: {
      help: { type: "boolean", short: "h" },
      internal: { type: "boolean" },
      partitions: { type: "string" },
      "replication-factor": { type: "string" },
      config: { type: "string", multiple: true },
      set: { type: "string", multiple: true },
      delete: { type: "string", multiple: true },
      total: { type: "string" },
      topic: { type: "string", multiple: true },
    },
  });
  const { values: v, positionals: p } = parsed;
  const base = {
    names: [] as string[],
    internal: v.internal ?? false,
    configs: { ...parsePairs(v.config, "--config"), ...parsePairs(v.set, "--set") },
    deletes: v.delete ?? [],
    topics: v.topic ?? [],
    partitions: parseIntFlag(v.partitions, "--partitions", 1),
    replicationFactor: parseIntFlag(v["replication-factor"], "--replication-factor", 1),
    total: parseIntFlag(v.total, "--total", 1),
  };
  if (v.help || p.length === 0) return { ...base, command: "help" };
  const need = (n: number, what: string) => {
    if (p.length < n) throw new UsageError(`missing ${what}`);
  };
  const [group, sub, ...rest] = p;
  if (group === "topics") {
    const commands = ["list", "create", "describe", "delete", "alter-config", "add-partitions"];
    if (!sub || !commands.includes(sub)) {
      throw new UsageError(`topics needs one of: ${commands.join(", ")}`);
    }
    if (sub !== "list") need(3, "<topic>");
    if (sub === "add-partitions" && base.total === undefined) {
      throw new UsageError("topics add-partitions needs --total N");
    }
    if (
      sub === "alter-config" && Object.keys(base.configs).length === 0 &&
      base.deletes.length === 0
    ) {
      throw new UsageError("topics alter-config needs --set k=v or --delete k");
    }
    return { ...base, command: `topics ${sub}` as AdminCommand["command"], names: rest };
  }
  if (group === "groups") {
    if (sub !== "list" && sub !== "describe") throw new UsageError("groups needs list or describe");
    if (sub === "describe") need(3, "<group>");
    return { ...base, command: `groups ${sub}`, names: rest };
  }
  if (group === "lag") {
    need(2, "<group>");
    return { ...base, command: "lag", names: [sub, ...rest] };
  }
  if (group === "cluster") return { ...base, command: "cluster" };
  throw new UsageError(`unknown command "${group}"`);
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
  return runCommand("admin", USAGE, args, parseAdminArgs, execute);
}

async function execute(cmd: AdminCommand): Promise<number> {
  if (cmd.command === "help") {
    console.log(USAGE);
    return 0;
  }
  const config = loadConfig();
  const admin = new ClusterAdmin(createKafka(config, { clientId: config.clients.admin }));
  await admin.connect();
  try {
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
        console.log(`cluster ${c.clusterId}, controller ${c.controller ?? "unknown"}`);
        console.log(
          formatTable(
            ["broker", "host", "port", "role"],
            c.brokers.map((
              b,
            ) => [b.nodeId, b.host, b.port, b.nodeId === c.controller ? "controller" : ""]),
          ),
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
