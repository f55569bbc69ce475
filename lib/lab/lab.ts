/**
 * The operations lab: five break-and-fix scenarios against the live stack,
 * each started by a lab method that first heals whatever an earlier run
 * left behind (a stopped broker, a frozen MinIO, leftover `lab.` topics,
 * groups, subjects and lake folders), and each closed (by `close()`, `await
 * using`, or the next scenario's heal) with everything it did undone.
 *
 * | method               | fault                                      | runbook section       |
 * | -------------------- | ------------------------------------------ | --------------------- |
 * | `brokerDown()`       | the leader of a partition is killed        | `#broker-down`        |
 * | `lagGrowing()`       | a consumer group too slow for its input    | `#lag-growing`        |
 * | `minioUnreachable()` | MinIO frozen while the sink uploads        | `#minio-unreachable`  |
 * | `schemaRejected()`   | a release registers an incompatible schema | `#schema-rejected`    |
 * | `poisonRecord()`     | an order that breaks a contract rule       | `#dlq-growing`        |
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { OperationsLab } from "./lab.ts";
 * await using lab = await OperationsLab.open(loadConfig(), { log: console.log });
 * console.log(await lab.heal()); // [] when nothing was left behind
 * ```
 *
 * @module
 */
import { logLevel } from "kafkajs";
import type { Config } from "../config.ts";
import type { Kafka } from "../kafka/upstream.ts";
import { ClusterAdmin } from "../kafka/admin.ts";
import { createKafka, logLevelFromEnv } from "../kafka/client.ts";
import { LakeStore } from "../lake/store.ts";
import { checkHealth, type HealthReport } from "../observe/health.ts";
import { RegistryClient } from "../schema/rest.ts";
import { openStack } from "../stack/open.ts";
import type { Stack } from "../stack/types.ts";
import { sleep } from "../util/deadline.ts";
import { healProcesses } from "./faults.ts";
import { type BrokerDownOptions, BrokerDownScenario } from "./broker_down.ts";
import { type LagOptions, LagScenario } from "./lag.ts";
import { type MinioDownOptions, MinioDownScenario } from "./minio_down.ts";
import { PoisonScenario } from "./poison.ts";
import {
  deleteTopicsIfPresent,
  LAB_PREFIX,
  type LabContext,
  type LabScenario,
  retrying,
} from "./scenario.ts";
import { SchemaScenario } from "./schema_change.ts";

/** Options of {@linkcode OperationsLab.open}. */
export interface LabOptions {
  /** Progress lines (default: none). */
  log?: (line: string) => void;
  /** Longest `heal()` waits for `deno task health` to pass, ms (default 180 000). */
  healthTimeoutMs?: number;
}

/** The stack did not become healthy after a heal. */
export class LabHealthError extends Error {
  /** The last health report. */
  constructor(readonly report: HealthReport) {
    super(
      `the stack is not healthy after the lab healed it: ${
        report.checks.filter((c) => !c.ok).map((c) => `${c.service} ${c.check}: ${c.detail}`)
          .join("; ")
      }`,
    );
    this.name = "LabHealthError";
  }
}

/** See the module doc. */
export class OperationsLab implements LabContext, AsyncDisposable {
  /** The configuration. */
  readonly config: Config;
  /** A kafkajs client (its own log quiet unless `KAFKAJS_LOG_LEVEL` says otherwise). */
  readonly kafka: Kafka;
  /** A connected admin. */
  readonly admin: ClusterAdmin;
  /** The stack, to stop and start brokers and MinIO. */
  readonly stack: Stack;
  /** The Schema Registry's REST client. */
  readonly registry: RegistryClient;
  /** The lake. */
  readonly store: LakeStore;
  /** Progress lines. */
  readonly log: (line: string) => void;
  readonly #open = new Set<LabScenario>();
  readonly #healthTimeoutMs: number;

  private constructor(config: Config, stack: Stack, kafka: Kafka, options: LabOptions) {
    this.config = config;
    this.stack = stack;
    this.kafka = kafka;
    this.admin = new ClusterAdmin(kafka);
    this.registry = new RegistryClient(config.schemaRegistry.url);
    this.store = LakeStore.fromConfig(config);
    this.log = options.log ?? (() => {});
    this.#healthTimeoutMs = options.healthTimeoutMs ?? 180_000;
  }

