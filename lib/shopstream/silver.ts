/**
 * Silver: bronze rows validated, deduplicated by `event_id`, and with money
 * normalised, one Parquet object per topic, region and UTC hour
 * (`silver/<topic>/region=<R>/date=<D>/hour=<H>/part-00000.parquet`).
 *
 * Columns: the bronze columns (same names and types; `_partition`, `_offset`,
 * `_kafka_timestamp`, `_schema_id` kept as lineage), plus, after every money
 * pair `<m>_amount_minor` + `<m>_currency`, a `<m>_eur_minor` int64: the amount
 * in EUR cents at the fixed rate of lib/shopstream/currency.ts, half-even. v1
 * rows keep null in v2-only columns (silver does not invent defaults).
 * Rows are sorted by `occurred_at`, `_partition`, `_offset`.
 *
 * Rules (a row that breaks one is dropped and counted by reason): an
 * `event_id`, an `occurred_at` in the object's hour and a `region` equal to
 * its folder's and not `UNKNOWN`; every money currency known, every amount >= 0;
 * and the family's contract rules of lib/shopstream/rules.ts (the ones the
 * sink dead-letters by; silver checks them again on the rebuilt money and
 * line items, e.g. `rule total.amountMinor` when total != sum of lines).
 * Duplicates (same `event_id`, an upstream retry) keep the copy with the
 * smallest Kafka (partition, offset). A retry re-sends the same event, so its
 * copies share `occurred_at` and land in the same hour: silver deduplicates
 * within each hour, which keeps a job's memory to one hour of one region.
 *
 * The job recomputes every hour from bronze and writes an object only when its
 * bytes change; silver objects whose hour has no valid rows any more are
 * removed. So a rerun over the same bronze changes nothing.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { LakeStore } from "../lake/store.ts";
 * import { SilverJob } from "./silver.ts";
 * const config = loadConfig();
 * const job = new SilverJob(LakeStore.fromConfig(config));
 * const report = await job.run(config.topics.orders, "order");
 * console.log(report.rowsIn, report.rowsOut, report.duplicates, report.invalid);
 * ```
 *
 * @module
 */
import { decodeParquet, encodeParquet } from "../lake/parquet.ts";
import {
  type HourPartition,
  layerPrefix,
  parseBronzeKey,
  parseSilverKey,
  silverKey,
  utcDateHour,
} from "../lake/paths.ts";
import type { LakeStore } from "../lake/store.ts";
import { type ColumnSpec, type Row, tableFromRows, tableRows } from "../lake/table.ts";
import { type Catalog, type FamilyName, loadCatalog } from "../schema/catalog.ts";
import type { ContractRule } from "../schema/decoder.ts";
import { BronzeLayout } from "./bronze.ts";
import { isKnownCurrency, toEurMinor } from "./currency.ts";
import { CONTRACT_RULES } from "./rules.ts";

/** What a medallion job did, for logs, the pipeline summary and tests. */
export interface LayerJobReport {
  /** The layer written. */
  readonly layer: "silver" | "gold";
  /** The Kafka topic the data came from. */
  readonly topic: string;
  /** Input objects read. */
  objectsRead: number;
  /** Output objects written (new or changed). */
  objectsWritten: number;
  /** Output objects recomputed with the same bytes, so left alone. */
  objectsUnchanged: number;
  /** Output objects removed because their input is gone. */
  objectsRemoved: number;
  /** Rows read. */
  rowsIn: number;
  /** Rows written. */
  rowsOut: number;
  /** Rows dropped as duplicates of an event id already kept. */
  duplicates: number;
  /** Rows dropped by a rule. */
  invalid: number;
  /** Dropped rows by rule. */
  invalidReasons: Record<string, number>;
  /** Wall-clock seconds the job took. */
  seconds: number;
}

/**
 * What a layer job writes under one prefix: an object recomputed with the
 * same bytes is left alone, and an object of the prefix the run no longer
 * writes (its input is gone) is removed at {@linkcode LayerOutput.finish},
 * so a rerun changes nothing. Counts go into the job's report.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { LakeStore } from "../lake/store.ts";
 * import { emptyReport, LayerOutput } from "./silver.ts";
 * const report = emptyReport("gold", "demo");
 * const out = await LayerOutput.open(LakeStore.fromConfig(loadConfig()), "gold/demo/", () => true, report);
 * await out.put("gold/demo/x.parquet", new Uint8Array([1]));
 * await out.finish();
 * ```
 */
