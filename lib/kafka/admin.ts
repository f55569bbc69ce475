/**
 * Cluster administration in one small class: topics (create, describe,
 * delete, add partitions, configs), the cluster itself (brokers, each
 * partition's leader, replicas and in-sync replicas), consumer groups and
 * their per-partition lag. (Which node is the active KRaft controller is not
 * something a broker tells a client: see `lib/observe`'s `describeQuorum`.)
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { createKafka } from "./client.ts";
 * import { ClusterAdmin } from "./admin.ts";
 * const admin = new ClusterAdmin(createKafka(loadConfig()));
 * await admin.connect();
 * await admin.createTopic("orders", { partitions: 6, replicationFactor: 3 });
 * console.log((await admin.describeCluster()).brokers.length);
 * await admin.disconnect();
 * ```
 *
 * @module
 */
import { AssignerProtocol, ConfigResourceTypes, type ITopicMetadata, type Kafka } from "kafkajs";
import type { Admin } from "./upstream.ts";
import { pollUntil } from "../util/probe.ts";
import { retryRetriable } from "./errors.ts";
import { commitGroupOffsets } from "./group_offsets.ts";
import { type TopicOffsetRows, topicOffsets } from "./topic_offsets.ts";
import type { Assignment, SeekTarget } from "./consumer.ts";

/** One partition's replication state. */
export interface PartitionInfo {
  /** Topic name. */
  topic: string;
  /** Partition number. */
  partition: number;
  /** Broker id of the leader; -1 when the partition has none (offline). */
  leader: number;
  /** Broker ids of every replica, in id order. */
  replicas: number[];
  /** In-sync replicas: those caught up with the leader. */
  isr: number[];
  /** Replicas on brokers that are down. */
  offline: number[];
}

/** How long describes must show a config change before `alterTopicConfig` resolves, ms. */
const CONFIG_SETTLE_MS = 500;

/** A broker of the cluster. */
export interface BrokerInfo {
  /** Broker id. */
  nodeId: number;
  /** Host the broker advertises. */
  host: string;
  /** Port the broker advertises. */
  port: number;
}

/** What {@linkcode ClusterAdmin.describeCluster} reports. */
export interface ClusterInfo {
  /** The cluster's id. */
  clusterId: string;
  /**
   * The `ControllerId` of the answering broker's DescribeCluster response. In
   * KRaft mode this is NOT the active controller: clients cannot reach the
   * controllers, so each broker answers with a random live broker id
   * (KIP-590), and two calls can name two different nodes. The Raft leader of
   * the metadata quorum (the active controller) comes from the DescribeQuorum
   * API: `describeQuorum()` in `lib/observe`.
   */
  controller: number | null;
  /** Brokers the cluster reports. */
  brokers: BrokerInfo[];
  /** Leader, replicas and ISR of every partition of the described topics. */
  partitions: PartitionInfo[];
}

/** A topic and its partitions. */
export interface TopicInfo {
  /** Topic name. */
  name: string;
  /** Every partition, in partition order. */
  partitions: PartitionInfo[];
}

/** Options for {@linkcode ClusterAdmin.createTopic}. */
export interface CreateTopicOptions {
  /** Default 3. */
  partitions?: number;
  /** Default 3 (every broker has a copy). */
  replicationFactor?: number;
  /** Topic configs, e.g. `{ "min.insync.replicas": "2", "retention.ms": "3600000" }`. */
  configs?: Record<string, string>;
}

/** Where a topic's config value comes from. */
export type ConfigSource = "topic" | "broker" | "default" | "unknown";

/** One topic config value and where it comes from. */
export interface ConfigValue {
  /** The value, as a string. */
  value: string;
  /** true when the value is Kafka's built-in default. */
  isDefault: boolean;
  /**
   * `topic`: set on this topic; `broker`: from the brokers' configuration (a
   * `log.*` line in `server.properties` or a dynamic broker setting);
   * `default`: Kafka's built-in default.
   */
  source: ConfigSource;
  /** true when Kafka does not let this config be changed. */
  readOnly: boolean;
  /** true when the broker hides the value (passwords and the like). */
  sensitive: boolean;
}

