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
  type DataType,
  Field,
  Float64,
  Int32,
  Int64,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  Table,
  TimestampMillisecond,
  Utf8,
  type Vector,
  vectorFromArray,
} from "apache-arrow";

/** The column types lake tables use. */
export type ColumnType = "int32" | "int64" | "float64" | "bool" | "utf8" | "timestamp";

/** A column's name and type. */
export interface ColumnSpec {
  readonly name: string;
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
    const vector: Vector = vectorFromArray(values[i] as unknown[], arrowType(c.type));
    // vectorFromArray builds one chunk: the batch below is a plain struct of them.
    if (vector.data.length !== 1) throw new Error(`column ${c.name} came out in chunks`);
    return vector.data[0];
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