export class LayerOutput {
  readonly #written = new Set<string>();

  private constructor(
    readonly store: LakeStore,
    readonly existing: ReadonlyMap<string, string>,
    readonly report: LayerJobReport,
  ) {}

  /** Lists what `prefix` holds now (the keys `owns` accepts) before the job writes. */
  static async open(
    store: LakeStore,
    prefix: string,
    owns: (key: string) => unknown,
    report: LayerJobReport,
  ): Promise<LayerOutput> {
    const existing = new Map(
      (await store.list(prefix)).filter((o) => owns(o.key)).map((o) => [o.key, o.etag]),
    );
    return new LayerOutput(store, existing, report);
  }

  /** Writes `bytes` at `key` unless the object there already holds them. */
  async put(key: string, bytes: Uint8Array): Promise<void> {
    if (await this.store.putIfChanged(key, bytes, this.existing.get(key) ?? "")) {
      this.report.objectsWritten++;
    } else this.report.objectsUnchanged++;
    this.#written.add(key);
  }

  /** Removes the objects this run did not write. */
  async finish(): Promise<void> {
    for (const key of this.existing.keys()) {
      if (this.#written.has(key)) continue;
      await this.store.remove(key);
      this.report.objectsRemoved++;
    }
  }
}

/**
 * An empty report, to fill in.
 *
 * @example
 * ```ts
 * import { emptyReport } from "./silver.ts";
 * console.log(emptyReport("silver", "t").rowsIn); // 0
 * ```
 */
export function emptyReport(layer: "silver" | "gold", topic: string): LayerJobReport {
  return {
    layer,
    topic,
    objectsRead: 0,
    objectsWritten: 0,
    objectsUnchanged: 0,
    objectsRemoved: 0,
    rowsIn: 0,
    rowsOut: 0,
    duplicates: 0,
    invalid: 0,
    invalidReasons: {},
    seconds: 0,
  };
}

/**
 * The silver columns for bronze columns: each money pair gains `<m>_eur_minor`.
 *
 * @example
 * ```ts
 * import { silverColumns } from "./silver.ts";
 * console.log(silverColumns([
 *   { name: "total_amount_minor", type: "int64" }, { name: "total_currency", type: "utf8" },
 * ]).map((c) => c.name)); // ["total_amount_minor", "total_currency", "total_eur_minor"]
 * ```
 */
export function silverColumns(bronze: readonly ColumnSpec[]): ColumnSpec[] {
  const names = new Set(bronze.map((c) => c.name));
  const out: ColumnSpec[] = [];
  for (const c of bronze) {
    out.push({ name: c.name, type: c.type });
    const m = /^(.*)_currency$/.exec(c.name);
    if (m && names.has(`${m[1]}_amount_minor`)) {
      out.push({ name: `${m[1]}_eur_minor`, type: "int64" });
    }
  }
  return out;
}

function moneyPrefixes(columns: readonly ColumnSpec[]): string[] {
  const names = new Set(columns.map((c) => c.name));
  return columns
    .map((c) => /^(.*)_amount_minor$/.exec(c.name)?.[1])
    .filter((p): p is string => p !== undefined && names.has(`${p}_currency`));
}

/**
 * The parts of the event the contract rules look at, rebuilt from a bronze
 * row: the envelope's region, each money pair as `{ amountMinor, currency }`
 * under its field name, the line items parsed from `items_json`. Throws when
 * `items_json` is not JSON.
 */
function contractShape(row: Row, moneyColumns: readonly string[]): Record<string, unknown> {
  const value: Record<string, unknown> = { envelope: { region: row.region } };
  for (const m of moneyColumns) {
    const amountMinor = row[`${m}_amount_minor`];
    if (amountMinor === null) continue;
    const field = m.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
    value[field] = { amountMinor, currency: row[`${m}_currency`] };
  }
  if (typeof row.items_json === "string") value.items = JSON.parse(row.items_json);
  return value;
}

/** `items[2].qty: 0 < 1` -> `items[].qty`: one reason per rule, not per row. */
function ruleReason(message: string): string {
  return `rule ${message.split(":")[0].replace(/\[\d+\]/g, "[]")}`;
}

/**
 * Why a bronze row cannot go to silver (the rule's name), or undefined when it can.
 * `where` is the hour partition the row was read from.
 *
 * @example
 * ```ts
 * import { silverProblem } from "./silver.ts";
 * const where = { region: "EU", date: "2026-01-01", hour: "07" };
 * console.log(silverProblem({ event_id: "e", occurred_at: Date.UTC(2026, 0, 1, 7), region: "EU" }, where, []));
 * // undefined
 * console.log(silverProblem({ event_id: null }, where, [])); // "missing event_id"
 * ```
 */
export function silverProblem(
  row: Row,
  where: HourPartition,
  moneyColumns: readonly string[],
  rules: readonly ContractRule<unknown>[] = [],
): string | undefined {
  if (typeof row.event_id !== "string" || row.event_id === "") return "missing event_id";
  if (typeof row.occurred_at !== "number") return "missing occurred_at";
  const { date, hour } = utcDateHour(row.occurred_at);
  if (date !== where.date || hour !== where.hour) return "occurred_at outside its hour folder";
  if (row.region === "UNKNOWN") return "unknown region";
  if (row.region !== where.region) return "region differs from its folder";
  for (const m of moneyColumns) {
    const amount = row[`${m}_amount_minor`];
    const currency = row[`${m}_currency`];
    if (amount === null && currency === null) continue; // an optional money field not set
    if (typeof amount !== "bigint") return `${m}: missing amount`;
    if (amount < 0n) return `${m}: negative amount`;
    if (!isKnownCurrency(currency)) return `${m}: unknown currency`;
  }
  if (rules.length === 0) return undefined;
  let value: Record<string, unknown>;
  try {
    value = contractShape(row, moneyColumns);
  } catch {
    return "items_json is not JSON";
  }
  for (const rule of rules) {
    const problems = rule(value);
    if (problems.length > 0) return ruleReason(problems[0]);
  }
  return undefined;
}

/** What {@linkcode toSilverRows} made of one hour's bronze rows. */
export interface SilverRows {
  /** The silver rows, one per kept event. */
  readonly rows: Row[];
  /** Rows dropped as duplicates of an event id already kept. */
  readonly duplicates: number;
  /** Rows dropped by a rule, per reason. */
  readonly invalidReasons: Record<string, number>;
}

/**
 * One hour's bronze rows (any order) to its silver rows: validated,
 * deduplicated by event id (smallest partition/offset kept), EUR amounts
 * added, sorted by occurred_at, partition, offset.
 *
 * @example
 * ```ts
 * import { toSilverRows } from "./silver.ts";
 * const row = (offset: bigint) => ({
 *   _partition: 0, _offset: offset, event_id: "e-1", occurred_at: Date.UTC(2026, 0, 1, 7), region: "US",
 *   amount_amount_minor: 100n, amount_currency: "USD",
 * });
 * const columns = [
 *   { name: "_partition", type: "int32" }, { name: "_offset", type: "int64" },
 *   { name: "amount_amount_minor", type: "int64" }, { name: "amount_currency", type: "utf8" },
 * ] as const;
 * const out = toSilverRows([row(5n), row(2n)], columns, { region: "US", date: "2026-01-01", hour: "07" });
 * console.log(out.rows.length, out.duplicates, out.rows[0]._offset, out.rows[0].amount_eur_minor); // 1 1 2n 92n
 * ```
 */
export function toSilverRows(
  bronzeRows: readonly Row[],
  bronzeColumns: readonly ColumnSpec[],
  where: HourPartition,
  rules: readonly ContractRule<unknown>[] = [],
): SilverRows {
  const money = moneyPrefixes(bronzeColumns);
  const ordered = [...bronzeRows].sort(byPartitionOffset);
  const seen = new Set<string>();
  const invalidReasons: Record<string, number> = {};
  let duplicates = 0;
  const rows: Row[] = [];
  for (const row of ordered) {
    const problem = silverProblem(row, where, money, rules);
    if (problem) {
      invalidReasons[problem] = (invalidReasons[problem] ?? 0) + 1;
      continue;
    }
    const id = row.event_id as string;
    if (seen.has(id)) {
      duplicates++;
      continue;
    }
    seen.add(id);
    const out: Row = { ...row };
    for (const m of money) {
      const amount = row[`${m}_amount_minor`];
      out[`${m}_eur_minor`] = typeof amount === "bigint"
        ? toEurMinor(amount, row[`${m}_currency`] as string)
        : null;
    }
    rows.push(out);
  }
  rows.sort((a, b) =>
    (a.occurred_at as number) - (b.occurred_at as number) || byPartitionOffset(a, b)
  );
  return { rows, duplicates, invalidReasons };
}

function byPartitionOffset(a: Row, b: Row): number {
  const p = (a._partition as number) - (b._partition as number);
  if (p !== 0) return p;
  const x = a._offset as bigint;
  const y = b._offset as bigint;
  return x < y ? -1 : x > y ? 1 : 0;
}

function addReasons(into: Record<string, number>, from: Record<string, number>): number {
  let n = 0;
  for (const [k, v] of Object.entries(from)) {
    into[k] = (into[k] ?? 0) + v;
    n += v;
  }
  return n;
}

/**
 * Recomputes silver from bronze for one topic.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config.ts";
 * import { LakeStore } from "../lake/store.ts";
 * import { SilverJob } from "./silver.ts";
 * const report = await new SilverJob(LakeStore.fromConfig(loadConfig())).run("shopstream.payments", "payment");
 * console.log(report.objectsWritten, report.objectsUnchanged);
 * ```
 */
export class SilverJob {
  #catalog?: Promise<Catalog>;

