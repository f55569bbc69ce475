/**
 * What every lab scenario shares: the lab's clients, a name space for what
 * it creates (`lab.<run>.…`), a log of the run's events (for the charts'
 * markers), the alert rules at lab scale, and a close that undoes
 * everything the scenario did, in reverse order, however far it got. A
 * scenario is `AsyncDisposable`: `await using s = await lab.brokerDown()`
 * closes it at the end of the block, errors included.
 *
 * @example
 * ```ts
 * import { labRules } from "./scenario.ts";
 * for (const r of labRules("lab.x.dlq")) console.log(r.alert, r.forSeconds);
 * ```
 *
 * @module
 */
import type { Config } from "../config.ts";
import type { Kafka } from "../kafka/upstream.ts";
import type { ClusterAdmin } from "../kafka/admin.ts";
import type { LakeStore } from "../lake/store.ts";
import type { RegistryClient } from "../schema/rest.ts";
import type { Stack } from "../stack/types.ts";
import type { AlertRule } from "../observe/alerts.ts";
import { shopstreamRules } from "../shopstream/monitoring.ts";
import { check } from "../course/exercise.ts";
import { withDeadline } from "../util/deadline.ts";
import { escapeHtml } from "../course/html.ts";

/** Every name the lab creates starts with this: topics, groups, subjects, lake folders. */
export const LAB_PREFIX = "lab.";

/** What a scenario needs from its lab. */
export interface LabContext {
  /** The configuration. */
  readonly config: Config;
  /** A kafkajs client. */
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
  /** Closes every scenario still open and brings the stack back (see `OperationsLab.heal`). */
  heal(): Promise<string[]>;
  /** Called by a scenario when it opens and when it closes. */
  track(scenario: LabScenario, open: boolean): void;
}

/** Something that happened during a run, at `x` seconds since the scenario started. */
export interface LabEvent {
  /** Seconds since the scenario started. */
  readonly x: number;
  /** What happened, e.g. `broker 2 killed`. */
  readonly label: string;
}

/**
 * The ShopStream alert rules with bounds for a lab that lasts a minute
 * instead of an afternoon: lag above 500 records on a partition for 5 s, under-replicated
 * partitions for 5 s, flush failures within 20 s held for 3 s, dead letters
 * above 0.5/s over 20 s. Same metrics, same expressions, same runbook links.
 *
 * @example
 * ```ts
 * import { labRules } from "./scenario.ts";
 * console.log(labRules("lab.x.dlq").find((r) => r.alert === "ShopStreamConsumerLagHigh")?.expr.threshold); // 500
 * ```
 */
export function labRules(dlqTopic: string): AlertRule[] {
  return shopstreamRules(dlqTopic, {
    lagRecords: 500,
    lagForSeconds: 5,
    dlqPerSecond: 0.5,
    dlqForSeconds: 0,
    underReplicatedForSeconds: 5,
    flushFailuresForSeconds: 3,
  }).map((r) =>
    r.expr.range ? { ...r, expr: { ...r.expr, range: { ...r.expr.range, windowSeconds: 20 } } } : r
  );
}

/**
 * Deletes those of `topics` that still exist (a heal may have deleted them
 * already; Kafka would answer an unknown topic with retries and an error).
 *
 * @example
 * ```ts
 * import type { ClusterAdmin } from "../kafka/admin.ts";
 * import { deleteTopicsIfPresent } from "./scenario.ts";
 * declare const admin: ClusterAdmin;
 * await deleteTopicsIfPresent(admin, ["lab.x.orders"]);
 * ```
 */
export async function deleteTopicsIfPresent(
  admin: ClusterAdmin,
  topics: readonly string[],
): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const present = topics.filter((t) => existing.has(t));
  if (present.length === 0) return;
  await retrying(async () => {
    const still = new Set(await admin.listTopics());
    const left = present.filter((t) => still.has(t));
    if (left.length) await admin.deleteTopics(left);
  });
}

/**
 * Calls `fn` until it does not throw (every 300 ms, at most `timeoutMs`,
 * default 30 s), then returns its value; after that, throws its last error.
 * Right after a topic is created, or while a broker is down, a broker can
 * answer a metadata request before it has caught up ("This server does not
 * host this topic-partition"): asking again a moment later succeeds.
 *
 * @example
 * ```ts
 * import type { ClusterAdmin } from "../kafka/admin.ts";
 * import { retrying } from "./scenario.ts";
 * declare const admin: ClusterAdmin;
 * const topic = await retrying(() => admin.describeTopic("lab.x.orders"));
 * console.log(topic.partitions.length);
 * ```
 */
