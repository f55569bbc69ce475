/**
 * Plain JavaScript rows to Arrow tables with a fixed, all-nullable schema,
 * and back. The lake's column types, their JavaScript values:
 * `int32`/`float64` number, `int64` bigint, `utf8` string, `bool` boolean,
 * `timestamp` epoch milliseconds (timestamp[ms, UTC]); null everywhere allowed.
 *
 * @example
 * ```ts
 * import { tableFromRows, tableRows } from "./table.ts";
 * const columns = [{ name: "sku", type: "utf8" }, { name: "qty", type: "int64" }] as const;
 * const table = tableFromRows(columns, [{ sku: "kb-01", qty: 3n }, { sku: "ms-02", qty: null }]);
 * console.log(tableRows(table)); // [{ sku: "kb-01", qty: 3n }, { sku: "ms-02", qty: null }]
 * ```
 *
 * @module
 */
import {
  Bool,
  type Data,
  Field,
  Float64,
  Int32,
  Int64,
  makeData,
  RecordBatch,
  Struct,
  Table,
  TimestampMillisecond,
  Utf8,
} from "apache-arrow";
import { type DataType, Schema } from "./upstream.ts";

/** The column types lake tables use. */
export type ColumnType = "int32" | "int64" | "float64" | "bool" | "utf8" | "timestamp";

/** A column's name and type. */
export interface ColumnSpec {
  /** Column name. */
  readonly name: string;
  /** Column type. */
  readonly type: ColumnType;
}

/** A row as plain values by column name. */
export type Row = Record<string, unknown>;

/**
 * The Arrow type of a lake column type.
 *
 * @example
 * ```ts
 * import { arrowType } from "./table.ts";
 * console.log(String(arrowType("timestamp"))); // Timestamp<MILLISECOND, UTC>
 * ```
 */
export function arrowType(type: ColumnType): DataType {
  switch (type) {
    case "int32":
      return new Int32();
    case "int64":
      return new Int64();
    case "float64":
      return new Float64();
    case "bool":
      return new Bool();
    case "utf8":
      return new Utf8();
    case "timestamp":
      return new TimestampMillisecond("UTC");
  }
}

/**
 * The Arrow schema for `columns` (every field nullable).
 *
 * @example
 * ```ts
 * import { arrowSchema } from "./table.ts";
 * console.log(arrowSchema([{ name: "n", type: "int32" }]).fields[0].nullable); // true
 * ```
 */
export function arrowSchema(columns: readonly ColumnSpec[]): Schema {
  return new Schema(columns.map((c) => new Field(c.name, arrowType(c.type), true)));
}

const encoder = new TextEncoder();

function validity(values: readonly unknown[]): { nullBitmap?: Uint8Array; nullCount: number } {
  let nullCount = 0;
  const bitmap = new Uint8Array(Math.ceil(values.length / 8));
  for (let i = 0; i < values.length; i++) {
    if (values[i] === null || values[i] === undefined) nullCount++;
    else bitmap[i >> 3] |= 1 << (i & 7);
  }
  return nullCount === 0 ? { nullCount } : { nullBitmap: bitmap, nullCount };
}

function utf8Buffers(column: string, values: readonly unknown[]) {
  const valueOffsets = new Int32Array(values.length + 1);
  let data = new Uint8Array(Math.max(64, values.length * 16));
  let at = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v !== null && v !== undefined) {
      if (typeof v !== "string") {
        throw new TypeError(`column ${column}: ${typeof v} in a utf8 column`);
      }
      const need = at + v.length * 3; // UTF-8 needs at most 3 bytes per UTF-16 unit
      if (need > data.length) {
        const bigger = new Uint8Array(Math.max(need, data.length * 2));
        bigger.set(data.subarray(0, at));
        data = bigger;
      }
      // ASCII (nearly every id, sku and code) is copied directly; encodeInto otherwise
      let j = 0;
      for (; j < v.length; j++) {
        const c = v.charCodeAt(j);
        if (c >= 0x80) break;
        data[at + j] = c;
      }
      at += j === v.length ? j : encoder.encodeInto(v, data.subarray(at)).written;
    }
    valueOffsets[i + 1] = at;
  }
  return { valueOffsets, data: data.slice(0, at) };
}

function numbers<T extends Int32Array | Float64Array | BigInt64Array>(
  column: string,
  values: readonly unknown[],
  out: T,
  convert: (v: unknown) => number | bigint,
): T {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined) continue;
    try {
      out[i] = convert(v) as never;
    } catch (e) {
      throw new TypeError(`column ${column}: cannot store ${String(v)} (${(e as Error).message})`);
    }
  }
  return out;
}

