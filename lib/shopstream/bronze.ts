/**
 * Bronze rows: Kafka records, decoded with their writer's schema, as Arrow
 * tables and Parquet objects, plus the key rules the lake sink relies on.
 *
 * Columns (in this order): `_partition` int32, `_offset` int64,
 * `_kafka_timestamp` timestamp[ms, UTC], `_schema_id` int32, the envelope
 * flattened (`event_id`, `event_type`, `occurred_at` timestamp[ms, UTC],
 * `region`, `schema_version`), then the event's own fields in snake_case: the
 * union over every version of the subject, so a v1 row holds null in the
 * v2-only columns. Nested records are flattened with their field name as
 * prefix (Money `total` -> `total_amount_minor` int64 + `total_currency`);
 * arrays (order items) are one JSON text column `<name>_json` (the Avro field
 * names kept, e.g. `[{"sku":"kb-01","qty":1,"unitPrice":{"amountMinor":1999,"currency":"EUR"}}]`);
 * decimals (taxRate, fxRate) are text with their exact digits (`"0.2100"`);
 * enums are text. A field whose type widened between versions (clickstream
 * `durationMs` int -> long) takes the wider column type.
 *
 * @example
 * ```ts
 * import { loadCatalog } from "../schema/catalog.ts";
 * import { BronzeLayout, encodeBronze } from "./bronze.ts";
 * const layout = BronzeLayout.forFamily((await loadCatalog()).family("clickstream"));
 * console.log(layout.columns.map((c) => c.name).slice(9));
 * // ["session_id", "customer_id", "page", "action", "duration_ms", "referrer"]
 * const bytes = encodeBronze(layout, []);
 * console.log(bytes.length > 0); // true: an empty table is still a valid file
 * ```
 *
 * @module
 */
import type { Table } from "apache-arrow";
import type { Schema } from "../lake/upstream.ts";
import type avsc from "avsc";
import { encodeParquet, type ParquetWriteOptions } from "../lake/parquet.ts";
import { arrowSchema, type ColumnType, TableBuilder, tableFromColumns } from "../lake/table.ts";
import {
  bronzeKey,
  type DateHour,
  type HourPartition,
  LakeKeyError,
  parseBronzeKey,
  utcDateHour,
} from "../lake/paths.ts";
import type { LoadedSchema, SchemaFamily } from "../schema/catalog.ts";

/** One bronze column: its name, type, and where its value sits in a decoded event. */
export interface BronzeColumn {
  /** Column name. */
  readonly name: string;
  /** Column type. */
  readonly type: ColumnType;
  /** Field names from the event's root to the value, e.g. `["total", "amountMinor"]`. */
  readonly path: readonly string[];
  /** The value is written as JSON text (arrays, maps, multi-branch unions). */
  readonly json: boolean;
}

/**
 * One consumed record, its value decoded with the writer's schema (avsc
 * values: `Date` for timestamps, `Decimal` for decimals).
 */
export interface BronzeRecord {
  /** Kafka partition the record was read from. */
  readonly partition: number;
  /** Kafka offset; kafkajs gives it as a string. */
  readonly offset: bigint | string | number;
  /** Kafka record timestamp, epoch ms; kafkajs gives it as a string. */
  readonly timestamp: number | string | Date;
  /** The Confluent schema id the value was written with. */
  readonly schemaId: number;
  /** The decoded event: `{ envelope: {...}, orderId, ... }`. */
  readonly value: unknown;
}

/** The group a record's bronze object belongs to: Kafka partition, region, UTC date and hour. */
export interface BronzeGroup extends HourPartition {
  /** Kafka partition. */
  readonly partition: number;
}

/**
 * Why a decoded record has no place in bronze: no `envelope.region`
 * (`no-region`), a region that cannot name a folder (`bad-region`), no
 * `envelope.occurredAt` (`no-time`), or an event time no lake key can hold
 * (`bad-time`: an invalid Date, outside JavaScript's Date range, or outside
 * the years 0000..9999), or a value its column cannot hold (`bad-value`:
 * e.g. a timestamp outside JavaScript's Date range).
 */