  /** A job over `store`; the schema catalog is loaded on first use unless given. */
  constructor(readonly store: LakeStore, catalog?: Catalog) {
    if (catalog) this.#catalog = Promise.resolve(catalog);
  }

  /**
   * Reads every bronze object of `topic` (whose events follow schema family
   * `family`, e.g. `order`), writes its silver objects, and says what it did.
   *
   * @example
   * ```ts
   * import { loadConfig } from "../config.ts";
   * import { LakeStore } from "../lake/store.ts";
   * import { SilverJob } from "./silver.ts";
   * const report = await new SilverJob(LakeStore.fromConfig(loadConfig())).run("shopstream.orders", "order");
   * console.log(report);
   * ```
   */
  async run(topic: string, family: string): Promise<LayerJobReport> {
    const started = performance.now();
    const report = emptyReport("silver", topic);
    this.#catalog ??= loadCatalog();
    const layout = BronzeLayout.forFamily((await this.#catalog).family(family));
    const rules = CONTRACT_RULES[family as FamilyName] ?? [];
    const columns = silverColumns(layout.columns);

    const hours = new Map<string, { where: HourPartition; keys: string[] }>();
    for (const o of await this.store.list(layerPrefix("bronze", topic))) {
      const k = parseBronzeKey(o.key);
      if (!k) continue;
      const id = `${k.region}/${k.date}/${k.hour}`;
      const entry = hours.get(id);
      if (entry) entry.keys.push(o.key);
      else {hours.set(id, {
          where: { region: k.region, date: k.date, hour: k.hour },
          keys: [o.key],
        });}
    }
    const output = await LayerOutput.open(
      this.store,
      layerPrefix("silver", topic),
      parseSilverKey,
      report,
    );

    for (const { where, keys } of hours.values()) {
      const rows: Row[] = [];
      for (const key of keys) {
        const table = decodeParquet(await this.store.get(key));
        report.objectsRead++;
        for (const r of tableRows(table)) rows.push(r);
      }
      report.rowsIn += rows.length;
      const out = toSilverRows(rows, layout.columns, where, rules);
      report.duplicates += out.duplicates;
      report.invalid += addReasons(report.invalidReasons, out.invalidReasons);
      if (out.rows.length === 0) continue;
      report.rowsOut += out.rows.length;
      const key = silverKey({ topic, ...where });
      await output.put(key, encodeParquet(tableFromRows(columns, out.rows)));
    }
    await output.finish();
    report.seconds = (performance.now() - started) / 1000;
    return report;
  }
}
