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

/** One column's growing buffers in a {@linkcode TableBuilder}. */
interface ColumnBuffers {
  readonly spec: ColumnSpec;
  /** Validity bits (1 = a value), set as rows arrive. */
  valid: Uint8Array;
  nulls: number;
  /** The values' bytes: fixed width (bool: bits), or utf8 text. */
  data: Uint8Array;
  /** Views of `data` by type (whichever the column uses). */
  i32?: Int32Array;
  f64?: Float64Array;
  i64?: BigInt64Array;
  /** utf8: row i's bytes are data[offsets[i], offsets[i + 1]). */
  offsets?: Int32Array;
  /** utf8: bytes used in `data`. */
  used: number;
}

const TWO_32 = 4294967296;
/** int64 values are written as two 32-bit words, low first: true on every platform Deno ships for. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function grown(bytes: Uint8Array, need: number): Uint8Array {
  if (need <= bytes.length) return bytes;
  const bigger = new Uint8Array(Math.max(need, bytes.length * 2));
  bigger.set(bytes);
  return bigger;
}

/** Bytes a column needs for `rows` rows (utf8: the offsets aside, a first guess of its text). */
function dataBytes(type: ColumnType, rows: number): number {
  switch (type) {
    case "int32":
      return rows * 4;
    case "int64":
    case "timestamp":
    case "float64":
      return rows * 8;
    case "bool":
      return Math.ceil(rows / 8);
    case "utf8":
      return rows * 16;
  }
}

function views(b: ColumnBuffers): void {
  const buffer = b.data.buffer;
  if (b.spec.type === "int32") b.i32 = new Int32Array(buffer);
  else if (b.spec.type === "float64") b.f64 = new Float64Array(buffer);
  else if (b.spec.type === "int64" || b.spec.type === "timestamp") {
    b.i64 = new BigInt64Array(buffer);
    b.i32 = new Int32Array(buffer);
  }
}

/**
 * Rows appended one at a time straight into Arrow buffers (no array of
 * values per column, no object per row), then one table of all rows or of
 * the rows chosen. Cells must already have their column's JavaScript type:
 * int32/float64 number, int64/timestamp integer number or bigint (timestamp:
 * epoch ms), utf8 string, bool boolean, null for none; `append` does not
 * check them (a wrong type is stored as garbage, not thrown), so check them
 * first when they come from outside. The table is the same, buffer for
 * buffer, as {@linkcode tableFromColumns} makes of the same values.
 *
 * @example
 * ```ts
 * import { TableBuilder, tableRows } from "./table.ts";
 * const b = new TableBuilder([{ name: "sku", type: "utf8" }, { name: "qty", type: "int64" }]);
 * b.append(["kb-01", 3]);
 * b.append([null, 2n ** 40n]);
 * console.log(tableRows(b.table())); // [{ sku: "kb-01", qty: 3n }, { sku: null, qty: 1099511627776n }]
 * console.log(b.table([1]).numRows); // 1
 * ```
 */
export class TableBuilder {
  /** The columns, in order. */
  readonly columns: readonly ColumnSpec[];
  readonly #buffers: ColumnBuffers[];
  #length = 0;
  #capacity: number;