export type BronzeProblem = "no-region" | "bad-region" | "no-time" | "bad-time" | "bad-value";

/**
 * A record that cannot go to bronze (see {@linkcode BronzeProblem}): the sink
 * dead-letters those (reason `validation`, this message as the error) before
 * they reach a buffer, so a flush never meets one.
 *
 * @example
 * ```ts
 * import { BronzeRecordError, bronzeGroupOf } from "./bronze.ts";
 * try {
 *   bronzeGroupOf({ partition: 0, offset: "1", timestamp: 0, schemaId: 1, value: {} });
 * } catch (e) {
 *   console.log(e instanceof BronzeRecordError && e.problem); // "no-region"
 * }
 * ```
 */
export class BronzeRecordError extends Error {
  /** An error with this message and, when known, the problem it found. */
  constructor(message: string, readonly problem?: BronzeProblem) {
    super(message);
    this.name = "BronzeRecordError";
  }
}

const META_COLUMNS: readonly BronzeColumn[] = [
  { name: "_partition", type: "int32", path: [], json: false },
  { name: "_offset", type: "int64", path: [], json: false },
  { name: "_kafka_timestamp", type: "timestamp", path: [], json: false },
  { name: "_schema_id", type: "int32", path: [], json: false },
];

/**
 * `camelCase` (or `PascalCase`) to `snake_case`.
 *
 * @example
 * ```ts
 * import { snakeCase } from "./bronze.ts";
 * console.log(snakeCase("estimatedDelivery"), snakeCase("fxRate")); // estimated_delivery fx_rate
 * ```
 */
export function snakeCase(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, "$1_$2").replace(/([A-Z])([A-Z][a-z])/g, "$1_$2")
    .toLowerCase();
}

// deno-lint-ignore no-explicit-any
type AnyType = any;

function leafType(type: AnyType, where: string): ColumnType | "json" {
  switch (type.typeName as string) {
    case "string":
    case "enum":
    case "logical:decimal":
      return "utf8";
    case "int":
      return "int32";
    case "long":
      return "int64";
    case "float":
    case "double":
      return "float64";
    case "boolean":
      return "bool";
    case "logical:timestamp-millis":
      return "timestamp";
    case "array":
    case "map":
      return "json";
    default:
      throw new Error(
        `bronze has no column type for ${where} (Avro ${type.typeName}); ` +
          "extend leafType in lib/shopstream/bronze.ts",
      );
  }
}

function flatten(
  type: AnyType,
  path: string[],
  prefix: string,
  out: BronzeColumn[],
): void {
  if (type.typeName === "record") {
    for (const f of type.fields as { name: string; type: AnyType }[]) {
      // The envelope's fields are the lake's common columns: no prefix.
      const isEnvelope = path.length === 0 && f.name === "envelope";
      const name = isEnvelope
        ? ""
        : prefix === ""
        ? snakeCase(f.name)
        : `${prefix}_${snakeCase(f.name)}`;
      flatten(f.type, [...path, f.name], name, out);
    }
    return;
  }
  if (typeof type.typeName === "string" && type.typeName.startsWith("union")) {
    const branches = (type.types as AnyType[]).filter((t) => t.typeName !== "null");
    if (branches.length === 1 && type.typeName === "union:unwrapped") {
      flatten(branches[0], path, prefix, out);
    } else {
      out.push({ name: `${prefix}_json`, type: "utf8", path, json: true });
    }
    return;
  }
  const leaf = leafType(type, path.join("."));
  if (leaf === "json") out.push({ name: `${prefix}_json`, type: "utf8", path, json: true });
  else out.push({ name: prefix, type: leaf, path, json: false });
}