/** A consumer group in a listing. */
export interface GroupOverview {
  /** Group id. */
  groupId: string;
  /** `consumer` for consumer groups. */
  protocolType: string;
}

/** A consumer group's state and its members' partitions. */
export interface GroupInfo {
  /** Group id. */
  groupId: string;
  /** The broker's group state, e.g. `Stable`, `PreparingRebalance`, `Empty`. */
  state: string;
  /** The partition assignor in use (e.g. `RoundRobinAssigner`). */
  protocol: string;
  /** Each member: its ids, host, and the partitions assigned to it. */
  members: { memberId: string; clientId: string; host: string; assignment: Assignment }[];
}

/** How far a group is behind on one partition. */
export interface PartitionLag {
  /** Topic name. */
  topic: string;
  /** Partition number. */
  partition: number;
  /** The group's committed offset; `null` when it has committed nothing here. */
  committed: string | null;
  /** The log-end offset (the next offset to be written). */
  end: string;
  /** Records not yet consumed: end - committed (end - start when nothing is committed). */
  lag: number;
}

/** DescribeConfigs' ConfigSource numbers, as far as a topic's values go. */
function sourceOf(configSource: number | undefined, isDefault: boolean): ConfigSource {
  if (configSource === 1) return "topic";
  if (configSource === 2 || configSource === 3 || configSource === 4) return "broker";
  if (configSource === 5) return "default";
  return isDefault ? "default" : "unknown";
}

function partitionsOf(topic: ITopicMetadata): PartitionInfo[] {
  return topic.partitions
    .map((p) => ({
      topic: topic.name,
      partition: p.partitionId,
      leader: p.leader,
      replicas: [...p.replicas].sort((a, b) => a - b),
      isr: [...p.isr].sort((a, b) => a - b),
      offline: [...(p.offlineReplicas ?? [])].sort((a, b) => a - b),
    }))
    .sort((a, b) => a.partition - b.partition);
}

/**
 * Admin operations on the cluster. Lifecycle: `connect()`, calls, `disconnect()`.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { createKafka } from "./client.ts";
 * import { ClusterAdmin } from "./admin.ts";
 * const admin = new ClusterAdmin(createKafka(loadConfig()));
 * await admin.connect();
 * for (const row of await admin.lag("orders-audit")) console.log(row.partition, row.lag);
 * await admin.disconnect();
 * ```
 */
export class ClusterAdmin {
  readonly #kafka: Kafka;
  readonly #admin: Admin;

  /** An admin client made from `kafka`; call `connect()` before using it. */
  constructor(kafka: Kafka) {
    this.#kafka = kafka;
    this.#admin = kafka.admin();
  }