/**
 * One column's Arrow data built straight into its buffers (several times
 * faster than arrow's generic builders, which dominate the sink's CPU time
 * otherwise). Values must already have the column type's JavaScript type;
 * int64 and timestamp also accept numbers.
 */
function columnData(column: ColumnSpec, values: readonly unknown[]): Data {
  const type = arrowType(column.type);
  const length = values.length;
  const valid = validity(values);
  switch (column.type) {
    case "utf8":
      return makeData({
        type: type as Utf8,
        length,
        ...valid,
        ...utf8Buffers(column.name, values),
      });
    case "int32":
      return makeData({
        type: type as Int32,
        length,
        ...valid,
        data: numbers(column.name, values, new Int32Array(length), (v) => v as number),
      });
    case "float64":
      return makeData({
        type: type as Float64,
        length,
        ...valid,
        data: numbers(column.name, values, new Float64Array(length), (v) => v as number),
      });
    case "int64":
    case "timestamp":
      return makeData({
        type: type as Int64,
        length,
        ...valid,
        data: numbers(
          column.name,
          values,
          new BigInt64Array(length),
          (v) => (typeof v === "bigint" ? v : BigInt(v as number)),
        ),
      });
    case "bool": {
      const bits = new Uint8Array(Math.ceil(length / 8));
      values.forEach((v, i) => {
        if (v === true) bits[i >> 3] |= 1 << (i & 7);
      });
      return makeData({ type: type as Bool, length, ...valid, data: bits });
    }
  }
}

/**
 * A table from one array of values per column (same order as `columns`,
 * all of equal length).
 *
 * @example
 * ```ts
 * import { tableFromColumns } from "./table.ts";
 * const t = tableFromColumns([{ name: "n", type: "int64" }], [[1n, null]]);
 * console.log(t.numRows, t.getChild("n")?.get(0)); // 2 1n
 * ```
 */
export function tableFromColumns(
  columns: readonly ColumnSpec[],
  values: readonly (readonly unknown[])[],
): Table {
  const schema = arrowSchema(columns);
  const length = values[0]?.length ?? 0;
  const children = columns.map((c, i) => {
    if (values[i].length !== length) {
      throw new Error(`column ${c.name} has ${values[i].length} values, the first has ${length}`);
    }
    return columnData(c, values[i]);
  });
  return new Table(
    new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length, children })),
  );
}

/**
 * A table from rows; a column missing from a row is null.
 *
 * @example
 * ```ts
 * import { tableFromRows } from "./table.ts";
 * console.log(tableFromRows([{ name: "n", type: "int32" }], [{ n: 1 }, {}]).numRows); // 2
 * ```
 */
export function tableFromRows(columns: readonly ColumnSpec[], rows: readonly Row[]): Table {
  return tableFromColumns(columns, columns.map((c) => rows.map((r) => r[c.name] ?? null)));
}

/**
 * The rows of a table as plain objects (int64 as bigint, timestamps as epoch ms).
 *
 * @example
 * ```ts
 * import { tableFromArrays } from "apache-arrow";
 * import { tableRows } from "./table.ts";
 * console.log(tableRows(tableFromArrays({ n: Int32Array.from([4, 5]) }))); // [{ n: 4 }, { n: 5 }]
 * ```
 */
export function tableRows(table: Table): Row[] {
  const names = table.schema.fields.map((f) => f.name);
  const vectors = names.map((n) => table.getChild(n)!);
  const out = new Array<Row>(table.numRows);
  for (let i = 0; i < table.numRows; i++) {
    const row: Row = {};
    for (let c = 0; c < names.length; c++) row[names[c]] = vectors[c].get(i) ?? null;
    out[i] = row;
  }
  return out;
}

/**
 * The column specs of a table whose columns all have lake types; throws for others.
 *
 * @example
 * ```ts
 * import { tableFromArrays } from "apache-arrow";
 * import { columnSpecs } from "./table.ts";
 * console.log(columnSpecs(tableFromArrays({ n: Int32Array.from([1]) }))); // [{ name: "n", type: "int32" }]
 * ```
 */
export function columnSpecs(table: Table): ColumnSpec[] {
  return table.schema.fields.map((f) => {
    const t = String(f.type);
    const type: ColumnType | undefined = t === "Int32"
      ? "int32"
      : t === "Int64"
      ? "int64"
      : t === "Float64"
      ? "float64"
      : t === "Bool"
      ? "bool"
      : t === "Utf8"
      ? "utf8"
      : t.startsWith("Timestamp<MILLISECOND")
      ? "timestamp"
      : undefined;
    if (!type) throw new Error(`column ${f.name} has type ${t}, not a lake column type`);
    return { name: f.name, type };
  });
}