function widen(a: BronzeColumn, b: BronzeColumn): BronzeColumn {
  if (a.type === b.type && a.json === b.json) return a;
  const pair = new Set([a.type, b.type]);
  if (pair.size === 2 && pair.has("int32") && pair.has("int64")) return { ...a, type: "int64" };
  throw new Error(
    `bronze column ${a.name} is ${a.type} in one version and ${b.type} in another: ` +
      "only int -> long widening is supported",
  );
}

function jsonText(value: unknown): string {
  try {
    return JSON.stringify(value); // fast path: avsc gives longs as numbers
  } catch {
    return JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? v.toString() : v));
  }
}

function cell(column: BronzeColumn, raw: unknown): unknown {
  if (raw === undefined || raw === null) return null;
  if (column.json) return jsonText(raw);
  switch (column.type) {
    case "int64": // numbers and bigints both go in; the table converts once
      return typeof raw === "string" ? BigInt(raw) : raw;
    case "timestamp":
      return raw instanceof Date ? raw.getTime() : Number(raw);
    case "utf8":
      return typeof raw === "string" ? raw : String(raw); // Decimal.toString() is exact
    default:
      return raw;
  }
}

function at(value: unknown, path: readonly string[]): unknown {
  let v = value;
  for (const p of path) {
    if (v === null || v === undefined || typeof v !== "object") return undefined;
    v = (v as Record<string, unknown>)[p];
  }
  return v;
}

function envelopeOf(record: BronzeRecord): { region: string; occurredAt: Date | number } {
  const env = at(record.value, ["envelope"]) as Record<string, unknown> | undefined;
  const region = env?.region;
  const occurredAt = env?.occurredAt;
  const where = `record p${record.partition}@${record.offset}`;
  if (region === undefined || region === null || region === "") {
    throw new BronzeRecordError(
      `${where} has no envelope.region: the lake partitions by region`,
      "no-region",
    );
  }
  if (typeof region !== "string" || region.includes("/") || region.includes("=")) {
    throw new BronzeRecordError(
      `${where}: envelope.region ${JSON.stringify(region)} cannot name a lake folder`,
      "bad-region",
    );
  }
  if (!(occurredAt instanceof Date) && typeof occurredAt !== "number") {
    throw new BronzeRecordError(`${where} has no envelope.occurredAt`, "no-time");
  }
  return { region, occurredAt };
}

/**
 * The columns of a subject's bronze objects and the conversion of records to
 * rows.
 *
 * @example
 * ```ts
 * import { loadCatalog } from "../schema/catalog.ts";
 * import { BronzeLayout } from "./bronze.ts";
 * const layout = BronzeLayout.forFamily((await loadCatalog()).family("order"));
 * console.log(layout.columns.find((c) => c.name === "tax_rate")?.type); // "utf8"
 * ```
 */
export class BronzeLayout {
  /** Every column, metadata first. */
  readonly columns: readonly BronzeColumn[];
  /** The Arrow schema of the tables {@linkcode BronzeLayout.toTable} makes. */
  readonly schema: Schema;
  /**
   * How bronze objects are written: zstd, and no dictionary for the columns
   * whose values are nearly all distinct (int64 and timestamp columns, JSON
   * text, `event_id`): 10% smaller objects and 14% less encoding CPU than a
   * dictionary on every column, measured on generator data.
   */
  readonly parquet: ParquetWriteOptions;

  private constructor(columns: BronzeColumn[]) {
    this.columns = columns;
    this.schema = arrowSchema(columns);
    this.parquet = {
      compression: "zstd",
      plainColumns: columns
        .filter((c) =>
          c.type === "int64" || c.type === "timestamp" || c.json || c.name === "event_id"
        )
        .map((c) => c.name),
    };
  }

  /**
   * The layout for every version of a schema family (the union of their columns).
   *
   * @example
   * ```ts
   * import { loadCatalog } from "../schema/catalog.ts";
   * import { BronzeLayout } from "./bronze.ts";
   * const layout = BronzeLayout.forFamily((await loadCatalog()).family("payment"));
   * console.log(layout.columns.some((c) => c.name === "fx_rate")); // true (v2 only)
   * ```
   */
  static forFamily(family: SchemaFamily): BronzeLayout {
    return BronzeLayout.forSchemas(family.versions);
  }