  /** Connects an admin and finds the stack (Docker or native). */
  static async open(config: Config, options: LabOptions = {}): Promise<OperationsLab> {
    const stack = await openStack(config);
    const kafka = createKafka(config, {
      clientId: "shopstream-lab",
      level: logLevelFromEnv(logLevel.NOTHING),
    });
    const lab = new OperationsLab(config, stack, kafka, options);
    await lab.admin.connect();
    return lab;
  }

  /** Scenarios opened and not closed yet. */
  get openScenarios(): readonly LabScenario[] {
    return [...this.#open];
  }

  /** Called by scenarios as they open and close. */
  track(scenario: LabScenario, open: boolean): void {
    if (open) this.#open.add(scenario);
    else this.#open.delete(scenario);
  }

  /**
   * Brings the stack back to where the lab found it: closes every scenario
   * still open, resumes or starts MinIO, starts stopped brokers, deletes
   * every `lab.` topic, group, subject and bronze folder, then waits until
   * `deno task health` passes (every broker up, every ISR full). Returns one
   * line per thing it had to do.
   */
  async heal(): Promise<string[]> {
    const actions: string[] = [];
    for (const s of [...this.#open]) {
      const failures = await s.close();
      actions.push(
        `closed the ${s.kind} scenario left open${
          failures.length ? ` (${failures.join("; ")})` : ""
        }`,
      );
    }
    actions.push(...await healProcesses(this.stack));
    const topics = (await this.admin.listTopics()).filter((t) => t.startsWith(LAB_PREFIX));
    if (topics.length) {
      await deleteTopicsIfPresent(this.admin, topics);
      actions.push(`deleted ${topics.length} topic(s) left by earlier runs`);
    }
    const groups = (await retrying(() => this.admin.listGroups())).map((g) => g.groupId)
      .filter((g) => g.startsWith(LAB_PREFIX));
    if (groups.length) {
      await this.admin.deleteGroups(groups).catch(() => {});
      actions.push(`deleted ${groups.length} consumer group(s) left by earlier runs`);
    }
    const subjects = (await this.registry.subjects()).filter((s) => s.startsWith(LAB_PREFIX));
    for (const s of subjects) await this.registry.deleteSubject(s);
    if (subjects.length) actions.push(`deleted ${subjects.length} subject(s) left by earlier runs`);
    const objects = await this.store.list(`bronze/${LAB_PREFIX}`);
    if (objects.length) {
      await this.store.removeAll(`bronze/${LAB_PREFIX}`);
      actions.push(`deleted ${objects.length} lake object(s) left by earlier runs`);
    }
    await this.waitHealthy();
    for (const a of actions) this.log(`heal: ${a}`);
    return actions;
  }

  /** Polls `deno task health` (its checks) until every row is OK; throws {@linkcode LabHealthError}. */
  async waitHealthy(timeoutMs: number = this.#healthTimeoutMs): Promise<HealthReport> {
    const until = Date.now() + timeoutMs;
    let report = await checkHealth(this.config);
    while (!report.ok && Date.now() < until) {
      await sleep(1000);
      report = await checkHealth(this.config);
    }
    if (!report.ok) throw new LabHealthError(report);
    return report;
  }

  /** Scenario 1: a broker down (see `./broker_down.ts`). */
  brokerDown(options?: BrokerDownOptions): Promise<BrokerDownScenario> {
    return BrokerDownScenario.start(this, options);
  }

  /** Scenario 2: consumer lag growing (see `./lag.ts`). */
  lagGrowing(options?: LagOptions): Promise<LagScenario> {
    return LagScenario.start(this, options);
  }

  /** Scenario 3: MinIO unreachable (see `./minio_down.ts`). */
  minioUnreachable(options?: MinioDownOptions): Promise<MinioDownScenario> {
    return MinioDownScenario.start(this, options);
  }

  /** Scenario 4: an incompatible schema (see `./schema_change.ts`). */
  schemaRejected(): Promise<SchemaScenario> {
    return SchemaScenario.start(this);
  }

  /** Scenario 5: a poison record (see `./poison.ts`). */
  poisonRecord(): Promise<PoisonScenario> {
    return PoisonScenario.start(this);
  }

  /** Closes every open scenario (undoing its fault) and disconnects. */
  async close(): Promise<void> {
    for (const s of [...this.#open]) await s.close();
    await this.admin.disconnect();
  }

  /** `await using` support: the same as `close()`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