  /** Each partition's low and high offsets of `topic` (see {@linkcode topicOffsets}). */
  topicOffsets(topic: string): Promise<TopicOffsetRows> {
    return topicOffsets(this.#kafka, this.#admin, topic);
  }

  /** The underlying kafkajs admin, for what this class does not wrap. */
  get raw(): Admin {
    return this.#admin;
  }

  /** Connects to the cluster. */
  async connect(): Promise<void> {
    await this.#admin.connect();
  }

  /** Closes the connection. */
  async disconnect(): Promise<void> {
    await this.#admin.disconnect();
  }

  /** Topic names, sorted; internal ones (`__consumer_offsets`, ...) only with `internal`. */
  async listTopics(internal = false): Promise<string[]> {
    const names = await this.#admin.listTopics();
    return names.filter((n) => internal || !n.startsWith("__")).sort();
  }

  /**
   * Creates a topic and waits for its leaders; false when it already existed
   * (its settings are then left as they are).
   */
  async createTopic(name: string, options: CreateTopicOptions = {}): Promise<boolean> {
    // kafkajs's own waitForLeaders gives up (bails) when the broker it asks does not know the
    // new topic yet ("This server does not host this topic-partition"), which a busy cluster
    // answers for a moment; so wait here instead, polling until every partition has a leader.
    const created = await this.#admin.createTopics({
      waitForLeaders: false,
      topics: [{
        topic: name,
        numPartitions: options.partitions ?? 3,
        replicationFactor: options.replicationFactor ?? 3,
        configEntries: Object.entries(options.configs ?? {}).map(([n, value]) => ({
          name: n,
          value,
        })),
      }],
    });
    await pollUntil(
      `topic ${name} with a leader for every partition`,
      async () => {
        const { partitions } = await this.describeTopic(name);
        return partitions.length > 0 && partitions.every((p) => p.leader >= 0);
      },
      30_000,
      { intervalMs: 100 },
    );
    return created;
  }

  /** Deletes topics (their data is gone). */
  async deleteTopics(names: string[]): Promise<void> {
    if (names.length) await this.#admin.deleteTopics({ topics: names });
  }

  /** Each partition's leader, replicas and ISR. */
  async describeTopic(name: string): Promise<TopicInfo> {
    const meta = await this.#admin.fetchTopicMetadata({ topics: [name] });
    return { name, partitions: partitionsOf(meta.topics[0]) };
  }

  /**
   * Grows a topic to `total` partitions (Kafka never shrinks one; keys move!)
   * and returns once the metadata shows them all with a leader, so the next
   * producer already sees the new count.
   */
  async addPartitions(name: string, total: number, timeoutMs = 30_000): Promise<void> {
    const current = (await this.describeTopic(name)).partitions.length;
    if (!Number.isInteger(total) || total <= current) {
      throw new RangeError(
        `${name} has ${current} partitions; the new total must be larger (Kafka cannot remove partitions)`,
      );
    }
    await this.#admin.createPartitions({ topicPartitions: [{ topic: name, count: total }] });
    await pollUntil(`${name} with ${total} partitions`, async () => {
      const { partitions } = await this.describeTopic(name);
      return partitions.length === total && partitions.every((p) => p.leader >= 0);
    }, timeoutMs);
  }

  /**
   * The topic's configs that are not Kafka's built-in defaults (set on the
   * topic or by the brokers' configuration); `all` includes the defaults too.
   */
  async topicConfig(name: string, all = false): Promise<Record<string, ConfigValue>> {
    // A broker that has not replayed a new topic yet answers UNKNOWN_TOPIC_OR_PARTITION, which
    // kafkajs's describeConfigs does not retry.
    const res = await retryRetriable(() =>
      this.#admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: ConfigResourceTypes.TOPIC, name }],
      })
    );
    const out: Record<string, ConfigValue> = {};
    for (const e of res.resources[0].configEntries) {
      if (!all && e.isDefault) continue;
      out[e.configName] = {
        value: e.configValue,
        isDefault: e.isDefault,
        source: sourceOf((e as { configSource?: number }).configSource, e.isDefault),
        readOnly: e.readOnly,
        sensitive: e.isSensitive,
      };
    }
    return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
  }

  /**
   * Sets topic configs, keeping the others. (kafkajs speaks the legacy
   * AlterConfigs request, which replaces the whole set, so the current
   * overrides are read and sent along.) A value of `null` removes an override.
   * Resolves once describes have shown the change for half a second (the
   * brokers replay the controller's change a moment apart).
   */
  async alterTopicConfig(name: string, changes: Record<string, string | null>): Promise<void> {
    const current = await this.topicConfig(name);
    const merged: Record<string, string> = {};
    for (const [k, v] of Object.entries(current)) if (!v.readOnly) merged[k] = v.value;
    for (const [k, v] of Object.entries(changes)) {
      if (v === null) delete merged[k];
      else merged[k] = v;
    }
    await retryRetriable(() =>
      this.#admin.alterConfigs({
        validateOnly: false,
        resources: [{
          type: ConfigResourceTypes.TOPIC,
          name,
          configEntries: Object.entries(merged).map(([k, value]) => ({ name: k, value })),
        }],
      })
    );
    // The controller has the change when this answers; each broker replays it a moment later,
    // and kafkajs sends each describe to whichever broker its metadata last named. So wait
    // until the describes have shown the change for a while without a miss.
    let shownSince: number | undefined;
    await pollUntil(
      `topic ${name}'s config change to show on the brokers`,
      async () => {
        const now = await this.topicConfig(name);
        const shown = Object.entries(changes).every(([k, v]) =>
          v === null ? now[k]?.source !== "topic" : now[k]?.value === v
        );
        shownSince = shown ? shownSince ?? Date.now() : undefined;
        return shownSince !== undefined && Date.now() - shownSince >= CONFIG_SETTLE_MS;
      },
      30_000,
      { intervalMs: 100 },
    );
  }

  /**
   * Brokers, every partition's leader, replicas and ISR for `topics`
   * (default: every non-internal topic), and the `controller` id the broker
   * reports (in KRaft a random live broker, not the active controller).
   */
  async describeCluster(topics?: string[]): Promise<ClusterInfo> {
    const cluster = await this.#admin.describeCluster();
    const names = topics ?? await this.listTopics();
    const meta = names.length
      ? await this.#admin.fetchTopicMetadata({ topics: names })
      : { topics: [] };
    return {
      clusterId: cluster.clusterId,
      controller: cluster.controller,
      brokers: [...cluster.brokers].sort((a, b) => a.nodeId - b.nodeId),
      partitions: meta.topics.flatMap(partitionsOf)
        .sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition),
    };
  }

  /** True when every partition of `topic` has a leader and a full ISR. */
  async inSync(topic: string): Promise<boolean> {
    const { partitions } = await this.describeTopic(topic);
    return partitions.every((p) => p.leader >= 0 && p.isr.length === p.replicas.length);
  }

  /** Consumer groups, sorted by id. */
  async listGroups(): Promise<GroupOverview[]> {
    const { groups } = await this.#admin.listGroups();
    return groups
      .map((g) => ({ groupId: g.groupId, protocolType: g.protocolType }))
      .sort((a, b) => a.groupId.localeCompare(b.groupId));
  }

  /** A group's state and which partitions each member holds. */
  async describeGroup(groupId: string): Promise<GroupInfo> {
    const { groups } = await retryRetriable(() => this.#admin.describeGroups([groupId]));
    const g = groups[0];
    return {
      groupId: g.groupId,
      state: g.state,
      protocol: g.protocol,
      members: g.members.map((m) => {
        let assignment: Assignment = {};
        if (m.memberAssignment?.length) {
          const decoded = AssignerProtocol.MemberAssignment.decode(m.memberAssignment);
          assignment = Object.fromEntries(
            Object.entries(decoded?.assignment ?? {}).map((
              [t, ps],
            ) => [t, [...ps].sort((a, b) => a - b)]),
          );
        }
        return { memberId: m.memberId, clientId: m.clientId, host: m.clientHost, assignment };
      }).sort((a, b) =>
        a.clientId.localeCompare(b.clientId) || a.memberId.localeCompare(b.memberId)
      ),
    };
  }

  /** Deletes groups (they must have no active members). */
  async deleteGroups(groupIds: string[]): Promise<void> {
    if (groupIds.length) await retryRetriable(() => this.#admin.deleteGroups(groupIds));
  }

  /**
   * How many records `topic` has received so far: the sum of its partitions'
   * log-end offsets (a count from the brokers, not from any client).
   */
  async recordsAppended(topic: string): Promise<number> {
    const offsets = await this.topicOffsets(topic);
    return offsets.reduce((sum, o) => sum + Number(o.high), 0);
  }

  /**
   * Per-partition lag of `groupId` on `topic` (default: every topic it has
   * committed offsets for): log-end offset minus committed offset.
   */
  async lag(groupId: string, topic?: string): Promise<PartitionLag[]> {
    const committed = await retryRetriable(() =>
      this.#admin.fetchOffsets({ groupId, topics: topic ? [topic] : undefined })
    );
    const rows: PartitionLag[] = [];
    for (const t of committed) {
      const ends = new Map(
        (await this.topicOffsets(t.topic)).map((o) => [o.partition, o]),
      );
      for (const p of t.partitions) {
        const end = ends.get(p.partition);
        if (!end) continue;
        const has = p.offset !== "-1" && p.offset !== "";
        const from = has ? BigInt(p.offset) : BigInt(end.low);
        rows.push({
          topic: t.topic,
          partition: p.partition,
          committed: has ? p.offset : null,
          end: end.high,
          lag: Number(BigInt(end.high) - from),
        });
      }
    }
    return rows.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
  }

  /**
   * Moves a group's committed offsets on `topic`: to the earliest or latest
   * offset, the first offset at or after a timestamp, or a given offset. As
   * in Kafka, only a group with no running members can be moved: otherwise
   * this throws {@linkcode GroupNotEmptyError}. One OffsetCommit request to
   * the group's coordinator, as `kafka-consumer-groups.sh --reset-offsets`
   * sends (see lib/kafka/group_offsets.ts), not kafkajs's `setOffsets`
   * (which joins the group for about 5 s).
   */
  async resetOffsets(groupId: string, topic: string, target: SeekTarget): Promise<void> {
    await this.commitOffsets(groupId, topic, await this.offsetsAt(topic, target));
  }

  /**
   * Commits `partitions`' offsets (e.g. a plan from {@linkcode offsetsAt})
   * for `groupId` on `topic`, as {@linkcode resetOffsets} does: only an
   * empty group moves, else {@linkcode GroupNotEmptyError}.
   */
  async commitOffsets(
    groupId: string,
    topic: string,
    partitions: { partition: number; offset: string }[],
  ): Promise<void> {
    const group = await this.describeGroup(groupId);
    if (group.members.length > 0) throw new GroupNotEmptyError(groupId, group);
    const offsets = [{ topic, partitions }];
    const sent = await retryRetriable(() => commitGroupOffsets(this.#kafka, groupId, offsets));
    if (!sent) await retryRetriable(() => this.#admin.setOffsets({ groupId, topic, partitions }));
  }

  /**
   * The offset of each partition of `topic` that `target` names: the log
   * start (`earliest`), the log end (`latest`), the first record at or after
   * a timestamp (the log end when there is none), or the given offset. What
   * {@linkcode resetOffsets} commits, and what a dry run shows. `logs`: the
   * topic's offsets when the caller has just read them (else read here).
   */
  async offsetsAt(
    topic: string,
    target: SeekTarget,
    logs?: TopicOffsetRows,
  ): Promise<{ partition: number; offset: string }[]> {
    if (target === "earliest" || target === "latest") {
      const offsets = logs ?? await this.topicOffsets(topic);
      return offsets.map((o) => ({
        partition: o.partition,
        offset: target === "earliest" ? o.low : o.high,
      })).sort((a, b) => a.partition - b.partition);
    }
    if ("timestamp" in target) {
      const found = await this.#admin.fetchTopicOffsetsByTimestamp(topic, target.timestamp);
      return found.map((o) => ({ partition: o.partition, offset: o.offset }))
        .sort((a, b) => a.partition - b.partition);
    }
    const { partitions } = await this.describeTopic(topic);
    return partitions.map((p) => ({ partition: p.partition, offset: target.offset }));
  }
}

/**
 * Thrown by {@linkcode ClusterAdmin.resetOffsets} for a group that has
 * running members: Kafka moves only an empty group's offsets (a running
 * member would commit its own positions over them).
 *
 * @example
 * ```ts
 * import { GroupNotEmptyError } from "./admin.ts";
 * const e = new GroupNotEmptyError("lake-sink", { state: "Stable", members: [{ clientId: "sink" }] });
 * console.log(e.message); // cannot move the offsets of group lake-sink: it has 1 running member ...
 * ```
 */
export class GroupNotEmptyError extends Error {
  /** The group's state when asked, e.g. `Stable`. */
  readonly state: string;

  /** The error for `groupId`, described as `group` (its state and members). */
  constructor(
    readonly groupId: string,
    group: { state: string; members: readonly { clientId: string }[] },
  ) {
    const n = group.members.length;
    const clients = [...new Set(group.members.map((m) => m.clientId))].join(", ");
    super(
      `cannot move the offsets of group ${groupId}: it has ${n} running member${
        n === 1 ? "" : "s"
      } (state ${group.state}; clients ${clients}). Stop them first: Kafka moves only an ` +
        "empty group's offsets.",
    );
    this.name = "GroupNotEmptyError";
    this.state = group.state;
  }
}