  /**
   * The layout for the given schema versions, oldest first (column order follows first appearance).
   *
   * @example
   * ```ts
   * import { loadCatalog } from "../schema/catalog.ts";
   * import { BronzeLayout } from "./bronze.ts";
   * const order = (await loadCatalog()).family("order");
   * console.log(BronzeLayout.forSchemas([order.versions[0]]).columns.some((c) => c.name === "channel")); // false
   * ```
   */
  static forSchemas(versions: readonly Pick<LoadedSchema, "type">[]): BronzeLayout {
    const byName = new Map<string, BronzeColumn>();
    for (const v of versions) {
      const cols: BronzeColumn[] = [];
      flatten(v.type as avsc.Type, [], "", cols);
      for (const c of cols) {
        const seen = byName.get(c.name);
        byName.set(c.name, seen ? widen(seen, c) : c);
      }
    }
    return new BronzeLayout([...META_COLUMNS, ...byName.values()]);
  }

  /**
   * The records as one Arrow table with this layout's columns.
   *
   * @example
   * ```ts
   * import { loadCatalog } from "../schema/catalog.ts";
   * import { BronzeLayout } from "./bronze.ts";
   * const layout = BronzeLayout.forFamily((await loadCatalog()).family("shipment"));
   * console.log(layout.toTable([]).numCols); // layout.columns.length
   * ```
   */
  toTable(records: readonly BronzeRecord[]): Table {
    const meta: Record<string, (r: BronzeRecord) => unknown> = {
      _partition: (r) => r.partition,
      _offset: (r) => BigInt(r.offset),
      _kafka_timestamp: (r) =>
        r.timestamp instanceof Date ? r.timestamp.getTime() : Number(r.timestamp),
      _schema_id: (r) => r.schemaId,
    };
    const values = this.columns.map((column) => {
      const get = meta[column.name];
      return records.map((r) => (get ? get(r) : cell(column, at(r.value, column.path))));
    });
    return tableFromColumns(this.columns, values);
  }

  /**
   * The record's row as one cell per column, each already of the type a
   * {@linkcode TableBuilder} of {@linkcode BronzeLayout.columns} stores: the
   * values {@linkcode BronzeLayout.toTable} would put in the table. Throws
   * {@linkcode BronzeRecordError} (`bad-value`) when a value cannot be
   * stored in its column (an int64 or timestamp that is not an integer, e.g.
   * a Date outside JavaScript's range): `toTable` would throw then too.
   *
   * @example
   * ```ts
   * import { loadCatalog } from "../schema/catalog.ts";
   * import { BronzeLayout } from "./bronze.ts";
   * const layout = BronzeLayout.forFamily((await loadCatalog()).family("clickstream"));
   * const value = { envelope: { region: "EU", occurredAt: new Date(0) }, page: "/" };
   * console.log(layout.cells({ partition: 2, offset: 7n, timestamp: 9, schemaId: 1, value }).slice(0, 4));
   * // [2, 7n, 9, 1]
   * ```
   */
  cells(record: BronzeRecord): unknown[] {
    const columns = this.columns;
    const out = new Array<unknown>(columns.length);
    const offset = record.offset;
    const time = record.timestamp;
    out[0] = record.partition;
    out[1] = typeof offset === "string" ? BigInt(offset) : offset;
    out[2] = time instanceof Date ? time.getTime() : Number(time);
    out[3] = record.schemaId;
    for (let i = META_COLUMNS.length; i < columns.length; i++) {
      try {
        out[i] = cell(columns[i], at(record.value, columns[i].path));
      } catch (e) {
        throw new BronzeRecordError(
          `record p${record.partition}@${record.offset}: ${columns[i].name} ` +
            `(${columns[i].type}): ${(e as Error).message}`,
          "bad-value",
        );
      }
    }
    for (let i = 0; i < columns.length; i++) {
      const type = columns[i].type;
      const v = out[i];
      if (
        (type === "int64" || type === "timestamp") && v !== null && typeof v !== "bigint" &&
        !Number.isInteger(v)
      ) {
        throw new BronzeRecordError(
          `record p${record.partition}@${record.offset}: ${columns[i].name} ` +
            `(${type}) cannot hold ${String(v)}`,
          "bad-value",
        );
      }
    }
    return out;
  }
}