export async function retrying<T>(fn: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() >= until) throw e;
      await new Promise((r) => setTimeout(r, 300));
    }
  }
}

/** A run id: base 36 time and four random characters. */
export function runId(): string {
  return `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}

/**
 * The base of every scenario: names, events, and deferred clean-ups run in
 * reverse order by `close()` (once; later calls wait for the first).
 *
 * @example
 * ```ts
 * import type { LabContext } from "./scenario.ts";
 * import { LabScenario } from "./scenario.ts";
 * class Demo extends LabScenario {}
 * declare const lab: LabContext;
 * await using demo = new Demo(lab, "demo");
 * demo.defer("say bye", () => Promise.resolve(console.log("bye")));
 * ```
 */
export abstract class LabScenario implements AsyncDisposable {
  /** The lab it runs in. */
  readonly lab: LabContext;
  /** Which scenario, e.g. `broker-down`. */
  readonly kind: string;
  /** This run's id (part of every name it creates). */
  readonly id: string = runId();
  /** When it started, epoch ms. */
  readonly startedAt: number = Date.now();
  readonly #events: LabEvent[] = [];
  readonly #cleanups: { what: string; fn: () => Promise<unknown> }[] = [];
  #closing?: Promise<string[]>;

  /** A scenario of `kind` in `lab` (tracked by the lab until closed). */
  constructor(lab: LabContext, kind: string) {
    this.lab = lab;
    this.kind = kind;
    lab.track(this, true);
  }

  /** `lab.<run>.<what>`: the name of something this run creates. */
  name(what: string): string {
    return `${LAB_PREFIX}${this.id}.${what}`;
  }

  /** Seconds since the scenario started. */
  elapsed(atMs: number = Date.now()): number {
    return (atMs - this.startedAt) / 1000;
  }

  /** Notes an event of the run (a chart marker); returns it. */
  mark(label: string): LabEvent {
    const e = { x: Math.round(this.elapsed() * 10) / 10, label };
    this.#events.push(e);
    this.lab.log(`${this.kind}: ${label}`);
    return e;
  }

  /** The run's events so far, oldest first. */
  get events(): readonly LabEvent[] {
    return [...this.#events];
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /** Registers an undo step; `close()` runs them newest first. */
  defer(what: string, fn: () => Promise<unknown>): void {
    this.#cleanups.push({ what, fn });
  }

  /**
   * Undoes everything the scenario did, newest first, each step on its own
   * (one failing, or taking more than a minute, does not stop the others);
   * returns the failures, if any.
   */
  close(): Promise<string[]> {
    this.#closing ??= (async () => {
      const failures: string[] = [];
      for (const step of this.#cleanups.reverse()) {
        try {
          await withDeadline(step.fn(), 60_000, step.what);
        } catch (e) {
          failures.push(`${step.what}: ${(e as Error).message}`);
        }
      }
      this.lab.track(this, false);
      for (const f of failures) this.lab.log(`${this.kind}: clean-up failed: ${f}`);
      return failures;
    })();
    return this.#closing;
  }

  /** `await using` support: the same as `close()`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** A recovery check that passed, displayable in a notebook as one green line. */
export interface RecoveryVerdict {
  /** What was checked. */
  readonly title: string;
  /** The Deno kernel's display hook. */
  [key: symbol]: () => Record<string, string>;
}

/** A recovery check that failed: the system is not back yet (the message says what is not). */
export class NotRecoveredError extends Error {
  /** The check's title and what is still wrong. */
  constructor(readonly title: string, readonly hint: string) {
    super(`✗ ${title}: not recovered: ${hint}`);
    this.name = "NotRecoveredError";
  }
}

/**
 * A scenario's closing self-check: runs `fn` through the course's
 * {@linkcode check} (assertions, a time limit) and returns a displayable
 * "✓ recovered" line, or throws {@linkcode NotRecoveredError} with what is
 * still wrong, so a notebook run stops there. Unlike an exercise check it
 * is not graded.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { selfCheck } from "./scenario.ts";
 * const v = await selfCheck("lag back to 0", () => assert.equal(0, 0));
 * console.log(v.title);
 * ```
 */
export async function selfCheck(
  title: string,
  fn: () => void | Promise<void>,
  options: { timeoutMs?: number } = {},
): Promise<RecoveryVerdict> {
  const v = await check("lab", title, fn, options);
  if (v.status !== "solved") throw new NotRecoveredError(title, v.hint);
  const text = `✓ ${title}: recovered`;
  return {
    title,
    [Symbol.for("Jupyter.display")]: () => ({
      "text/plain": text,
      "text/html": `<div style="color:#1a7f37;font-family:monospace">${escapeHtml(text)}</div>`,
    }),
  };
}
