/**
 * The checks of a pipeline run, as pure functions: what the generator
 * tallied, what Kafka's logs received, what the sink dead-lettered and what
 * the lake holds go in; one named result per check comes out. No broker, no
 * lake: {@linkcode Pipeline} gathers the figures, these decide.
 *
 * The checks, in order: each topic's log holds at least what was produced to
 * it; bronze rows = produced - malformed per topic (plus at most the copies
 * the log holds beyond that, when a retried send landed twice); dead letters
 * (the sink's count and the dead-letter topic's) >= malformed; silver rows =
 * distinct events per topic; gold rows equal the tally's to the cent; no lag
 * left.
 *
 * @example
 * ```ts
 * import { failedChecks, pipelineChecks } from "./checks.ts";
 * import { EventGenerator } from "./generator.ts";
 * import { Tally } from "./tally.ts";
 * import { topicsUnder } from "./topics.ts";
 * const tally = new Tally();
 * for (const r of new EventGenerator({ seed: 1 }).take(100)) tally.add(r);
 * const checks = pipelineChecks({
 *   topics: topicsUnder("demo"),
 *   tally,
 *   appended: {},
 *   sinkDeadLetters: 0,
 *   dlqAppended: 0,
 *   lake: [],
 *   goldRows: [],
 *   endLag: 0,
 * });
 * console.log(failedChecks(checks)); // nothing reached the log: most checks fail
 * ```
 *
 * @module
 */
import type { Row } from "../lake/table.ts";
import type { LakeSummaryRow } from "./lake_reader.ts";
import type { GoldRow, Tally } from "./tally.ts";
import { type ShopTopics, TOPIC_KEYS } from "./topics.ts";

/** One check of a run against the tally: its name, what was expected, what was found. */
export interface PipelineCheck {
  /** What is checked, e.g. `bronze rows shop.orders`. */
  name: string;
  /** What the tally says it must be, e.g. `>= 1000`. */
  expected: string;
  /** What Kafka or the lake showed. */
  actual: string;
  /** Whether the check passed. */
  ok: boolean;
}

/** What {@linkcode pipelineChecks} compares. */
export interface PipelineCheckInput {
  /** The run's topic names (the checks are named after them). */
  topics: ShopTopics;
  /** The generator's own tally of what it emitted. */
  tally: Pick<Tally, "topic" | "totals" | "gold">;
  /**
   * Records each event topic's log received during the run, by topic name
   * (Kafka's end offsets after minus before; a topic left out counts 0).
   */
  appended: Readonly<Record<string, number>>;
  /** Records the sink sent to the dead-letter topic, by its own count. */
  sinkDeadLetters: number;
  /** Records appended to the dead-letter topic during the run (its end offsets). */
  dlqAppended: number;
  /** The lake read back: rows per layer and topic. */
  lake: readonly LakeSummaryRow[];
  /** The gold `orders_hourly` rows read back from the lake. */
  goldRows: readonly Row[];
  /** Sum of the sink group's lag over the event topics after the run. */
  endLag: number;
}

function goldKey(r: { region: string; date: string; hour: string }): string {
  return `${r.region}|${r.date}|${r.hour}`;
}

function goldText(r: Omit<GoldRow, "region" | "date" | "hour">): string {
  return [
    r.orders,
    r.revenue_minor,
    r.currency,
    r.revenue_eur_minor,
    r.avg_basket_minor,
    r.top_products,
  ].join(" ");
}

/**
 * Compares gold rows read from the lake with the tally's, to the cent;
 * returns one line per difference (empty when they agree).
 *
 * @example
 * ```ts
 * import { compareGold } from "./checks.ts";
 * console.log(compareGold([], [])); // []
 * ```
 */
export function compareGold(lake: readonly Row[], tally: readonly GoldRow[]): string[] {
  const problems: string[] = [];
  const want = new Map(tally.map((g) => [goldKey(g), goldText(g)]));
  const seen = new Set<string>();
  for (const r of lake) {
    const key = goldKey(r as unknown as GoldRow);
    const got = goldText({
      orders: BigInt(r.orders as bigint),
      revenue_minor: BigInt(r.revenue_minor as bigint),
      currency: String(r.currency),
      revenue_eur_minor: BigInt(r.revenue_eur_minor as bigint),
      avg_basket_minor: BigInt(r.avg_basket_minor as bigint),
      top_products: String(r.top_products),
    });
    if (seen.has(key)) problems.push(`${key}: two gold rows`);
    seen.add(key);
    const expected = want.get(key);
    if (expected === undefined) problems.push(`${key}: in the lake, not in the tally`);
    else if (expected !== got) problems.push(`${key}: lake "${got}" != tally "${expected}"`);
  }
  for (const key of want.keys()) if (!seen.has(key)) problems.push(`${key}: missing in the lake`);
  return problems;
}