/** One bronze group's rows in a {@linkcode BronzeBuffer}. */
interface GroupRows {
  readonly group: BronzeGroup;
  readonly id: string;
  readonly builder: TableBuilder;
  offsets: BigInt64Array;
}

/**
 * A bronze object's worth of rows taken from a {@linkcode BronzeBuffer}: one
 * group, the rows not written yet, and their smallest and largest offsets
 * (the object key's `first` and `last`).
 */
export interface BronzePart {
  /** The group (partition, region, date, hour). */
  readonly group: BronzeGroup;
  /** Its id (see {@linkcode bronzeGroupId}). */
  readonly id: string;
  /** Rows in the part. */
  readonly rows: number;
  /** Smallest offset in the part. */
  readonly first: bigint;
  /** Largest offset in the part. */
  readonly last: bigint;
  /** The part as an Arrow table with the layout's columns. */
  table(): Table;
}

/**
 * The rows of one region buffer of the lake sink, kept as columns: each
 * record's value is decoded once, its cells ({@linkcode BronzeLayout.cells})
 * appended to its bronze group's Arrow buffers, and a flush builds each
 * group's table from those buffers. No decoded event and no object per
 * record is held meanwhile (a few bytes more than the Avro values).
 *
 * @example
 * ```ts
 * import { loadCatalog } from "../schema/catalog.ts";
 * import { BronzeBuffer, BronzeLayout, bronzeGroupOf } from "./bronze.ts";
 * const layout = BronzeLayout.forFamily((await loadCatalog()).family("clickstream"));
 * const buffer = new BronzeBuffer(layout);
 * const value = { envelope: { region: "EU", occurredAt: new Date(0) }, page: "/" };
 * for (const offset of [5n, 6n]) {
 *   const record = { partition: 0, offset, timestamp: 0, schemaId: 1, value };
 *   buffer.add(bronzeGroupOf(record), offset, layout.cells(record));
 * }
 * const [part] = buffer.parts(() => 5n); // offset 5 is in bronze already
 * console.log(part.rows, part.first, part.table().numRows); // 1 6n 1
 * ```
 */
export class BronzeBuffer {
  /** The columns rows are kept in. */
  readonly layout: BronzeLayout;
  readonly #groups = new Map<string, GroupRows>();
  #last?: GroupRows;
  #records = 0;

  /** An empty buffer of `layout`'s columns. */
  constructor(layout: BronzeLayout) {
    this.layout = layout;
  }

  /** Rows held. */
  get records(): number {
    return this.#records;
  }

