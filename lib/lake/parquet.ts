/**
 * Apache Arrow tables to Parquet bytes and back, through parquet-wasm. The
 * bridge between the two libraries is the Arrow IPC stream format: arrow's
 * `tableToIPC` feeds parquet-wasm's `Table.fromIPCStream`, and parquet-wasm's
 * `intoIPCStream` feeds arrow's `tableFromIPC`. parquet-wasm's Node build
 * (which Deno loads for npm packages) instantiates its WebAssembly module
 * synchronously on import, so there is no `init()` to await.
 *
 * Types that round-trip (checked in tests/lake_parquet_test.ts): int32,
 * int64 (as bigint), utf8, bool, float64, timestamp[ms, UTC] (as epoch ms),
 * with nulls in every column.
 *
 * @example
 * ```ts
 * import { tableFromArrays } from "apache-arrow";
 * import { decodeParquet, encodeParquet } from "./parquet.ts";
 * const bytes = encodeParquet(tableFromArrays({ sku: ["kb-01", "ms-02"], qty: Int32Array.from([1, 2]) }));
 * console.log(decodeParquet(bytes).numRows); // 2
 * ```
 *
 * @module
 */
import { type Table, tableFromIPC, tableToIPC } from "apache-arrow";
import * as pw from "parquet-wasm";

/** Parquet codecs this module writes. */
export type ParquetCompression = "zstd" | "snappy" | "gzip" | "none";

/** How {@linkcode encodeParquet} writes. */
export interface ParquetWriteOptions {
  /** Codec for every column; zstd unless said otherwise. */
  readonly compression?: ParquetCompression;
  /** Rows per row group; parquet-wasm's default (1M) unless set. */
  readonly rowGroupSize?: number;
  /**
   * Columns written without dictionary encoding (every other column has
   * one): those whose values are nearly all distinct (ids, offsets, event
   * times), where a dictionary costs CPU and bytes and saves nothing.
   */
  readonly plainColumns?: readonly string[];
}

const CODECS: Record<ParquetCompression, pw.Compression> = {
  zstd: pw.Compression.ZSTD,
  snappy: pw.Compression.SNAPPY,
  gzip: pw.Compression.GZIP,
  none: pw.Compression.UNCOMPRESSED,
};

const CREATED_BY = "shopstream lib/lake/parquet.ts (parquet-wasm)";

/**
 * A Parquet file of `table` (zstd by default).
 *
 * @example
 * ```ts
 * import { tableFromArrays } from "apache-arrow";
 * import { encodeParquet } from "./parquet.ts";
 * const bytes = encodeParquet(tableFromArrays({ n: Int32Array.from([1, 2, 3]) }), { compression: "zstd" });
 * console.log(new TextDecoder().decode(bytes.subarray(0, 4))); // "PAR1"
 * ```
 */
export function encodeParquet(table: Table, options: ParquetWriteOptions = {}): Uint8Array {
  let builder = new pw.WriterPropertiesBuilder()
    .setCompression(CODECS[options.compression ?? "zstd"])
    .setCreatedBy(CREATED_BY);
  if (options.rowGroupSize !== undefined) {
    builder = builder.setMaxRowGroupSize(options.rowGroupSize);
  }
  for (const column of options.plainColumns ?? []) {
    builder = builder.setColumnDictionaryEnabled(column, false);
  }
  const wasmTable = pw.Table.fromIPCStream(tableToIPC(table, "stream"));
  // writeParquet takes ownership of both the table and the properties.
  return pw.writeParquet(wasmTable, builder.build());
}

/**
 * The Arrow table stored in Parquet `bytes`.
 *
 * @example
 * ```ts
 * import { tableFromArrays } from "apache-arrow";
 * import { decodeParquet, encodeParquet } from "./parquet.ts";
 * const t = decodeParquet(encodeParquet(tableFromArrays({ n: Int32Array.from([7]) })));
 * console.log(t.getChild("n")?.get(0)); // 7
 * ```
 */
export function decodeParquet(bytes: Uint8Array): Table {
  return tableFromIPC(pw.readParquet(bytes).intoIPCStream());
}

/** What a Parquet file's footer says, read without decoding the data. */
export interface ParquetInfo {
  /** Rows in the file. */
  readonly rows: number;
  /** Row groups in the file. */
  readonly rowGroups: number;
  /** The codecs of its column chunks, e.g. `["ZSTD"]`. */
  readonly codecs: readonly string[];
}

/**
 * Rows, row groups and codecs of Parquet `bytes`, from the footer only: how
 * the lake reader counts rows cheaply and a test proves the codec.
 *
 * @example
 * ```ts
 * import { tableFromArrays } from "apache-arrow";
 * import { encodeParquet, parquetInfo } from "./parquet.ts";
 * console.log(await parquetInfo(encodeParquet(tableFromArrays({ n: Int32Array.from([7]) }))));
 * // { rows: 1, rowGroups: 1, codecs: ["ZSTD"] }
 * ```
 */
export async function parquetInfo(bytes: Uint8Array): Promise<ParquetInfo> {
  const file = await pw.ParquetFile.fromFile(new Blob([bytes as Uint8Array<ArrayBuffer>]));
  try {
    const meta = file.metadata();
    const codecs = new Set<string>();
    const rowGroups = meta.numRowGroups();
    for (let g = 0; g < rowGroups; g++) {
      for (const column of meta.rowGroup(g).columns()) {
        codecs.add(pw.Compression[column.compression()]);
      }
    }
    return { rows: meta.fileMetadata().numRows(), rowGroups, codecs: [...codecs].sort() };
  } finally {
    file.free();
  }
}