function equal(name: string, expected: unknown, actual: unknown): PipelineCheck {
  return { name, expected: String(expected), actual: String(actual), ok: expected === actual };
}

/** At least `want`: shown as an equality when it is one. */
function atLeast(name: string, want: number, got: number): PipelineCheck {
  return { ...equal(name, got === want ? want : `>= ${want}`, got), ok: got >= want };
}

function rowsOf(lake: readonly LakeSummaryRow[], layer: string, topic: string): number {
  let n = 0;
  for (const r of lake) if (r.layer === layer && r.topic === topic) n += r.rows;
  return n;
}

function logChecks(i: PipelineCheckInput): PipelineCheck[] {
  return TOPIC_KEYS.map((k) => {
    const inLog = i.appended[i.topics[k]] ?? 0;
    const name = `log holds every record sent to ${i.topics[k]}`;
    return {
      ...equal(name, `>= ${i.tally.topic(k).produced}`, inLog),
      ok: inLog >= i.tally.topic(k).produced,
    };
  });
}

function bronzeChecks(i: PipelineCheckInput): PipelineCheck[] {
  return TOPIC_KEYS.map((k) => {
    const t = i.tally.topic(k);
    const name = `bronze rows ${i.topics[k]}`;
    const rows = rowsOf(i.lake, "bronze", i.topics[k]);
    // A send retried after a broker failure can land twice (at-least-once): the log then
    // holds copies, bronze keeps them, silver removes them by event id.
    const copies = (i.appended[i.topics[k]] ?? 0) - t.produced;
    if (copies <= 0) return equal(name, t.bronze, rows);
    return {
      ...equal(name, `${t.bronze} + <= ${copies} copies`, rows),
      ok: rows >= t.bronze && rows <= t.bronze + copies,
    };
  });
}

function goldCheck(i: PipelineCheckInput): PipelineCheck {
  const gold = i.tally.gold();
  const problems = compareGold(i.goldRows, gold);
  return {
    name: "gold orders_hourly = tally",
    expected: `${gold.length} rows`,
    actual: problems.length === 0
      ? `${i.goldRows.length} rows`
      : `${problems.length} differences: ${problems.slice(0, 3).join("; ")}`,
    ok: problems.length === 0,
  };
}

/**
 * Checks one run's figures against the generator's tally; one named result
 * per check, in a fixed order (see the module doc). The run is consistent
 * when every result is ok.
 *
 * @example
 * ```ts
 * import { pipelineChecks, type PipelineCheckInput } from "./checks.ts";
 * declare const figures: PipelineCheckInput;
 * const checks = pipelineChecks(figures);
 * console.log(checks.every((c) => c.ok));
 * ```
 */
export function pipelineChecks(input: PipelineCheckInput): PipelineCheck[] {
  const { tally, topics } = input;
  const malformed = tally.totals().malformed;
  return [
    ...logChecks(input),
    ...bronzeChecks(input),
    // A sink that re-reads records after a rebalance (a broker failure can move the group
    // coordinator) dead-letters their malformed ones again: copies, never fewer.
    atLeast("dead letters (sink)", malformed, input.sinkDeadLetters),
    atLeast(`dead letters (${topics.deadLetter})`, malformed, input.dlqAppended),
    ...TOPIC_KEYS.map((k) =>
      equal(
        `silver rows ${topics[k]}`,
        tally.topic(k).silver,
        rowsOf(input.lake, "silver", topics[k]),
      )
    ),
    goldCheck(input),
    equal("end lag", 0, input.endLag),
  ];
}

/**
 * The failed checks, one line each (`name: expected ..., found ...`); empty
 * when the run is consistent.
 *
 * @example
 * ```ts
 * import { failedChecks } from "./checks.ts";
 * console.log(failedChecks([{ name: "end lag", expected: "0", actual: "3", ok: false }]));
 * // [ "end lag: expected 0, found 3" ]
 * ```
 */
export function failedChecks(checks: readonly PipelineCheck[]): string[] {
  return checks.filter((c) => !c.ok).map((c) =>
    `${c.name}: expected ${c.expected}, found ${c.actual}`
  );
}