  /** The groups held, in order of their first row. */
  get groups(): BronzeGroup[] {
    return [...this.#groups.values()].map((g) => g.group);
  }

  /** Appends one record's `cells` (from {@linkcode BronzeLayout.cells}) to `group`. */
  add(group: BronzeGroup, offset: bigint, cells: readonly unknown[]): void {
    let rows = this.#last;
    // Records come in runs of one partition and hour: most find the group of the previous one.
    if (
      rows === undefined || rows.group.partition !== group.partition ||
      rows.group.hour !== group.hour || rows.group.date !== group.date ||
      rows.group.region !== group.region
    ) {
      const id = bronzeGroupId(group);
      rows = this.#groups.get(id);
      if (rows === undefined) {
        rows = {
          group: {
            partition: group.partition,
            region: group.region,
            date: group.date,
            hour: group.hour,
          },
          id,
          builder: new TableBuilder(this.layout.columns),
          offsets: new BigInt64Array(64),
        };
        this.#groups.set(id, rows);
      }
      this.#last = rows;
    }
    const n = rows.builder.length;
    if (n === rows.offsets.length) {
      const bigger = new BigInt64Array(n * 2);
      bigger.set(rows.offsets);
      rows.offsets = bigger;
    }
    rows.offsets[n] = offset;
    rows.builder.append(cells);
    this.#records++;
  }

  /**
   * One part per group with rows left: those whose offset is above
   * `written(groupId)` (all of them when it gives undefined), in order.
   */
  parts(written: (id: string) => bigint | undefined = () => undefined): BronzePart[] {
    const out: BronzePart[] = [];
    for (const g of this.#groups.values()) {
      const n = g.builder.length;
      const after = written(g.id);
      let keep: number[] | undefined;
      if (after !== undefined) {
        keep = [];
        for (let i = 0; i < n; i++) if (g.offsets[i] > after) keep.push(i);
        if (keep.length === n) keep = undefined;
      }
      const rows = keep ? keep.length : n;
      if (rows === 0) continue;
      let first = g.offsets[keep ? keep[0] : 0];
      let last = first;
      for (let i = 0; i < rows; i++) {
        const o = g.offsets[keep ? keep[i] : i];
        if (o < first) first = o;
        if (o > last) last = o;
      }
      const builder = g.builder;
      const picked = keep;
      out.push({
        group: g.group,
        id: g.id,
        rows,
        first,
        last,
        table: () => builder.table(picked),
      });
    }
    return out;
  }
}

/**
 * Parquet (zstd) bytes of the records' bronze rows.
 *
 * @example
 * ```ts
 * import { loadCatalog } from "../schema/catalog.ts";
 * import { decodeParquet } from "../lake/parquet.ts";
 * import { BronzeLayout, encodeBronze } from "./bronze.ts";
 * const layout = BronzeLayout.forFamily((await loadCatalog()).family("shipment"));
 * console.log(decodeParquet(encodeBronze(layout, [])).numRows); // 0
 * ```
 */
export function encodeBronze(layout: BronzeLayout, records: readonly BronzeRecord[]): Uint8Array {
  return encodeParquet(layout.toTable(records), layout.parquet);
}

/**
 * The bronze group of one record: its Kafka partition, region, and the UTC
 * date and hour of its `envelope.occurredAt`. Throws
 * {@linkcode BronzeRecordError} when the record has no usable region or event
 * time (what passes here always makes a valid key).
 *
 * @example
 * ```ts
 * import { bronzeGroupOf } from "./bronze.ts";
 * const value = { envelope: { region: "US", occurredAt: new Date("2026-11-26T23:59:00Z") } };
 * console.log(bronzeGroupOf({ partition: 4, offset: "10", timestamp: 0, schemaId: 1, value }));
 * // { partition: 4, region: "US", date: "2026-11-26", hour: "23" }
 * ```
 */
export function bronzeGroupOf(record: BronzeRecord): BronzeGroup {
  const { region, occurredAt } = envelopeOf(record);
  let hour: DateHour;
  try {
    hour = utcDateHour(occurredAt);
  } catch (e) {
    if (!(e instanceof LakeKeyError)) throw e;
    const invalid = occurredAt instanceof Date && Number.isNaN(occurredAt.getTime());
    throw new BronzeRecordError(
      `record p${record.partition}@${record.offset}: envelope.occurredAt ` +
        (invalid
          ? "is not a valid date (outside JavaScript's Date range, ±8.64e15 ms around 1970)"
          : `cannot name a lake partition: ${e.message}`),
      "bad-time",
    );
  }
  return { partition: record.partition, region, ...hour };
}

/**
 * A group's identity as text, the key of {@linkcode lastOffsets}'s map:
 * `p<PPP>/<region>/<date>/<hour>`.
 *
 * @example
 * ```ts
 * import { bronzeGroupId } from "./bronze.ts";
 * console.log(bronzeGroupId({ partition: 3, region: "EU", date: "2026-01-01", hour: "07" })); // p003/EU/2026-01-01/07
 * ```
 */
export function bronzeGroupId(group: BronzeGroup): string {
  return `p${String(group.partition).padStart(3, "0")}/${group.region}/${group.date}/${group.hour}`;
}

/**
 * The key of the bronze object holding `records`, which must all belong to
 * one group (see {@linkcode bronzeGroupOf}); first/last are their smallest and
 * largest offsets.
 *
 * @example
 * ```ts
 * import { bronzeObjectKey } from "./bronze.ts";
 * const value = { envelope: { region: "EU", occurredAt: new Date("2026-01-01T07:10:00Z") } };
 * const records = [5, 9].map((o) => ({ partition: 0, offset: String(o), timestamp: 0, schemaId: 1, value }));
 * console.log(bronzeObjectKey("t", records));
 * // bronze/t/region=EU/date=2026-01-01/hour=07/p000-00000000000000000005-00000000000000000009.parquet
 * ```
 */
export function bronzeObjectKey(topic: string, records: readonly BronzeRecord[]): string {
  if (records.length === 0) {
    throw new BronzeRecordError("a bronze object needs at least one record");
  }
  const group = bronzeGroupOf(records[0]);
  const id = bronzeGroupId(group);
  let first = BigInt(records[0].offset);
  let last = first;
  for (const r of records) {
    const g = bronzeGroupId(bronzeGroupOf(r));
    if (g !== id) {
      throw new BronzeRecordError(
        `records of groups ${id} and ${g} in one bronze object: split them with groupBronze`,
      );
    }
    const o = BigInt(r.offset);
    if (o < first) first = o;
    if (o > last) last = o;
  }
  return bronzeKey({ topic, ...group, first, last });
}

/**
 * Splits records into their bronze groups (insertion order kept within each group).
 *
 * @example
 * ```ts
 * import { groupBronze } from "./bronze.ts";
 * const at = (h: number) => ({ envelope: { region: "EU", occurredAt: new Date(Date.UTC(2026, 0, 1, h)) } });
 * const groups = groupBronze([0, 1, 0].map((h, i) => ({ partition: 0, offset: String(i), timestamp: 0, schemaId: 1, value: at(h) })));
 * console.log([...groups.keys()]); // ["p000/EU/2026-01-01/00", "p000/EU/2026-01-01/01"]
 * ```
 */
export function groupBronze(
  records: readonly BronzeRecord[],
): Map<string, { group: BronzeGroup; records: BronzeRecord[] }> {
  const out = new Map<string, { group: BronzeGroup; records: BronzeRecord[] }>();
  for (const r of records) {
    const group = bronzeGroupOf(r);
    const id = bronzeGroupId(group);
    const entry = out.get(id);
    if (entry) entry.records.push(r);
    else out.set(id, { group, records: [r] });
  }
  return out;
}

/**
 * The sink's skip rule: from a listing of a topic's bronze keys, the largest
 * `last` offset per group (id as {@linkcode bronzeGroupId}). A record whose
 * offset is <= its group's value is already in bronze. Keys that are not
 * bronze keys, or belong to another topic when `topic` is given, are ignored.
 *
 * @example
 * ```ts
 * import { lastOffsets } from "./bronze.ts";
 * const m = lastOffsets([
 *   "bronze/t/region=EU/date=2026-01-01/hour=07/p000-00000000000000000000-00000000000000000009.parquet",
 *   "bronze/t/region=EU/date=2026-01-01/hour=07/p000-00000000000000000010-00000000000000000012.parquet",
 * ], "t");
 * console.log(m.get("p000/EU/2026-01-01/07")); // 12n
 * ```
 */
export function lastOffsets(keys: Iterable<string>, topic?: string): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const key of keys) {
    const k = parseBronzeKey(key);
    if (!k || (topic !== undefined && k.topic !== topic)) continue;
    const id = bronzeGroupId(k);
    const seen = out.get(id);
    if (seen === undefined || k.last > seen) out.set(id, k.last);
  }
  return out;
}