  /** An empty builder for `columns`, with room for `capacity` rows before it grows. */
  constructor(columns: readonly ColumnSpec[], capacity = 256) {
    this.columns = columns;
    this.#capacity = Math.max(8, Math.ceil(capacity));
    this.#buffers = columns.map((spec) => {
      const b: ColumnBuffers = {
        spec,
        valid: new Uint8Array(Math.ceil(this.#capacity / 8)),
        nulls: 0,
        data: new Uint8Array(dataBytes(spec.type, this.#capacity)),
        offsets: spec.type === "utf8" ? new Int32Array(this.#capacity + 1) : undefined,
        used: 0,
      };
      views(b);
      return b;
    });
  }

  /** Rows appended. */
  get length(): number {
    return this.#length;
  }

  /** Bytes the buffers hold (their capacity, not only what is used). */
  get byteLength(): number {
    let n = 0;
    for (const b of this.#buffers) {
      n += b.valid.byteLength + b.data.byteLength + (b.offsets?.byteLength ?? 0);
    }
    return n;
  }

  #grow(): void {
    const capacity = this.#capacity * 2;
    for (const b of this.#buffers) {
      b.valid = grown(b.valid, Math.ceil(capacity / 8));
      if (b.offsets) {
        const offsets = new Int32Array(capacity + 1);
        offsets.set(b.offsets);
        b.offsets = offsets;
      } else {
        b.data = grown(b.data, dataBytes(b.spec.type, capacity));
        views(b);
      }
    }
    this.#capacity = capacity;
  }

  /** Appends one row: `cells[i]` is the value of column i (see the class doc for the types). */
  append(cells: readonly unknown[]): void {
    const row = this.#length;
    if (row === this.#capacity) this.#grow();
    const byte = row >> 3, bit = 1 << (row & 7);
    for (let c = 0; c < this.#buffers.length; c++) {
      const b = this.#buffers[c];
      const v = cells[c];
      if (v === null || v === undefined) {
        b.nulls++;
        if (b.offsets) b.offsets[row + 1] = b.used;
        continue;
      }
      b.valid[byte] |= bit;
      switch (b.spec.type) {
        case "utf8":
          this.#text(b, row, v as string);
          break;
        case "int32":
          b.i32![row] = v as number;
          break;
        case "float64":
          b.f64![row] = v as number;
          break;
        case "int64":
        case "timestamp":
          if (typeof v === "bigint") b.i64![row] = v;
          else if (LITTLE_ENDIAN) {
            // Two 32-bit words, exact for every integer, no BigInt made per value.
            const n = v as number;
            b.i32![row * 2] = n % TWO_32;
            b.i32![row * 2 + 1] = Math.floor(n / TWO_32);
          } else b.i64![row] = BigInt(v as number);
          break;
        case "bool":
          if (v === true) b.data[byte] |= bit;
          break;
      }
    }
    this.#length = row + 1;
  }

  #text(b: ColumnBuffers, row: number, v: string): void {
    const need = b.used + v.length * 3; // UTF-8 needs at most 3 bytes per UTF-16 unit
    if (need > b.data.length) b.data = grown(b.data, need);
    const data = b.data;
    let at = b.used;
    // ASCII (nearly every id, sku and code) is copied directly; encodeInto otherwise
    let j = 0;
    for (; j < v.length; j++) {
      const ch = v.charCodeAt(j);
      if (ch >= 0x80) break;
      data[at + j] = ch;
    }
    at += j === v.length ? j : encoder.encodeInto(v, data.subarray(at)).written;
    b.used = at;
    b.offsets![row + 1] = at;
  }

  /**
   * A table of every row, or of the rows at indexes `rows` (in that order).
   * A table of every row shares the builder's value buffers (no copy; its
   * validity bits are copied): rows appended later do not change it.
   */
  table(rows?: readonly number[]): Table {
    const schema = arrowSchema(this.columns);
    const length = rows ? rows.length : this.#length;
    const children = this.#buffers.map((b) => (rows ? this.#picked(b, rows) : this.#all(b)));
    return new Table(
      new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length, children })),
    );
  }

  #all(b: ColumnBuffers): Data {
    const length = this.#length;
    const valid = b.nulls === 0
      ? { nullCount: 0 }
      : { nullCount: b.nulls, nullBitmap: b.valid.slice(0, Math.ceil(length / 8)) };
    // Views: later appends write past them (or into new buffers once grown).
    if (b.spec.type === "utf8") {
      return makeData({
        type: new Utf8(),
        length,
        ...valid,
        valueOffsets: b.offsets!.subarray(0, length + 1),
        data: b.data.subarray(0, b.used),
      });
    }
    const bytes = dataBytes(b.spec.type, length);
    // Bits share their last byte with the rows appended next: copied.
    const data = b.spec.type === "bool" ? b.data.slice(0, bytes) : b.data.subarray(0, bytes);
    return fixedData(b.spec.type, length, valid, data);
  }

  #picked(b: ColumnBuffers, rows: readonly number[]): Data {
    const length = rows.length;
    const bits = new Uint8Array(Math.ceil(length / 8));
    let nullCount = 0;
    rows.forEach((r, i) => {
      if (b.valid[r >> 3] & (1 << (r & 7))) bits[i >> 3] |= 1 << (i & 7);
      else nullCount++;
    });
    const valid = nullCount === 0 ? { nullCount } : { nullCount, nullBitmap: bits };
    if (b.spec.type === "utf8") {
      const from = b.offsets!;
      const valueOffsets = new Int32Array(length + 1);
      rows.forEach((r, i) => (valueOffsets[i + 1] = valueOffsets[i] + from[r + 1] - from[r]));
      const data = new Uint8Array(valueOffsets[length]);
      rows.forEach((r, i) => data.set(b.data.subarray(from[r], from[r + 1]), valueOffsets[i]));
      return makeData({ type: new Utf8(), length, ...valid, valueOffsets, data });
    }
    const data = new Uint8Array(dataBytes(b.spec.type, length));
    if (b.spec.type === "bool") {
      rows.forEach((r, i) => {
        if (b.data[r >> 3] & (1 << (r & 7))) data[i >> 3] |= 1 << (i & 7);
      });
    } else {
      const width = dataBytes(b.spec.type, 1);
      rows.forEach((r, i) => data.set(b.data.subarray(r * width, (r + 1) * width), i * width));
    }
    return fixedData(b.spec.type, length, valid, data);
  }
}

/** Arrow data of a fixed-width column from its value bytes (used as they are, not copied). */
function fixedData(
  type: Exclude<ColumnType, "utf8">,
  length: number,
  valid: { nullCount: number; nullBitmap?: Uint8Array },
  bytes: Uint8Array,
): Data {
  const { buffer, byteOffset, byteLength } = bytes;
  const words = (size: number) => [buffer, byteOffset, byteLength / size] as const;
  switch (type) {
    case "int32":
      return makeData({ type: new Int32(), length, ...valid, data: new Int32Array(...words(4)) });
    case "float64":
      return makeData({
        type: new Float64(),
        length,
        ...valid,
        data: new Float64Array(...words(8)),
      });
    case "int64":
      return makeData({
        type: new Int64(),
        length,
        ...valid,
        data: new BigInt64Array(...words(8)),
      });
    case "timestamp":
      return makeData({
        type: new TimestampMillisecond("UTC"),
        length,
        ...valid,
        data: new BigInt64Array(...words(8)),
      });
    case "bool":
      return makeData({ type: new Bool(), length, ...valid, data: bytes });
  }
}
